package dev.spillway.migrate.heat;

import java.util.concurrent.atomic.AtomicLong;

/**
 * One independently locked part of a {@link HeatTracker}: the records of the FIDs that hash to
 * it, and three bucket rings over them: objects resident on the fast tier (the spill
 * candidates), resident objects on probation (promoted on trial, spilled first), and spilled
 * objects (exported as inactive).
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
    /** Resident on trial (probation): promoted, or written, and not read again since. */
    static final int F_PROBATION = 128;
    /**
     * Spilled by a spill pass and not read since: the record's ghost mark (the bytes its part had
     * spilled before it) says how recently it left; {@link #F_GHOST_TRIAL} says from which part.
     */
    static final int F_GHOST = 32;
    /** With {@link #F_GHOST}: spilled as a trial copy (else from the main part). */
    static final int F_GHOST_TRIAL = 64;

    private static final int GHOST_BITS = F_GHOST | F_GHOST_TRIAL;

    static final int RESIDENT_RING = 0;
    static final int SPILLED_RING = 1;
    static final int PROBATION_RING = 2;

    final EntryStore store = new EntryStore();
    private final BucketRing[] rings;
    private final long minSpillBytes;
    private final double sizeWeight;
    /** Frequency half-lives per order half-life: {@code halfLife / frequencyHalfLife} (at most 1). */
    private final double freqRatio;
    /** Objects linked in the resident and probation rings of every segment: the tier's size in turnovers. */
    private final AtomicLong residents;
    /** Bytes spilled from trial copies / from the main part, by every segment (ghost marks). */
    private final AtomicLong trialSpilled;

    private final AtomicLong mainSpilled;
    /** An upper bound of log2(decayed count) at last access over all records ever updated. */
    private double maxLogScore;

    HeatSegment(HeatConfig config, AtomicLong residents, AtomicLong trialSpilled, AtomicLong mainSpilled) {
        this.trialSpilled = trialSpilled;
        this.mainSpilled = mainSpilled;
        this.minSpillBytes = config.minSpillBytes();
        this.sizeWeight = config.sizeWeight();
        this.freqRatio = config.halfLife() / config.frequencyHalfLife();
        this.residents = residents;
        this.rings = new BucketRing[] {
            new BucketRing(store, config.ringBuckets(), config.bucketsPerDoubling()),
            new BucketRing(store, config.ringBuckets(), config.bucketsPerDoubling()),
            new BucketRing(store, config.ringBuckets(), config.bucketsPerDoubling())
        };
    }

    BucketRing ring(int r) {
        return rings[r];
    }

    double freqRatio() {
        return freqRatio;
    }

    /**
     * The record's frequency key: {@code T x freqRatio + log2(frequency count at T)}, in
     * frequency half-lives. Stored as its offset from the order key scaled to the frequency
     * clock (a difference of two log counts, small, so a float keeps it exact enough however far
     * the logical clock has run).
     */
    double freqKey(int id) {
        return freqKey(store.key(id), sizeTerm(store.sizeCode(id)), store.freq(id), freqRatio);
    }

    static double freqKey(double key, double sizeTerm, float offset, double freqRatio) {
        double k = key + sizeTerm;
        return k == Double.NEGATIVE_INFINITY ? k : k * freqRatio + offset;
    }

    /** Sets the frequency key; the order key must be set first. */
    private void setFreqKey(int id, double fk) {
        double k = store.key(id) + sizeTerm(store.sizeCode(id));
        store.setFreq(id, (float) (fk - k * freqRatio));
    }

    double maxLogScore() {
        return maxLogScore;
    }

    long footprintBytes() {
        return store.footprintBytes()
                + rings[0].footprintBytes()
                + rings[1].footprintBytes()
                + rings[2].footprintBytes();
    }

    private boolean linkable(int flags, long size) {
        if ((flags & F_DATA) == 0 || (flags & F_PINNED) != 0) {
            return false;
        }
        return (flags & F_RESIDENT) == 0 || size >= minSpillBytes;
    }

    private static int ringOf(int flags) {
        if ((flags & F_RESIDENT) == 0) {
            return SPILLED_RING;
        }
        return (flags & F_PROBATION) != 0 ? PROBATION_RING : RESIDENT_RING;
    }

    private void unlinkIfLinked(int id) {
        int f = store.flags(id);
        long size = EntryStore.decodeSize(store.sizeCode(id));
        if (linkable(f, size)) {
            int r = ringOf(f);
            rings[r].unlink(id, size);
            if (r != SPILLED_RING) {
                residents.decrementAndGet();
            }
        }
    }

    private void linkIfLinkable(int id) {
        int f = store.flags(id);
        long size = EntryStore.decodeSize(store.sizeCode(id));
        if (linkable(f, size)) {
            int r = ringOf(f);
            rings[r].link(id, size);
            if (r != SPILLED_RING) {
                residents.incrementAndGet();
            }
        }
    }

    private static final double LN2 = Math.log(2);

    /**
     * The size term of a key: {@code sizeWeight x log2(size / 4 KiB)} (0 below 4 KiB), so that
     * keys order objects by heat per byte^sizeWeight — what a request hit ratio rewards.
     */
    double sizeTerm(int sizeCode) {
        if (sizeWeight == 0) {
            return 0;
        }
        long size = EntryStore.decodeSize(sizeCode);
        return size <= 4096 ? 0 : sizeWeight * Math.log(size / 4096.0) / LN2;
    }

    /** Sets the record's size, keeping its heat: the key carries the size term. */
    private void resize(int id, int sizeCode) {
        int old = store.sizeCode(id);
        if (old != sizeCode) {
            store.setKey(id, store.key(id) + sizeTerm(old) - sizeTerm(sizeCode));
            store.setSizeCode(id, sizeCode);
        }
    }

    /**
     * Adds one access at logical time t (half-lives) to the record's key, and notes the wall
     * second {@code ti} as its last access.
     */
    private void bump(int id, double t, int ti) {
        double sz = sizeTerm(store.sizeCode(id));
        double d = store.key(id) + sz - t; // log2 of the decayed count at t
        double tf = t * freqRatio;
        double fd = freqKey(id) - tf; // the same for the frequency count
        // log2(2^d + 1) with the intrinsic exp and log (StrictMath's log1p costs more than the rest).
        double k = (d < -64 ? t : t + Math.log(1 + Math.exp(d * LN2)) / LN2) - sz;
        store.setKey(id, k);
        if (freqRatio == 1) {
            store.setFreq(id, 0); // one memory: the frequency key is the order key
        } else {
            setFreqKey(id, fd < -64 ? tf : tf + Math.log(1 + Math.exp(fd * LN2)) / LN2);
        }
        store.setLast(id, ti);
        double logScore = k + sz - t;
        if (logScore > maxLogScore) {
            maxLogScore = logScore;
        }
    }

    /** The record's id, or {@code ~id} (negative) if it was just created. */
    private int findOrAdd(long s, long ov, int h, boolean data, boolean resident, int ti) {
        int id = store.find(s, ov, h);
        if (id != EntryStore.NONE) {
            return id;
        }
        id = store.add(s, ov, h);
        store.setFlags(id, F_LIVE | (data ? F_DATA : 0) | (resident ? F_RESIDENT : 0));
        // A new record has no access yet: its key is minus infinity in effect; bump() makes it one.
        store.setKey(id, Double.NEGATIVE_INFINITY);
        store.setFreq(id, 0);
        store.setAux(id, ti);
        return ~id;
    }

    void recordWrite(long s, long ov, int h, boolean data, long size, double t, int ti) {
        int id = findOrAdd(s, ov, h, data, true, ti);
        if (id >= 0) {
            unlinkIfLinked(id);
        } else {
            id = ~id;
        }
        int f = store.flags(id);
        if ((f & F_RESIDENT) == 0) {
            // A write recalls the body to the fast tier: it is resident from now on, not promoted.
            f = (f | F_RESIDENT) & ~F_PROMOTED;
            store.setAux(id, ti);
        }
        // Written data is not on trial, and not a ghost.
        f &= ~F_PROBATION & ~GHOST_BITS;
        store.setFlags(id, f);
        resize(id, EntryStore.encodeSize(size));
        bump(id, t, ti);
        linkIfLinkable(id);
    }

    /** Returns the ghost a read of a spilled record consumed ({@link #takeGhost}), else 0. */
    long recordRead(long s, long ov, int h, boolean data, long size, boolean resident, double t, int ti) {
        int id = findOrAdd(s, ov, h, data, resident, ti);
        long ghost = 0;
        if (id >= 0) {
            unlinkIfLinked(id);
            if (!resident) {
                ghost = takeGhost(id);
            }
        } else {
            id = ~id;
        }
        int f = store.flags(id);
        boolean was = (f & F_RESIDENT) != 0;
        if (was != resident) {
            // The pool knows better: follow it.
            f = resident ? (f | F_RESIDENT) : (f & ~F_RESIDENT & ~F_PROMOTED);
            f &= ~F_PROBATION & ~GHOST_BITS;
            store.setAux(id, ti);
        } else if (resident) {
            // A trial copy read again on the fast tier has earned its place (S3-FIFO moving a
            // re-read object from its small queue to main).
            f &= ~F_PROBATION;
        }
        store.setFlags(id, f);
        if (size >= 0) {
            resize(id, EntryStore.encodeSize(size));
        }
        bump(id, t, ti);
        linkIfLinkable(id);
        return ghost;
    }

    /**
     * Moves a record between tiers; returns false if the FID is not tracked. A record arriving on
     * the fast tier is resident from the wall second {@code ti} (for the minimum resident age).
     */
    boolean setResident(long s, long ov, int h, boolean resident, boolean promoted, boolean probation, int ti) {
        int id = store.find(s, ov, h);
        if (id == EntryStore.NONE) {
            return false;
        }
        unlinkIfLinked(id);
        int old = store.flags(id);
        int f = old & ~F_PROMOTED & ~F_RESIDENT & ~F_PROBATION;
        if (resident || (old & F_RESIDENT) != 0) {
            f &= ~GHOST_BITS;
        }
        store.setAux(id, ti);
        if (resident) {
            f |= F_RESIDENT | (promoted ? F_PROMOTED : 0) | (probation ? F_PROBATION : 0);
        } else if ((old & F_RESIDENT) != 0 && (old & F_DATA) != 0) {
            // Leaves the fast tier: mark where its part's spill stream stood (the ghost).
            boolean trial = (old & F_PROBATION) != 0;
            long before = (trial ? trialSpilled : mainSpilled).getAndAdd(EntryStore.decodeSize(store.sizeCode(id)));
            store.setAux(id, (int) (before >>> GHOST_UNIT_BITS)); // a spilled record's aux is free
            f |= F_GHOST | (trial ? F_GHOST_TRIAL : 0);
        }
        store.setFlags(id, f);
        linkIfLinkable(id);
        return true;
    }

    /** Ghost marks count spilled bytes in units of 4 KiB. */
    static final int GHOST_UNIT_BITS = 12;

    /**
     * A spilled record is being read: if a spill pass spilled it and it was not read since,
     * whether it left within the last {@code withinBytes} its part spilled — +1 from the trial
     * copies, -1 from the main part, 0 if not (or no ghost). Consumes the ghost either way.
     */
    long takeGhost(long s, long ov, int h) {
        int id = store.find(s, ov, h);
        return id == EntryStore.NONE ? 0 : takeGhost(id);
    }

    /**
     * Consumes the record's ghost: 0 if it has none (or is resident), else a token {@code
     * (since << 2) | (trial ? 2 : 0) | 1}, {@code since} the 4 KiB units its part has spilled
     * since it left (see {@link HeatTracker#ghostVerdict}).
     */
    private long takeGhost(int id) {
        int f = store.flags(id);
        if ((f & F_GHOST) == 0 || (f & F_RESIDENT) != 0) {
            return 0;
        }
        store.setFlags(id, f & ~GHOST_BITS);
        boolean trial = (f & F_GHOST_TRIAL) != 0;
        long now = (trial ? trialSpilled : mainSpilled).get();
        // Differences of wrapping 32-bit marks: exact while the part spills less than 16 TiB
        // between a record's spill and its return.
        long since = ((int) (now >>> GHOST_UNIT_BITS) - store.aux(id)) & 0xFFFFFFFFL;
        return (since << 2) | (trial ? 2 : 0) | 1;
    }

    /** Sets a record's size without counting an access; false if the FID is not tracked. */
    boolean setSize(long s, long ov, int h, long size) {
        int id = store.find(s, ov, h);
        if (id == EntryStore.NONE) {
            return false;
        }
        unlinkIfLinked(id);
        resize(id, EntryStore.encodeSize(size));
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

    /**
     * Makes the record colder than any record with a real access: 60 doublings below one access
     * at time t (below the ring's floor), so it is among the first spill candidates; the next
     * access makes it an ordinary record again.
     */
    boolean chill(long s, long ov, int h, double t) {
        int id = store.find(s, ov, h);
        if (id == EntryStore.NONE) {
            return false;
        }
        unlinkIfLinked(id);
        store.setKey(id, t - 60);
        setFreqKey(id, t * freqRatio - 60);
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

    /**
     * Appends to {@code g} only the {@code k} coldest records of buckets {@code from..to} of one
     * ring, reading nothing but their keys to choose them: a bounded max-heap over the lists.
     */
    void gatherColdest(int ring, long from, long to, int k, Gather g, double[] hk, int[] hid) {
        BucketRing r = rings[ring];
        int size = 0;
        for (long x = r.nextNonEmpty(from); x <= to; x = r.nextNonEmpty(x + 1)) {
            int head = r.head(x);
            int id = head;
            do {
                double key = store.key(id);
                if (size < k) {
                    // sift up
                    int i = size++;
                    while (i > 0) {
                        int p = (i - 1) >>> 1;
                        if (hk[p] >= key) {
                            break;
                        }
                        hk[i] = hk[p];
                        hid[i] = hid[p];
                        i = p;
                    }
                    hk[i] = key;
                    hid[i] = id;
                } else if (key < hk[0]) {
                    // replace the root and sift down
                    int i = 0;
                    while (true) {
                        int l = 2 * i + 1;
                        if (l >= size) {
                            break;
                        }
                        int c = l + 1 < size && hk[l + 1] > hk[l] ? l + 1 : l;
                        if (hk[c] <= key) {
                            break;
                        }
                        hk[i] = hk[c];
                        hid[i] = hid[c];
                        i = c;
                    }
                    hk[i] = key;
                    hid[i] = id;
                }
                id = store.next(id);
            } while (id != head);
        }
        for (int i = 0; i < size; i++) {
            g.add(store, hid[i]);
        }
    }

    /**
     * Restores one record from a checkpoint (the FID must be new). A checkpoint without frequency
     * keys ({@code freq} NaN) restarts an object's frequency at its heat at logical time {@code
     * now}: the count it had for the spill order, which the longer-memory count is never below.
     */
    void restore(long s, long ov, double key, float freq, double now, int last, int aux, int sizeCode, int flags) {
        int h = EntryStore.hash(s, ov);
        if (store.find(s, ov, h) != EntryStore.NONE) {
            throw new IllegalArgumentException("duplicate record");
        }
        int id = store.add(s, ov, h);
        store.setKey(id, key);
        // Version 2 checkpoints: the frequency count now is the order's count now (a lower bound).
        store.setFreq(id, Float.isNaN(freq) ? (float) ((key + sizeTerm(sizeCode) - now) * (1 - freqRatio)) : freq);
        store.setLast(id, last);
        store.setAux(id, aux);
        store.setSizeCode(id, sizeCode);
        // A spilled record's ghost mark (version 4; the reader clears it otherwise) is relative to
        // the ghost clocks the tracker restored.
        store.setFlags(id, flags | F_LIVE);
        // The logical time of its last access is not kept: no bound on its count is known, so
        // the inactive export looks at every bucket until the next access sets a real bound.
        maxLogScore = Double.POSITIVE_INFINITY;
        linkIfLinkable(id);
    }
}
