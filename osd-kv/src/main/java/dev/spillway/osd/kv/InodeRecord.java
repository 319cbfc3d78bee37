package dev.spillway.osd.kv;

import dev.spillway.osd.Attr;
import dev.spillway.osd.ObjectKind;
import java.nio.ByteBuffer;

/**
 * What the {@code 'O' fid 'A'} record holds: the attributes plus the object's own accounting, so
 * that destroying an object or reading statfs never needs a scan of its records.
 *
 * @param attr the attributes ({@code blocks} is derived from {@code allocBlocks})
 * @param allocBlocks body blocks allocated (inline blocks plus blocks covered by extents)
 * @param xattrBytes bytes of xattr names and values
 * @param indexBytes bytes of index keys and values
 * @param flags {@link #MAY_HAVE_INLINE}: the body may have inline blocks (sticky until the
 *     object is recreated); without it a read needs only the meta column family
 * @param layout a device-unique stamp that changes with every commit that changes the body's
 *     block map, so that a cached extent list is valid exactly while the stamp is the same
 */
record InodeRecord(Attr attr, long allocBlocks, long xattrBytes, long indexBytes, long flags, long layout) {
    static final long MAY_HAVE_INLINE = 1;

    private static final byte VERSION = 1;
    static final int SIZE = 2 + 8 * 2 + 4 * 3 + 8 * 3 + 4 + 8 * 5;

    boolean mayHaveInline() {
        return (flags & MAY_HAVE_INLINE) != 0;
    }

    /** Bytes this object counts for in statfs. */
    long usedBytes(int blockSize) {
        return KvOsd.OBJECT_OVERHEAD + allocBlocks * blockSize + xattrBytes + indexBytes;
    }

    byte[] encode() {
        Attr a = attr;
        return ByteBuffer.allocate(SIZE)
                .put(VERSION)
                .put((byte) a.kind().code())
                .putLong(a.size())
                .putLong(a.dataVersion())
                .putInt(a.mode())
                .putInt(a.uid())
                .putInt(a.gid())
                .putLong(a.atime())
                .putLong(a.mtime())
                .putLong(a.ctime())
                .putInt(a.flags())
                .putLong(allocBlocks)
                .putLong(xattrBytes)
                .putLong(indexBytes)
                .putLong(flags)
                .putLong(layout)
                .array();
    }

    /**
     * Decodes a record; null bytes mean "no such object".
     *
     * @throws CorruptRecord for anything {@link #encode} does not write: another length or
     *     version, an unknown kind, a negative size or count, more allocated blocks than a long
     *     counts in bytes
     */
    static InodeRecord decode(byte[] b, int blockSize) throws CorruptRecord {
        if (b == null) {
            return null;
        }
        if (b.length != SIZE || b[0] != VERSION) {
            throw new CorruptRecord("attribute record of " + b.length + " bytes, version " + (b.length > 0 ? b[0] : -1)
                    + " (this build reads " + SIZE + " bytes, version " + VERSION + ")");
        }
        ByteBuffer bb = ByteBuffer.wrap(b, 1, b.length - 1);
        int k = bb.get();
        ObjectKind kind;
        try {
            kind = ObjectKind.fromCode(k);
        } catch (IllegalArgumentException e) {
            throw new CorruptRecord("attribute record with unknown object kind " + k);
        }
        long size = bb.getLong();
        long dv = bb.getLong();
        int mode = bb.getInt();
        int uid = bb.getInt();
        int gid = bb.getInt();
        long at = bb.getLong();
        long mt = bb.getLong();
        long ct = bb.getLong();
        int flags = bb.getInt();
        long alloc = bb.getLong();
        long xb = bb.getLong();
        long ib = bb.getLong();
        long fl = bb.getLong();
        long layout = bb.getLong();
        if (size < 0 || alloc < 0 || alloc > Long.MAX_VALUE / blockSize || xb < 0 || ib < 0) {
            throw new CorruptRecord("attribute record with size " + size + ", " + alloc + " allocated blocks, " + xb
                    + " xattr bytes, " + ib + " index bytes");
        }
        Attr a = new Attr(kind, size, alloc * blockSize / 512, mode, uid, gid, at, mt, ct, flags, dv);
        return new InodeRecord(a, alloc, xb, ib, fl, layout);
    }
}
