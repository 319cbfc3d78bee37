package dev.spillway.migrate.heat;

/**
 * One independently locked part of a {@link HeatTracker}: the records of the FIDs that hash to
 * it, and two bucket rings over them, one for objects resident on the fast tier (the spill
 * candidates) and one for spilled objects (exported as inactive, watched for promotion).
 * A record is in a ring only if it may move at all: DATA kind, not pinned, and (resident) not
 * smaller than the minimum spill size.
 *
 * <p>Every method must be called holding this segment's monitor; {@link HeatTracker} does.
 */
final class HeatSegment {
    static final int F_LIVE = 1;
    static final int F_DATA = 2;
    static final int F_PINNED = 4;
    static final int F_RESIDENT = 8;
    static final int F_PROMOTED = 16;
    static final int HIT_SHIFT = 5;
    /** Hits in the window saturate here (3 bits). */
    static final int HIT_MAX = 7;

    static final int RESIDENT_RING = 0;
    static final int SPILLED_RING = 1;

    final EntryStore store = new EntryStore();
    private final BucketRing[] rings;
    private final double lambda;
    private final long minSpillBytes;
    private final int hitWindowSeconds;
    /** An upper bound of log2(decayed count) at last access over all records ever updated. */
    private double maxLogScore;

    HeatSegment(HeatConfig config) {
        this.lambda = config.lambdaPerSecond();
        this.minSpillBytes = config.minSpillBytes();
        this.hitWindowSeconds = (int) Math.min(Integer.MAX_VALUE, Math.max(1, config.hitWindow().toSeconds()));
        this.rings = new BucketRing[] {
            new BucketRing(store, config.ringBuckets(), config.bucketsPerDoubling()),
            new BucketRing(store, config.ringBuckets(), config.bucketsPerDoubling())};
    }

    BucketRing ring(int r) {
        return rings[r];
    }

    double maxLogScore() {
        return maxLogScore;
    }

    long footprintBytes() {
        return store.footprintBytes() + rings[0].footprintBytes() + rings[1].footprintBytes();
    }

    private boolean linkable(int flags, long size) {
        if ((flags & F_DATA) == 0 || (flags & F_PINNED) != 0) {
            return false;
        }
        return (flags & F_RESIDENT) == 0 || size >= minSpillBytes;
    }

    private static int ringOf(int flags) {
        return (flags & F_RESIDENT) != 0 ? RESIDENT_RING : SPILLED_RING;
    }

    private void unlinkIfLinked(int id) {
        int f = store.flags(id);
        long size = EntryStore.decodeSize(store.sizeCode(id));
        if (linkable(f, size)) {
            rings[ringOf(f)].unlink(id, size);
        }
    }

    private void linkIfLinkable(int id) {
        int f = store.flags(id);
        long size = EntryStore.decodeSize(store.sizeCode(id));
        if (linkable(f, size)) {
            rings[ringOf(f)].link(id, size);
        }
    }

    /** Adds one access at time t (seconds since the epoch) to the record's key. */
    private void bump(int id, double t, int ti) {
        double now = lambda * t;
        double d = store.key(id) - now;
        double k = d < -64 ? now : now + Math.log1p(Math.pow(2, d)) / Math.log(2);
        store.setKey(id, k);
        store.setLast(id, ti);
        double logScore = k - lambda * ti;
        if (logScore > maxLogScore) {
            maxLogScore = logScore;
        }
    }

    private int findOrAdd(long s, long ov, int h, boolean data, boolean resident, int ti, boolean[] added) {
        int id = store.find(s, ov, h);
        if (id != EntryStore.NONE) {
            return id;
        }
        id = store.add(s, ov, h);
        store.setFlags(id, F_LIVE | (data ? F_DATA : 0) | (resident ? F_RESIDENT : 0));
        // A new record has no access yet: its key is minus infinity in effect; bump() makes it one.
        store.setKey(id, Double.NEGATIVE_INFINITY);
        store.setAux(id, ti);
        added[0] = true;
        return id;
    }

