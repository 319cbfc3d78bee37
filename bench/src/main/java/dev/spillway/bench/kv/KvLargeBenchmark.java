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
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * kv-large: one 64 MiB object written in 1 MiB calls and committed durably (sync), then read
 * back in 1 MiB calls, on osd-kv — against raw {@code FileChannel} write + {@code force} and
 * read of a file on the same filesystem, same buffers. Goal: ratio >= 0.90 both ways.
 */
public final class KvLargeBenchmark implements Benchmark {
    static final int CHUNK = 1 << 20;

    /** Measured passes over the object per read sample, after one unmeasured pass. */
    private static final int READ_PASSES = 5;

    @Override
    public String name() {
        return "kv-large";
    }

    @Override
    public String description() {
        return "osd-kv 64 MiB object write+durable commit and read vs raw FileChannel write+force and read (goal >= 0.90)";
    }

    @Override
    public List<BenchResult> run(BenchOptions o) throws Exception {
        long size = (o.quick() ? 32L : 64L) << 20;
        int rounds = o.quick() ? 3 : 7;
        ByteBuffer chunk = ByteBuffer.allocateDirect(CHUNK);
        byte[] rnd = new byte[CHUNK];
        new Random(7).nextBytes(rnd);
        chunk.put(rnd).flip();
        ByteBuffer readBuf = ByteBuffer.allocateDirect(CHUNK);
        AtomicInteger n = new AtomicInteger();
        Path rawDir = Files.createDirectories(o.workDir().resolve("raw-files"));
        // Reads are timed in the same alternating rounds as the writes (after each write).
        List<Double> readA = new ArrayList<>();
        List<Double> readB = new ArrayList<>();
        try (Osd osd = Osds.open(OsdConfig.of(
                "kv-large", "kv", Map.of("path", o.workDir().resolve("osd-kv").toString())))) {
            AbRunner.Medians w = AbRunner.alternate(
                    1,
                    rounds,
                    () -> {
                        Fid f = Fid.of(0x200000400L, n.incrementAndGet());
                        long t0 = System.nanoTime();
                        try (Transaction t = osd.newTransaction()) {
                            t.declareCreate(f, ObjectKind.DATA);
                            t.declareWrite(f, 0, size);
                            t.setSync(true);
                            t.start();
                            t.create(f, ObjectKind.DATA, AttrChange.none());
                            for (long off = 0; off < size; off += CHUNK) {
                                t.write(f, off, chunk.duplicate());
                            }
                        }
                        double wr = mibPerS(size, System.nanoTime() - t0);
                        readA.add(AbRunner.steady(READ_PASSES, () -> {
                            long t1 = System.nanoTime();
                            for (long off = 0; off < size; ) {
                                readBuf.clear();
                                off += osd.read(f, off, readBuf);
                            }
                            return mibPerS(size, System.nanoTime() - t1);
                        }));
                        try (Transaction t = osd.newTransaction()) {
                            t.declareDestroy(f);
                            t.start();
                            t.destroy(f);
                        }
                        osd.sync();
                        return wr;
                    },
                    () -> {
                        Path p = rawDir.resolve("obj-" + n.incrementAndGet());
                        long t0 = System.nanoTime();
                        try (FileChannel ch =
                                FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                            for (long off = 0; off < size; off += CHUNK) {
                                ByteBuffer b = chunk.duplicate();
                                while (b.hasRemaining()) {
                                    ch.write(b, off + b.position());
                                }
                            }
                            ch.force(true);
                        }
                        double wr = mibPerS(size, System.nanoTime() - t0);
                        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
                            readB.add(AbRunner.steady(READ_PASSES, () -> {
                                long t1 = System.nanoTime();
                                for (long off = 0; off < size; ) {
                                    readBuf.clear();
                                    off += ch.read(readBuf, off);
                                }
                                return mibPerS(size, System.nanoTime() - t1);
                            }));
                        }
                        Files.delete(p);
                        return wr;
                    },
                    o.log());
            // The first sample of each is the warm-up's.
            double ra = AbRunner.median(readA.subList(1, readA.size()));
            double rb = AbRunner.median(readB.subList(1, readB.size()));
            Map<String, Object> params = new LinkedHashMap<>();
            params.put("object_bytes", size);
            params.put("io_bytes", CHUNK);
            params.put("rounds", rounds);
            params.put(
                    "durability",
                    "sync commit (extent file fdatasync, folder fsync only without a spare file, WAL sync) / FileChannel.force(true)");
            params.put(
                    "read_cache",
                    "page cache warm for both; a read sample is the median of " + READ_PASSES
                            + " passes after one unmeasured pass (steady state on both sides)");
            params.put("filesystem", o.workDir().toString());
            return List.of(
                    BenchResult.higherIsBetter(
                            name(), "write_durable_MiB_per_s", w.a(), w.b(), "MiB/s", ">= 0.90", params),
                    BenchResult.higherIsBetter(name(), "read_MiB_per_s", ra, rb, "MiB/s", ">= 0.90", params));
        }
    }

    static double mibPerS(long bytes, long ns) {
        return bytes / (double) (1 << 20) / (ns / 1e9);
    }
}
