package dev.spillway.osd.mem;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * A sparse body as a table of fixed-size pages; absent pages are holes. A published body is
 * never changed: a transaction works on {@link #mutableCopy()}, which shares the pages and copies
 * each one before its first change, so readers of the published body need no lock.
 */
final class MemBody {
    private final int pageSize;
    private final TreeMap<Long, byte[]> pages;
    // Pages this copy allocated itself and may change in place; null for a published body.
    private final java.util.HashSet<Long> owned;

    private MemBody(int pageSize, TreeMap<Long, byte[]> pages, java.util.HashSet<Long> owned) {
        this.pageSize = pageSize;
        this.pages = pages;
        this.owned = owned;
    }

    static MemBody empty(int pageSize) {
        return new MemBody(pageSize, new TreeMap<>(), null);
    }

    /** A private copy for a transaction; the pages are shared until changed. */
    MemBody mutableCopy() {
        return new MemBody(pageSize, new TreeMap<>(pages), new java.util.HashSet<>());
    }

    /** A fresh empty mutable body. */
    MemBody mutableEmpty() {
        return new MemBody(pageSize, new TreeMap<>(), new java.util.HashSet<>());
    }

    /** This copy frozen for publication. */
    MemBody publish() {
        return new MemBody(pageSize, pages, null);
    }

    long allocatedBytes() {
        return (long) pages.size() * pageSize;
    }

    /** Reads from a body of logical size {@code size}; holes read as zeros. */
    int read(long offset, long size, ByteBuffer dst) {
        if (offset >= size) {
            return 0;
        }
        int n = (int) Math.min(dst.remaining(), size - offset);
        long pos = offset;
        int left = n;
        while (left > 0) {
            long pi = pos / pageSize;
            int po = (int) (pos % pageSize);
            int chunk = Math.min(left, pageSize - po);
            byte[] page = pages.get(pi);
            if (page == null) {
                for (int i = 0; i < chunk; i++) {
                    dst.put((byte) 0);
                }
            } else {
                dst.put(page, po, chunk);
            }
            pos += chunk;
            left -= chunk;
        }
        return n;
    }

    private byte[] writablePage(long pi) {
        byte[] page = pages.get(pi);
        if (page == null) {
            page = new byte[pageSize];
            pages.put(pi, page);
            owned.add(pi);
        } else if (owned.add(pi)) {
            page = page.clone();
            pages.put(pi, page);
        }
        return page;
    }

    void write(long offset, ByteBuffer src) {
        long pos = offset;
        while (src.hasRemaining()) {
            long pi = pos / pageSize;
            int po = (int) (pos % pageSize);
            int chunk = Math.min(src.remaining(), pageSize - po);
            src.get(writablePage(pi), po, chunk);
            pos += chunk;
        }
    }

    /** Zeroes {@code [offset, end)}, dropping whole pages. */
    void punch(long offset, long end) {
        long pos = offset;
        while (pos < end) {
            long pi = pos / pageSize;
            int po = (int) (pos % pageSize);
            int chunk = (int) Math.min(end - pos, pageSize - po);
            if (po == 0 && chunk == pageSize) {
                pages.remove(pi);
                owned.remove(pi);
            } else if (pages.containsKey(pi)) {
                Arrays.fill(writablePage(pi), po, po + chunk, (byte) 0);
            }
            pos += chunk;
        }
    }

    /** Cuts the body to {@code newSize}: drops pages past it and zeroes the tail of the last. */
    void truncate(long newSize) {
        long firstDropped = (newSize + pageSize - 1) / pageSize;
        NavigableMap<Long, byte[]> tail = pages.tailMap(firstDropped, true);
        owned.removeAll(tail.keySet());
        tail.clear();
        int po = (int) (newSize % pageSize);
        if (po != 0 && pages.containsKey(newSize / pageSize)) {
            Arrays.fill(writablePage(newSize / pageSize), po, pageSize, (byte) 0);
        }
    }

    /** SEEK_DATA in a body of {@code size}: the next allocated page's start, or -1. */
    long seekData(long offset, long size) {
        long pi = offset / pageSize;
        Map.Entry<Long, byte[]> e = pages.ceilingEntry(pi);
        if (e == null) {
            return -1;
        }
        long at = e.getKey() == pi ? offset : e.getKey() * pageSize;
        return at < size ? at : -1;
    }

    /** SEEK_HOLE in a body of {@code size}: the next unallocated page's start, or the size. */
    long seekHole(long offset, long size) {
        long pi = offset / pageSize;
        while (pages.containsKey(pi)) {
            pi++;
        }
        long at = Math.max(offset, pi * pageSize);
        return Math.min(at, size);
    }
}
