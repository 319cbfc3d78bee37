package dev.spillway.bench.s3;

import dev.spillway.bench.BenchOptions;
import dev.spillway.bench.BenchResult;
import dev.spillway.bench.Benchmark;
import dev.spillway.gateway.s3.GatewayConfig;
import dev.spillway.gateway.s3.S3Gateway;
import dev.spillway.gateway.s3.auth.CredentialStore;
import dev.spillway.migrate.daemon.DaemonConfig;
import dev.spillway.migrate.daemon.MigrationDaemon;
import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * {@code ./spillway bench overload} (issue 12): sustained S3 PUTs from 8 clients into a kv+vfs
 * pool whose fast tier is 4x smaller than the data written, the migration daemon draining it to
 * the vfs spill device. (1) Acknowledged write throughput vs the raw write bandwidth of the spill
 * device, measured in the same run on the same folder (a file per object, written and forced, the
 * folder fsynced: what a spill copy costs the device; by one writer and by eight, the better of the
 * two), goal >= 0.70 — when writers outrun the tier, the pool should run at the speed of the device
 * it drains to. (2) PUT latency, p99 and max, vs
 * the configured bound a writer waits for room (space.writer-wait), goal: no request above it.
 *
 * <p>A PUT answered {@code 503 SlowDown} is retried by the client after its {@code Retry-After}
 * (the SDK's own retries are off, so every request's latency is measured); only acknowledged bytes
 * count. The baseline runs before, between and after the two pool runs (A B A C A), the median is
 * used. The fast device stands on {@code /dev/shm} by default (a tier faster than its spill device,
 * the goal's premise), if it has room; {@code --fast-dir PATH} puts it elsewhere, {@code --fast-dir
 * spill-disk} on the spill device's own disk.
 */
public final class OverloadBenchmark implements Benchmark {
    private static final String AK = "BENCHKEY";
    private static final String SK = "bench-secret";
    private static final long MIB = 1 << 20;

    @Override
    public String name() {
        return "overload";
    }

    @Override
    public String description() {
        return "S3 PUTs 4x a full fast tier: acknowledged MiB/s vs raw spill-device writes (>= 0.70); PUT p99/max vs the writer-wait bound";
    }

