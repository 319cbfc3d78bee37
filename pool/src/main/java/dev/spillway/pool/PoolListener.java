package dev.spillway.pool;

import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;

/**
 * What the pool tells the migration daemon about accesses: called on the data path, so
 * implementations must be quick and never block or do I/O (update in-memory heat and return).
 */
public interface PoolListener {
    /** No one listening. */
    PoolListener NONE = new PoolListener() {};

    /** {@code bytes} of {@code fid} (an object of {@code size} bytes) were read, served by device {@code device}. */
    default void read(Fid fid, long size, long bytes, int device) {}

    /** {@code fid}'s body was changed by a committed transaction; its size is now {@code size}. */
    default void written(Fid fid, long size) {}

    default void created(Fid fid, ObjectKind kind) {}

    default void destroyed(Fid fid) {}

    /**
     * A committed transaction set {@code fid}'s placement advice ({@link
     * dev.spillway.osd.PlacementHint}) to {@code advice}.
     */
    default void advised(Fid fid, String advice) {}

    /** Tells every one of {@code listeners}, in order. */
    static PoolListener all(java.util.List<PoolListener> listeners) {
        java.util.List<PoolListener> ls = java.util.List.copyOf(listeners);
        return new PoolListener() {
            @Override
            public void read(Fid fid, long size, long bytes, int device) {
                for (PoolListener l : ls) {
                    l.read(fid, size, bytes, device);
                }
            }

            @Override
            public void written(Fid fid, long size) {
                for (PoolListener l : ls) {
                    l.written(fid, size);
                }
            }

            @Override
            public void created(Fid fid, ObjectKind kind) {
                for (PoolListener l : ls) {
                    l.created(fid, kind);
                }
            }

            @Override
            public void destroyed(Fid fid) {
                for (PoolListener l : ls) {
                    l.destroyed(fid);
                }
            }

            @Override
            public void advised(Fid fid, String advice) {
                for (PoolListener l : ls) {
                    l.advised(fid, advice);
                }
            }
        };
    }
}
