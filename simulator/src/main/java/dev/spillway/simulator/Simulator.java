package dev.spillway.simulator;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongFunction;

/**
 * Replays a trace against policies at fast-tier capacities given as fractions of the trace's
 * footprint (distinct bytes), each (policy, capacity) pair from an empty fast tier.
 */
public final class Simulator {
    /** The fast-tier sizes the policy benchmark reports: 0.1% to 20% of the footprint. */
    public static final double[] DEFAULT_FRACTIONS = {0.001, 0.005, 0.01, 0.02, 0.05, 0.10, 0.20};

    private Simulator() {}

    /**
     * The policies compared: the online baselines, Belady, and Spillway. W-TinyLFU is our
     * deterministic rendering of Caffeine's design with the hill climber of its paper; Caffeine
     * is the library itself (3.3, whose newer window climber does better on some traces), kept
     * among the rivals so that no figure is measured against a weaker copy.
     */
    public static Map<String, LongFunction<SimPolicy>> standardPolicies() {
        Map<String, LongFunction<SimPolicy>> m = new LinkedHashMap<>();
        m.put("LRU", LruPolicy::new);
        m.put("ARC", ArcPolicy::new);
        m.put("S3-FIFO", S3FifoPolicy::new);
        m.put("W-TinyLFU", WTinyLfuPolicy::new);
        m.put("Caffeine", CaffeinePolicy::new);
        m.put("Belady", BeladyPolicy::new);
        m.put("Spillway", SpillwayPolicy::new);
        return m;
    }

    /** Names of the online baselines Spillway must match or beat (Belady is the bound, not a rival). */
    public static final List<String> ONLINE_BASELINES = List.of("LRU", "ARC", "S3-FIFO", "W-TinyLFU", "Caffeine");

    /** The fast tier's bytes at {@code fraction} of the trace's footprint. */
    public static long capacity(Trace t, double fraction) {
        return (long) (t.footprintBytes() * fraction);
    }

    public static SimResult run(Trace t, SimPolicy p) {
        for (int i = 0; i < t.length(); i++) {
            p.request(t, i);
        }
        return p.result(t);
    }

    public static List<SimResult> run(Trace t, Map<String, LongFunction<SimPolicy>> policies, double[] fractions) {
        List<SimResult> out = new ArrayList<>();
        for (double f : fractions) {
            long cap = capacity(t, f);
            for (LongFunction<SimPolicy> p : policies.values()) {
                out.add(run(t, p.apply(cap)));
            }
        }
        return out;
    }
}
