package dev.spillway.migrate.policy;

import java.time.Duration;

/**
 * The knobs of the {@link PlacementPolicy}. Fractions are of the fast tier's capacity.
 *
 * @param highWatermark a spill pass starts when occupancy rises above this
 * @param lowWatermark ... and runs until occupancy is at or below this (hysteresis: between the
 *     two marks nothing starts and nothing stops)
 * @param promoteHits the "nhit" rule: a spilled object is promoted after this many reads within
 *     the tracker's hit window ({@code HeatConfig.hitWindow})
 * @param promoteCeiling a promotion never takes occupancy above this
 * @param minResidentAge an object is not spilled before it has been on the fast tier this long
 *     (a new write, or a fresh promotion)
 * @param pingPongWindow a promoted object spilled again within this time counts as a ping-pong
 * @param maxSpillBatch candidates per spill plan at most; the daemon asks again for more
 */
public record PolicyConfig(double highWatermark, double lowWatermark, int promoteHits, double promoteCeiling,
                           Duration minResidentAge, Duration pingPongWindow, int maxSpillBatch) {

    public PolicyConfig {
        if (!(lowWatermark > 0 && lowWatermark < highWatermark && highWatermark <= 1)) {
            throw new IllegalArgumentException(
                    "watermarks must satisfy 0 < low < high <= 1: low " + lowWatermark + ", high " + highWatermark);
        }
        if (promoteHits < 1 || promoteHits > 7) {
            throw new IllegalArgumentException("promoteHits must be in 1..7: " + promoteHits);
        }
        if (!(promoteCeiling > lowWatermark && promoteCeiling <= 1)) {
            throw new IllegalArgumentException("promoteCeiling must be in (low, 1]: " + promoteCeiling);
        }
        if (minResidentAge.isNegative() || pingPongWindow.isNegative()) {
            throw new IllegalArgumentException("durations must not be negative");
        }
        if (maxSpillBatch < 1) {
            throw new IllegalArgumentException("maxSpillBatch must be >= 1: " + maxSpillBatch);
        }
    }

    /** High 0.95, low 0.90, promote on the 2nd read in the window, up to full, 1 min minimum age. */
    public static PolicyConfig defaults() {
        return new PolicyConfig(0.95, 0.90, 2, 1.0, Duration.ofMinutes(1), Duration.ofMinutes(10), 10_000);
    }

    public PolicyConfig withWatermarks(double high, double low) {
        return new PolicyConfig(high, low, promoteHits, promoteCeiling, minResidentAge, pingPongWindow, maxSpillBatch);
    }

    public PolicyConfig withPromoteHits(int n) {
        return new PolicyConfig(highWatermark, lowWatermark, n, promoteCeiling, minResidentAge, pingPongWindow, maxSpillBatch);
    }

    public PolicyConfig withMinResidentAge(Duration d) {
        return new PolicyConfig(highWatermark, lowWatermark, promoteHits, promoteCeiling, d, pingPongWindow, maxSpillBatch);
    }

    public PolicyConfig withPingPongWindow(Duration d) {
        return new PolicyConfig(highWatermark, lowWatermark, promoteHits, promoteCeiling, minResidentAge, d, maxSpillBatch);
    }
}
