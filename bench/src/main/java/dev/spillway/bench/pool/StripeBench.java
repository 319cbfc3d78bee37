package dev.spillway.bench.pool;

import dev.spillway.bench.AbRunner;
import dev.spillway.bench.BenchOptions;
import dev.spillway.bench.BenchResult;
import dev.spillway.bench.Benchmark;
import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Transaction;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.ops.MoveResult;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@code stripe} (issue 20): spill and read back of one large object (1 GiB; 128 MiB with
 * {@code --quick}) from a kv fast device to 1, 2 and 4 vfs spill devices in one folder each (a
 * whole copy; RAID0 copies of 2 and 4 stripes of 4 MiB), against the physical limit of the same
 * disk measured in the same run: the same bytes written (each file forced, its folder fsynced) and
 * read back by 1, 2 and 4 threads in parallel, one file and one folder each. The six contenders run
 * in rotation (A B C …, B C … A, …) after a warm-up round. Each line reports a spill or read figure
 * against the raw figure of the same parallelism (goal >= 0.80) and, in its params, the speed-up
 * over the one-device figure next to the raw speed-up, which is what striping can win on this disk.
 * Reads come from the page cache on both sides (the object was just written).
 */
public final class StripeBench implements Benchmark {
    private static final int UNIT = 4 << 20;
    private static final int[] DEVICES = {1, 2, 4};

    @Override
    public String name() {
        return "stripe";
    }

    @Override
    public String description() {
        return "spill and read of a 1 GiB object over 1, 2 and 4 striped vfs devices vs raw parallel writes/reads"
                + " of the same bytes (goal >= 0.80 each); speed-up over 1 device beside the raw speed-up";
    }

    /** fast (kv); one (vfs, a whole copy); a0..a1 (2 stripes); b0..b3 (4 stripes): device indexes 1, 2, 4. */
    static PoolConfig config(Path dir) throws Exception {
        StringBuilder y = new StringBuilder("name: stripebench\ndevices:\n");
        y.append("  - {name: fast, backend: kv, roles: [metadata, foreground, promote], settings: {path: ")
                .append(dir.resolve("fast"))
                .append("}}\n");
        for (String d : List.of("one", "a0", "a1", "b0", "b1", "b2", "b3")) {
            y.append("  - {name: ")
                    .append(d)
                    .append(", backend: vfs, roles: [background], settings: {path: ")
                    .append(dir.resolve(d))
                    .append(", journal: \"off\"}}\n");
        }
        y.append("striping:\n");
        y.append("  - {devices: [a0, a1], stripe-count: 2, stripe-size: 4MiB}\n");
        y.append("  - {devices: [b0, b1, b2, b3], stripe-count: 4, stripe-size: 4MiB}\n");
        return PoolConfigParser.parse(y.toString(), "stripe bench");
    }

    @Override
    public List<BenchResult> run(BenchOptions o) throws Exception {
        long size = o.quick() ? 128L << 20 : 1L << 30;
        int rounds = o.quick() ? 2 : 3;
        int buffer = 16 << 20; // a row of 4 stripes of 4 MiB: one read call spans every stripe
        ByteBuffer chunk = ByteBuffer.allocateDirect(buffer);
        byte[] rnd = new byte[buffer];
        new Random(1).nextBytes(rnd);
        chunk.put(rnd).flip();
        Path dir = o.workDir().resolve("pool");
        PoolOsd pool = PoolOsd.mount(config(dir), InstantSource.system(), PoolOsd.MountMode.RECOVER);
        int[] target = {1, 2, 4}; // the devices named one, a0, b0
        int[] seq = {0};
        List<String> names = new ArrayList<>();
        List<Callable<double[]>> contenders = new ArrayList<>();
        for (int k = 0; k < DEVICES.length; k++) {
            int n = DEVICES[k];
            int t = target[k];
            names.add("spill" + n);
            contenders.add(() -> poolPass(pool, t, n, size, chunk, buffer, ++seq[0]));
        }
        for (int n : DEVICES) {
            Path raw = Files.createDirectories(dir.resolve("raw" + n));
            names.add("raw" + n);
            contenders.add(() -> rawPass(raw, n, size, chunk, buffer));
        }
        List<List<double[]>> samples = new ArrayList<>();
        contenders.forEach(c -> samples.add(new ArrayList<>()));
        try {
            for (Callable<double[]> c : contenders) {
                c.call(); // warm-up: code paths, file creation, the first RocksDB compaction
            }
            for (int i = 0; i < rounds; i++) {
                StringBuilder line = new StringBuilder("  round " + (i + 1) + ":");
                for (int j = 0; j < contenders.size(); j++) {
                    int k = (i + j) % contenders.size();
                    double[] v = contenders.get(k).call();
                    samples.get(k).add(v);
                    line.append(String.format(" %s %.0f/%.0f", names.get(k), v[0], v[1]));
                }
                o.log().println(line + " (write/read MiB/s)");
            }
        } finally {
            pool.close();
        }
        double[][] med = new double[contenders.size()][2];
        for (int k = 0; k < contenders.size(); k++) {
            for (int m = 0; m < 2; m++) {
                int mm = m;
                med[k][m] =
                        AbRunner.median(samples.get(k).stream().map(v -> v[mm]).toList());
            }
        }
        List<BenchResult> out = new ArrayList<>();
        String[] what = {"spill", "read"};
        for (int m = 0; m < 2; m++) {
            for (int k = 0; k < DEVICES.length; k++) {
                int n = DEVICES[k];
                double spill = med[k][m];
                double raw = med[DEVICES.length + k][m];
                Map<String, Object> params = new LinkedHashMap<>();
                params.put("object_bytes", size);
                params.put("devices", n);
                params.put("stripe_bytes", n == 1 ? 0 : UNIT);
                params.put("rounds", rounds);
                params.put("speedup_vs_1_device", round(spill / med[0][m]));
                params.put("raw_speedup_vs_1_stream", round(raw / med[DEVICES.length][m]));
                params.put(
                        "baseline",
                        m == 0
                                ? n + " thread(s) each writing " + (size / n >> 20)
                                        + " MiB to its own file in its own folder, force(true) + folder fsync"
                                : n + " thread(s) each reading its file back, " + (buffer / n >> 20) + " MiB reads");
                params.put(
                        "spillway",
                        m == 0
                                ? (n == 1 ? "a whole copy" : n + " stripes of 4 MiB, written side by side")
                                        + " from kv to vfs (journal off), made durable, flipped, body released"
                                : "pool reads of the spilled object, " + (buffer >> 20)
                                        + " MiB a call, verified by CRC32C");
                params.put("page_cache", m == 0 ? "written through" : "both read from the page cache");
                out.add(BenchResult.higherIsBetter(
                        name(), what[m] + "_mib_per_s_" + n + "dev", spill, raw, "MiB/s", ">= 0.80", params));
            }
        }
        return out;
    }

