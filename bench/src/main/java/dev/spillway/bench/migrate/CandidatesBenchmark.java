package dev.spillway.bench.migrate;

import dev.spillway.bench.AbRunner;
import dev.spillway.bench.BenchOptions;
import dev.spillway.bench.BenchResult;
import dev.spillway.bench.Benchmark;
import dev.spillway.migrate.heat.Candidate;
import dev.spillway.migrate.heat.HeatConfig;
import dev.spillway.migrate.heat.HeatTracker;
import dev.spillway.osd.ObjectKind;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * {@code spillway bench candidates}: tracks 10,000,000 objects (1,000,000 with --quick) written
 * over 30 simulated days with Zipf-skewed re-reads, then picks 10,000 spill candidates with the
 * heat tracker's bucket walk (A) and with a full scan of every tracked object keeping the
 * coldest in a bounded heap (B, what a design without ordered heat does), alternated. Also
 * measures the tracker's heap per object (GC'd heap before and after building it).
 */
public final class CandidatesBenchmark implements Benchmark {
    private static final int PICK = 10_000;

    @Override
    public String name() {
        return "candidates";
    }

    @Override
    public String description() {
        return "pick 10,000 coldest of 10M tracked objects: bucket walk vs full scan; goal < 50 ms and <= 64 bytes/object";
    }

    /** A clock the build moves forward. */
    private static final class Clock implements InstantSource {
        Instant now = Instant.parse("2026-01-01T00:00:00Z");

        @Override
        public Instant instant() {
            return now;
        }
    }

    @Override
    public List<BenchResult> run(BenchOptions o) throws Exception {
        int n = o.quick() ? 1_000_000 : 10_000_000;
        long seed = Long.parseLong(o.option("--seed", "7"));
        List<BenchResult> out = new ArrayList<>(measure(o, n, seed, Duration.ofDays(30), ""));
        // The hard case for buckets: every object written within one hour (an initial load), so
        // the cold end is one dense run of keys.
        out.addAll(measure(o, n, seed, Duration.ofHours(1), " (burst: all written in 1 h)"));
        return out;
    }

    private List<BenchResult> measure(BenchOptions o, int n, long seed, Duration span, String label) throws Exception {
        MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
        long before = usedHeap(mem);
        Clock clock = new Clock();
        HeatTracker heat = new HeatTracker(HeatConfig.defaults(), clock);
        SplittableRandom rnd = new SplittableRandom(seed);
        long buildStart = System.nanoTime();
        Duration step = Duration.ofNanos(span.toNanos() / n);
        for (int i = 0; i < n; i++) {
            clock.now = clock.now.plus(step);
            heat.recordWrite(0x200000400L + (i >>> 20), i & 0xFFFFF, 0, ObjectKind.DATA, 4096L << rnd.nextInt(6));
            // One access in four re-reads an earlier object, skewed towards low ids (long-lived hot data).
            if ((i & 3) == 0 && i > 0) {
                int j = (int) Math.min(i - 1L, (long) (i * Math.pow(rnd.nextDouble(), 3)));
                heat.recordRead(0x200000400L + (j >>> 20), j & 0xFFFFF, 0, ObjectKind.DATA, -1, true);
            }
        }
        o.log()
                .printf(
                        "candidates%s: built %,d objects over %s in %.1f s (seed %d)%n",
                        label, n, span, (System.nanoTime() - buildStart) / 1e9, seed);
        long after = usedHeap(mem);
        double perObject = (double) (after - before) / n;
        double structural = (double) heat.footprintBytes() / n;
        o.log()
                .printf(
                        "candidates%s: heap %.1f bytes/object measured (GC'd heap delta), %.1f counted from the arrays%n",
                        label, perObject, structural);

        // Same answer from both, checked once before timing.
        List<Candidate> a = heat.coldest(PICK, Long.MAX_VALUE, Duration.ZERO);
        List<Candidate> b = heat.coldestByFullScan(PICK, Duration.ZERO);
        if (a.size() != PICK
                || b.size() != PICK
                || a.get(PICK - 1).heat() != b.get(PICK - 1).heat()) {
            throw new IllegalStateException("bucket walk and full scan disagree: " + a.size() + " vs " + b.size());
        }
        long[] sink = {0};
        AbRunner.Medians m = AbRunner.alternate(
                3,
                o.quick() ? 7 : 9,
                () -> timeMs(() -> sink[0] +=
                        heat.coldest(PICK, Long.MAX_VALUE, Duration.ZERO).size()),
                () -> timeMs(() ->
                        sink[0] += heat.coldestByFullScan(PICK, Duration.ZERO).size()),
                o.log());
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("objects", n);
        params.put("written_over", span.toString());
        params.put("candidates", PICK);
        params.put("segments", heat.config().segments());
        params.put("buckets_per_doubling", heat.config().bucketsPerDoubling());
        params.put("threads", 1);
        params.put("seed", seed);
        params.put("heap_bytes_per_object", Math.round(perObject * 10) / 10.0);
        params.put("array_bytes_per_object", Math.round(structural * 10) / 10.0);
        params.put("spillway_ms_samples", m.as());
        params.put("scan_ms_samples", m.bs());
        Map<String, Object> p2 = new LinkedHashMap<>(params);
        p2.remove("spillway_ms_samples");
        p2.remove("scan_ms_samples");
        return List.of(
                BenchResult.lowerIsBetter(
                        "candidates", "pick 10000 ms vs full scan" + label, m.a(), m.b(), "ms", ">= 1.0", params),
                BenchResult.lowerIsBetter(
                        "candidates", "pick 10000 ms vs 50 ms goal" + label, m.a(), 50.0, "ms", ">= 1.0", p2),
                BenchResult.lowerIsBetter(
                        "candidates", "heap bytes/object vs 64" + label, perObject, 64.0, "bytes", ">= 1.0", p2));
    }

    private static double timeMs(Runnable r) {
        long t = System.nanoTime();
        r.run();
        return (System.nanoTime() - t) / 1e6;
    }

    private static long usedHeap(MemoryMXBean mem) throws InterruptedException {
        for (int i = 0; i < 4; i++) {
            System.gc();
            Thread.sleep(50);
        }
        return mem.getHeapMemoryUsage().getUsed();
    }
}
