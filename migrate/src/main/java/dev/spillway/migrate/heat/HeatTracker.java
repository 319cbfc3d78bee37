package dev.spillway.migrate.heat;

import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The heat of every object of a pool, in memory: a decayed access count per object, updated on
 * every read and write with no I/O, and the cold objects findable without looking at all of them.
 *
 * <h2>Heat</h2>
 * Each access adds 1 to a count that halves every {@link HeatConfig#halfLife()} turnovers of
 * the fast tier: LRFU's combined recency-frequency value with {@code F(x) = 2^(-x/halfLife)},
 * the same exponential decay Lustre's {@code obd_heat} applies per period. Rather than the
 * count itself, a record keeps {@code key = T + log2(count at T)} (T = the logical time of its
 * last access, in half-lives): the count now is {@code 2^(key - now)}, so keys compare objects
 * correctly at any time without ever being recomputed, and an object's key changes only when
 * it is accessed.
 * That is what lets the cold buckets ({@link BucketRing}) stay sorted for free. (TinyLFU's
 * sketch saves memory when a cache must remember objects it does not hold; a pool tracks every
 * object anyway, so it keeps exact per-object counts and uses TinyLFU's idea — compare the
 * newcomer with the victim — in the placement policy's promotion gate instead.)
 *
 * <h2>Cost</h2>
 * About 45 bytes of primitive arrays per object plus its int hash slot (measured by the
 * {@code candidates} benchmark; {@link #footprintBytes()} counts the arrays), no I/O and no
 * per-object allocation on an access (the clock's {@code Instant} aside), and one segment lock
 * (of {@link HeatConfig#segments()}) held for well under a microsecond.
 *
 * <h2>Time</h2>
 * Heat lives in <b>logical time</b>: every access moves the clock on by {@code 1 / (halfLife x
 * R)} half-lives, R the objects resident on the fast tier (at least {@code minResidents}), so a
 * trace replayed at any rate ends with the same heat, and the same decisions. R is re-read every
 * sixteenth of a half-life (the clock is piecewise linear in the access count), so changing it
 * never disturbs a key. Wall-clock time (the injected {@link InstantSource}, whole seconds from
 * an epoch fixed at construction and carried by checkpoints) is kept only for what is about
 * wall time: an object's last access (the inactive export) and when it arrived on the fast tier
 * (the minimum resident age, which bounds how soon an object may move again).
 *
 * <p>Thread-safe. Queries see each segment consistently but not all segments at one instant;
 * their answers are advice that the daemon re-checks under the pool's own transactions.
 */
public final class HeatTracker {
    private final HeatConfig config;
    private final InstantSource clock;
    private final long epochSecond;
    private final HeatSegment[] segments;
    private final int segmentShift;

    /** Largest walk buffer kept for the next walk (records). */
    private static final int SPARE_GATHER_MAX = 4096;
    /** A walk's buffer, kept for the next one. */
    private final AtomicReference<Gather> spareGather = new AtomicReference<>();
    /** The last Instant {@link #instantOf} made (immutable, so any thread may reuse it). */
    private volatile Instant lastInstant;
    /** The rings a walk looks at, one array each (a walk runs after every promotion). */
    private static final int[] RESIDENT_ONLY = {HeatSegment.RESIDENT_RING};

    private static final int[][] SINGLE_RING = {
        {HeatSegment.RESIDENT_RING}, {HeatSegment.SPILLED_RING}, {HeatSegment.PROBATION_RING}
    };
    /** Accesses counted since construction (the logical clock's input). */
    private final AtomicLong accesses = new AtomicLong();
    /** Spillable objects on the fast tier now: a turnover is this many accesses. */
    private final AtomicLong residents = new AtomicLong();
    /** Bytes spill passes took from trial copies / from the main part (the ghosts' clocks). */
    private final AtomicLong trialSpilled = new AtomicLong();

    private final AtomicLong mainSpilled = new AtomicLong();
    /**
     * The placement policy's adapted trial share and the configured share it started from, kept
     * here so that the checkpoint carries them across a restart (NaN: never adapted).
     */
    private volatile double trialShare = Double.NaN;

    private volatile double trialShareStart = Double.NaN;
    /** The logical clock's current linear piece; replaced every sixteenth of a half-life. */
    private volatile Piece piece;
    // guarded by this: (wall second, logical time) samples, oldest first, for the inactive export
    private long[] sampleWall = new long[256];
    private double[] sampleT = new double[256];
    private int samples;

    /** Logical time {@code t0 + (n - n0) * rate} for access counts n from n0 to n0 + span. */
    private record Piece(long n0, double t0, double rate, long span) {
        double at(long n) {
            return t0 + (n - n0) * rate;
        }
    }

    public HeatTracker(HeatConfig config, InstantSource clock) {
        this(config, clock, clock.instant().getEpochSecond(), 0);
    }

    HeatTracker(HeatConfig config, InstantSource clock, long epochSecond, double logicalNow) {
        this.config = config;
        this.clock = clock;
        this.epochSecond = epochSecond;
        this.segments = new HeatSegment[config.segments()];
        for (int i = 0; i < segments.length; i++) {
            segments[i] = new HeatSegment(config, residents, trialSpilled, mainSpilled);
        }
        this.segmentShift = 32 - Integer.numberOfTrailingZeros(config.segments());
        this.piece = piece(0, logicalNow);
    }

    private Piece piece(long n, double t) {
        double r = Math.max(config.minResidents(), residents.get());
        double perHalfLife = config.halfLife() * r;
        return new Piece(n, t, 1 / perHalfLife, Math.max(1, (long) (perHalfLife / 16)));
    }

    /** Counts one access and returns its logical time (half-lives). */
    private double tickLogical() {
        long n = accesses.incrementAndGet();
        Piece p = piece;
        if (n - p.n0 >= p.span) {
            p = nextPiece(n);
        }
        return p.at(n);
    }

    private synchronized Piece nextPiece(long n) {
        Piece p = piece;
        if (n - p.n0 < p.span) {
            return p;
        }
        double t = p.at(n);
        piece = piece(n, t);
        long wall = wallSecond();
        if (samples == 0 || sampleWall[samples - 1] < wall) {
            if (samples == sampleWall.length) {
                // Keep every other sample: coarser, never wrong (an upper bound stays one).
                for (int i = 0; i < samples / 2; i++) {
                    sampleWall[i] = sampleWall[2 * i + 1];
                    sampleT[i] = sampleT[2 * i + 1];
                }
                samples /= 2;
            }
            sampleWall[samples] = wall;
            sampleT[samples++] = t;
        }
        return piece;
    }

    /**
     * Notes the placement policy's adapted trial share, which started at {@code start} (the
     * configured {@code probation-share}), for the next checkpoint.
     */
    public void saveTrialShare(double start, double share) {
        trialShareStart = start;
        trialShare = share;
    }

    /**
     * The trial share saved by {@link #saveTrialShare} (or restored from a checkpoint) if it
     * started from {@code start}; NaN if none was, or it started from another configured share
     * (a changed {@code probation-share} starts again from the new one).
     */
    public double savedTrialShare(double start) {
        double s = trialShare;
        return trialShareStart == start ? s : Double.NaN;
    }

    /** The saved share and its start, as the checkpoint writes them: {start, share}. */
    double[] trialShareState() {
        return new double[] {trialShareStart, trialShare};
    }

    /** The two ghosts' clocks (bytes spilled from trial copies, from the main part): {trial, main}. */
    long[] ghostClocks() {
        return new long[] {trialSpilled.get(), mainSpilled.get()};
    }

    /** Restores what {@link #trialShareState} and {@link #ghostClocks} returned (checkpoint load). */
    void restorePolicyState(double start, double share, long trial, long main) {
        trialShareStart = start;
        trialShare = share;
        trialSpilled.set(trial);
        mainSpilled.set(main);
    }

    /** The logical time now, in half-lives since the tracker began (carried by checkpoints). */
    public double logicalNow() {
        return piece.at(accesses.get());
    }

    /** Spillable objects on the fast tier now (a turnover of the logical clock is this many accesses). */
    public long residentObjects() {
        return residents.get();
    }

    /** Accesses counted since this tracker was created or loaded. */
    public long accesses() {
        return accesses.get();
    }

    /** An upper bound of the logical time at wall second {@code wall} (now, if unknown). */
    private synchronized double logicalAtOrAfter(long wall) {
        for (int i = 0; i < samples; i++) {
            if (sampleWall[i] >= wall) {
                return sampleT[i];
            }
        }
        return logicalNow();
    }

    private long wallSecond() {
        return Math.floorDiv(clock.millis(), 1000L) - epochSecond;
    }

    public HeatConfig config() {
        return config;
    }

    public InstantSource clock() {
        return clock;
    }

    long epochSecond() {
        return epochSecond;
    }

    HeatSegment[] segments() {
        return segments;
    }

    private static long oidVer(int oid, int ver) {
        return ((long) oid << 32) | (ver & 0xFFFFFFFFL);
    }

    private HeatSegment segment(int hash) {
        // High bits pick the segment, low bits the slot inside it.
        return segments.length == 1 ? segments[0] : segments[hash >>> segmentShift];
    }

    private static int tick(double t) {
        return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, Math.floor(t)));
    }

    private int wallTick() {
        return tick(wallSecond());
    }

    private Instant instantOf(int tick) {
        // Most candidates of one walk share a second (all of them in a replay, whose clock stands
        // still): hand out the same Instant rather than a new one per record.
        Instant last = lastInstant;
        long sec = epochSecond + tick;
        if (last == null || last.getEpochSecond() != sec) {
            last = Instant.ofEpochSecond(sec);
            lastInstant = last;
        }
        return last;
    }

    static double heatOfKey(double key, double logicalNow) {
        return Math.pow(2, key - logicalNow);
    }

    // ---- the data path ------------------------------------------------------------------

    /** A write (or create) of {@code fid}: one access; the body is on the fast tier now. */
    public void recordWrite(Fid fid, ObjectKind kind, long sizeBytes) {
        recordWrite(fid.seq(), fid.oid(), fid.ver(), kind, sizeBytes);
    }

    /** {@link #recordWrite(Fid, ObjectKind, long)} without a {@link Fid} object. */
    public void recordWrite(long seq, int oid, int ver, ObjectKind kind, long sizeBytes) {
        long ov = oidVer(oid, ver);
        int h = EntryStore.hash(seq, ov);
        double t = tickLogical();
        int ti = wallTick();
        HeatSegment s = segment(h);
        synchronized (s) {
            s.recordWrite(seq, ov, h, kind == ObjectKind.DATA, sizeBytes, t, ti);
        }
    }

    /**
     * A read of {@code fid}: one access.
     *
     * @param sizeBytes the object's size, or -1 to keep the size already known
     * @param resident where the pool served it from: true for the fast tier
     */
    public void recordRead(Fid fid, ObjectKind kind, long sizeBytes, boolean resident) {
        recordRead(fid.seq(), fid.oid(), fid.ver(), kind, sizeBytes, resident);
    }

    /**
     * {@link #recordRead(Fid, ObjectKind, long, boolean)} without a {@link Fid} object.
     *
     * @return for a read of a spilled object that a spill pass spilled and nothing read since,
     *     its ghost token (consumed: see {@link #ghostVerdict}); else 0
     */
    public long recordRead(long seq, int oid, int ver, ObjectKind kind, long sizeBytes, boolean resident) {
        long ov = oidVer(oid, ver);
        int h = EntryStore.hash(seq, ov);
        double t = tickLogical();
        int ti = wallTick();
        HeatSegment s = segment(h);
        synchronized (s) {
            return s.recordRead(seq, ov, h, kind == ObjectKind.DATA, sizeBytes, resident, t, ti);
        }
    }

    /** The object's body left the fast tier. Returns false if it is not tracked. */
    public boolean markSpilled(Fid fid) {
        return setResident(fid.seq(), fid.oid(), fid.ver(), false, false, false);
    }

    /**
     * The object's body was copied to the fast tier by a promotion. On {@code probation} it is a
     * trial copy (promoted before meeting the nhit rule): it is spilled before anything else unless
     * it is read again while resident. Returns false if not tracked.
     */
    public boolean markPromoted(Fid fid, boolean probation) {
        return setResident(fid.seq(), fid.oid(), fid.ver(), true, true, probation);
    }

    /** {@link #markSpilled} or {@link #markPromoted} without a {@link Fid} object. */
    public boolean setResident(long seq, int oid, int ver, boolean resident, boolean promoted, boolean probation) {
        long ov = oidVer(oid, ver);
        int h = EntryStore.hash(seq, ov);
        int ti = wallTick();
        HeatSegment s = segment(h);
        synchronized (s) {
            return s.setResident(seq, ov, h, resident, promoted, probation, ti);
        }
    }

    /**
     * The object's body is now {@code sizeBytes} long, without an access (a transaction that
     * continued an earlier access). Returns false if not tracked.
     */
    public boolean setSize(Fid fid, long sizeBytes) {
        long ov = oidVer(fid.oid(), fid.ver());
        int h = EntryStore.hash(fid.seq(), ov);
        HeatSegment s = segment(h);
        synchronized (s) {
            return s.setSize(fid.seq(), ov, h, sizeBytes);
        }
    }

    /** Pins or unpins an object: a pinned object is never a candidate. Returns false if not tracked. */
    public boolean setPinned(Fid fid, boolean pinned) {
        long ov = oidVer(fid.oid(), fid.ver());
        int h = EntryStore.hash(fid.seq(), ov);
        HeatSegment s = segment(h);
        synchronized (s) {
            return s.setPinned(fid.seq(), ov, h, pinned);
        }
    }

    /**
     * Advice that the object is cold (a non-current S3 version): it becomes as cold as an object
     * can be, so a spill pass takes it before objects of any real heat. Returns false if not tracked.
     */
    public boolean chill(Fid fid) {
        long ov = oidVer(fid.oid(), fid.ver());
        int h = EntryStore.hash(fid.seq(), ov);
        double t = logicalNow();
        HeatSegment s = segment(h);
        synchronized (s) {
            return s.chill(fid.seq(), ov, h, t);
        }
    }

    /** The object was destroyed: stop tracking it. Returns false if it was not tracked. */
    public boolean forget(Fid fid) {
        long ov = oidVer(fid.oid(), fid.ver());
        int h = EntryStore.hash(fid.seq(), ov);
        HeatSegment s = segment(h);
        synchronized (s) {
            return s.forget(fid.seq(), ov, h);
        }
    }

    // ---- questions ----------------------------------------------------------------------

    /** What the tracker knows about {@code fid}, or empty if it is not tracked. */
    public Optional<ObjectHeat> lookup(Fid fid) {
        long ov = oidVer(fid.oid(), fid.ver());
        int h = EntryStore.hash(fid.seq(), ov);
        double t = logicalNow();
        HeatSegment s = segment(h);
        synchronized (s) {
            EntryStore st = s.store;
            int id = st.find(fid.seq(), ov, h);
            if (id == EntryStore.NONE) {
                return Optional.empty();
            }
            int f = st.flags(id);
            boolean resident = (f & HeatSegment.F_RESIDENT) != 0;
            return Optional.of(new ObjectHeat(
                    fid,
                    EntryStore.decodeSize(st.sizeCode(id)),
                    heatOfKey(st.key(id) + s.sizeTerm(st.sizeCode(id)), t),
                    instantOf(st.last(id)),
                    (f & HeatSegment.F_DATA) != 0 && (f & HeatSegment.F_PINNED) == 0,
                    (f & HeatSegment.F_PINNED) != 0,
                    resident,
                    (f & HeatSegment.F_PROMOTED) != 0,
                    (f & HeatSegment.F_PROBATION) != 0,
                    resident ? instantOf(st.aux(id)) : null));
        }
    }

    /**
     * A read of the spilled object {@code fid}: did it leave the fast tier recently — within the
     * last {@code withinBytes} that its part of the tier spilled? +1 if it was spilled as a
     * trial copy, -1 if from the main part, 0 if neither (not that recently, read since its
     * spill, or not spilled by a pass). Equal-sized ghosts of the two parts: a return within
     * them is a hit the part would have had with {@code withinBytes} more room. A read of a
     * spilled object consumes its ghost ({@link #recordRead} returns it), so this answers only
     * before one.
     */
    public int ghostHit(Fid fid, long withinBytes) {
        long ov = oidVer(fid.oid(), fid.ver());
        int h = EntryStore.hash(fid.seq(), ov);
        HeatSegment s = segment(h);
        long token;
        synchronized (s) {
            token = s.takeGhost(fid.seq(), ov, h);
        }
        return ghostVerdict(token, withinBytes);
    }

    /**
     * What a ghost token ({@link #recordRead}'s answer) says: +1 a trial copy spilled within the
     * last {@code withinBytes} its part spilled, -1 the same from the main part, 0 otherwise.
     */
    public static int ghostVerdict(long token, long withinBytes) {
        if (token == 0 || token >>> 2 > withinBytes >>> HeatSegment.GHOST_UNIT_BITS) {
            return 0;
        }
        return (token & 2) != 0 ? 1 : -1;
    }

    /** The object's decayed access count now, or 0 if it is not tracked. */
    public double heat(Fid fid) {
        return heat(fid.seq(), fid.oid(), fid.ver());
    }

    /** {@link #heat(Fid)} without a {@link Fid} object. */
    public double heat(long seq, int oid, int ver) {
        long ov = oidVer(oid, ver);
        int h = EntryStore.hash(seq, ov);
        double t = logicalNow();
        HeatSegment s = segment(h);
        synchronized (s) {
            int id = s.store.find(seq, ov, h);
            return id == EntryStore.NONE ? 0 : heatOfKey(s.store.key(id) + s.sizeTerm(s.store.sizeCode(id)), t);
        }
    }

    /**
     * The object's access count decayed with the frequency half-life ({@link
     * HeatConfig#frequencyHalfLife()}), now; 0 if not tracked. What admission compares: a
     * longer memory than the spill order's.
     */
    public double frequency(Fid fid) {
        long ov = oidVer(fid.oid(), fid.ver());
        int h = EntryStore.hash(fid.seq(), ov);
        double t = logicalNow();
        HeatSegment s = segment(h);
        synchronized (s) {
            int id = s.store.find(fid.seq(), ov, h);
            return id == EntryStore.NONE ? 0 : Math.pow(2, s.freqKey(id) - t * s.freqRatio());
        }
    }

    /**
     * The summed {@link #frequency} of the resident objects not on probation that a spill pass
     * taking {@code bytes} would take first (coldest first, until they total {@code bytes}): what
     * admitting an object of that size would cost, in expected accesses (TinyLFU's victim, for
     * objects of any size). Positive infinity if they total less than {@code bytes}.
     */
    public double victimFrequency(long bytes) {
        return victimFrequency(bytes, Double.POSITIVE_INFINITY);
    }

    /**
     * {@link #victimFrequency(long)}, but the walk stops as soon as the sum reaches {@code
     * enough}: then the answer is that partial sum, at least {@code enough} and at most the
     * whole (what an admission test that needs to beat {@code enough} needs to know).
     */
    public double victimFrequency(long bytes, double enough) {
        if (bytes <= 0) {
            return 0;
        }
        double t = logicalNow();
        HeatSegment s0 = segments[0];
        double ratio = s0.freqRatio();
        double[] sum = {0};
        long[] got = {0};
        walk(
                RESIDENT_ONLY,
                t,
                (g, i) -> {
                    double fk = HeatSegment.freqKey(g.key[i], s0.sizeTerm(g.sizeCode[i]), g.freq[i], ratio);
                    sum[0] += Math.pow(2, fk - t * ratio);
                    got[0] += EntryStore.decodeSize(g.sizeCode[i]);
                    return got[0] < bytes && sum[0] < enough;
                },
                Double.POSITIVE_INFINITY,
                wantHint(HeatSegment.RESIDENT_RING, Integer.MAX_VALUE, bytes));
        return sum[0] >= enough ? sum[0] : got[0] < bytes ? Double.POSITIVE_INFINITY : sum[0];
    }

    /**
     * What the spill order ranks {@code fid} by, now: its heat per {@code (size / 4 KiB)^sizeWeight}
     * (see {@link HeatConfig#sizeWeight()}), on the scale of {@link #coldLine}; 0 if not tracked.
     */
    public double value(Fid fid) {
        long ov = oidVer(fid.oid(), fid.ver());
        int h = EntryStore.hash(fid.seq(), ov);
        double t = logicalNow();
        HeatSegment s = segment(h);
        synchronized (s) {
            int id = s.store.find(fid.seq(), ov, h);
            return id == EntryStore.NONE ? 0 : heatOfKey(s.store.key(id), t);
        }
    }

    /** Objects tracked, on any tier. */
    public long tracked() {
        long n = 0;
        for (HeatSegment s : segments) {
            synchronized (s) {
                n += s.store.live();
            }
        }
        return n;
    }

    /** Bytes of the resident objects that may be spilled (DATA, unpinned, not too small), probation included. */
    public long spillableBytes() {
        return ringBytes(HeatSegment.RESIDENT_RING) + ringBytes(HeatSegment.PROBATION_RING);
    }

    /** Bytes of the resident objects on probation (trial promotions not read since). */
    public long probationBytes() {
        return ringBytes(HeatSegment.PROBATION_RING);
    }

    private long ringBytes(int ring) {
        long n = 0;
        for (HeatSegment s : segments) {
            synchronized (s) {
                n += s.ring(ring).linkedBytes();
            }
        }
        return n;
    }

    /**
     * How many objects and bytes lie in each heat band now, resident and spilled: bands of a
     * factor of 4 in heat from {@code 1/256} to {@code 64} accesses (9 bands, the first and last
     * open-ended). Read from the rings' per-bucket totals (a bucket counts in the band of its lowest
     * heat), so it costs the number of buckets, never the number of objects.
     */
    public List<HeatBand> distribution() {
        double t = logicalNow();
        int bands = 9;
        long[][] sums = new long[bands][4];
        int[] rings = {HeatSegment.RESIDENT_RING, HeatSegment.PROBATION_RING, HeatSegment.SPILLED_RING};
        for (HeatSegment s : segments) {
            synchronized (s) {
                for (int r : rings) {
                    BucketRing ring = s.ring(r);
                    int col = r == HeatSegment.SPILLED_RING ? 2 : 0;
                    for (long b = ring.nextNonEmpty(Long.MIN_VALUE);
                            b != Long.MAX_VALUE;
                            b = ring.nextNonEmpty(b + 1)) {
                        double h = heatOfKey(ring.lowerKey(b), t);
                        int band = h <= 0 ? 0 : (int) Math.floor((Math.log(h) / Math.log(4)) + 4) + 1;
                        band = Math.max(0, Math.min(bands - 1, band));
                        sums[band][col] += ring.count(b);
                        sums[band][col + 1] += ring.bytes(b);
                    }
                }
            }
        }
        List<HeatBand> out = new ArrayList<>(bands);
        for (int i = 0; i < bands; i++) {
            double low = i == 0 ? 0 : Math.pow(4, i - 5);
            double high = i == bands - 1 ? Double.POSITIVE_INFINITY : Math.pow(4, i - 4);
            out.add(new HeatBand(low, high, sums[i][0], sums[i][1], sums[i][2], sums[i][3]));
        }
        return out;
    }

    /** Heap bytes held by the tracker's arrays, as allocated (records, hash index, rings). */
    public long footprintBytes() {
        long n = 0;
        for (HeatSegment s : segments) {
            synchronized (s) {
                n += s.footprintBytes();
            }
        }
        return n;
    }

    /**
     * The coldest spill candidates, coldest first: resident DATA objects, not pinned, not smaller
     * than {@link HeatConfig#minSpillBytes()}, resident for at least {@code minResidentAge}.
     * Stops at {@code maxCount} objects or as soon as they total at least {@code targetBytes},
     * whichever comes first. Looks only at the coldest buckets, never at every object.
     */
    public List<Candidate> coldest(int maxCount, long targetBytes, Duration minResidentAge) {
        return coldest(HeatSegment.RESIDENT_RING, maxCount, targetBytes, minResidentAge, null);
    }

    /**
     * Like {@link #coldest(int, long, Duration)}, also skipping objects promoted (not on trial) at
     * or after {@code protectPromotedSince} (to the second): the placement policy passes the end of
     * the previous spill pass, so that no pass spills what was promoted since the last one.
     */
    public List<Candidate> coldest(
            int maxCount, long targetBytes, Duration minResidentAge, Instant protectPromotedSince) {
        return coldest(HeatSegment.RESIDENT_RING, maxCount, targetBytes, minResidentAge, protectPromotedSince);
    }

    /**
     * Like {@link #coldest(int, long, Duration)}, among the objects on probation only (trial
     * promotions not read again), coldest — that is, oldest trial — first.
     */
    public List<Candidate> coldestOnProbation(int maxCount, long targetBytes, Duration minResidentAge) {
        return coldest(HeatSegment.PROBATION_RING, maxCount, targetBytes, minResidentAge, null);
    }

    private List<Candidate> coldest(
            int ring, int maxCount, long targetBytes, Duration minResidentAge, Instant protectPromotedSince) {
        if (maxCount <= 0 || targetBytes <= 0) {
            return List.of();
        }
        double t = logicalNow();
        int youngest = tick(wallSecond() - Math.ceil(minResidentAge.toNanos() / 1e9));
        long protectTick =
                protectPromotedSince == null ? Long.MAX_VALUE : protectPromotedSince.getEpochSecond() - epochSecond;
        List<Candidate> out = new ArrayList<>();
        long[] bytes = {0};
        walk(
                SINGLE_RING[ring],
                t,
                (g, i) -> {
                    if (g.aux[i] > youngest) {
                        return true; // too young: skip, keep looking
                    }
                    if ((g.flags[i] & HeatSegment.F_PROMOTED) != 0 && g.aux[i] >= protectTick) {
                        return true; // promoted since the last pass: not this pass's to take back
                    }
                    long size = EntryStore.decodeSize(g.sizeCode[i]);
                    out.add(candidate(g, i, t));
                    bytes[0] += size;
                    return out.size() < maxCount && bytes[0] < targetBytes;
                },
                Double.POSITIVE_INFINITY,
                wantHint(ring, maxCount, targetBytes));
        return out;
    }

    /**
     * How many records a walk should expect to visit: the count asked for, or fewer when the
     * byte target is reached sooner at the ring's average size (with slack for young and
     * protected records skipped). A walk orders only about this many records of a dense bucket.
     */
    private long wantHint(int ring, int maxCount, long targetBytes) {
        long n = 0;
        long b = 0;
        for (HeatSegment s : segments) {
            synchronized (s) {
                n += s.ring(ring).linked();
                b += s.ring(ring).linkedBytes();
            }
        }
        if (n == 0 || b == 0) {
            return maxCount;
        }
        double avg = (double) b / n;
        return Math.min(maxCount, 2 * (long) Math.ceil(targetBytes / avg) + 16);
    }

    /**
     * Objects not read or written for at least {@code age}, coldest first, at most {@code limit}:
     * the list an external manager asks for. Resident spillable objects, and spilled ones too
     * if {@code includeSpilled}. Stops looking once keys are too hot for any object that old.
     */
    public List<Candidate> inactive(Duration age, int limit, boolean includeSpilled) {
        double t = logicalNow();
        long cutoff = wallSecond() - (long) Math.ceil(age.toNanos() / 1e9);
        int cutoffTick = tick(cutoff);
        double maxLog = 0;
        for (HeatSegment s : segments) {
            synchronized (s) {
                maxLog = Math.max(maxLog, s.maxLogScore());
            }
        }
        // key = T(last access) + log2(count) <= T(cutoff) + maxLog for every inactive object
        double keyLimit = logicalAtOrAfter(cutoff + 1) + maxLog;
        List<Candidate> out = new ArrayList<>();
        int[] rings = includeSpilled
                ? new int[] {HeatSegment.RESIDENT_RING, HeatSegment.PROBATION_RING, HeatSegment.SPILLED_RING}
                : new int[] {HeatSegment.RESIDENT_RING, HeatSegment.PROBATION_RING};
        if (limit <= 0) {
            return out;
        }
        walk(
                rings,
                t,
                (g, i) -> {
                    if (g.last[i] <= cutoffTick) {
                        out.add(candidate(g, i, t));
                    }
                    return out.size() < limit;
                },
                keyLimit,
                limit);
        return out;
    }

    /**
     * The line a spill pass taking {@code bytes} from the resident objects not on probation would
     * cut at, on the scale of {@link #value}: every such object below it would go. Computed from
     * the buckets' byte totals only (rounded up to the bucket's upper edge, so it errs towards
     * calling an object cold). Positive infinity if
     * the spillable objects total less than {@code bytes}; 0 if {@code bytes <= 0}.
     */
    public double coldLine(long bytes) {
        if (bytes <= 0) {
            return 0;
        }
        double t = logicalNow();
        long b = Long.MIN_VALUE;
        long sum = 0;
        BucketRing any = null;
        while (true) {
            long next = Long.MAX_VALUE;
            for (HeatSegment s : segments) {
                synchronized (s) {
                    next = Math.min(next, s.ring(HeatSegment.RESIDENT_RING).nextNonEmpty(b));
                }
            }
            if (next == Long.MAX_VALUE) {
                return Double.POSITIVE_INFINITY;
            }
            for (HeatSegment s : segments) {
                synchronized (s) {
                    any = s.ring(HeatSegment.RESIDENT_RING);
                    sum += any.bytes(next);
                }
            }
            if (sum >= bytes) {
                return heatOfKey(any.lowerKey(next + 1), t);
            }
            b = next + 1;
        }
    }

    /**
     * The same answer as {@link #coldest(int, long, Duration)} with an unlimited byte target,
     * found the way a design without ordered heat must: by looking at every tracked object and
     * keeping the {@code maxCount} coldest eligible ones. It exists as the baseline of the
     * {@code candidates} benchmark and as the oracle of the tests; its cost grows with the number
     * of objects, not with {@code maxCount}.
     */
    public List<Candidate> coldestByFullScan(int maxCount, Duration minResidentAge) {
        double t = logicalNow();
        int youngest = tick(wallSecond() - Math.ceil(minResidentAge.toNanos() / 1e9));
        // A max-heap of the coldest seen so far, on (key, position) with the record copied out.
        Gather keep = new Gather();
        int[] heap = new int[Math.max(1, maxCount)];
        int size = 0;
        for (HeatSegment s : segments) {
            synchronized (s) {
                EntryStore st = s.store;
                for (int id = 0; id < st.allocated(); id++) {
                    int f = st.flags(id);
                    if ((f & HeatSegment.F_LIVE) == 0
                            || (f & HeatSegment.F_RESIDENT) == 0
                            || (f & HeatSegment.F_DATA) == 0
                            || (f & (HeatSegment.F_PINNED | HeatSegment.F_PROBATION)) != 0
                            || EntryStore.decodeSize(st.sizeCode(id)) < config.minSpillBytes()
                            || st.aux(id) > youngest) {
                        continue;
                    }
                    double k = st.key(id);
                    if (size < maxCount) {
                        keep.add(st, id);
                        heap[size] = keep.n - 1;
                        siftUp(keep, heap, size++);
                    } else if (maxCount > 0 && k < keep.key[heap[0]]) {
                        int slot = heap[0];
                        keep.set(slot, st, id);
                        siftDown(keep, heap, size);
                    }
                }
            }
        }
        keep.sort();
        List<Candidate> out = new ArrayList<>(keep.n);
        for (int i = 0; i < keep.n; i++) {
            out.add(candidate(keep, keep.order[i], t));
        }
        return out;
    }

    private static void siftUp(Gather g, int[] heap, int i) {
        while (i > 0) {
            int p = (i - 1) >>> 1;
            if (g.key[heap[p]] >= g.key[heap[i]]) {
                return;
            }
            int x = heap[p];
            heap[p] = heap[i];
            heap[i] = x;
            i = p;
        }
    }

    private static void siftDown(Gather g, int[] heap, int size) {
        int i = 0;
        while (true) {
            int l = 2 * i + 1;
            if (l >= size) {
                return;
            }
            int c = l + 1 < size && g.key[heap[l + 1]] > g.key[heap[l]] ? l + 1 : l;
            if (g.key[heap[i]] >= g.key[heap[c]]) {
                return;
            }
            int x = heap[c];
            heap[c] = heap[i];
            heap[i] = x;
            i = c;
        }
    }

    private Candidate candidate(Gather g, int i, double t) {
        int f = g.flags[i];
        double sz = segments[0].sizeTerm(g.sizeCode[i]);
        Fid fid = new Fid(g.seq[i], (int) (g.oidVer[i] >>> 32), (int) g.oidVer[i]);
        boolean resident = (f & HeatSegment.F_RESIDENT) != 0;
        return new Candidate(
                fid,
                EntryStore.decodeSize(g.sizeCode[i]),
                heatOfKey(g.key[i] + sz, t),
                instantOf(g.last[i]),
                resident,
                (f & HeatSegment.F_PROMOTED) != 0,
                (f & HeatSegment.F_PROBATION) != 0,
                resident ? instantOf(g.aux[i]) : null);
    }

    /** Called per record in heat order; returns false to stop. */
    private interface Visitor {
        boolean visit(Gather g, int i);
    }

    /**
     * Visits the records of the given rings in ascending key order, bucket by bucket (each
     * bucket gathered from every segment, then sorted), until the visitor says stop or the
     * buckets pass {@code keyLimit}.
     */
    private void walk(int[] rings, double t, Visitor v, double keyLimit, long wantHint) {
        // A spill pass walks after every promotion: reuse the last walk's buffers (profiled: a
        // fresh Gather per walk was a quarter of the simulator's replay time). Thread-safe: a
        // walk takes the spare or makes its own, and gives back a buffer that stayed small.
        Gather g = spareGather.getAndSet(null);
        if (g == null) {
            g = new Gather();
        }
        g.clear();
        try {
            walk(rings, t, v, keyLimit, wantHint, g);
        } finally {
            if (g.key.length <= SPARE_GATHER_MAX) {
                spareGather.set(g);
            }
        }
    }

    private void walk(int[] rings, double t, Visitor v, double keyLimit, long wantHint, Gather g) {
        // Each segment's floor bucket also holds everything colder than its ring reaches, and the
        // floors differ between segments; so the first batch is every bucket up to the highest
        // floor, from all segments at once: exactly the records keyed below that floor's top.
        long globalFloor = Long.MIN_VALUE;
        for (HeatSegment s : segments) {
            synchronized (s) {
                for (int r : rings) {
                    globalFloor = Math.max(globalFloor, s.ring(r).floor());
                }
            }
        }
        int want = (int) Math.min(1 << 20, Math.max(64, wantHint));
        double[] hk = null;
        int[] hid = null;
        long b = Long.MIN_VALUE;
        while (true) {
            long next = Long.MAX_VALUE;
            for (HeatSegment s : segments) {
                synchronized (s) {
                    for (int r : rings) {
                        next = Math.min(next, s.ring(r).nextNonEmpty(b));
                    }
                }
            }
            if (next == Long.MAX_VALUE) {
                return;
            }
            long upTo = Math.max(next, globalFloor);
            double lower = Double.NEGATIVE_INFINITY;
            long count = 0;
            for (HeatSegment s : segments) {
                synchronized (s) {
                    for (int r : rings) {
                        BucketRing ring = s.ring(r);
                        for (long x = ring.nextNonEmpty(next); x <= upTo; x = ring.nextNonEmpty(x + 1)) {
                            count += ring.count(x);
                        }
                        lower = ring.lowerKey(next);
                    }
                }
            }
            if (lower > keyLimit) {
                return;
            }
            int done = 0;
            if (count > 4L * want) {
                // A big batch (a burst of objects accessed together): choose its coldest few from
                // the keys alone, and gather everything only if the visitor wants more than that.
                if (hk == null) {
                    hk = new double[want];
                    hid = new int[want];
                }
                g.clear();
                for (HeatSegment s : segments) {
                    synchronized (s) {
                        for (int r : rings) {
                            s.gatherColdest(r, next, upTo, want, g, hk, hid);
                        }
                    }
                }
                g.sort();
                int usable = Math.min(want, g.n);
                for (; done < usable; done++) {
                    if (!v.visit(g, g.order[done])) {
                        return;
                    }
                }
            }
            g.clear();
            for (HeatSegment s : segments) {
                synchronized (s) {
                    for (int r : rings) {
                        BucketRing ring = s.ring(r);
                        for (long x = ring.nextNonEmpty(next); x <= upTo; x = ring.nextNonEmpty(x + 1)) {
                            s.gather(r, x, g);
                        }
                    }
                }
            }
            // Most queries want far fewer records than a big bucket holds: order only those first.
            int first = (int) Math.min(g.n, done + want);
            g.sortFirst(first);
            for (int k = done; k < g.n; k++) {
                if (k == first) {
                    g.sortRest(first);
                }
                if (!v.visit(g, g.order[k])) {
                    return;
                }
            }
            b = upTo + 1;
        }
    }
}
