package dev.spillway.osd.mem;

import dev.spillway.osd.Attr;
import java.util.Arrays;
import java.util.Map;
import java.util.SortedMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * A published object. Immutable, except the index map of an INDEX object, which a committing
 * transaction (holding the object's lock) changes entry by entry; readers see each entry's
 * committed value.
 *
 * @param attr attributes
 * @param xattrs name to value; never changed after publication
 * @param body the body of a DATA object, else null
 * @param index the entries of an INDEX object, unsigned byte order, else null
 * @param indexBytes bytes of keys and values in {@code index}
 */
record MemObject(
        Attr attr,
        SortedMap<String, byte[]> xattrs,
        MemBody body,
        ConcurrentSkipListMap<byte[], byte[]> index,
        long indexBytes) {

    /** Bytes this object uses, for statfs. */
    long usedBytes() {
        long x = 0;
        for (Map.Entry<String, byte[]> e : xattrs.entrySet()) {
            x += e.getKey().length() + e.getValue().length;
        }
        return MemOsd.OBJECT_OVERHEAD + x + (body != null ? body.allocatedBytes() : 0) + indexBytes;
    }

    static ConcurrentSkipListMap<byte[], byte[]> newIndex() {
        return new ConcurrentSkipListMap<>(Arrays::compareUnsigned);
    }
}
