package dev.spillway.bench.pool;

import dev.spillway.bench.BenchOptions;
import dev.spillway.bench.BenchResult;
import dev.spillway.bench.Benchmark;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.spi.Osds;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.config.PoolConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * {@code recovery}: a kv+vfs pool with N objects and 1,000 copies in flight is killed (SIGKILL of
 * the child process holding it); the pool is then mounted the normal way (the work index only)
 * and, on an identical copy of the killed folder, with a full scan of every object and device.
 * Reports both mount times and their ratio (goal >= 100), and how the normal mount grows from N/10
 * to N objects (goal: at most 1.2x, i.e. ratio small/big >= 0.83). N = 1,000,000 (100,000 with
 * --quick).
 */
public final class RecoveryBench implements Benchmark {
    @Override
    public String name() {
        return "recovery";
    }

    @Override
    public String description() {
        return "mount after SIGKILL with 1,000 jobs in flight: work-index recovery vs full scan (goal >= 100x), growth 0.1N->N (goal <= 1.2x)";
    }

    private record Mounts(double recoverMs, double fullScanMs, String report) {}

    @Override
    public List<BenchResult> run(BenchOptions o) throws Exception {
        int big = o.quick() ? 100_000 : 1_000_000;
        int jobs = 1000;
        // Warm-up: the first mount in this JVM pays class loading and JIT for both modes.
        measure(o, 2_000, jobs);
        Mounts small = measure(o, big / 10, jobs);
        Mounts large = measure(o, big, jobs);
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("objects", big);
        params.put("jobs_in_flight", jobs);
        params.put("pool", "kv + vfs (journal off)");
        params.put("mount", "devices opened side by side, as serve mounts (both mounts)");
        params.put("kill", "SIGKILL of the child process that built the pool");
        params.put("recovery_report", large.report());
        Map<String, Object> growth = new LinkedHashMap<>(params);
        growth.put("objects_small", big / 10);
        growth.put("recover_ms_small", round(small.recoverMs()));
        growth.put("growth", round(large.recoverMs() / small.recoverMs()));
        List<BenchResult> out = new ArrayList<>();
        out.add(BenchResult.lowerIsBetter(
                name(),
                "recovery_mount_ms_vs_full_scan",
                large.recoverMs(),
                large.fullScanMs(),
                "ms",
                ">= 100",
                params));
        out.add(BenchResult.lowerIsBetter(
                name(),
                "recovery_mount_growth_10x_objects",
                large.recoverMs(),
                small.recoverMs(),
                "ms",
                ">= 0.83",
                growth));
        return out;
    }

    private static double round(double d) {
        return Math.round(d * 10) / 10.0;
    }

    private Mounts measure(BenchOptions o, int objects, int jobs) throws Exception {
        Path a = o.workDir().resolve("pool-" + objects + "-a");
        Path b = o.workDir().resolve("pool-" + objects + "-b");
        o.log()
                .printf(
                        "recovery: building a pool of %d objects with %d copies in flight, then SIGKILL%n",
                        objects, jobs);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(
                        java,
                        "--enable-native-access=ALL-UNNAMED",
                        "-Xmx1g",
                        "-cp",
                        System.getProperty("java.class.path"),
                        RecoveryChild.class.getName(),
                        a.toString(),
                        Integer.toString(objects),
                        Integer.toString(jobs))
                .redirectErrorStream(true)
                .start();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
            String line;
            while ((line = r.readLine()) != null && !line.equals("READY")) {
                o.log().println("  child: " + line);
            }
            if (line == null) {
                throw new IOException("the recovery child exited before it was ready (exit " + p.waitFor() + ")");
            }
        }
        p.destroyForcibly();
        p.waitFor(60, TimeUnit.SECONDS);
        copyTree(a, b);
        long t0 = System.nanoTime();
        PoolOsd rec = mountAsServer(PoolBenchSupport.kvVfs(a, "recovery"), PoolOsd.MountMode.RECOVER);
        double recoverMs = (System.nanoTime() - t0) / 1e6;
        String report = String.valueOf(rec.recoveryReport());
        rec.close();
        long t1 = System.nanoTime();
        PoolOsd scan = mountAsServer(PoolBenchSupport.kvVfs(b, "recovery"), PoolOsd.MountMode.FULL_SCAN);
        double scanMs = (System.nanoTime() - t1) / 1e6;
        scan.close();
        o.log()
                .printf(
                        "  %d objects: recovery mount %.1f ms (%s), full-scan mount %.1f ms%n",
                        objects, recoverMs, report, scanMs);
        return new Mounts(recoverMs, scanMs, report);
    }

    /** A mount as {@code serve} makes it: the devices opened side by side. */
    private static PoolOsd mountAsServer(PoolConfig c, PoolOsd.MountMode mode) throws OsdException {
        return PoolOsd.mount(
                c,
                InstantSource.system(),
                mode,
                (d, clock) -> Osds.open(new OsdConfig(d.name(), d.backend(), d.settings(), clock)),
                true);
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else if (!p.getFileName().toString().equals("LOCK")) {
                    Files.copy(p, t, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }
}
