package dev.spillway.osd.vfs;

import dev.spillway.osd.Fid;
import dev.spillway.osd.spi.storage.Storage;
import dev.spillway.osd.spi.storage.StorageFile;
import java.io.IOException;
import java.nio.file.StandardOpenOption;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Open handles (read-write; read-only on a read-only mount) of recently used object files — one cache for bodies, one for
 * records — so a stream of reads, writes and record updates does not pay an open/close each.
 * A handle is the inode: whoever replaces or removes an object's files (create, install,
 * destroy) invalidates its FID first. Handles are reference-counted, so an invalidated or
 * evicted handle closes only when its last user is done.
 */
final class FileHandles {
    private static final int MAX = 128;

    /** A shared handle; the cache holds one reference while it is cached. */
    static final class Handle {
        final StorageFile file;
        private final AtomicInteger refs = new AtomicInteger(1);

        Handle(StorageFile file) {
            this.file = file;
        }

        boolean retain() {
            while (true) {
                int r = refs.get();
                if (r == 0) {
                    return false;
                }
                if (refs.compareAndSet(r, r + 1)) {
                    return true;
                }
            }
        }

        void release() {
            if (refs.decrementAndGet() == 0) {
                try {
                    file.close();
                } catch (IOException e) {
                    // A read-only handle: closing it loses nothing.
                }
            }
        }
    }

    private final Storage s;
    private final java.util.function.Function<Fid, String> path;
    // READ alone for a read-only mount (a read-only filesystem refuses a READ+WRITE open).
    private final Set<StandardOpenOption> mode;
    // Open handles; each holds one reference for the cache.
    private final Map<Fid, Handle> handles = new ConcurrentHashMap<>();
    // Bumped by every invalidation (guarded by this, as are cache insertions): a handle opened
    // while an invalidation ran may be of the old file and is used once, never cached.
    private long invalidations;

    FileHandles(Storage s, java.util.function.Function<Fid, String> path, boolean readOnly) {
        this.s = s;
        this.path = path;
        this.mode = readOnly
                ? EnumSet.of(StandardOpenOption.READ)
                : EnumSet.of(StandardOpenOption.READ, StandardOpenOption.WRITE);
    }

    /** Decides, when a body is opened afresh, whether its object exists. */
    @FunctionalInterface
    interface Check {
        boolean exists() throws IOException;
    }

    /**
     * A retained handle of {@code fid}'s file, or null if the object does not exist; release it
     * when done. A cached handle proves the object exists (destroy invalidates it first); a
     * fresh one is checked with {@code check} after it is opened.
     */
    Handle acquire(Fid fid, Check check) throws IOException {
        Handle h = handles.get(fid);
        if (h != null && h.retain()) {
            return h;
        }
        long before;
        synchronized (this) {
            before = invalidations;
        }
        Handle fresh;
        try {
            fresh = new Handle(s.open(path.apply(fid), mode));
        } catch (java.nio.file.NoSuchFileException e) {
            return null;
        }
        if (!check.exists()) {
            fresh.release();
            return null;
        }
        fresh.retain();
        synchronized (this) {
            if (invalidations != before) {
                fresh.release(); // the cache's reference: not cached
                return fresh;
            }
            if (handles.size() >= MAX) {
                evictOne();
            }
            Handle prev = handles.put(fid, fresh);
            if (prev != null) {
                prev.release();
            }
        }
        return fresh;
    }

    /**
     * Caches {@code file}, just created (read-write) as {@code fid}'s file after its invalidation:
     * the writes that follow need no open of their own.
     */
    synchronized void adopt(Fid fid, StorageFile file) {
        if (handles.size() >= MAX) {
            evictOne();
        }
        Handle prev = handles.put(fid, new Handle(file));
        if (prev != null) {
            prev.release();
        }
    }

    /** {@code fid}'s cached handle, retained (release it when done), or null if none is cached. */
    Handle cached(Fid fid) {
        Handle h = handles.get(fid);
        return h != null && h.retain() ? h : null;
    }

    private void evictOne() {
        Iterator<Map.Entry<Fid, Handle>> it = handles.entrySet().iterator();
        if (it.hasNext()) {
            Map.Entry<Fid, Handle> e = it.next();
            if (handles.remove(e.getKey(), e.getValue())) {
                e.getValue().release();
            }
        }
    }

    /** Forgets {@code fid}'s handle: its file is about to be replaced or removed. */
    synchronized void invalidate(Fid fid) {
        invalidations++;
        Handle h = handles.remove(fid);
        if (h != null) {
            h.release();
        }
    }

    void closeAll() {
        for (Fid f : handles.keySet()) {
            invalidate(f);
        }
    }
}
