package dev.spillway.bench.pool;

import dev.spillway.bench.AbRunner;
import dev.spillway.bench.BenchOptions;
import dev.spillway.bench.BenchResult;
import dev.spillway.bench.Benchmark;
import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.WriteCommitHint;
import dev.spillway.osd.XattrFlag;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.PoolObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code write-commit}: what acknowledging a write only once two copies are durable costs. New
 * objects of 64 MiB (one writer), then of 4 KiB (one writer, then eight side by side) are written
 * into a kv (metadata) + vfs (journal off) pool with {@code replicas: 2}:
 * <ul>
 * <li><b>sync 2</b> — the pool's {@code write-commit: sync 2}: the client's transaction (the body
 *     on kv, the pending copy) committed, then kv forced while the copy is written to vfs and made
 *     durable (file and folder), side by side; the flip committed unforced; all before {@code stop}
 *     returns. kv runs with {@code commit-delay: 5ms}, so an unforced flip rides on the next
 *     write's force instead of a WAL sync of its own (with the default 0 kv's sync thread forces
 *     every commit at once, and each write pays a second WAL sync in sequence); forced commits —
 *     async's, the top transactions' forces — never wait for the delay;</li>
 * <li><b>async</b> — the same objects with the xattr {@code spillway.write-commit: async} and a
 *     durable commit ({@code setSync(true)}): one durable copy, the other left to the daemon;</li>
 * <li><b>raw</b> — the baseline: the same body written and forced to two new files side by side
 *     (one thread each: one in the fast device's folder, one in the spill device's), each with its
 *     folder fsync (a new file is durable once its name is), both done before the next.</li>
 * </ul>
 * Goal: sync 2 >= 0.80 x raw, for each size. The three run in rotated rounds; medians.
 * {@code --fast-dir PATH} puts the fast device (and the first raw file) on another filesystem;
 * {@code --only 4KiB} (or {@code 64MiB}, {@code 4KiB_8_writers}, comma-separated) runs only those.
 */
public final class WriteCommitBench implements Benchmark {
    @Override
    public String name() {
        return "write-commit";
    }

    @Override
    public String description() {
        return "sync 2 writes (kv + vfs, 64 MiB and 4 KiB) vs async vs raw write+force of two files in parallel"
                + " (goal sync 2 >= 0.80 raw)";
    }

    @Override
    public List<BenchResult> run(BenchOptions o) throws Exception {
        Path dir = o.workDir().resolve("write-commit");
        Path fastDir = Path.of(o.option("--fast-dir", dir.toString())).resolve("write-commit-fast");
        PoolOsd pool = PoolBenchSupport.mount(
                PoolConfigParser.parse("""
                        name: wcbench
                        replicas: 2
                        write-commit: sync 2
                        devices:
                          - {name: fast, backend: kv, roles: [metadata, foreground, promote], settings: {path: %s, commit-delay: 5ms}}
                          - {name: slow, backend: vfs, roles: [background], settings: {path: %s, journal: "off"}}
                        """.formatted(fastDir.resolve("fast"), dir.resolve("slow")), "wcbench"),
                PoolOsd.MountMode.RECOVER);
        Path rawA = Files.createDirectories(fastDir.resolve("raw-a"));
        Path rawB = Files.createDirectories(dir.resolve("raw-b"));
        ExecutorService threads = Executors.newCachedThreadPool();
        List<BenchResult> out = new ArrayList<>();
        try {
            Run run = new Run(o, pool, threads, rawA, rawB);
            int rounds = o.quick() ? 3 : 5;
            // --only LABEL[,LABEL] runs some of the three (a profile of one path).
            List<String> only =
                    List.of(o.option("--only", "64MiB,4KiB,4KiB_8_writers").split(","));
            if (only.contains("64MiB")) {
                out.add(run.measure("64MiB", 64 << 20, o.quick() ? 2 : 4, rounds, "MiB/s", 1));
            }
            if (only.contains("4KiB")) {
                out.add(run.measure("4KiB", 4096, o.quick() ? 150 : 600, rounds, "ops/s", 1));
            }
            // Writers side by side share the forced commits (kv's group commit): what a busy
            // gateway sees. The raw baseline runs as many writers, each with its pair of files.
            if (only.contains("4KiB_8_writers")) {
                out.add(run.measure("4KiB_8_writers", 4096, o.quick() ? 400 : 1600, rounds, "ops/s", 8));
            }
        } finally {
            threads.shutdownNow();
            pool.close();
        }
        return out;
    }

    /** One run's pool, raw folders and threads. */
    private final class Run {
        private final BenchOptions o;
        private final PoolOsd pool;
        private final ExecutorService threads;
        private final Path rawA;
        private final Path rawB;
        private final AtomicInteger seq = new AtomicInteger();

        Run(BenchOptions o, PoolOsd pool, ExecutorService threads, Path rawA, Path rawB) {
            this.o = o;
            this.pool = pool;
            this.threads = threads;
            this.rawA = rawA;
            this.rawB = rawB;
        }

