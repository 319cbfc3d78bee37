package dev.spillway.bench.kv;

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
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * kv-small: 16 writers each creating 4 KiB objects, one durable transaction per object
 * (create + write + sync commit), on osd-kv — against raw RocksDB on the same filesystem with
 * the same batching: one WriteBatch per object holding what osd-kv's commit holds (attribute
 * record, one 4 KiB body block, the counters), written with a synced WAL by the same 16
 * threads (so RocksDB group-commits them as it would ours). Goal: ratio >= 0.70.
 */
public final class KvSmallBenchmark implements Benchmark {
    private static final int WRITERS = 16;
    private static final int SIZE = 4096;

    @Override
    public String name() {
        return "kv-small";
    }

    @Override
    public String description() {
        return "osd-kv 4 KiB create+write+durable commit, 16 writers, vs raw RocksDB synced WriteBatch (goal >= 0.70)";
    }

    @Override
    public List<BenchResult> run(BenchOptions o) throws Exception {
        int perSample = o.quick() ? 12_000 : 40_000;
        int rounds = o.quick() ? 4 : 7;
        byte[] body = new byte[SIZE];
        new Random(42).nextBytes(body);
        AtomicInteger sample = new AtomicInteger();
        try (Osd osd = Osds.open(OsdConfig.of(
                        "kv-small",
                        "kv",
                        Map.of("path", o.workDir().resolve("osd-kv").toString())));
                RawRocks raw = new RawRocks(o.workDir().resolve("raw-rocksdb"))) {
            AbRunner.Medians m = AbRunner.alternate(
                    1,
                    rounds,
                    () -> rate(
                            perSample,
                            (w, i) -> {
                                Fid f = new Fid(0x200000400L + sample.get(), w * 1_000_000 + i, 0);
                                try (Transaction t = osd.newTransaction()) {
                                    t.declareCreate(f, ObjectKind.DATA);
                                    t.declareWrite(f, 0, SIZE);
                                    t.setSync(true);
                                    t.start();
                                    t.create(f, ObjectKind.DATA, AttrChange.none());
                                    t.write(f, 0, ByteBuffer.wrap(body));
                                }
                            },
                            sample),
                    () -> rate(perSample, (w, i) -> raw.put(sample.get(), w, i, body), sample),
                    o.log());
            Map<String, Object> params = new LinkedHashMap<>();
            params.put("writers", WRITERS);
            params.put("object_bytes", SIZE);
            params.put("objects_per_sample", perSample);
            params.put("rounds", rounds);
            params.put("durability", "each transaction durable (sync commit) / synced WAL per WriteBatch");
            params.put("filesystem", o.workDir().toString());
            return List.of(BenchResult.higherIsBetter(
                    name(), "durable_creates_per_s", m.a(), m.b(), "ops/s", ">= 0.70", params));
        }
    }

    @FunctionalInterface
    interface Op {
        void run(int writer, int i) throws Exception;
    }

    /** Runs {@code total} ops over 16 writers; returns ops per second. */
    static double rate(int total, Op op, AtomicInteger sample) throws Exception {
        sample.incrementAndGet();
        int each = total / WRITERS;
        CountDownLatch go = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> ts = new ArrayList<>();
        for (int w = 0; w < WRITERS; w++) {
            int writer = w;
            ts.add(Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                    for (int i = 0; i < each; i++) {
                        op.run(writer, i);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        long t0 = System.nanoTime();
        go.countDown();
        for (Thread t : ts) {
            t.join();
        }
        long ns = System.nanoTime() - t0;
        if (failure.get() != null) {
            throw new IllegalStateException("a writer failed", failure.get());
        }
        return each * (double) WRITERS / (ns / 1e9);
    }

    /** The baseline: a RocksDB with the same two column families, written as osd-kv writes. */
    static final class RawRocks implements AutoCloseable {
        private final DBOptions dbo = new DBOptions()
                .setCreateIfMissing(true)
                .setCreateMissingColumnFamilies(true)
                .setMaxBackgroundJobs(2)
                .setBytesPerSync(1 << 20);
        private final ColumnFamilyOptions metaOpts = new ColumnFamilyOptions().setWriteBufferSize(32L << 20);
        private final ColumnFamilyOptions bodyOpts = new ColumnFamilyOptions().setWriteBufferSize(64L << 20);
        private final List<ColumnFamilyHandle> handles = new ArrayList<>();
        private final RocksDB db;
        private final WriteOptions sync = new WriteOptions().setSync(true);
        private final byte[] attr = new byte[101];
        private final byte[] counters = new byte[16];

        RawRocks(Path dir) throws Exception {
            RocksDB.loadLibrary();
            Files.createDirectories(dir);
            db = RocksDB.open(
                    dbo,
                    dir.toString(),
                    List.of(
                            new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, metaOpts),
                            new ColumnFamilyDescriptor("body".getBytes(), bodyOpts)),
                    handles);
        }

        void put(int sample, int writer, int i, byte[] body) throws Exception {
            byte[] fid = ByteBuffer.allocate(16)
                    .putLong(0x200000400L + sample)
                    .putInt(writer * 1_000_000 + i)
                    .putInt(0)
                    .array();
            try (WriteBatch b = new WriteBatch()) {
                b.put(
                        handles.get(0),
                        ByteBuffer.allocate(18)
                                .put((byte) 'O')
                                .put(fid)
                                .put((byte) 'A')
                                .array(),
                        attr);
                b.put(
                        handles.get(1),
                        ByteBuffer.allocate(24).put(fid).putLong(0).array(),
                        body);
                b.put(handles.get(0), new byte[] {'C'}, counters);
                db.write(sync, b);
            }
        }

        @Override
        public void close() {
            sync.close();
            handles.forEach(ColumnFamilyHandle::close);
            db.close();
            dbo.close();
            metaOpts.close();
            bodyOpts.close();
        }
    }
}
