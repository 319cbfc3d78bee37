package dev.spillway.pool.meta;

/** Where a copy of an object's body is in its life; counters are kept per state. */
public enum CopyState {
    /** Being written to its device; not readable; a crash rolls it back. */
    PENDING,
    /** Holds the object's current data version; readable. */
    IN_SYNC,
    /** Holds an older data version; waits for resync or removal. Not readable. */
    STALE,
    /** No longer referenced by the layout; a GC job deletes it. */
    GARBAGE
}