        /** Runs {@code count} writes {@code w(i)} on {@code writers} threads; returns the seconds taken. */
        private double parallel(int count, int writers, IntTask w) throws Exception {
            long t0 = System.nanoTime();
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < writers; t++) {
                int first = t;
                fs.add(threads.submit(() -> {
                    for (int i = first; i < count; i += writers) {
                        w.run(i);
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
            return (System.nanoTime() - t0) / 1e9;
        }

        BenchResult measure(String label, int size, int count, int rounds, String unit, int writers) throws Exception {
            byte[] b = new byte[size];
            new Random(size).nextBytes(b);
            ByteBuffer body = ByteBuffer.allocateDirect(size);
            body.put(b).flip();
            // A sample: `count` writes by one writer, in MiB/s (64 MiB) or writes/s (4 KiB).
            double per = unit.equals("MiB/s") ? size / 1048576.0 : 1;
            o.log()
                    .printf(
                            "write-commit %s: %d writes per sample by %d writer(s), %d rounds%n",
                            label, count, writers, rounds);
            List<Double> m = AbRunner.rotate(
                    1,
                    rounds,
                    List.of("sync2", "async", "raw"),
                    List.of(
                            () -> pool(body, count, per, true, writers),
                            () -> pool(body, count, per, false, writers),
                            () -> raw(body, count, per, writers)),
                    o.log());
            double sync = m.get(0);
            double async = m.get(1);
            double raw = m.get(2);
            Map<String, Object> params = new LinkedHashMap<>();
            params.put("write_bytes", size);
            params.put("writes_per_sample", count);
            params.put("writers", writers);
            params.put("rounds", rounds);
            params.put("async", round(async));
            params.put("async_vs_raw", round(async / raw));
            params.put("sync2_vs_async", round(sync / async));
            params.put("durable_copies_per_sync_write", 2);
            params.put(
                    "durability",
                    "sync 2: kv force and vfs copy fsync (+ folder) side by side, flip unforced, before stop returns;"
                            + " async: one kv copy, forced; raw: write + force + folder fsync of two new files,"
                            + " one thread each, in parallel");
            params.put("devices", "kv (commit-delay 5ms) + vfs (journal off); raw files beside each");
            return BenchResult.higherIsBetter(
                    name(),
                    "sync2_" + label + "_" + (unit.equals("MiB/s") ? "mib" : "ops") + "_per_s",
                    sync,
                    raw,
                    unit,
                    ">= 0.80",
                    params);
        }

        /**
         * {@code count} new objects written under sync 2 (the pool's policy) or async (the xattr);
         * every sync write is checked to have been acknowledged with its two in-sync copies.
         */
        double pool(ByteBuffer body, int count, double per, boolean sync, int writers) throws Exception {
            Fid[] fids = new Fid[count];
            byte[] async = "async".getBytes(StandardCharsets.US_ASCII);
            double seconds = parallel(count, writers, i -> {
                Fid f = new Fid(0x200000400L, seq.incrementAndGet(), 0);
                ByteBuffer src = body.duplicate();
                try (Transaction tx = pool.newTransaction()) {
                    tx.declareCreate(f, ObjectKind.DATA);
                    tx.declareWrite(f, 0, src.remaining());
                    if (!sync) {
                        tx.declareSetXattr(f, WriteCommitHint.XATTR, async.length);
                    }
                    tx.setSync(true);
                    tx.start();
                    tx.create(f, ObjectKind.DATA, AttrChange.none());
                    if (!sync) {
                        tx.setXattr(f, WriteCommitHint.XATTR, async, XattrFlag.UPSERT);
                    }
                    tx.write(f, 0, src);
                }
                fids[i] = f;
            });
            for (Fid f : fids) {
                PoolObject p = pool.requireObject(f);
                long copies = p.copies().stream()
                        .filter(c -> c.state() == CopyState.IN_SYNC && c.version() == p.dataVersion())
                        .count();
                if (copies != (sync ? 2 : 1)) {
                    throw new IllegalStateException((sync ? "a sync 2" : "an async") + " write of " + f
                            + " was acknowledged with " + copies + " in-sync copies");
                }
            }
            for (Fid f : fids) {
                PoolBenchSupport.destroy(pool, f);
            }
            pool.migrator().collectGarbage();
            return count * per / seconds;
        }

        /** {@code count} bodies, each written and forced to two new files in parallel (the second on its own thread). */
        double raw(ByteBuffer body, int count, double per, int writers) throws Exception {
            double seconds = parallel(count, writers, i -> {
                String n = "raw-" + i;
                Future<?> b = threads.submit(() -> writeForced(rawB, n, body.duplicate()));
                writeForced(rawA, n, body.duplicate());
                b.get();
            });
            for (int i = 0; i < count; i++) {
                Files.deleteIfExists(rawA.resolve("raw-" + i));
                Files.deleteIfExists(rawB.resolve("raw-" + i));
            }
            return count * per / seconds;
        }
    }

    /** One write of a sample. */
    @FunctionalInterface
    private interface IntTask {
        void run(int i) throws Exception;
    }

    private static Void writeForced(Path dir, String name, ByteBuffer b) throws IOException {
        try (FileChannel ch = FileChannel.open(
                dir.resolve(name),
                StandardOpenOption.CREATE,
                StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
        return null;
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
