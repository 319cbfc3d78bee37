package dev.spillway.osd.kv;

import dev.spillway.osd.Fid;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The key layout. Everything is big-endian so that RocksDB's bytewise order is the order we
 * iterate in: one object's records are contiguous, and within them each kind of record is a
 * contiguous, ordered range.
 *
 * <pre>
 * meta column family ("default")
 *   'S'                          superblock copy (checked against osd-kv.super at mount)
 *   'C' 'U'                      used bytes   } uint64 little-endian, changed by merge operands
 *   'C' 'N'                      objects      } (deltas) in the same batch as every change
 *   'F' fileId(8)                a live extent file: owner FID, bytes written
 *   'G' fileId(8)                an extent file to delete once the batch that freed it is durable
 *   'O' fid(16) 'A'              attributes + per-object accounting
 *   'O' fid(16) 'E' block(8)     a body extent held in an extent file
 *   'O' fid(16) 'I' key…         an index entry
 *   'O' fid(16) 'X' name…        an xattr (name in UTF-8)
 * body column family ("body")
 *   fid(16) block(8)             an inline body block (up to one block of bytes; the rest zeros)
 * </pre>
 */
final class Keys {
    static final byte SUPER = 'S';
    static final byte COUNTERS = 'C';
    static final byte[] USED = {COUNTERS, 'U'};
    static final byte[] OBJECTS = {COUNTERS, 'N'};
    static final byte FILE = 'F';
    static final byte FREE = 'G';
    static final byte OBJECT = 'O';

    static final byte ATTR = 'A';
    static final byte EXTENT = 'E';
    static final byte INDEX = 'I';
    static final byte XATTR = 'X';

    /** 'O' + fid + type. */
    static final int SUB_PREFIX = 1 + Fid.BYTES + 1;

    private Keys() {}

    static byte[] single(byte type) {
        return new byte[] {type};
    }

    private static ByteBuffer obj(Fid fid, byte sub, int extra) {
        return ByteBuffer.allocate(SUB_PREFIX + extra)
                .put(OBJECT)
                .putLong(fid.seq())
                .putInt(fid.oid())
                .putInt(fid.ver())
                .put(sub);
    }

    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);

    // Filled in place, not through a ByteBuffer: every read asks for this key, and the buffer's
    // allocation was 13-15% of a 4 KiB read's Java time (session 9 profile).
    static byte[] attr(Fid fid) {
        byte[] k = new byte[SUB_PREFIX];
        k[0] = OBJECT;
        LONG.set(k, 1, fid.seq());
        INT.set(k, 9, fid.oid());
        INT.set(k, 13, fid.ver());
        k[17] = ATTR;
        return k;
    }

    /** First key of the object's records. */
    static byte[] objectStart(Fid fid) {
        return Arrays.copyOf(attr(fid), 1 + Fid.BYTES);
    }

    /** A key past every record of the object (sub-types are all below 0xFF). */
    static byte[] objectEnd(Fid fid) {
        return obj(fid, (byte) 0xFF, 0).array();
    }

    static byte[] subStart(Fid fid, byte sub) {
        return obj(fid, sub, 0).array();
    }

    static byte[] subEnd(Fid fid, byte sub) {
        return obj(fid, (byte) (sub + 1), 0).array();
    }

    static byte[] extent(Fid fid, long block) {
        return obj(fid, EXTENT, 8).putLong(block).array();
    }

    static long extentBlock(byte[] key) {
        return ByteBuffer.wrap(key, SUB_PREFIX, 8).getLong();
    }

    static byte[] index(Fid fid, byte[] key) {
        return obj(fid, INDEX, key.length).put(key).array();
    }

    static byte[] xattr(Fid fid, String name) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        return obj(fid, XATTR, n.length).put(n).array();
    }

    /** The part of a sub-record key after 'O' fid type. */
    static byte[] suffix(byte[] key) {
        return Arrays.copyOfRange(key, SUB_PREFIX, key.length);
    }

    static Fid objectFid(byte[] key) {
        return Fid.fromBytes(key, 1);
    }

    /** The first possible key of the object after {@code fid}, or null past the last FID. */
    static byte[] nextObject(Fid fid) {
        byte[] k = objectStart(fid);
        for (int i = k.length - 1; i >= 1; i--) {
            if (++k[i] != 0) {
                return k;
            }
        }
        return null;
    }

    static byte[] file(byte type, long fileId) {
        return ByteBuffer.allocate(9).put(type).putLong(fileId).array();
    }

    static long fileId(byte[] key) {
        return ByteBuffer.wrap(key, 1, 8).getLong();
    }

    // ---- body column family -----------------------------------------------------------------

    static byte[] block(Fid fid, long block) {
        return ByteBuffer.allocate(Fid.BYTES + 8)
                .putLong(fid.seq())
                .putInt(fid.oid())
                .putInt(fid.ver())
                .putLong(block)
                .array();
    }

    static long blockOf(byte[] key) {
        return ByteBuffer.wrap(key, Fid.BYTES, 8).getLong();
    }

    /** A key past every body block of {@code fid}: the FID followed by nine 0xFF bytes. */
    static byte[] blocksEnd(Fid fid) {
        byte[] k = Arrays.copyOf(block(fid, 0), Fid.BYTES + 9);
        Arrays.fill(k, Fid.BYTES, k.length, (byte) 0xFF);
        return k;
    }

    static boolean hasPrefix(byte[] key, byte[] prefix) {
        return key.length >= prefix.length && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
    }
}
