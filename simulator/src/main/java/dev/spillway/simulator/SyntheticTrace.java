package dev.spillway.simulator;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A seeded synthetic workload, to check that a policy does not win only on the one real trace:
 * Zipf-distributed reads (and some writes) over a fixed population, interrupted by scans that
 * read long runs of objects never seen before and never seen again (a backup, a one-off
 * analytics job) — the pattern that flushes a recency-only cache.
 */
public final class SyntheticTrace {
    private SyntheticTrace() {}

    /**
     * @param seed the random seed (printed by callers so a run can be replayed)
     * @param requests total requests
     * @param objects size of the Zipf population
     * @param alpha Zipf exponent (0.8..1.2 is typical of storage and web workloads)
     * @param scanEvery a scan starts after this many Zipf requests
     * @param scanLength requests per scan, each to a new object
     * @param writeFraction share of Zipf requests that are writes
     */
    public static Trace zipfWithScans(
            long seed, int requests, int objects, double alpha, int scanEvery, int scanLength, double writeFraction) {
        SplittableRandom rnd = new SplittableRandom(seed);
        double[] cdf = new double[objects];
        double sum = 0;
        for (int k = 0; k < objects; k++) {
            sum += 1.0 / Math.pow(k + 1, alpha);
            cdf[k] = sum;
        }
        // Object k's id is a permutation of k so that popularity is not ordered by id.
        long[] idOf = new long[objects];
        long[] sizeOf = new long[objects];
        for (int k = 0; k < objects; k++) {
            idOf[k] = k;
            sizeOf[k] = size(rnd);
        }
        for (int k = objects - 1; k > 0; k--) {
            int j = rnd.nextInt(k + 1);
            long t = idOf[k];
            idOf[k] = idOf[j];
            idOf[j] = t;
        }
        String name = String.format("zipf%.1f+scans(seed=%d)", alpha, seed);
        Trace.Builder b = new Trace.Builder(name);
        long nextFresh = objects;
        int sinceScan = 0;
        for (int i = 0; i < requests; ) {
            if (sinceScan >= scanEvery) {
                for (int s = 0; s < scanLength && i < requests; s++, i++) {
                    b.add(nextFresh++, size(rnd), false);
                }
                sinceScan = 0;
                continue;
            }
            double u = rnd.nextDouble() * sum;
            int k = Arrays.binarySearch(cdf, u);
            k = k >= 0 ? k : Math.min(objects - 1, -k - 1);
            b.add(idOf[k], sizeOf[k], rnd.nextDouble() < writeFraction);
            sinceScan++;
            i++;
        }
        return b.build();
    }

    /** Object sizes between 4 KiB and 256 KiB, skewed small, like a block or object store's. */
    private static long size(SplittableRandom rnd) {
        double r = rnd.nextDouble();
        if (r < 0.4) {
            return 4096;
        } else if (r < 0.7) {
            return 16384;
        } else if (r < 0.9) {
            return 65536;
        }
        return 262144;
    }

    /** The synthetic trace the policy benchmark checks: 1M requests (200k with quick). */
    public static Trace standard(boolean quick, long seed) {
        return quick
                ? zipfWithScans(seed, 200_000, 20_000, 0.9, 20_000, 5_000, 0.1)
                : zipfWithScans(seed, 1_000_000, 100_000, 0.9, 50_000, 20_000, 0.1);
    }
}
