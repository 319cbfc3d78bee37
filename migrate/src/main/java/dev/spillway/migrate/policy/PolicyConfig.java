package dev.spillway.migrate.policy;

import java.time.Duration;

/**
 * The knobs of the {@link PlacementPolicy}. Fractions are of the fast tier's capacity.
 *
 * @param highWatermark a spill pass starts when occupancy rises above this
 * @param lowWatermark ... and runs until occupancy is at or below this (hysteresis: between the
 *     two marks nothing starts and nothing stops)
 * @param promoteHits a spilled object joins the main part of the tier (skipping the trial) only
 *     once its decayed access count reaches this (less half an access of decay), and only if it
 *     is hotter than what it would displace
 * @param probationShare share of the fast tier for trial promotions to start with: a spilled
 *     object not admitted to the main part is still copied up on trial while trial copies take
 *     less than their share, and trial copies not read again are the first to be spilled
 *     (S3-FIFO's small queue; the tracker's history of every object is its ghost). The share
 *     then adapts to the two parts' ghost hits (see {@link PlacementPolicy}). 0 disables trials.
 * @param promoteCeiling a promotion never takes occupancy above this
 * @param minResidentAge an object is not spilled before it has been on the fast tier this long
 *     (a new write, or a fresh promotion)
 * @param maxSpillBatch candidates per spill plan at most; the daemon asks again for more
 */
public record PolicyConfig(
        double highWatermark,
        double lowWatermark,
        int promoteHits,
        double probationShare,
        double promoteCeiling,
        Duration minResidentAge,
        int maxSpillBatch) {

    public PolicyConfig {
        if (!(lowWatermark > 0 && lowWatermark < highWatermark && highWatermark <= 1)) {
            throw new IllegalArgumentException(
                    "watermarks must satisfy 0 < low < high <= 1: low " + lowWatermark + ", high " + highWatermark);
        }
        if (promoteHits < 1 || promoteHits > 3) {
            throw new IllegalArgumentException("promoteHits must be in 1..3: " + promoteHits);
        }
        if (!(probationShare >= 0 && probationShare < 1)) {
            throw new IllegalArgumentException("probationShare must be in [0, 1): " + probationShare);
        }
        if (!(promoteCeiling > lowWatermark && promoteCeiling <= 1)) {
            throw new IllegalArgumentException("promoteCeiling must be in (low, 1]: " + promoteCeiling);
        }
        if (minResidentAge.isNegative()) {
            throw new IllegalArgumentException("minResidentAge must not be negative: " + minResidentAge);
        }
        if (maxSpillBatch < 1) {
            throw new IllegalArgumentException("maxSpillBatch must be >= 1: " + maxSpillBatch);
        }
    }

    /**
     * High 0.95, low 0.90; straight to the main part from two accesses' heat (and hotter than its
     * victims), trial copies up to 10% of the tier (S3-FIFO's small queue); promotions up to full;
     * nothing spilled before it has been resident a minute.
     */
    public static PolicyConfig defaults() {
        return new PolicyConfig(0.95, 0.90, 2, 0.10, 1.0, Duration.ofMinutes(1), 10_000);
    }

    public PolicyConfig withWatermarks(double high, double low) {
        return new PolicyConfig(high, low, promoteHits, probationShare, promoteCeiling, minResidentAge, maxSpillBatch);
    }

    public PolicyConfig withPromoteHits(int n) {
        return new PolicyConfig(
                highWatermark, lowWatermark, n, probationShare, promoteCeiling, minResidentAge, maxSpillBatch);
    }

    public PolicyConfig withProbationShare(double share) {
        return new PolicyConfig(
                highWatermark, lowWatermark, promoteHits, share, promoteCeiling, minResidentAge, maxSpillBatch);
    }

    public PolicyConfig withMinResidentAge(Duration d) {
        return new PolicyConfig(
                highWatermark, lowWatermark, promoteHits, probationShare, promoteCeiling, d, maxSpillBatch);
    }

    public PolicyConfig withMaxSpillBatch(int n) {
        return new PolicyConfig(
                highWatermark, lowWatermark, promoteHits, probationShare, promoteCeiling, minResidentAge, n);
    }
}
