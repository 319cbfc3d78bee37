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
     * As {@link #alternate} for more than two contenders: after {@code warmups} rounds, each
     * measured round runs every contender once, the order rotated by one each round (A B C, B C A,
     * C A B, ...) so that drift and the cost of following another's work are spread evenly.
     *
     * @return the median of each contender's samples, in the order given
     */
    public static List<Double> rotate(
            int warmups, int rounds, List<String> names, List<Callable<Double>> contenders, PrintStream log)
            throws Exception {
        int n = contenders.size();
        for (int i = 0; i < warmups; i++) {
            for (Callable<Double> c : contenders) {
                c.call();
            }
        }
        List<List<Double>> samples = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            samples.add(new ArrayList<>());
        }
        for (int i = 0; i < rounds; i++) {
            StringBuilder line = new StringBuilder("  round " + (i + 1) + ":");
            for (int j = 0; j < n; j++) {
                int k = (i + j) % n;
                double v = contenders.get(k).call();
                samples.get(k).add(v);
                line.append(String.format(" %s %.2f", names.get(k), v));
            }
            if (log != null) {
                log.println(line);
            }
        }
        List<Double> out = new ArrayList<>();
        for (List<Double> s : samples) {
            out.add(median(s));
        }
        return out;
    }

    /**
     * A steady-state sample: runs {@code pass} once unmeasured (it warms the code path and the
     * caches), then {@code passes} more times, and returns the median of those.
     */
    public static double steady(int passes, Callable<Double> pass) throws Exception {
        pass.call();
        List<Double> v = new ArrayList<>();
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