    @Override
    public List<BenchResult> run(BenchOptions o) throws Exception {
        long fast = o.quick() ? 32 * MIB : 64 * MIB;
        // --fast SIZE sizes the tier (e.g. large, to see the PUT path alone); --object-size SIZE the PUTs.
        fast = OsdConfig.parseBytes(o.option("--fast", Long.toString(fast)));
        long written = 4 * fast;
        written = OsdConfig.parseBytes(o.option("--write", Long.toString(written)));
        int objectSize = (int) OsdConfig.parseBytes(o.option("--object-size", Long.toString(MIB)));
        int clients = 8;
        long total = written;
        int objects = (int) (total / objectSize);
        Duration bound = Duration.ofSeconds(5);
        Path dir = Files.createTempDirectory(o.workDir(), "bench-overload-");
        // The goal's premise is a fast tier on a device faster than the one it drains to. By default
        // the fast (kv) device stands on /dev/shm (tmpfs: RAM standing for an NVMe tier) while the
        // spill device stays on the disk under test, so the drain to that disk is the bottleneck the
        // ratio measures. --fast-dir PATH puts it elsewhere; --fast-dir spill-disk on the spill
        // device's own disk, where every acknowledged byte is written to that disk twice (kv, then
        // the spill copy) and the physical ceiling of the ratio is about 0.5.
        String fastDirOption = o.option("--fast-dir", "");
        Path shm = Path.of("/dev/shm");
        boolean shmFits = fastDirOption.isEmpty() && fits(shm, 2 * fast + (64 * MIB));
        Path fastRoot = fastDirOption.equals("spill-disk") || (fastDirOption.isEmpty() && !shmFits)
                ? dir
                : Files.createTempDirectory(
                        Files.createDirectories(fastDirOption.isEmpty() ? shm : Path.of(fastDirOption)),
                        "bench-overload-fast-");
        String fastDevice = fastRoot == dir
                ? "the spill device's disk ("
                        + (fastDirOption.isEmpty() ? "/dev/shm missing or too small" : "--fast-dir spill-disk") + ")"
                : fastRoot.getParent()
                        + (fastDirOption.isEmpty() ? " (tmpfs, the default: a fast tier on its own device)" : "");
        o.log().printf("overload: fast device on %s; spill device on %s%n", fastDevice, dir);
        Path slow = Files.createDirectories(dir.resolve("slow"));
        byte[] body = new byte[objectSize];
        new Random(42).nextBytes(body);
        // --only pool|s3 runs one half (to profile it); the other's metrics then read 0.
        String only = o.option("--only", "both");
        // --write-around off|full|always: the pool's space.write-around (docs/design.md,
        // "Write-around"); full by default: a body the full fast tier cannot take goes straight to
        // the spill device, written once.
        String writeAround = o.option("--write-around", "full");
        // Warm-up (BENCHMARKS.md): one unmeasured run of the pool's own PUT path on a pool of its
        // own, as large as a measured one, so that the measured runs time the pool rather than the
        // JIT compiling it (the raw baseline is a few small methods, warm after a few files). perf
        // before it: the compiler threads took 28% of the process's CPU in the pool's run.
        // --warm-up 0 leaves it out.
        int warmObjects =
                (int) Math.min(objects, OsdConfig.parseBytes(o.option("--warm-up", Long.toString(total))) / objectSize);
        if (warmObjects > 0 && !only.equals("s3")) {
            Run warm = pool(
                    dir.resolve("warm-up"),
                    fastRoot.resolve("warm-up"),
                    fast,
                    bound,
                    writeAround,
                    clients,
                    warmObjects,
                    body,
                    o,
                    false);
            o.log().printf("overload: warm-up run (not measured): %.1f MiB/s%n", warm.mibPerS);
            deleteTree(dir.resolve("warm-up"));
            deleteTree(fastRoot.resolve("warm-up"));
        }
        // The S3 half's own warm-up (the gateway, SigV4, the SDK client): without it the measured S3
        // run was the first to load and compile that path (JFR, session 9: jar inflation and class
        // loading among its top frames).
        if (warmObjects > 0 && !only.equals("pool")) {
            Run warm = pool(
                    dir.resolve("warm-up-s3"),
                    fastRoot.resolve("warm-up-s3"),
                    fast,
                    bound,
                    writeAround,
                    clients,
                    warmObjects,
                    body,
                    o,
                    true);
            o.log().printf("overload: S3 warm-up run (not measured): %.1f MiB/s%n", warm.mibPerS);
            deleteTree(dir.resolve("warm-up-s3"));
            deleteTree(fastRoot.resolve("warm-up-s3"));
        }
        List<Double> raw = new ArrayList<>();
        List<Double> rawOne = new ArrayList<>();
        RAW_CPU.clear();
        raw.add(raw(slow, body, objects, clients, o, rawOne));
        Run none = new Run(0, new double[] {0}, 0, 0, Map.of(), Double.NaN, -1);
        Run direct = only.equals("s3")
                ? none
                : pool(
                        dir.resolve("direct"),
                        fastRoot.resolve("direct"),
                        fast,
                        bound,
                        writeAround,
                        clients,
                        objects,
                        body,
                        o,
                        false);
        raw.add(raw(slow, body, objects, clients, o, rawOne));
        Run run = only.equals("pool")
                ? none
                : pool(
                        dir.resolve("s3"),
                        fastRoot.resolve("s3"),
                        fast,
                        bound,
                        writeAround,
                        clients,
                        objects,
                        body,
                        o,
                        true);
        raw.add(raw(slow, body, objects, clients, o, rawOne));
        double baseline = median(raw);
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("fast_tier_mib", fast / MIB);
        params.put("written_mib", total / MIB);
        params.put("object_bytes", objectSize);
        params.put("clients", clients);
        params.put("writer_wait_s", bound.toSeconds());
        params.put("write_around", writeAround);
        params.put("warm_up_mib", (long) warmObjects * objectSize / MIB);
        params.put("put_requests", run.latenciesMs.length);
        params.put(
                "pool_writes_slowest_ms",
                Arrays.stream(direct.latenciesMs).max().orElse(0));
        params.put("pool_writes_refused", direct.slowDowns);
        params.put("pool_fast_tier_peak_pct", direct.peakPct);
        params.put("pool_moves", direct.moves);
        // CPU time of the whole process per MiB (all threads; 2 cores shared with whatever else
        // runs): the pool's PUT-and-drain vs the raw writes of the same bytes by 8 writers.
        params.put("pool_cpu_ms_per_mib", Math.round(direct.cpuMsPerMib * 100) / 100.0);
        // The JIT compilers' time during the pool's measured run, per MiB (part of the figure above
        // when the compiler threads had a core; -1: not reported by this JVM).
        params.put(
                "pool_jit_ms_per_mib",
                direct.jitMs < 0 ? -1 : Math.round(direct.jitMs / (total / (double) MIB) * 100) / 100.0);
        params.put(
                "raw_cpu_ms_per_mib_8_writers",
                Math.round(median(RAW_CPU.stream()
                                        .filter(c -> c[0] > 1)
                                        .map(c -> c[1])
                                        .toList())
                                * 100)
                        / 100.0);
        params.put("slowdown_503", run.slowDowns);
        params.put("fast_tier_peak_pct", run.peakPct);
        params.put("moves", run.moves);
        params.put("fast_device_on_spill_disk", fastRoot == dir);
        params.put("fast_device", fastDevice);
        params.put("spill_streams", 3);
        params.put("spill_writers", DaemonConfig.DEFAULT_SPILL_WRITERS);
        params.put(
                "raw_mib_per_s_runs",
                raw.stream().map(x -> Math.round(x * 10) / 10.0).toList());
        params.put("raw_mib_per_s_1_writer_runs", rawOne);
        // The ratios against one writer alone (the baseline before issue 12's session 4): a device
        // whose fsyncs are latency-bound gives one writer far less than several.
        double one = median(rawOne);
        params.put("pool_ratio_vs_1_writer", Math.round(direct.mibPerS / one * 1000) / 1000.0);
        params.put("s3_ratio_vs_1_writer", Math.round(run.mibPerS / one * 1000) / 1000.0);
        params.put(
                "durability",
                "pool: kv WAL-synced PUTs, spill copies forced on vfs (journal off); raw: write + force per 1 MiB file + folder fsync, 1 and 8 writers, the better");
        List<BenchResult> out = new ArrayList<>();
        // The pool's own PUT path (a transaction per object, as the gateway commits one), without
        // HTTP, SigV4 and MD5: what the goal is about — the pool at its spill device's speed.
        out.add(BenchResult.higherIsBetter(
                "overload",
                "acked_write_mib_per_s_vs_spill_device",
                direct.mibPerS,
                baseline,
                "MiB/s",
                ">= 0.70",
                params));
        // The same through the S3 gateway (8 SDK clients on the same machine).
        out.add(BenchResult.higherIsBetter(
                "overload",
                "acked_s3_put_mib_per_s_vs_spill_device",
                run.mibPerS,
                baseline,
                "MiB/s",
                ">= 0.70",
                params));
        double boundMs = bound.toMillis();
        double[] l = run.latenciesMs.clone();
        Arrays.sort(l);
        double p99 = l[Math.min(l.length - 1, (int) Math.ceil(0.99 * l.length) - 1)];
        double max = l[l.length - 1];
        out.add(BenchResult.lowerIsBetter(
                "overload", "put_p99_ms_vs_writer_wait", p99, boundMs, "ms", ">= 1.0", params));
        out.add(BenchResult.lowerIsBetter(
                "overload", "put_max_ms_vs_writer_wait", max, boundMs, "ms", ">= 1.0", params));
        deleteTree(dir);
        if (fastRoot != dir) {
            deleteTree(fastRoot);
        }
        return out;
    }

