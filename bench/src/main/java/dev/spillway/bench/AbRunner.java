package dev.spillway.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * Runs a Spillway measurement (A) and its baseline (B) alternately — A B A B — after warm-ups,
 * so that machine drift hits both, and reports the medians.
 */
public final class AbRunner {
    private AbRunner() {}

    /** Medians of A and of B, and every sample. */
    public record Medians(double a, double b, List<Double> as, List<Double> bs) {}

    /**
     * @param warmups rounds of A and B whose samples are thrown away
     * @param rounds measured rounds; each runs A then B (odd rounds B then A)
     * @param a one Spillway sample (e.g. MiB/s)
     * @param b one baseline sample in the same unit
     */
    public static Medians alternate(int warmups, int rounds, Callable<Double> a, Callable<Double> b, PrintStream log)
            throws Exception {
        for (int i = 0; i < warmups; i++) {
            a.call();
            b.call();
        }
        List<Double> as = new ArrayList<>();
        List<Double> bs = new ArrayList<>();
        for (int i = 0; i < rounds; i++) {
            if (i % 2 == 0) {
                as.add(a.call());
                bs.add(b.call());
            } else {
                bs.add(b.call());
                as.add(a.call());
            }
            if (log != null) {
                log.printf("  round %d: spillway %.2f, baseline %.2f%n", i + 1, as.get(i), bs.get(i));
            }
        }
        return new Medians(median(as), median(bs), as, bs);
    }

    /**
     * A steady-state sample: runs {@code pass} once unmeasured (it warms the code path and the
     * caches), then {@code passes} more times, and returns the median of those.
     */
    public static double steady(int passes, Callable<Double> pass) throws Exception {
        pass.call();
        List<Double> v = new java.util.ArrayList<>();
        for (int i = 0; i < passes; i++) {
            v.add(pass.call());
        }
        return median(v);
    }

    public static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }
}
