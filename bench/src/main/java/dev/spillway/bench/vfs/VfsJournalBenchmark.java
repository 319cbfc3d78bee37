package dev.spillway.bench.vfs;

import dev.spillway.bench.AbRunner;
import dev.spillway.bench.BenchOptions;
import dev.spillway.bench.BenchResult;
import dev.spillway.bench.Benchmark;
import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.spi.Osds;
import dev.spillway.osd.vfs.VfsOsd;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@code vfs-journal}: small two-object transactions with durable commit from 16 writers —
 * osd-vfs in journal mode (group commit: one log fsync covers many transactions) against the
 * same writes done the way a device without a journal must, one fsync per written file. The
 * ratio is transactions per second, journal over fsync-each; group commit should win (> 1).
 */
public final class VfsJournalBenchmark implements Benchmark {
    private static final int WRITERS = 16;
    private static final int IO = 4096;
    private static final int SLOTS = 256;

    @Override
    public String name() {
        return "vfs-journal";
    }

    @Override
    public String description() {
        return "4 KiB two-object durable transactions, 16 writers: journal (group commit) vs an fsync per write; goal > 1";
    }

    @Override
    public List<BenchResult> run(BenchOptions o) throws Exception {
        int perWriter = o.quick() ? 400 : 1500;
        int rounds = o.quick() ? 5 : 9;
        int warmups = 3;
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("path", o.workDir().resolve("vfs").toString());
        s.put("journal", "on");
        Path raw = Files.createDirectories(o.workDir().resolve("raw"));
        ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
        try (Osd osd = Osds.open(OsdConfig.of("bench-journal", "vfs", s))) {
            List<Fid[]> objs = new ArrayList<>();
            List<Path[]> files = new ArrayList<>();
            for (int w = 0; w < WRITERS; w++) {
                Fid a = Fid.of(0xa00000000L + w, 1);
                Fid b = Fid.of(0xa00000000L + w, 2);
                try (Transaction t = osd.newTransaction()) {
                    t.declareCreate(a, ObjectKind.DATA);
                    t.declareCreate(b, ObjectKind.DATA);
                    t.start();
                    t.create(a, ObjectKind.DATA, AttrChange.none());
                    t.create(b, ObjectKind.DATA, AttrChange.none());
                }
                objs.add(new Fid[] {a, b});
                Path fa = raw.resolve("w" + w + "a");
                Path fb = raw.resolve("w" + w + "b");
                Files.write(fa, new byte[0]);
                Files.write(fb, new byte[0]);
                files.add(new Path[] {fa, fb});
            }
            try (FileChannel d = FileChannel.open(raw, StandardOpenOption.READ)) {
                d.force(true);
            }
            long[] before = ((VfsOsd) osd).journalStats();
            o.log()
                    .printf(
                            "vfs-journal: %d writers x %d transactions of 2 x %d bytes, %d rounds%n",
                            WRITERS, perWriter, IO, rounds);
            AbRunner.Medians m = AbRunner.alternate(
                    warmups,
                    rounds,
                    () -> run(pool, perWriter, w -> journal(osd, objs.get(w), perWriter)),
                    () -> run(pool, perWriter, w -> fsyncEach(files.get(w), perWriter)),
                    o.log());
            long[] after = ((VfsOsd) osd).journalStats();
            double perFsync = (double) (after[0] - before[0]) / Math.max(1, after[1] - before[1]);
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("writers", WRITERS);
            p.put("transactions_per_writer", perWriter);
            p.put("objects_per_transaction", 2);
            p.put("bytes_per_object_write", IO);
            p.put("rounds", rounds);
            p.put("warmups", warmups);
            p.put("durability", "journal: stop returns after the log fsync (durable commit)");
            p.put("baseline", "FileChannel write + force of each of the 2 files, no journal, same filesystem");
            p.put("transactions_per_log_fsync", Math.round(perFsync * 10) / 10.0);
            p.put("filesystem", Files.getFileStore(raw).type());
            return List.of(BenchResult.higherIsBetter(name(), "durable_tx_per_s", m.a(), m.b(), "tx/s", "> 1.0", p));
        } finally {
            pool.shutdownNow();
        }
    }

    @FunctionalInterface
    private interface Writer {
        void run(int writer) throws Exception;
    }

    /** All writers at once; returns transactions per second. */
    private static double run(ExecutorService pool, int perWriter, Writer body) throws Exception {
        List<Callable<Void>> tasks = new ArrayList<>();
        for (int w = 0; w < WRITERS; w++) {
            int writer = w;
            tasks.add(() -> {
                body.run(writer);
                return null;
            });
        }
        long t0 = System.nanoTime();
        for (Future<Void> f : pool.invokeAll(tasks)) {
            f.get();
        }
        return (double) WRITERS * perWriter / ((System.nanoTime() - t0) / 1e9);
    }

    private static void journal(Osd osd, Fid[] ab, int n) throws Exception {
        ByteBuffer page = ByteBuffer.allocate(IO);
        for (int i = 0; i < n; i++) {
            long off = (long) (i % SLOTS) * IO;
            try (Transaction t = osd.newTransaction()) {
                t.declareWrite(ab[0], off, IO);
                t.declareWrite(ab[1], off, IO);
                t.start();
                page.putInt(0, i);
                t.write(ab[0], off, page.duplicate().clear());
                t.write(ab[1], off, page.duplicate().clear());
            }
        }
    }

    private static void fsyncEach(Path[] ab, int n) throws Exception {
        ByteBuffer page = ByteBuffer.allocate(IO);
        try (FileChannel a = FileChannel.open(ab[0], StandardOpenOption.WRITE);
                FileChannel b = FileChannel.open(ab[1], StandardOpenOption.WRITE)) {
            for (int i = 0; i < n; i++) {
                long off = (long) (i % SLOTS) * IO;
                page.putInt(0, i);
                a.write(page.duplicate().clear(), off);
                a.force(false);
                b.write(page.duplicate().clear(), off);
                b.force(false);
            }
        }
    }
}
