package dev.spillway.osd.vfs.journal;

import dev.spillway.osd.Attr;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.OsdException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The journal's on-disk record: a 48-byte header with its own CRC32C, then the ops, whose CRC32C
 * is in the header. Little-endian.
 *
 * <pre>
 * 0 magic "SWJR" u32 | 4 version u16 | 6 flags u16 | 8 body length u32 | 12 op count u32
 * 16 lsn u64 | 24 synced lsn u64 | 32 transaction id u64 | 40 body crc32c u32 | 44 header crc32c u32
 * </pre>
 * {@code synced lsn} is the highest LSN known durable (fsynced) when the record was written.
 * Recovery uses it to tell a torn tail from corruption: if a record fails its checks but a later
 * valid record says the failed one had been synced, the failure is corruption of a committed
 * record, not a write a crash tore.
 *
 * <p>Op encoding: type u8, FID (16 bytes as {@link Fid#toBytes()}), then per type — CREATE kind
 * u8; INSTALL kind u8, name (u16 length + UTF-8); DESTROY nothing; WRITE offset u64, length u32,
 * bytes; PUNCH offset u64, length u64; TRUNCATE size u64; SET_XATTR name, value (u32 length +
 * bytes); REMOVE_XATTR name; SET_ATTR kind u8, mode, uid, gid, flags u32, atime, mtime, ctime
 * i64, data version u64.
 */
public final class RecordCodec {
    public static final int HEADER = 48;
    static final int MAGIC = 0x524a5753; // "SWJR"
    private static final short VERSION = 1;

    private static final byte CREATE = 1;
    private static final byte INSTALL = 2;
    private static final byte DESTROY = 3;
    private static final byte WRITE = 4;
    private static final byte PUNCH = 5;
    private static final byte TRUNCATE = 6;
    private static final byte SET_XATTR = 7;
    private static final byte REMOVE_XATTR = 8;
    private static final byte SET_ATTR = 9;

    private RecordCodec() {}

    /** A decoded header. */
    public record Header(int bodyLength, int opCount, long lsn, long syncedLsn, long txId, int bodyCrc) {}

    /** The ops encoded as a record body (flipped, ready to write). */
    public static ByteBuffer encodeBody(List<Op> ops) {
        int size = 0;
        for (Op op : ops) {
            size += size(op);
        }
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        for (Op op : ops) {
            put(b, op);
        }
        return b.flip();
    }

    public static int crc(ByteBuffer body) {
        CRC32C c = new CRC32C();
        c.update(body.duplicate());
        return (int) c.getValue();
    }

    /** The header of a record (flipped). */
    public static ByteBuffer encodeHeader(
            int bodyLength, int opCount, long lsn, long syncedLsn, long txId, int bodyCrc) {
        ByteBuffer h = ByteBuffer.allocate(HEADER).order(ByteOrder.LITTLE_ENDIAN);
        h.putInt(MAGIC)
                .putShort(VERSION)
                .putShort((short) 0)
                .putInt(bodyLength)
                .putInt(opCount)
                .putLong(lsn)
                .putLong(syncedLsn)
                .putLong(txId)
                .putInt(bodyCrc);
        CRC32C c = new CRC32C();
        c.update(h.array(), 0, 44);
        h.putInt((int) c.getValue());
        return h.flip();
    }

    /** The header at {@code at}, or null unless its magic, version and checksum hold. */
    public static Header decodeHeader(byte[] buf, int at, int limit) {
        if (limit - at < HEADER) {
            return null;
        }
        ByteBuffer h = ByteBuffer.wrap(buf, at, HEADER).slice().order(ByteOrder.LITTLE_ENDIAN);
        if (h.getInt(0) != MAGIC || h.getShort(4) != VERSION) {
            return null;
        }
        CRC32C c = new CRC32C();
        c.update(buf, at, 44);
        if ((int) c.getValue() != h.getInt(44)) {
            return null;
        }
        int len = h.getInt(8);
        if (len < 0) {
            return null;
        }
        return new Header(len, h.getInt(12), h.getLong(16), h.getLong(24), h.getLong(32), h.getInt(40));
    }

    /** True if the body after a valid header is all there and passes its checksum. */
    public static boolean bodyValid(byte[] buf, int at, int limit, Header h) {
        long end = (long) at + HEADER + h.bodyLength();
        if (end > limit) {
            return false;
        }
        CRC32C c = new CRC32C();
        c.update(buf, at + HEADER, h.bodyLength());
        return (int) c.getValue() == h.bodyCrc();
    }

    /** The smallest op: its type and FID (DESTROY). */
    static final int MIN_OP = 1 + Fid.BYTES;

    /**
     * The ops of a record whose checksums held.
     *
     * @throws OsdException EBADMSG (no device named: the caller adds the segment and offset) if
     *     the body does not parse as exactly its op count of ops, or holds what {@link
     *     #encodeBody} never writes: an unknown op type or object kind, a length past the body,
     *     a name that is not UTF-8. The checksum held, so that is a bug or a record of a newer
     *     build; no length or count read from the body sizes an allocation before it is checked
     *     against the bytes that are there.
     */
    public static List<Op> decodeBody(byte[] buf, int at, Header h) throws OsdException {
        if (h.opCount() < 0 || h.opCount() > h.bodyLength() / MIN_OP) {
            throw malformed(
                    h,
                    "says " + Integer.toUnsignedString(h.opCount()) + " ops in " + h.bodyLength()
                            + " bytes (an op takes at least " + MIN_OP + ")");
        }
        ByteBuffer b = ByteBuffer.wrap(buf, at + HEADER, h.bodyLength()).slice().order(ByteOrder.LITTLE_ENDIAN);
        List<Op> ops = new ArrayList<>(h.opCount());
        try {
            for (int i = 0; i < h.opCount(); i++) {
                ops.add(get(b));
            }
        } catch (BufferUnderflowException | IndexOutOfBoundsException e) {
            throw malformed(h, "does not parse after " + ops.size() + " ops: op " + ops.size() + " runs past the body");
        } catch (IllegalArgumentException e) {
            throw malformed(h, "does not parse after " + ops.size() + " ops: " + e.getMessage());
        }
        if (b.hasRemaining()) {
            throw malformed(h, "has " + b.remaining() + " bytes after its ops");
        }
        return ops;
    }

    private static OsdException malformed(Header h, String what) {
        return new OsdException(Errno.EBADMSG, null, null, "journal record lsn " + h.lsn() + " " + what);
    }

    private static int size(Op op) {
        int base = 1 + Fid.BYTES;
        return base
                + switch (op) {
                    case Op.Create c -> 1;
                    case Op.Install i -> 1 + 2 + utf8(i.staged()).length;
                    case Op.Destroy d -> 0;
                    case Op.Write w -> 8 + 4 + w.data().length;
                    case Op.Punch p -> 16;
                    case Op.Truncate t -> 8;
                    case Op.SetXattr x -> 2 + utf8(x.name()).length + 4 + x.value().length;
                    case Op.RemoveXattr x -> 2 + utf8(x.name()).length;
                    case Op.SetAttr a -> 1 + 16 + 24 + 8;
                };
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void putName(ByteBuffer b, String s) {
        byte[] n = utf8(s);
        b.putShort((short) n.length).put(n);
    }

    private static String getName(ByteBuffer b) {
        byte[] n = bytes(b, Short.toUnsignedInt(b.getShort()));
        try {
            // strict: a name that is not UTF-8 would come back as another name
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(n))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("a name of " + n.length + " bytes is not UTF-8");
        }
    }

    /** {@code length} bytes of the body, refused before allocating if they are not all there. */
    private static byte[] bytes(ByteBuffer b, int length) {
        if (length < 0 || length > b.remaining()) {
            throw new IllegalArgumentException(
                    "a length of " + Integer.toUnsignedString(length) + " bytes where " + b.remaining() + " are left");
        }
        byte[] out = new byte[length];
        b.get(out);
        return out;
    }

    private static void put(ByteBuffer b, Op op) {
        byte type = switch (op) {
            case Op.Create c -> CREATE;
            case Op.Install i -> INSTALL;
            case Op.Destroy d -> DESTROY;
            case Op.Write w -> WRITE;
            case Op.Punch p -> PUNCH;
            case Op.Truncate t -> TRUNCATE;
            case Op.SetXattr x -> SET_XATTR;
            case Op.RemoveXattr x -> REMOVE_XATTR;
            case Op.SetAttr a -> SET_ATTR;
        };
        b.put(type).put(op.fid().toBytes());
        switch (op) {
            case Op.Create c -> b.put((byte) c.kind().code());
            case Op.Install i -> {
                b.put((byte) i.kind().code());
                putName(b, i.staged());
            }
            case Op.Destroy d -> {}
            case Op.Write w -> b.putLong(w.offset()).putInt(w.data().length).put(w.data());
            case Op.Punch p -> b.putLong(p.offset()).putLong(p.length());
            case Op.Truncate t -> b.putLong(t.size());
            case Op.SetXattr x -> {
                putName(b, x.name());
                b.putInt(x.value().length).put(x.value());
            }
            case Op.RemoveXattr x -> putName(b, x.name());
            case Op.SetAttr s -> {
                Attr a = s.attr();
                b.put((byte) a.kind().code())
                        .putInt(a.mode())
                        .putInt(a.uid())
                        .putInt(a.gid())
                        .putInt(a.flags())
                        .putLong(a.atime())
                        .putLong(a.mtime())
                        .putLong(a.ctime())
                        .putLong(a.dataVersion());
            }
        }
    }

    private static ObjectKind kind(byte k) {
        return ObjectKind.fromCode(k);
    }

    private static Op get(ByteBuffer b) {
        byte type = b.get();
        byte[] f = new byte[Fid.BYTES];
        b.get(f);
        Fid fid = Fid.fromBytes(f);
        return switch (type) {
            case CREATE -> new Op.Create(fid, kind(b.get()));
            case INSTALL -> {
                ObjectKind k = kind(b.get());
                yield new Op.Install(fid, k, getName(b));
            }
            case DESTROY -> new Op.Destroy(fid);
            case WRITE -> {
                long off = b.getLong();
                yield new Op.Write(fid, off, bytes(b, b.getInt()));
            }
            case PUNCH -> new Op.Punch(fid, b.getLong(), b.getLong());
            case TRUNCATE -> new Op.Truncate(fid, b.getLong());
            case SET_XATTR -> {
                String n = getName(b);
                yield new Op.SetXattr(fid, n, bytes(b, b.getInt()));
            }
            case REMOVE_XATTR -> new Op.RemoveXattr(fid, getName(b));
            case SET_ATTR -> {
                ObjectKind k = kind(b.get());
                int mode = b.getInt();
                int uid = b.getInt();
                int gid = b.getInt();
                int flags = b.getInt();
                long at = b.getLong();
                long mt = b.getLong();
                long ct = b.getLong();
                long dv = b.getLong();
                yield new Op.SetAttr(fid, new Attr(k, 0, 0, mode, uid, gid, at, mt, ct, flags, dv));
            }
            default -> throw new IllegalArgumentException("unknown op type " + type);
        };
    }
}
