package dev.spillway.osd.vfs;

import dev.spillway.osd.Attr;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.spi.storage.StorageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * The per-object record ({@code <fid>.attr} beside the body file): the attributes a file's own
 * metadata cannot hold exactly — kind, mode, uid, gid, flags, the three times (to the
 * nanosecond, whatever the filesystem keeps) and the data version. Size and allocated blocks
 * come from the body file itself.
 *
 * <p>Two 96-byte slots, little-endian, each with a generation and a CRC32C, written
 * alternately, as a superblock is: an update writes the slot the current one is not in, so a
 * write torn by a crash leaves the previous slot intact, and a reader takes the valid slot with
 * the highest generation.
 *
 * <pre>
 * slot: 0 magic "SWAT" | 4 version u8 | 5 kind u8 | 6 reserved u16 | 8 generation u64
 *       16 fid (16 bytes, big-endian as Fid.toBytes) | 32 mode u32 | 36 uid u32 | 40 gid u32
 *       44 flags u32 | 48 atime i64 | 56 mtime i64 | 64 ctime i64 | 72 data version u64
 *       80 crc32c of bytes 0..80 u32 | 84..96 zero
 * </pre>
 */
final class AttrRecord {
    static final int SLOT = 96;
    static final int FILE_SIZE = 2 * SLOT;
    private static final int MAGIC = 0x54415753; // "SWAT" little-endian
    private static final int VERSION = 1;
    private static final int CRC_AT = 80;

    private AttrRecord() {}

    /** A decoded record: the attributes (size and blocks 0) and the generation of its slot. */
    record Stored(Attr attr, long generation) {}

    static byte[] encodeSlot(Fid fid, Attr a, long generation) {
        ByteBuffer b = ByteBuffer.allocate(SLOT).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MAGIC)
                .put((byte) VERSION)
                .put((byte) a.kind().code())
                .putShort((short) 0)
                .putLong(generation);
        b.put(fid.toBytes());
        b.putInt(a.mode()).putInt(a.uid()).putInt(a.gid()).putInt(a.flags());
        b.putLong(a.atime()).putLong(a.mtime()).putLong(a.ctime()).putLong(a.dataVersion());
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, CRC_AT);
        b.putInt(CRC_AT, (int) crc.getValue());
        return b.array();
    }

    /** The slot decoded, or null if it is not a valid slot of {@code fid}. */
    static Stored decodeSlot(Fid fid, byte[] buf, int at) {
        ByteBuffer b = ByteBuffer.wrap(buf, at, SLOT).slice().order(ByteOrder.LITTLE_ENDIAN);
        // the reserved field too: a slot this build would not write is not one it understands
        if (b.getInt(0) != MAGIC || b.get(4) != VERSION || b.getShort(6) != 0) {
            return null;
        }
        CRC32C crc = new CRC32C();
        crc.update(buf, at, CRC_AT);
        if ((int) crc.getValue() != b.getInt(CRC_AT)) {
            return null;
        }
        int kind = b.get(5);
        if (kind != ObjectKind.DATA.code() && kind != ObjectKind.INDEX.code()) {
            return null;
        }
        byte[] f = new byte[Fid.BYTES];
        b.get(16, f);
        if (!Fid.fromBytes(f).equals(fid)) {
            return null;
        }
        Attr a = new Attr(
                ObjectKind.fromCode(kind),
                0,
                0,
                b.getInt(32),
                b.getInt(36),
                b.getInt(40),
                b.getLong(48),
                b.getLong(56),
                b.getLong(64),
                b.getInt(44),
                b.getLong(72));
        return new Stored(a, b.getLong(8));
    }

    /** The current record of an open record file, or null if neither slot is valid. */
    static Stored read(StorageFile f, Fid fid) throws IOException {
        byte[] buf = new byte[FILE_SIZE];
        ByteBuffer bb = ByteBuffer.wrap(buf);
        f.read(bb, 0);
        Stored s0 = bb.position() >= SLOT ? decodeSlot(fid, buf, 0) : null;
        Stored s1 = bb.position() >= FILE_SIZE ? decodeSlot(fid, buf, SLOT) : null;
        if (s0 == null) {
            return s1;
        }
        if (s1 == null) {
            return s0;
        }
        return s1.generation() > s0.generation() ? s1 : s0;
    }

    /** Writes {@code a} as generation {@code generation} into the slot that generation owns. */
    static void write(StorageFile f, Fid fid, Attr a, long generation) throws IOException {
        f.write(ByteBuffer.wrap(encodeSlot(fid, a, generation)), (generation & 1) * SLOT);
    }

    /** The whole file for a new record: generation 1 in its slot, the other slot empty. */
    static ByteBuffer fresh(Fid fid, Attr a) {
        ByteBuffer b = ByteBuffer.allocate(FILE_SIZE);
        b.put(SLOT, encodeSlot(fid, a, 1));
        return b;
    }
}
