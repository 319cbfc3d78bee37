package dev.spillway.osd.vfs;

import dev.spillway.osd.Attr;
import dev.spillway.osd.ObjectKind;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * The per-object record kept in the body file's user xattr {@value #NAME} (devices formatted
 * with {@code records: xattr}, marker version 2): the same attributes as {@link AttrRecord}
 * without a file of its own, so creating an object and making it durable is one file's fsync
 * (plus its folder's) instead of two.
 *
 * <p>One value, no slots: {@code setxattr} replaces a value whole (the filesystem journals it
 * as inode metadata), so a crash leaves the old value or the new one — the two-slot scheme of
 * the {@code .attr} file is not needed. The FID is not stored: the value lives on the body's
 * own inode, and a create or an install makes a new inode, so a record cannot outlive or stray
 * from its body. 56 bytes so that it fits with its 12-byte name in the spare bytes of a 256-byte
 * ext4 inode (measured: no xattr block is allocated; 64 bytes needs one), little-endian:
 *
 * <pre>
 * 0 format version u8 (1) | 1 kind u8 (0 data, 1 index) | 2 reserved u16 (0) | 4 mode u32 | 8 uid u32 | 12 gid u32
 * 16 flags u32 | 20 atime i64 | 28 mtime i64 | 36 ctime i64 | 44 data version u64
 * 52 crc32c of bytes 0..52 u32
 * </pre>
 * A reader refuses a value of another length or version, a non-zero reserved field, an unknown
 * kind or a wrong checksum (the object then reads as corrupt, EIO): a later format gets a new
 * version byte, never a reinterpretation of this one.
 */
final class XattrRecord {
    /** The user xattr name (the storage adds "user."); reserved: no OSD xattr may use it. */
    static final String NAME = "spillway.rec";

    static final int SIZE = 56;
    static final int VERSION = 1;
    private static final int CRC_AT = 52;

    private XattrRecord() {}

    static byte[] encode(Attr a) {
        ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) VERSION).put(kindCode(a.kind())).putShort((short) 0);
        b.putInt(a.mode()).putInt(a.uid()).putInt(a.gid()).putInt(a.flags());
        b.putLong(a.atime()).putLong(a.mtime()).putLong(a.ctime()).putLong(a.dataVersion());
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, CRC_AT);
        b.putInt(CRC_AT, (int) crc.getValue());
        return b.array();
    }

    /** The attributes (size and blocks 0), or null if {@code v} is not a valid record of this format. */
    static Attr decode(byte[] v) {
        if (v.length != SIZE) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN);
        if (b.get(0) != VERSION || b.getShort(2) != 0) {
            return null;
        }
        CRC32C crc = new CRC32C();
        crc.update(v, 0, CRC_AT);
        if ((int) crc.getValue() != b.getInt(CRC_AT)) {
            return null;
        }
        ObjectKind kind = kind(b.get(1));
        if (kind == null) {
            return null;
        }
        return new Attr(
                kind,
                0,
                0,
                b.getInt(4),
                b.getInt(8),
                b.getInt(12),
                b.getLong(20),
                b.getLong(28),
                b.getLong(36),
                b.getInt(16),
                b.getLong(44));
    }

    // Kind codes, fixed here (never the enum's ordinal): 0 data, 1 index.
    private static byte kindCode(ObjectKind k) {
        return switch (k) {
            case DATA -> 0;
            case INDEX -> 1;
        };
    }

    private static ObjectKind kind(byte code) {
        return switch (code) {
            case 0 -> ObjectKind.DATA;
            case 1 -> ObjectKind.INDEX;
            default -> null;
        };
    }

    /** A short reason why {@code v} did not decode, for the error naming the object. */
    static String whyInvalid(byte[] v) {
        if (v.length != SIZE) {
            return "its value is " + v.length + " bytes, not " + SIZE;
        }
        if (v[0] != VERSION) {
            return "format version " + (v[0] & 0xff) + " (this build reads version " + VERSION + ")";
        }
        return "it fails its checksum";
    }
}
