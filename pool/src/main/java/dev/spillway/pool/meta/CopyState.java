package dev.spillway.pool.meta;

/**
 * Where a copy of an object's body is in its life; counters are kept per state. Each state has
 * an explicit on-disk {@link #code} (in the pool record of every object and in the counters' keys),
 * so the order of the constants is free to change; the codes never do.
 */
public enum CopyState {
    /** Being written to its device; not readable; a crash rolls it back. */
    PENDING(0),
    /** Holds the object's current data version; readable. */
    IN_SYNC(1),
    /** Holds an older data version; waits for resync or removal. Not readable. */
    STALE(2),
    /** No longer referenced by the layout; a GC job deletes it. */
    GARBAGE(3),
    /**
     * On a device that failed: not readable, not counted toward replicas. It stays in the layout
     * (Lustre: {@code HS_LOST} on an HSM component, {@code LCME_FL_STALE} on a mirror) and in its
     * device's index, so the objects at risk are listed without a scan; the daemon replaces it
     * from a surviving copy, and a device that comes back has it verified against its checksums
     * before it counts again.
     */
    LOST(4);

    private final int code;

    CopyState(int code) {
        this.code = code;
    }

    /** The state's on-disk code. */
    public int code() {
        return code;
    }

    /** The state of on-disk code {@code code}, or null if no state has it (a damaged record). */
    public static CopyState ofCode(int code) {
        for (CopyState s : values()) {
            if (s.code == code) {
                return s;
            }
        }
        return null;
    }
}
