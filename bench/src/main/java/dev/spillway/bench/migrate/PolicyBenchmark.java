package dev.spillway.bench.migrate;

import dev.spillway.bench.BenchOptions;
import dev.spillway.bench.BenchResult;
import dev.spillway.bench.Benchmark;
import dev.spillway.simulator.Report;
import dev.spillway.simulator.SimResult;
import dev.spillway.simulator.Simulator;
import dev.spillway.simulator.SpillwayPolicy;
import dev.spillway.simulator.SyntheticTrace;
import dev.spillway.simulator.Trace;
import dev.spillway.simulator.TraceReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code spillway bench policy [--trace FILE] [--plot FILE] [--seed N]}: replays a trace (default:
 * the bundled CloudPhysics sample) and a seeded synthetic Zipf-plus-scans trace against the
 * placement policy and the baselines at 1%, 5% and 10% of each trace's footprint. Per size: the
 * request hit ratio against the best online baseline (goal >= 1.0) and the bytes migrated
 * against LRU's (goal: fewer, ratio > 1.0). The replay is deterministic (no timing), so there is
 * nothing to alternate: the baselines run on the same trace in the same process.
 */
public final class PolicyBenchmark implements Benchmark {
    @Override
    public String name() {
        return "policy";
    }

    @Override
    public String description() {
        return "trace replay: Spillway hit ratio vs best of LRU/ARC/S3-FIFO/W-TinyLFU at 1/5/10% (goal >= 1.0), bytes moved vs LRU";
    }

    @Override
    public List<BenchResult> run(BenchOptions o) throws Exception {
        String file = o.option("--trace", null);
        long seed = Long.parseLong(o.option("--seed", "20251125"));
        List<Trace> traces = new ArrayList<>();
        traces.add(file == null ? TraceReader.bundled() : TraceReader.read(Path.of(file)));
        o.log().printf("policy: synthetic trace seed %d (replay with --seed %d)%n", seed, seed);
        traces.add(SyntheticTrace.standard(o.quick(), seed));
        List<BenchResult> out = new ArrayList<>();
        for (Trace t : traces) {
            long start = System.nanoTime();
            List<SimResult> rs = Simulator.run(t, Simulator.standardPolicies(), Simulator.DEFAULT_FRACTIONS);
            o.log().printf("policy: %s replayed in %.1f s%n", t.name(), (System.nanoTime() - start) / 1e9);
            o.log().print(Report.table(t, rs));
            Path png = Path.of(o.option("--plot", "spillway-policy") + "-"
                            + t.name().replaceAll("[^A-Za-z0-9.]+", "_") + ".png")
                    .toAbsolutePath();
            Report.plot(t, rs, png);
            o.log().println("policy: plot written to " + png);
            for (double f : Simulator.DEFAULT_FRACTIONS) {
                long cap = (long) (t.footprintBytes() * f);
                out.addAll(compare(
                        t, f, rs.stream().filter(r -> r.capacityBytes() == cap).toList()));
            }
        }
        return out;
    }

    private static List<BenchResult> compare(Trace t, double fraction, List<SimResult> atSize) {
        SimResult spill = find(atSize, "Spillway");
        SimResult lru = find(atSize, "LRU");
        SimResult best = null;
        for (SimResult r : atSize) {
            if (Simulator.ONLINE_BASELINES.contains(r.policy()) && (best == null || r.hitRatio() > best.hitRatio())) {
                best = r;
            }
        }
        String size = String.format("%.0f%%", fraction * 100);
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("trace", t.name());
        params.put("requests", t.length());
        params.put("objects", t.objects());
        params.put("fast_tier_bytes", spill.capacityBytes());
        params.put("fast_tier_share", size);
        params.put("best_baseline", best.policy());
        Map<String, Object> hits = new LinkedHashMap<>();
        Map<String, Object> moved = new LinkedHashMap<>();
        for (SimResult r : atSize) {
            hits.put(r.policy(), Math.round(r.hitRatio() * 10000) / 10000.0);
            moved.put(r.policy(), r.migratedBytes());
        }
        params.put("hit_ratio", hits);
        params.put("bytes_migrated", moved);
        params.put("spillway_byte_hit_ratio", Math.round(spill.byteHitRatio() * 10000) / 10000.0);
        params.put("spillway_counters", spill.extra());
        params.put("spillway_config", SpillwayPolicy.defaultPolicy() + " " + SpillwayPolicy.defaultHeat());
        List<BenchResult> out = new ArrayList<>();
        out.add(BenchResult.higherIsBetter(
                "policy",
                "request hit ratio @" + size + " " + t.name(),
                spill.hitRatio(),
                best.hitRatio(),
                "ratio",
                ">= 1.0",
                params));
        Map<String, Object> p2 = new LinkedHashMap<>();
        p2.put("trace", t.name());
        p2.put("fast_tier_bytes", spill.capacityBytes());
        p2.put("fast_tier_share", size);
        out.add(BenchResult.lowerIsBetter(
                "policy",
                "bytes migrated vs LRU @" + size + " " + t.name(),
                spill.migratedBytes(),
                lru.migratedBytes(),
                "bytes",
                "> 1.0",
                p2));
        return out;
    }

    private static SimResult find(List<SimResult> rs, String policy) {
        return rs.stream()
                .filter(r -> r.policy().equals(policy))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no result for " + policy));
    }
}
