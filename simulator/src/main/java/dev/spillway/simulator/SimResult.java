package dev.spillway.simulator;

import java.util.Map;

/**
 * The outcome of one policy at one capacity on one trace.
 *
 * @param promotedBytes bytes copied to the fast tier because of reads
 * @param spilledBytes dirty bytes copied off the fast tier
 * @param extra policy-specific counters
 */
public record SimResult(
        String policy,
        String trace,
        long capacityBytes,
        long requests,
        long hits,
        long requestBytes,
        long hitBytes,
        long promotedBytes,
        long spilledBytes,
        Map<String, Long> extra) {

    public long misses() {
        return requests - hits;
    }

    public double hitRatio() {
        return requests == 0 ? 0 : (double) hits / requests;
    }

    public double byteHitRatio() {
        return requestBytes == 0 ? 0 : (double) hitBytes / requestBytes;
    }

    /** Bytes moved between tiers: promotions plus dirty spills. */
    public long migratedBytes() {
        return promotedBytes + spilledBytes;
    }
}