    void recordWrite(long s, long ov, int h, boolean data, long size, double t, int ti) {
        boolean[] added = {false};
        int id = findOrAdd(s, ov, h, data, true, ti, added);
        if (!added[0]) {
            unlinkIfLinked(id);
        }
        int f = store.flags(id);
        if ((f & F_RESIDENT) == 0) {
            // A write recalls the body to the fast tier: it is resident from now on, not promoted.
            f = (f | F_RESIDENT) & ~F_PROMOTED & ~(HIT_MAX << HIT_SHIFT);
            store.setAux(id, ti);
        }
        store.setFlags(id, f);
        store.setSizeCode(id, EntryStore.encodeSize(size));
        bump(id, t, ti);
        linkIfLinkable(id);
    }

    int recordRead(long s, long ov, int h, boolean data, long size, boolean resident, double t, int ti) {
        boolean[] added = {false};
        int id = findOrAdd(s, ov, h, data, resident, ti, added);
        if (!added[0]) {
            unlinkIfLinked(id);
        }
        int f = store.flags(id);
        boolean was = (f & F_RESIDENT) != 0;
        if (was != resident) {
            // The pool knows better: follow it.
            f = resident ? (f | F_RESIDENT) : (f & ~F_RESIDENT & ~F_PROMOTED);
            f &= ~(HIT_MAX << HIT_SHIFT);
            store.setAux(id, ti);
        }
        int hits = 0;
        if (!resident) {
            hits = (f >>> HIT_SHIFT) & HIT_MAX;
            if (hits == 0 || ti - store.aux(id) >= hitWindowSeconds) {
                store.setAux(id, ti);
                hits = 1;
            } else if (hits < HIT_MAX) {
                hits++;
            }
            f = (f & ~(HIT_MAX << HIT_SHIFT)) | (hits << HIT_SHIFT);
        }
        store.setFlags(id, f);
        if (size >= 0) {
            store.setSizeCode(id, EntryStore.encodeSize(size));
        }
        bump(id, t, ti);
        linkIfLinkable(id);
        return hits;
    }

    /** Moves a record between tiers; returns false if the FID is not tracked. */
    boolean setResident(long s, long ov, int h, boolean resident, boolean promoted, int ti) {
        int id = store.find(s, ov, h);
        if (id == EntryStore.NONE) {
            return false;
        }
        unlinkIfLinked(id);
        int f = store.flags(id) & ~(HIT_MAX << HIT_SHIFT) & ~F_PROMOTED & ~F_RESIDENT;
        if (resident) {
            f |= F_RESIDENT | (promoted ? F_PROMOTED : 0);
        }
        store.setFlags(id, f);
        store.setAux(id, ti);
        linkIfLinkable(id);
        return true;
    }

    boolean setPinned(long s, long ov, int h, boolean pinned) {
        int id = store.find(s, ov, h);
        if (id == EntryStore.NONE) {
            return false;
        }
        unlinkIfLinked(id);
        int f = store.flags(id);
        store.setFlags(id, pinned ? f | F_PINNED : f & ~F_PINNED);
        linkIfLinkable(id);
        return true;
    }

    boolean forget(long s, long ov, int h) {
        int id = store.find(s, ov, h);
        if (id == EntryStore.NONE) {
            return false;
        }
        unlinkIfLinked(id);
        store.remove(id, h);
        return true;
    }

    /** Appends every record of one bucket of one ring to {@code g}. */
    void gather(int ring, long bucket, Gather g) {
        int head = rings[ring].head(bucket);
        if (head == EntryStore.NONE) {
            return;
        }
        int id = head;
        do {
            g.add(store, id);
            id = store.next(id);
        } while (id != head);
    }

    /** Restores one record from a checkpoint (the FID must be new). */
    void restore(long s, long ov, double key, int last, int aux, int sizeCode, int flags) {
        int h = EntryStore.hash(s, ov);
        if (store.find(s, ov, h) != EntryStore.NONE) {
            throw new IllegalArgumentException("duplicate record");
        }
        int id = store.add(s, ov, h);
        store.setKey(id, key);
        store.setLast(id, last);
        store.setAux(id, aux);
        store.setSizeCode(id, sizeCode);
        store.setFlags(id, flags | F_LIVE);
        double logScore = key - lambda * last;
        if (logScore > maxLogScore) {
            maxLogScore = logScore;
        }
        linkIfLinkable(id);
    }
}
