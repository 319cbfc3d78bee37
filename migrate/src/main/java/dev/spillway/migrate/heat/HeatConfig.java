package dev.spillway.migrate.heat;

/**
 * How a {@link HeatTracker} scores and groups objects.
 *
 * @param halfLife the spill order's memory: the heat that orders resident objects halves after
 *     this many <b>turnovers</b> of the fast tier (a turnover is as many accesses, to any
 *     object, as there are objects resident on the fast tier, at least {@code minResidents}).
 *     Heat decays in logical time — the sequence of accesses — never in wall-clock time, so a
 *     trace replays to the same heat at any rate, and a tier's notion of "recent" scales with
 *     its size. LRFU's decay with {@code F(x) = 2^(-x/halfLife)}; Lustre's {@code obd_heat}
 *     decays the same way, per period. Short (1): the order is about recency — an object read
 *     twice outlives one read once by about a turnover, segmented LRU's protection — so that
 *     what was hot once does not squat the tier.
 * @param frequencyHalfLife admission's memory (at least {@code halfLife}): a second count per
 *     object that halves after this many turnovers, which the placement policy compares between
 *     a spilled object just read and the objects it would displace (TinyLFU's frequency filter,
 *     whose sketch halves every 10 x entries requests). Long, so that an object re-read every
 *     few turnovers earns its copy back even though the spill order forgot it.
 * @param minResidents the smallest tier size a turnover is counted against (an empty tier would
 *     otherwise make heat decay at every access)
 * @param minSpillBytes objects smaller than this are tracked but never offered as spill
 *     candidates (moving them costs more than it frees)
 * @param segments independently locked parts of the tracker (a power of two), so that
 *     concurrent accesses rarely contend
 * @param bucketsPerDoubling resolution of the cold buckets: a bucket spans this fraction of a
 *     doubling of heat; order inside a bucket is restored by sorting only the buckets visited
 * @param ringBuckets buckets kept per segment (a power of two); objects colder than
 *     {@code ringBuckets / bucketsPerDoubling} doublings below the hottest share one floor bucket
 * @param sizeWeight how much an object's size weighs in the order objects are spilled in: they
 *     are ordered by {@code heat / (size / 4 KiB)^sizeWeight} (sizes below 4 KiB count as 4 KiB).
 *     0 orders by heat alone; 1 by heat per byte (GreedyDual-Size's value density), which is what
 *     a request hit ratio rewards: one large cold object frees the room of many small ones.
 */
public record HeatConfig(
        double halfLife,
        long minResidents,
        long minSpillBytes,
        int segments,
        int bucketsPerDoubling,
        int ringBuckets,
        double sizeWeight,
        double frequencyHalfLife) {

    /** With the frequency half-life equal to the order's (one memory for both). */
    public HeatConfig(
            double halfLife,
            long minResidents,
            long minSpillBytes,
            int segments,
            int bucketsPerDoubling,
            int ringBuckets,
            double sizeWeight) {
        this(halfLife, minResidents, minSpillBytes, segments, bucketsPerDoubling, ringBuckets, sizeWeight, halfLife);
    }

    public HeatConfig {
        if (!(halfLife > 0 && halfLife <= 1e6)) {
            throw new IllegalArgumentException("halfLife must be in (0, 1e6] turnovers: " + halfLife);
        }
        if (minResidents < 1) {
            throw new IllegalArgumentException("minResidents must be >= 1: " + minResidents);
        }
        if (minSpillBytes < 0) {
            throw new IllegalArgumentException("minSpillBytes must be >= 0: " + minSpillBytes);
        }
        if (segments < 1 || Integer.bitCount(segments) != 1) {
            throw new IllegalArgumentException("segments must be a power of two: " + segments);
        }
        if (bucketsPerDoubling < 1 || bucketsPerDoubling > 64) {
            throw new IllegalArgumentException("bucketsPerDoubling must be in 1..64: " + bucketsPerDoubling);
        }
        if (ringBuckets < 16 || Integer.bitCount(ringBuckets) != 1) {
            throw new IllegalArgumentException("ringBuckets must be a power of two >= 16: " + ringBuckets);
        }
        if (!(sizeWeight >= 0 && sizeWeight <= 2)) {
            throw new IllegalArgumentException("sizeWeight must be in [0, 2]: " + sizeWeight);
        }
        if (!(frequencyHalfLife >= halfLife && frequencyHalfLife <= 1e6)) {
            throw new IllegalArgumentException("frequencyHalfLife must be in [halfLife, 1e6] turnovers: "
                    + frequencyHalfLife + " (halfLife " + halfLife + ")");
        }
    }

    /**
     * The spill order's heat halves every turnover of the fast tier, admission's every 16
     * (counted against at least 64 objects),
     * objects spilled in order of heat per byte (size weight 1), 8 segments, buckets of 1/64
     * doubling, 8192 per ring (128 doublings). Fine buckets because logical time packs a
     * population written once into a few half-lives (10 M objects written in a row span about
     * sixteen): coarser ones make the coldest bucket hold hundreds of thousands of records. See
     * docs/design.md ("Placement policy") for the sweeps behind 1 and 16.
     */
    public static HeatConfig defaults() {
        return new HeatConfig(1, 64, 0, 8, 64, 8192, 1, 16);
    }

    /** Both half-lives at {@code turnovers} (one memory for order and admission). */
    public HeatConfig withHalfLife(double turnovers) {
        return new HeatConfig(
                turnovers,
                minResidents,
                minSpillBytes,
                segments,
                bucketsPerDoubling,
                ringBuckets,
                sizeWeight,
                turnovers);
    }

    /** The spill order's half-life {@code order}, admission's {@code frequency} (at least as long). */
    public HeatConfig withHalfLives(double order, double frequency) {
        return new HeatConfig(
                order, minResidents, minSpillBytes, segments, bucketsPerDoubling, ringBuckets, sizeWeight, frequency);
    }

    public HeatConfig withMinResidents(long n) {
        return new HeatConfig(
                halfLife, n, minSpillBytes, segments, bucketsPerDoubling, ringBuckets, sizeWeight, frequencyHalfLife);
    }

    public HeatConfig withMinSpillBytes(long b) {
        return new HeatConfig(
                halfLife, minResidents, b, segments, bucketsPerDoubling, ringBuckets, sizeWeight, frequencyHalfLife);
    }

    public HeatConfig withSizeWeight(double w) {
        return new HeatConfig(
                halfLife, minResidents, minSpillBytes, segments, bucketsPerDoubling, ringBuckets, w, frequencyHalfLife);
    }

    public HeatConfig withSegments(int n) {
        return new HeatConfig(
                halfLife,
                minResidents,
                minSpillBytes,
                n,
                bucketsPerDoubling,
                ringBuckets,
                sizeWeight,
                frequencyHalfLife);
    }
}