    private static double round(double d) {
        return Math.round(d * 100.0) / 100.0;
    }

    /** Writes the object, spills it to device {@code target} (timed), reads it back (timed), deletes it. */
    private static double[] poolPass(
            PoolOsd pool, int target, int devices, long size, ByteBuffer chunk, int buffer, int id) throws Exception {
        Fid f = new Fid(0x200000400L, id, 0);
        try (Transaction tx = pool.newTransaction()) {
            tx.declareCreate(f, ObjectKind.DATA);
            tx.declareWrite(f, 0, size);
            tx.start();
            tx.create(f, ObjectKind.DATA, AttrChange.none());
            for (long off = 0; off < size; off += buffer) {
                tx.write(f, off, chunk.duplicate().limit((int) Math.min(buffer, size - off)));
            }
        }
        pool.sync();
        long t0 = System.nanoTime();
        MoveResult r = pool.migrator().spill(f, pool.device(target));
        double write = size / 1048576.0 / ((System.nanoTime() - t0) / 1e9);
        Copy copy = pool.requireObject(f).inSync().get(0);
        if (!(r instanceof MoveResult.Done) || (devices > 1) != copy.striped()) {
            throw new IllegalStateException("spill of " + f + " to device " + target + ": " + r);
        }
        ByteBuffer b = ByteBuffer.allocateDirect(buffer);
        long t1 = System.nanoTime();
        for (long off = 0; off < size; ) {
            b.clear();
            int n = pool.read(f, off, b);
            if (n <= 0) {
                throw new IllegalStateException("read of " + f + " ended at " + off);
            }
            off += n;
        }
        double read = size / 1048576.0 / ((System.nanoTime() - t1) / 1e9);
        PoolBenchSupport.destroy(pool, f);
        pool.migrator().collectGarbage();
        return new double[] {write, read};
    }

    /** {@code n} threads each write {@code size / n} bytes to a file of their own folder (forced), then read them. */
    private static double[] rawPass(Path dir, int n, long size, ByteBuffer chunk, int buffer) throws Exception {
        long each = size / n;
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            files.add(Files.createDirectories(dir.resolve("d" + i)).resolve("f"));
        }
        double write = parallel(n, i -> {
            try (FileChannel ch = FileChannel.open(
                    files.get(i),
                    StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                for (long off = 0; off < each; ) {
                    ByteBuffer b = chunk.duplicate().limit((int) Math.min(buffer / n, each - off));
                    off += ch.write(b, off);
                }
                ch.force(true);
            }
            try (FileChannel d = FileChannel.open(files.get(i).getParent(), StandardOpenOption.READ)) {
                d.force(true);
            }
        });
        double read = parallel(n, i -> {
            ByteBuffer b = ByteBuffer.allocateDirect(buffer / n);
            try (FileChannel ch = FileChannel.open(files.get(i), StandardOpenOption.READ)) {
                for (long off = 0; off < each; ) {
                    b.clear();
                    int got = ch.read(b, off);
                    if (got <= 0) {
                        throw new IllegalStateException(files.get(i) + " ends at " + off);
                    }
                    off += got;
                }
            }
        });
        for (Path p : files) {
            Files.deleteIfExists(p);
        }
        return new double[] {size / 1048576.0 / write, size / 1048576.0 / read};
    }

    @FunctionalInterface
    private interface Stream {
        void run(int i) throws Exception;
    }

    /** Runs {@code n} streams on platform threads side by side; returns the seconds they took. */
    private static double parallel(int n, Stream s) throws Exception {
        long t0 = System.nanoTime();
        try (ExecutorService ex = Executors.newFixedThreadPool(n)) {
            List<Future<?>> fs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int k = i;
                fs.add(ex.submit(() -> {
                    s.run(k);
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
        }
        return (System.nanoTime() - t0) / 1e9;
    }
}
