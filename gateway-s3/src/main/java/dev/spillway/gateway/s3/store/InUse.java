package dev.spillway.gateway.s3.store;

import dev.spillway.osd.Fid;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;

/**
 * The objects this gateway is reading or writing right now, so the garbage sweeper never
 * destroys a body under a reader that is still streaming it (an overwrite or delete only
 * switches the key record; the old body waits in the garbage index). A FID is either used by
 * readers/writers (a count) or claimed by the sweeper (a {@link Claim}), never both: the check
 * and the claim are one atomic map update. A reader that finds a claim waits for the sweeper's
 * decision ({@link #awaitUnclaimed}) instead of spinning, so a slow destroy on a loaded machine
 * never fails a read.
 */
public final class InUse {
    /** The sweeper's mark on a FID; its latch opens when the sweeper has destroyed it or let it be. */
    private static final class Claim {
        final CountDownLatch done = new CountDownLatch(1);
    }

    // FID → number of readers/writers (an Integer), or the sweeper's Claim while it owns it.
    private final ConcurrentHashMap<Fid, Object> users = new ConcurrentHashMap<>();

    /** Registers a reader or writer; false if the sweeper has claimed the object. */
    public boolean acquire(Fid fid) {
        boolean[] claimed = new boolean[1];
        users.compute(fid, (k, v) -> {
            if (v instanceof Claim) {
                claimed[0] = true;
                return v;
            }
            return v == null ? 1 : (Integer) v + 1;
        });
        return !claimed[0];
    }

    /** Ends one {@link #acquire}; never touches a sweeper's claim. */
    public void release(Fid fid) {
        users.computeIfPresent(fid, (k, v) -> v instanceof Integer n ? (n <= 1 ? null : n - 1) : v);
    }

    /** Claims an unused object for destruction; false if someone uses it (or it is claimed). */
    boolean claim(Fid fid) {
        return users.putIfAbsent(fid, new Claim()) == null;
    }

    void unclaim(Fid fid) {
        if (users.get(fid) instanceof Claim c && users.remove(fid, c)) {
            c.done.countDown();
        }
    }

    /** Waits until the sweeper's claim on {@code fid}, if any, has ended. */
    void awaitUnclaimed(Fid fid) throws InterruptedException {
        if (users.get(fid) instanceof Claim c) {
            c.done.await();
        }
    }

    /** Objects in use now (for tests and metrics). */
    public int size() {
        return users.size();
    }
}
