package dev.spillway.pool.meta;

import java.util.List;

/**
 * What a read needs of one record, worked out once when the record is loaded rather than on every
 * read: where the body is (resident on the metadata device, split, or elsewhere) and, for a split
 * body, the ranges the metadata device holds, as sorted arrays searched by bisection.
 *
 * <p>A split body has a copy per spilled range (64 and more at 64 MiB extents of a 4 GiB object),
 * and asking the record {@code resident}, {@code split} and {@code on} scanned all of them on each
 * read of its hot head (issue 20, {@code bench partial}: about 6% of a 4 KiB read at 63 ranges, JFR).
 * A plan is made from an immutable record and cached with it, under the same change stamp
 * ({@link PoolObjectStore#loadStamped}): it can be no staler than the record it was made from.
 */
public final class ReadPlan {
    /** Where the body is, for a read. */
    public enum Where {
        /** Whole and in sync on the metadata device. */
        RESIDENT,
        /** Some ranges on the metadata device, the others in copies of ranges elsewhere (issue 20). */
        SPLIT,
        /** On other devices only (spilled whole, or the local copy not in sync). */
        ELSEWHERE
    }

    private static final long[] NONE = new long[0];

    private final Where where;
    // The metadata device's spans of a split body: starts ascending, ends[i] > starts[i] (EOF allowed).
    private final long[] starts;
    private final long[] ends;

    private ReadPlan(Where where, long[] starts, long[] ends) {
        this.where = where;
        this.starts = starts;
        this.ends = ends;
    }

    /** The plan for reading record {@code p} on a pool whose metadata device is {@code mdIndex}. */
    public static ReadPlan of(PoolObject p, int mdIndex) {
        if (p.resident(mdIndex)) {
            return new ReadPlan(Where.RESIDENT, NONE, NONE);
        }
        if (!p.split(mdIndex)) {
            return new ReadPlan(Where.ELSEWHERE, NONE, NONE);
        }
        List<Span> held = Span.normalize(p.on(mdIndex).orElseThrow().held());
        long[] s = new long[held.size()];
        long[] e = new long[held.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = held.get(i).start();
            e[i] = held.get(i).end();
        }
        return new ReadPlan(Where.SPLIT, s, e);
    }

    public Where where() {
        return where;
    }

    /**
     * The end of the metadata device's span of a split body holding byte {@code off} ({@link
     * Span#EOF} if it runs to the end), or -1 if the metadata device does not hold that byte (or
     * the body is not split). O(log spans).
     */
    public long localEnd(long off) {
        int lo = 0;
        int hi = starts.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (starts[mid] <= off) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        // hi: the last span starting at or before off.
        return hi >= 0 && off < ends[hi] ? ends[hi] : -1;
    }
}