    /**
     * The spill device's raw write bandwidth: {@code n} files of {@code body} written into its
     * folder, each written, forced and its name made durable (folder fsync) — what a spill copy
     * must at least cost the device — once by one writer and once by {@code writers} side by side
     * (a device whose fsyncs share journal commits writes faster with several in flight, as the
     * pool's spill streams do). The better of the two, in MiB/s: the baseline is the best the
     * device gives this discipline, not the easiest to beat.
     */
    private static double raw(Path dir, byte[] body, int n, int writers, BenchOptions o, List<Double> ones)
            throws Exception {
        double one = rawWrites(dir, body, n, 1);
        double many = rawWrites(dir, body, n, writers);
        o.log()
                .printf(
                        "overload: raw spill-device writes %.1f MiB/s (1 writer), %.1f MiB/s (%d writers)%n",
                        one, many, writers);
        ones.add(Math.round(one * 10) / 10.0);
        return Math.max(one, many);
    }

    private static double rawWrites(Path dir, byte[] body, int n, int writers) throws Exception {
        Path d = Files.createDirectories(dir.resolve("raw-baseline"));
        AtomicInteger next = new AtomicInteger();
        List<Exception> errors = Collections.synchronizedList(new ArrayList<>());
        long c0 = cpuNanos();
        long t0 = System.nanoTime();
        Thread[] ts = new Thread[writers];
        for (int k = 0; k < writers; k++) {
            ts[k] = Thread.ofPlatform().start(() -> {
                int i;
                while ((i = next.getAndIncrement()) < n) {
                    try {
                        rawFile(d, "raw-" + i, body);
                    } catch (Exception e) {
                        errors.add(e);
                        return;
                    }
                }
            });
        }
        for (Thread t : ts) {
            t.join();
        }
        double s = (System.nanoTime() - t0) / 1e9;
        RAW_CPU.add(new double[] {writers, (cpuNanos() - c0) / 1e6 / (n * (double) body.length / MIB)});
        if (!errors.isEmpty()) {
            throw errors.get(0);
        }
        deleteTree(d);
        return (double) n * body.length / MIB / s;
    }

