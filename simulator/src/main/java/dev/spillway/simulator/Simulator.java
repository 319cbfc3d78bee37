package dev.spillway.simulator;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongFunction;

/**
 * Replays a trace against policies at fast-tier capacities given as fractions of the trace's
 * footprint, each (policy, capacity) pair from an empty fast tier.
 */
public final class Simulator {
    /** The fast-tier sizes the policy benchmark reports: 1%, 5% and 10% of the footprint. */
    public static final double[] DEFAULT_FRACTIONS = {0.01, 0.05, 0.10};

    private Simulator() {}

    /** The policies compared: the four online baselines, Belady, and Spillway. */
    public static Map<String, LongFunction<SimPolicy>> standardPolicies() {
        Map<String, LongFunction<SimPolicy>> m = new LinkedHashMap<>();
        m.put("LRU", LruPolicy::new);
        m.put("ARC", ArcPolicy::new);
        m.put("S3-FIFO", S3FifoPolicy::new);
        m.put("W-TinyLFU", WTinyLfuPolicy::new);
        m.put("Belady", BeladyPolicy::new);
        m.put("Spillway", SpillwayPolicy::new);
        return m;
    }

    /** Names of the online baselines Spillway must match or beat (Belady is the bound, not a rival). */
    public static final List<String> ONLINE_BASELINES = List.of("LRU", "ARC", "S3-FIFO", "W-TinyLFU");

    public static SimResult run(Trace t, SimPolicy p) {
        for (int i = 0; i < t.length(); i++) {
            p.request(t, i);
        }
        return p.result(t);
    }

    public static List<SimResult> run(Trace t, Map<String, LongFunction<SimPolicy>> policies, double[] fractions) {
        List<SimResult> out = new ArrayList<>();
        for (double f : fractions) {
            long cap = (long) (t.footprintBytes() * f);
            for (LongFunction<SimPolicy> p : policies.values()) {
                out.add(run(t, p.apply(cap)));
            }
        }
        return out;
    }
}
