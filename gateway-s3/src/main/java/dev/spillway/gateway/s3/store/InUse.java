package dev.spillway.gateway.s3.store;

import dev.spillway.osd.Fid;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The objects this gateway is reading or writing right now, so the garbage sweeper never
 * destroys a body under a reader that is still streaming it (an overwrite or delete only
 * switches the key record; the old body waits in the garbage index). A FID is either used by
 * readers/writers (a count) or claimed by the sweeper (a mark), never both: the check and the
 * claim are one atomic map update.
 */
public final class InUse {
    private static final int DESTROYING = -1;

    // FID → number of readers/writers, or DESTROYING once the sweeper owns it.
    private final ConcurrentHashMap<Fid, Integer> users = new ConcurrentHashMap<>();

    /** Registers a reader or writer; false if the sweeper is destroying the object. */
    public boolean acquire(Fid fid) {
        int[] result = new int[1];
        users.compute(fid, (k, v) -> {
            if (v != null && v == DESTROYING) {
                result[0] = DESTROYING;
                return v;
            }
            return v == null ? 1 : v + 1;
        });
        return result[0] != DESTROYING;
    }

    public void release(Fid fid) {
        users.computeIfPresent(fid, (k, v) -> v <= 1 ? null : v - 1);
    }

    /** Claims an unused object for destruction; false if someone uses it. */
    boolean claim(Fid fid) {
        return users.putIfAbsent(fid, DESTROYING) == null;
    }

    void unclaim(Fid fid) {
        users.remove(fid, DESTROYING);
    }

    /** Objects in use now (for tests and metrics). */
    public int size() {
        return users.size();
    }
}