    private static void rawFile(Path d, String name, byte[] body) throws IOException {
        try (FileChannel ch = FileChannel.open(d.resolve(name), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(body);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        try (FileChannel f = FileChannel.open(d, StandardOpenOption.READ)) {
            f.force(true);
        }
    }

    /**
     * One run's outcome; {@code cpuMsPerMib} is the whole process's CPU time per MiB acknowledged
     * (every thread: writers, daemon, copies, JIT, GC), NaN where not measured.
     */
    private record Run(
            double mibPerS,
            double[] latenciesMs,
            long slowDowns,
            long peakPct,
            Map<String, Long> moves,
            double cpuMsPerMib,
            long jitMs) {}

    // The raw runs' process CPU time per MiB written, as {writers, ms}: the pool's figure's baseline.
    private static final List<double[]> RAW_CPU = Collections.synchronizedList(new ArrayList<>());

    private static Run pool(
            Path dir,
            Path fastDir,
            long fast,
            Duration bound,
            String writeAround,
            int clients,
            int objects,
            byte[] body,
            BenchOptions o,
            boolean viaS3)
            throws Exception {
        // The devices' parent folders (a device creates its own folder, not a missing parent).
        Files.createDirectories(dir);
        Files.createDirectories(fastDir);
        PoolConfig c = PoolConfigParser.parse(
                """
                name: overload
                devices:
                  - {name: fast, backend: kv, roles: [metadata, foreground, promote], settings: {path: '%s', capacity: %d}}
                  - {name: slow, backend: vfs, roles: [background], settings: {path: '%s', journal: "off"}}
                policy: {high-watermark: 0.80, low-watermark: 0.60, min-resident-age: 0s, spill-streams: 3}
                space: {writer-wait: %ds, write-around: %s}
                """.formatted(fastDir.resolve("fast"), fast, dir.resolve("slow"), bound.toSeconds(), writeAround),
                "overload bench");
        try (PoolOsd pool = PoolOsd.mount(c, InstantSource.system(), PoolOsd.MountMode.RECOVER)) {
            MigrationDaemon daemon =
                    MigrationDaemon.attach(pool, DaemonConfig.parse(c.policy(), c.name()), InstantSource.system());
            pool.listener(daemon);
            daemon.start();
            if (!viaS3) {
                return direct(pool, daemon, clients, objects, body, o);
            }
            try (S3Gateway gw = S3Gateway.start(
                            pool,
                            GatewayConfig.builder()
                                    .credentials(CredentialStore.single(AK, SK))
                                    .build());
                    S3Client s3 = S3Benchmark.client(gw.endpoint(), clients * 2, AK, SK, false)) {
                s3.createBucket(b -> b.bucket("overload"));
                AtomicInteger next = new AtomicInteger();
                ConcurrentLinkedQueue<Double> lat = new ConcurrentLinkedQueue<>();
                AtomicLong slowDowns = new AtomicLong();
                AtomicLong acked = new AtomicLong();
                AtomicLong peak = new AtomicLong();
                List<String> errors = Collections.synchronizedList(new ArrayList<>());
                long t0 = System.nanoTime();
                Thread[] ts = new Thread[clients];
                for (int k = 0; k < clients; k++) {
                    ts[k] = Thread.ofPlatform().start(() -> {
                        int i;
                        while ((i = next.getAndIncrement()) < objects) {
                            String key = "o" + i;
                            while (true) {
                                long r0 = System.nanoTime();
                                try {
                                    s3.putObject(b -> b.bucket("overload").key(key), RequestBody.fromBytes(body));
                                    lat.add((System.nanoTime() - r0) / 1e6);
                                    acked.addAndGet(body.length);
                                    break;
                                } catch (S3Exception e) {
                                    lat.add((System.nanoTime() - r0) / 1e6);
                                    if (e.statusCode() != 503) {
                                        errors.add(key + ": " + e.getMessage());
                                        break;
                                    }
                                    slowDowns.incrementAndGet();
                                    long wait = e.awsErrorDetails()
                                            .sdkHttpResponse()
                                            .firstMatchingHeader("Retry-After")
                                            .map(Long::parseLong)
                                            .orElse(1L);
                                    LockSupport.parkNanos(wait * 1_000_000_000L);
                                }
                            }
                            try {
                                var s = pool.metadataStatfs();
                                peak.accumulateAndGet(100 * s.usedBytes() / s.totalBytes(), Math::max);
                            } catch (Exception e) {
                                errors.add("statfs: " + e);
                            }
                        }
                    });
                }
                for (Thread t : ts) {
                    t.join();
                }
                double secs = (System.nanoTime() - t0) / 1e9;
                if (!errors.isEmpty()) {
                    throw new IllegalStateException(
                            "overload: " + errors.size() + " PUTs failed, first: " + errors.get(0));
                }
                double mibs = acked.get() / (double) MIB / secs;
                o.log()
                        .printf(
                                "overload: %d MiB acknowledged in %.1f s = %.1f MiB/s, %d SlowDown answers, peak %d%%%n",
                                acked.get() / MIB, secs, mibs, slowDowns.get(), peak.get());
                double[] l = lat.stream().mapToDouble(Double::doubleValue).toArray();
                Map<String, Long> moves = daemon.status().moves();
                daemon.close();
                return new Run(mibs, l, slowDowns.get(), peak.get(), moves, Double.NaN, -1);
            }
        }
    }

    /** Writers putting objects straight into the pool, a transaction each; ENOSPC (the bounded wait) is retried. */
    private static Run direct(
            PoolOsd pool, MigrationDaemon daemon, int clients, int objects, byte[] body, BenchOptions o)
            throws Exception {
        AtomicInteger next = new AtomicInteger();
        ConcurrentLinkedQueue<Double> lat = new ConcurrentLinkedQueue<>();
        AtomicLong refused = new AtomicLong();
        AtomicLong acked = new AtomicLong();
        AtomicLong peak = new AtomicLong();
        List<String> errors = Collections.synchronizedList(new ArrayList<>());
        long c0 = cpuNanos();
        long j0 = jitMs();
        long t0 = System.nanoTime();
        Thread[] ts = new Thread[clients];
        for (int k = 0; k < clients; k++) {
            ts[k] = Thread.ofPlatform().start(() -> {
                int i;
                while ((i = next.getAndIncrement()) < objects) {
                    Fid f = new Fid(0x200000400L, i + 1, 0);
                    while (true) {
                        long r0 = System.nanoTime();
                        try (Transaction tx = pool.newTransaction()) {
                            tx.declareCreate(f, ObjectKind.DATA);
                            tx.declareWrite(f, 0, body.length);
                            tx.start();
                            tx.create(f, ObjectKind.DATA, AttrChange.none());
                            tx.write(f, 0, ByteBuffer.wrap(body));
                        } catch (OsdException e) {
                            lat.add((System.nanoTime() - r0) / 1e6);
                            if (e.is(Errno.ENOSPC)) {
                                refused.incrementAndGet();
                                continue;
                            }
                            errors.add(f + ": " + e.getMessage());
                            break;
                        }
                        lat.add((System.nanoTime() - r0) / 1e6);
                        acked.addAndGet(body.length);
                        break;
                    }
                    try {
                        var s = pool.metadataStatfs();
                        peak.accumulateAndGet(100 * s.usedBytes() / s.totalBytes(), Math::max);
                    } catch (Exception e) {
                        errors.add("statfs: " + e);
                    }
                }
            });
        }
        for (Thread t : ts) {
            t.join();
        }
        pool.sync();
        double secs = (System.nanoTime() - t0) / 1e9;
        double cpu = (cpuNanos() - c0) / 1e6 / Math.max(1, acked.get() / (double) MIB);
        long jit = j0 < 0 ? -1 : jitMs() - j0;
        if (!errors.isEmpty()) {
            throw new IllegalStateException("overload: " + errors.size() + " writes failed, first: " + errors.get(0));
        }
        double mibs = acked.get() / (double) MIB / secs;
        o.log()
                .printf(
                        "overload: pool writes: %d MiB acknowledged in %.1f s = %.1f MiB/s, %d refused after the bound, peak %d%%%n",
                        acked.get() / MIB, secs, mibs, refused.get(), peak.get());
        Map<String, Long> moves = daemon.status().moves();
        daemon.close();
        return new Run(
                mibs,
                lat.stream().mapToDouble(Double::doubleValue).toArray(),
                refused.get(),
                peak.get(),
                moves,
                cpu,
                jit);
    }

    /**
     * The JIT compilers' time so far in ms (all compiler threads), or -1 if the JVM does not say:
     * what the pool's run still spends compiling after the warm-up (perf, session 9: C1 + C2 were
     * 21-25% of the process's CPU in a 1 GiB run after a 256 MiB or a 1 GiB warm-up alike).
     */
    private static long jitMs() {
        var c = java.lang.management.ManagementFactory.getCompilationMXBean();
        return c != null && c.isCompilationTimeMonitoringSupported() ? c.getTotalCompilationTime() : -1;
    }

    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean)
                        java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** True if {@code dir} is a writable folder with at least {@code bytes} free. */
    private static boolean fits(Path dir, long bytes) {
        try {
            return Files.isDirectory(dir)
                    && Files.isWritable(dir)
                    && Files.getFileStore(dir).getUsableSpace() >= bytes;
        } catch (IOException e) {
            return false;
        }
    }

    private static double median(List<Double> xs) {
        double[] a = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
