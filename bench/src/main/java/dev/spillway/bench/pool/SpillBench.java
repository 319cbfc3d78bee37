package dev.spillway.bench.pool;

import dev.spillway.bench.AbRunner;
import dev.spillway.bench.BenchOptions;
import dev.spillway.bench.BenchResult;
import dev.spillway.bench.Benchmark;
import dev.spillway.migrate.daemon.DaemonConfig;
import dev.spillway.migrate.daemon.MigrationDaemon;
import dev.spillway.osd.Fid;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.ops.Migrator;
import dev.spillway.pool.ops.MoveResult;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code spill}: (1) spill throughput from a kv fast device to a vfs spill device (objects of
 * 8 MiB spilled in the daemon's batches, each made durable there) against raw sequential write + force
 * (+ directory fsync) bandwidth into the same spill folder, goal >= 0.80; (2) foreground 4 KiB read latency (p99) of
 * resident objects while the daemon spills under its bandwidth cap, against the same reads with
 * the daemon idle, goal <= 2x (ratio idle/during >= 0.5).
 */
public final class SpillBench implements Benchmark {
    @Override
    public String name() {
        return "spill";
    }

    @Override
    public String description() {
        return "spill kv->vfs vs raw sequential write (goal >= 0.80); foreground read p99 during capped spill vs idle (goal <= 2x)";
    }

    @Override
    public List<BenchResult> run(BenchOptions o) throws Exception {
        int objects = o.quick() ? 12 : 48;
        int size = 8 << 20;
        int rounds = o.quick() ? 3 : 5;
        byte[] body = new byte[size];
        new Random(1).nextBytes(body);
        ByteBuffer direct = ByteBuffer.allocateDirect(size);
        direct.put(body).flip();
        Path dir = o.workDir().resolve("pool");
        // The fast device is capped so that the daemon's watermarks mean something in the latency part.
        PoolOsd pool =
                PoolBenchSupport.mount(PoolBenchSupport.kvVfs(dir, "spillbench", "1GiB"), PoolOsd.MountMode.RECOVER);
        Path rawDir = Files.createDirectories(dir.resolve("slow").resolve("raw-baseline"));
        int[] seq = {0};
        List<BenchResult> out = new ArrayList<>();
        try {
            AbRunner.Medians m = AbRunner.alternate(
                    1,
                    rounds,
                    () -> {
                        List<Fid> fids = new ArrayList<>();
                        for (int i = 0; i < objects; i++) {
                            Fid f = new Fid(0x200000400L, ++seq[0], 0);
                            PoolBenchSupport.put(pool, f, direct.duplicate(), false);
                            fids.add(f);
                        }
                        pool.sync();
                        long t0 = System.nanoTime();
                        // As the daemon spills: batches whose copies are begun in one durable transaction.
                        for (int i = 0; i < fids.size(); i += MigrationDaemon.SPILL_BATCH) {
                            List<Fid> batch = fids.subList(i, Math.min(fids.size(), i + MigrationDaemon.SPILL_BATCH));
                            for (Migrator.Spilled sp : pool.migrator().spillAll(batch, pool.device(1))) {
                                if (!(sp.result() instanceof MoveResult.Done)) {
                                    throw new IllegalStateException("spill of " + sp.fid() + ": " + sp.result());
                                }
                            }
                        }
                        double mibs = (double) objects * size / 1048576.0 / ((System.nanoTime() - t0) / 1e9);
                        for (Fid f : fids) {
                            PoolBenchSupport.destroy(pool, f);
                        }
                        pool.migrator().collectGarbage();
                        return mibs;
                    },
                    () -> {
                        long t0 = System.nanoTime();
                        for (int i = 0; i < objects; i++) {
                            Path p = rawDir.resolve("raw-" + i);
                            try (FileChannel ch = FileChannel.open(
                                    p,
                                    StandardOpenOption.CREATE,
                                    StandardOpenOption.WRITE,
                                    StandardOpenOption.TRUNCATE_EXISTING)) {
                                ByteBuffer b = direct.duplicate();
                                while (b.hasRemaining()) {
                                    ch.write(b);
                                }
                                ch.force(true);
                            }
                            // A new file is durable once its directory entry is: as a vfs spill copy is.
                            try (FileChannel d = FileChannel.open(rawDir, StandardOpenOption.READ)) {
                                d.force(true);
                            }
                        }
                        double mibs = (double) objects * size / 1048576.0 / ((System.nanoTime() - t0) / 1e9);
                        for (int i = 0; i < objects; i++) {
                            Files.deleteIfExists(rawDir.resolve("raw-" + i));
                        }
                        return mibs;
                    },
                    o.log());
            Map<String, Object> params = new LinkedHashMap<>();
            params.put("objects", objects);
            params.put("object_bytes", size);
            params.put("rounds", rounds);
            params.put(
                    "durability",
                    "spill: batches of " + MigrationDaemon.SPILL_BATCH
                            + " begun in one synced kv transaction, each copy made durable on vfs (journal off) before its flip; raw: force(true) per file + directory fsync");
            out.add(BenchResult.higherIsBetter(name(), "spill_mib_per_s", m.a(), m.b(), "MiB/s", ">= 0.80", params));
            out.add(latency(o, pool, direct, seq));
        } finally {
            pool.close();
        }
        return out;
    }

    /** p99 of 4 KiB reads of resident objects, daemon idle vs daemon spilling under a 64 MiB/s cap. */
    private BenchResult latency(BenchOptions o, PoolOsd pool, ByteBuffer body, int[] seq) throws Exception {
        // The daemon watches from the start, as it does in a server: it sees the hot objects' reads
        // in both phases (so both pay for the heat accounting), and runs passes only in the second.
        long bandwidth = 64L << 20;
        MigrationDaemon daemon = MigrationDaemon.attach(
                pool,
                DaemonConfig.parse(
                        Map.of(
                                "bandwidth",
                                bandwidth,
                                "min-resident-age",
                                "0s",
                                "high-watermark",
                                0.10,
                                "low-watermark",
                                0.07,
                                "interval",
                                "50ms",
                                "probation-share",
                                0),
                        pool.name()),
                InstantSource.system());
        pool.listener(daemon);
        List<Fid> hot = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            Fid f = new Fid(0x200000400L, ++seq[0], 0);
            PoolBenchSupport.put(pool, f, body.duplicate(), false);
            hot.add(f);
        }
        int samples = o.quick() ? 20_000 : 100_000;
        p99(pool, hot, samples); // warm-up: the read path's code, both caches
        double idle = p99(pool, hot, samples);
        // Fill the fast tier's cold end and let the capped daemon spill it while the reads go on. The
        // watermarks (10% / 7% of 1 GiB) leave room for the 64 MiB of hot objects: the reads measure
        // resident objects with the spill going on beside them, not reads of objects it spilled.
        List<Fid> cold = new ArrayList<>();
        for (int i = 0; i < (o.quick() ? 16 : 48); i++) {
            Fid f = new Fid(0x200000400L, ++seq[0], 0);
            PoolBenchSupport.put(pool, f, body.duplicate(), false);
            cold.add(f);
        }
        pool.sync();
        // The spiller runs passes until the fast tier is below its low watermark; the reads go on
        // meanwhile, and only those that started after the first pass began and ended before the
        // last spill finished count: every sample is taken with the spill in progress.
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong spillStart = new AtomicLong();
        AtomicLong spillEnd = new AtomicLong();
        AtomicReference<Exception> failure = new AtomicReference<>();
        Thread spiller = Thread.ofPlatform().start(() -> {
            long spilled = 0;
            spillStart.set(System.nanoTime());
            try {
                while (!stop.get()) {
                    MigrationDaemon.PassReport r = daemon.runOnce();
                    spilled += r.spilled();
                    if (spilled > 0 && r.spilled() == 0 && !r.busy()) {
                        break;
                    }
                    spillEnd.set(System.nanoTime());
                    Thread.sleep(20); // as the daemon's own thread waits between passes
                }
            } catch (Exception e) {
                failure.set(e);
            } finally {
                stop.set(true);
            }
        });
        int cap = 4_000_000;
        long[] start = new long[cap];
        long[] took = new long[cap];
        int n = 0;
        try {
            ByteBuffer b = ByteBuffer.allocateDirect(4096);
            Random r = new Random(11);
            while (!stop.get() && n < cap) {
                Fid f = hot.get(n % hot.size());
                long off = (long) r.nextInt((8 << 20) / 4096) * 4096;
                b.clear();
                long t0 = System.nanoTime();
                pool.read(f, off, b);
                start[n] = t0;
                took[n++] = System.nanoTime() - t0;
            }
        } finally {
            stop.set(true);
            spiller.join();
            daemon.close();
        }
        if (failure.get() != null) {
            throw new IllegalStateException("the daemon failed during the measurement", failure.get());
        }
        long from = spillStart.get();
        long to = spillEnd.get();
        long[] during = new long[n];
        int m = 0;
        for (int k = 0; k < n; k++) {
            if (start[k] >= from && start[k] + took[k] <= to) {
                during[m++] = took[k];
            }
        }
        Map<String, Long> moves = daemon.status().moves();
        if (moves.getOrDefault("spill/DONE", 0L) == 0 || m < 1000) {
            throw new IllegalStateException(
                    "only " + m + " reads overlapped the spill (" + moves + "): no measurement");
        }
        double p99During = p99Of(Arrays.copyOf(during, m));
        long hotSpilled = 0;
        for (Fid f : hot) {
            if (!pool.requireObject(f).resident(0)) {
                hotSpilled++;
            }
        }
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("read_bytes", 4096);
        params.put("hot_objects_spilled", hotSpilled);
        params.put("samples_idle", samples);
        params.put("samples_during", m);
        params.put("spill_seconds", Math.round((to - from) / 1e7) / 100.0);
        params.put("daemon_bandwidth_bytes_per_s", bandwidth);
        params.put("spilled_during", daemon.status().moves());
        return BenchResult.lowerIsBetter(
                name(), "foreground_read_p99_us_during_spill", p99During, idle, "us", ">= 0.5", params);
    }

    private static double p99(PoolOsd pool, List<Fid> fids, int samples) throws Exception {
        long[] t = new long[samples];
        ByteBuffer b = ByteBuffer.allocateDirect(4096);
        Random r = new Random(7);
        for (int i = 0; i < samples; i++) {
            Fid f = fids.get(i % fids.size());
            long off = (long) r.nextInt((8 << 20) / 4096) * 4096;
            b.clear();
            long t0 = System.nanoTime();
            pool.read(f, off, b);
            t[i] = System.nanoTime() - t0;
        }
        return p99Of(t);
    }

    private static double p99Of(long[] nanos) {
        Arrays.sort(nanos);
        return nanos[(int) (nanos.length * 0.99)] / 1000.0;
    }
}
