package dev.spillway.osd.kv;

import dev.spillway.osd.Fid;
import java.util.BitSet;
import java.util.Collection;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Change stamps of the device's objects, in striped counters: a commit marks the stripes of the
 * objects it names {@linkplain #begin begun} before its batch is written to RocksDB (visible) and
 * {@linkplain #end ended} after, failed or not. A reader that took a stable {@link #stamp} (as many
 * ends as begins) and finds the same begin count later ({@link #unchanged}) knows no commit naming
 * the object was published or in flight in between: what it loaded under that stamp is still the
 * latest state. So a read of an unchanged object reuses what an earlier read loaded (its size and
 * extent list) instead of a RocksDB get per call, the seqlock-style check issue 17 asked for.
 *
 * <p>Every write of an object's records goes through a transaction's commit; the mount's own
 * writes (recovery) come before any read. A collision only costs a reader its get.
 */
final class ChangeStamps {
    /** No stable stamp: an update is in flight on the stripe. */
    static final long UNSTABLE = -1;

    /** A power of two. */
    static final int STRIPES = 4096;

    // Per stripe i: [2i] commits begun on an object of it, [2i+1] those ended. Monotonic.
    private final AtomicLongArray counts = new AtomicLongArray(2 * STRIPES);

    long stamp(Fid fid) {
        int i = stripe(fid);
        // Begins first: a commit that begins and ends between the two reads shows as unstable.
        long begun = counts.get(2 * i);
        long ended = counts.get(2 * i + 1);
        return begun == ended ? begun : UNSTABLE;
    }

    boolean unchanged(Fid fid, long stamp) {
        return stamp != UNSTABLE && counts.get(2 * stripe(fid)) == stamp;
    }

    /** Marks the objects' stripes begun (once per stripe); pass the result to {@link #end}. */
    BitSet begin(Collection<Fid> fids) {
        BitSet stripes = new BitSet(STRIPES);
        for (Fid f : fids) {
            stripes.set(stripe(f));
        }
        for (int s = stripes.nextSetBit(0); s >= 0; s = stripes.nextSetBit(s + 1)) {
            counts.incrementAndGet(2 * s);
        }
        return stripes;
    }

    void end(BitSet stripes) {
        for (int s = stripes.nextSetBit(0); s >= 0; s = stripes.nextSetBit(s + 1)) {
            counts.incrementAndGet(2 * s + 1);
        }
    }

    static int stripe(Fid fid) {
        long h = fid.seq() * 0x9E3779B97F4A7C15L + fid.oid() * 0xC2B2AE3D27D4EB4FL + fid.ver();
        return (int) (h ^ (h >>> 32)) & (STRIPES - 1);
    }
}
