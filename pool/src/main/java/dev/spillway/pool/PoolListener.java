package dev.spillway.pool;

import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;

/**
 * What the pool tells the migration daemon about accesses: called on the data path, so
 * implementations must be quick and never block or do I/O (update in-memory heat and return).
 */
public interface PoolListener {
    /** No one listening. */
    PoolListener NONE = new PoolListener() { };

    /** {@code bytes} of {@code fid} were read, served by device {@code device}. */
    default void read(Fid fid, long bytes, int device) {
    }

    /** {@code fid}'s body was changed by a committed transaction; its size is now {@code size}. */
    default void written(Fid fid, long size) {
    }

    default void created(Fid fid, ObjectKind kind) {
    }

    default void destroyed(Fid fid) {
    }
}
