package dev.spillway.migrate.heat;

import java.time.Duration;

/**
 * How a {@link HeatTracker} scores and groups objects.
 *
 * @param halfLife time after which an access counts half as much as a new one (the LRFU
 *     decay; Lustre's {@code obd_heat} decays the same way per period). Short half-lives make
 *     the order recency-like (LRU), long ones frequency-like (LFU).
 * @param hitWindow reads of a spilled object are counted within this window, for the policy's
 *     "n hits within a window" promotion rule
 * @param minSpillBytes objects smaller than this are tracked but never offered as spill
 *     candidates (moving them costs more than it frees)
 * @param segments independently locked parts of the tracker (a power of two), so that
 *     concurrent accesses rarely contend
 * @param bucketsPerDoubling resolution of the cold buckets: a bucket spans this fraction of a
 *     doubling of heat; order inside a bucket is restored by sorting only the buckets visited
 * @param ringBuckets buckets kept per segment (a power of two); objects colder than
 *     {@code ringBuckets / bucketsPerDoubling} doublings below the hottest share one floor bucket
 */
public record HeatConfig(
        Duration halfLife,
        Duration hitWindow,
        long minSpillBytes,
        int segments,
        int bucketsPerDoubling,
        int ringBuckets) {

    public HeatConfig {
        if (halfLife.isNegative() || halfLife.isZero()) {
            throw new IllegalArgumentException("halfLife must be positive: " + halfLife);
        }
        if (hitWindow.isNegative() || hitWindow.isZero()) {
            throw new IllegalArgumentException("hitWindow must be positive: " + hitWindow);
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
    }

    /**
     * Ten-hour half-life (placement is about hours and days: heat should remember this morning's
     * reads this evening, and frequency should outweigh a single recent touch), ten-minute hit
     * window, 8 segments, buckets of 1/16 doubling (37.5 minutes of age at this half-life, so
     * a burst of objects written together spreads over several), 8192 per ring (512 doublings).
     */
    public static HeatConfig defaults() {
        return new HeatConfig(Duration.ofHours(10), Duration.ofMinutes(10), 0, 8, 16, 8192);
    }

    public HeatConfig withHalfLife(Duration d) {
        return new HeatConfig(d, hitWindow, minSpillBytes, segments, bucketsPerDoubling, ringBuckets);
    }

    public HeatConfig withHitWindow(Duration d) {
        return new HeatConfig(halfLife, d, minSpillBytes, segments, bucketsPerDoubling, ringBuckets);
    }

    public HeatConfig withMinSpillBytes(long b) {
        return new HeatConfig(halfLife, hitWindow, b, segments, bucketsPerDoubling, ringBuckets);
    }

    public HeatConfig withSegments(int n) {
        return new HeatConfig(halfLife, hitWindow, minSpillBytes, n, bucketsPerDoubling, ringBuckets);
    }

    /** Doublings of decay per second (LRFU's lambda, base 2). */
    double lambdaPerSecond() {
        return 1e9 / halfLife.toNanos();
    }
}
