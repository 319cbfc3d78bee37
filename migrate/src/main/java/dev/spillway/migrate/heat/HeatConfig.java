package dev.spillway.migrate.heat;

/**
 * How a {@link HeatTracker} scores and groups objects.
 *
 * @param halfLife heat halves after this many <b>turnovers</b> of the fast tier: a turnover is
 *     as many accesses (to any object) as there are objects resident on the fast tier (at least
 *     {@code minResidents}). Heat decays in logical time — the sequence of accesses — never in
 *     wall-clock time, so a trace replays to the same heat at any rate, and a tier's notion of
 *     "recent" scales with its size: a small tier forgets quickly (recency, LRU-like), a large
 *     one remembers (frequency, LFU-like). LRFU's decay with {@code F(x) = 2^(-x/halfLife)};
 *     Lustre's {@code obd_heat} decays the same way, per period.
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
        double sizeWeight) {

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
    }

    /**
     * Heat halves every 8 turnovers of the fast tier (counted against at least 64 objects),
     * objects spilled in order of heat per byte (size weight 1), 8 segments, buckets of 1/64
     * doubling, 8192 per ring (128 doublings). Fine buckets because logical time packs a
     * population written once into a few half-lives (10 M objects written in a row span about
     * two): coarser ones make the coldest bucket hold hundreds of thousands of records. Eight turnovers is about TinyLFU's aging period
     * (its sketch halves every 10 x entries requests); see docs/design.md for the sweeps.
     */
    public static HeatConfig defaults() {
        return new HeatConfig(8, 64, 0, 8, 64, 8192, 1);
    }

    public HeatConfig withHalfLife(double turnovers) {
        return new HeatConfig(
                turnovers, minResidents, minSpillBytes, segments, bucketsPerDoubling, ringBuckets, sizeWeight);
    }

    public HeatConfig withMinResidents(long n) {
        return new HeatConfig(halfLife, n, minSpillBytes, segments, bucketsPerDoubling, ringBuckets, sizeWeight);
    }

    public HeatConfig withMinSpillBytes(long b) {
        return new HeatConfig(halfLife, minResidents, b, segments, bucketsPerDoubling, ringBuckets, sizeWeight);
    }

    public HeatConfig withSizeWeight(double w) {
        return new HeatConfig(halfLife, minResidents, minSpillBytes, segments, bucketsPerDoubling, ringBuckets, w);
    }

    public HeatConfig withSegments(int n) {
        return new HeatConfig(halfLife, minResidents, minSpillBytes, n, bucketsPerDoubling, ringBuckets, sizeWeight);
    }
}
