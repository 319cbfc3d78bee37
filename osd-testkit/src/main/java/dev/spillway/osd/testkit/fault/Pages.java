package dev.spillway.osd.testkit.fault;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * A sparse byte stream of fixed-size pages: the content of a simulated file. Pages are never
 * changed in place once shared: {@link #copy()} shares them and every change replaces a page
 * with a changed clone, so a durable snapshot and the current content can share most pages.
 */
final class Pages {
    final int pageSize;
    private final TreeMap<Long, byte[]> pages;
    private long size;

    Pages(int pageSize) {
        this(pageSize, new TreeMap<>(), 0);
    }

    private Pages(int pageSize, TreeMap<Long, byte[]> pages, long size) {
        this.pageSize = pageSize;
        this.pages = pages;
        this.size = size;
    }

    Pages copy() {
        return new Pages(pageSize, new TreeMap<>(pages), size);
    }

    long size() {
        return size;
    }

    long allocated() {
        return (long) pages.size() * pageSize;
    }

    private byte[] writable(long index) {
        byte[] p = pages.get(index);
        p = p == null ? new byte[pageSize] : p.clone();
        pages.put(index, p);
        return p;
    }

    /** Reads into {@code dst} from {@code pos}; -1 at or past the end. */
    int read(ByteBuffer dst, long pos) {
        if (pos >= size) {
            return dst.hasRemaining() ? -1 : 0;
        }
        int n = (int) Math.min(dst.remaining(), size - pos);
        long at = pos;
        int left = n;
        while (left > 0) {
            long pi = at / pageSize;
            int po = (int) (at % pageSize);
            int chunk = Math.min(left, pageSize - po);
            byte[] p = pages.get(pi);
            if (p == null) {
                dst.put(new byte[chunk]);
            } else {
                dst.put(p, po, chunk);
            }
            at += chunk;
            left -= chunk;
        }
        return n;
    }

    void write(long pos, byte[] data, int off, int len) {
        long at = pos;
        int i = off;
        int end = off + len;
        while (i < end) {
            long pi = at / pageSize;
            int po = (int) (at % pageSize);
            int chunk = Math.min(end - i, pageSize - po);
            System.arraycopy(data, i, writable(pi), po, chunk);
            at += chunk;
            i += chunk;
        }
        size = Math.max(size, pos + len);
    }

    void truncate(long newSize) {
        if (newSize < size) {
            long first = (newSize + pageSize - 1) / pageSize;
            pages.tailMap(first, true).clear();
            int po = (int) (newSize % pageSize);
            if (po != 0 && pages.containsKey(newSize / pageSize)) {
                Arrays.fill(writable(newSize / pageSize), po, pageSize, (byte) 0);
            }
        }
        size = newSize;
    }

    /** Zeroes {@code [off, off+len)} within the size, dropping whole pages; the size stays. */
    void punch(long off, long len) {
        long end = Math.min(size, off + len);
        long at = off;
        while (at < end) {
            long pi = at / pageSize;
            int po = (int) (at % pageSize);
            int chunk = (int) Math.min(end - at, pageSize - po);
            if (po == 0 && chunk == pageSize) {
                pages.remove(pi);
            } else if (pages.containsKey(pi)) {
                Arrays.fill(writable(pi), po, po + chunk, (byte) 0);
            }
            at += chunk;
        }
    }

    /** SEEK_DATA: the first allocated offset at or after {@code pos} below the size, or -1. */
    long seekData(long pos) {
        if (pos >= size) {
            return -1;
        }
        Map.Entry<Long, byte[]> e = pages.ceilingEntry(pos / pageSize);
        if (e == null) {
            return -1;
        }
        long at = Math.max(pos, e.getKey() * pageSize);
        return at < size ? at : -1;
    }

    /** SEEK_HOLE: the first unallocated offset at or after {@code pos}, at most the size; -1 past the end. */
    long seekHole(long pos) {
        if (pos >= size) {
            return -1;
        }
        long pi = pos / pageSize;
        while (pages.containsKey(pi)) {
            pi++;
        }
        return Math.min(size, Math.max(pos, pi * pageSize));
    }
}
