package dev.spillway.bench.pool;

import dev.spillway.bench.AbRunner;
import dev.spillway.bench.BenchOptions;
import dev.spillway.bench.BenchResult;
import dev.spillway.bench.Benchmark;
import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.ops.MoveResult;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * {@code partial} (issue 20, range-level placement): a large object (4 GiB; 256 MiB with {@code
 * --quick}) whose first 64 MiB (16 MiB quick) are hot, on a kv fast tier of 1 GiB (64 MiB quick)
 * that cannot hold it, draining to a vfs spill device, both in the work folder on the disk under
 * test. The object is written a piece at a time and each cold piece is spilled by range spill
 * ({@code Migrator.spillRange}) as soon as it is written, so only the hot head stays resident. Then:
 * <ul>
 * <li>hot-range reads — 4 KiB random and 1 MiB sequential — of the split object against the same
 * reads of a resident object of the same size in the same pool, holding the same hot bytes (its
 * cold part a hole: a fully written one cannot be resident in the tier), alternated A B / B A after
 * a warm-up, medians (goal >= 0.90);</li>
 * <li>bytes moved between the tiers for this access pattern: the range spills (the cold ranges,
 * once; the hot head never moves) against a whole-object spill (measured: the split object is then
 * spilled whole) plus the whole-object promotion the hot head's reads call for (the object's size;
 * measured if the tier can take it, else stated as needed and refused).</li>
 * </ul>
 * {@code --object-mib}, {@code --hot-mib}, {@code --fast-mib} change the sizes.
 */
public final class PartialBench implements Benchmark {
    private static final long MIB = 1L << 20;
    private static final int BUF = 16 << 20;

    @Override
    public String name() {
        return "partial";
    }

    @Override
    public String description() {
        return "a 4 GiB object with a hot 64 MiB head on a 1 GiB kv tier, its cold ranges range-spilled to vfs:"
                + " hot-range reads vs a resident object's (goal >= 0.90); bytes moved vs whole-object spill + promote";
    }

    static PoolConfig config(Path dir, long fastBytes) throws OsdException {
        return PoolConfigParser.parse(
                """
                name: partial
                devices:
                  - {name: fast, backend: kv, roles: [metadata, foreground, promote], settings: {path: '%s', capacity: %d}}
                  - {name: slow, backend: vfs, roles: [background], settings: {path: '%s', journal: "off"}}
                """.formatted(dir.resolve("fast"), fastBytes, dir.resolve("slow")), "partial bench");
    }

    @Override
    public List<BenchResult> run(BenchOptions o) throws Exception {
        long object = Long.parseLong(o.option("--object-mib", o.quick() ? "256" : "4096")) * MIB;
        long hot = Long.parseLong(o.option("--hot-mib", o.quick() ? "16" : "64")) * MIB;
        long fast = Long.parseLong(o.option("--fast-mib", o.quick() ? "64" : "1024")) * MIB;
        int rounds = o.quick() ? 3 : 5;
        int randomReads = o.quick() ? 20_000 : 100_000;
        // A piece written then spilled at a time: a quarter of the tier, at most 256 MiB.
        long piece = Math.max(MIB, Math.min(256 * MIB, fast / 4));
        byte[] pattern = new byte[BUF];
        new Random(20).nextBytes(pattern);

        Path dir = o.workDir().resolve("pool");
        PoolOsd pool = PoolOsd.mount(config(dir, fast), InstantSource.system(), PoolOsd.MountMode.RECOVER);
        Fid split = new Fid(0x200000400L, 1, 0);
        Fid resident = new Fid(0x200000400L, 2, 0);
        List<BenchResult> out = new ArrayList<>();
        try {
            // The split object: sized first (a hole), then written a piece at a time, each cold
            // piece range-spilled once written (a write inside the size recalls nothing).
            create(pool, split, object);
            long rangeMoved = 0;
            int rangeSpills = 0;
            long t0 = System.nanoTime();
            for (long off = 0; off < object; off += piece) {
                long end = Math.min(object, off + piece);
                write(pool, split, off, end, pattern);
                long from = Math.max(off, hot);
                if (from < end) {
                    MoveResult r = pool.migrator()
                            .spillRange(split, pool.device(1), from, end >= object ? Long.MAX_VALUE : end);
                    if (!(r instanceof MoveResult.Done)) {
                        throw new IllegalStateException(
                                "range spill [" + from + ", " + end + ") of " + split + ": " + r);
                    }
                    rangeMoved += r.bytes();
                    rangeSpills++;
                }
            }
            double rangeSeconds = (System.nanoTime() - t0) / 1e9;
            if (!pool.requireObject(split).split(0)) {
                throw new IllegalStateException("the object is not split after its range spills");
            }
            // The resident object: same size, same hot bytes, the rest a hole.
            create(pool, resident, object);
            write(pool, resident, 0, hot, pattern);
            pool.sync();
            o.log()
                    .printf(
                            "  %d range spills moved %d MiB in %.1f s; %s resident %d MiB%n",
                            rangeSpills, rangeMoved >> 20, rangeSeconds, "fast tier", fastUsed(pool) >> 20);
            check(pool, split, resident, hot);

            int[] offsets = new int[randomReads];
            Random r = new Random(7);
            for (int i = 0; i < offsets.length; i++) {
                offsets[i] = r.nextInt((int) (hot / 4096));
            }
            ByteBuffer small = ByteBuffer.allocateDirect(4096);
            AbRunner.Medians rnd = AbRunner.alternate(
                    1,
                    rounds,
                    () -> randomReads(pool, split, offsets, small),
                    () -> randomReads(pool, resident, offsets, small),
                    o.log());
            ByteBuffer big = ByteBuffer.allocateDirect((int) MIB);
            int passes = (int) Math.max(1, (256 * MIB) / hot);
            AbRunner.Medians seq = AbRunner.alternate(
                    1,
                    rounds,
                    () -> sequential(pool, split, hot, passes, big),
                    () -> sequential(pool, resident, hot, passes, big),
                    o.log());

            // The whole-object mover for the same pattern: spill it whole, then promote it whole for
            // its hot head's reads.
            long t1 = System.nanoTime();
            MoveResult whole = pool.migrator().spill(split, pool.device(1));
            double wholeSeconds = (System.nanoTime() - t1) / 1e9;
            if (!(whole instanceof MoveResult.Done)) {
                throw new IllegalStateException("whole spill of " + split + ": " + whole);
            }
            String promote;
            long promoted;
            try {
                MoveResult p = pool.migrator().promote(split);
                promoted = p.bytes();
                promote = p instanceof MoveResult.Done ? "done" : p.detail();
            } catch (OsdException e) {
                promoted = object;
                promote = "needed (" + (object >> 20) + " MiB) but refused: " + e.errno()
                        + " (the object is larger than the tier)";
            }
            long wholeMoved = whole.bytes() + Math.max(promoted, object);

            Map<String, Object> common = new LinkedHashMap<>();
            common.put("object_bytes", object);
            common.put("hot_bytes", hot);
            common.put("fast_tier_bytes", fast);
            common.put("fast_device", "kv (capacity " + (fast >> 20) + " MiB), work folder on the disk under test");
            common.put("spill_device", "vfs (journal off), work folder on the disk under test");
            common.put(
                    "mover",
                    "Migrator.spillRange per " + (piece >> 20) + " MiB piece as written (the daemon's per-extent"
                            + " heat landed too late in session 8 to drive this run)");
            common.put("rounds", rounds);

            Map<String, Object> pr = new LinkedHashMap<>(common);
            pr.put("reads", randomReads + " x 4 KiB at random 4 KiB offsets in the hot range, one thread");
            pr.put("baseline", "the same reads of a resident object of the same size (cold part a hole)");
            pr.put("samples_split", rounded(rnd.as()));
            pr.put("samples_resident", rounded(rnd.bs()));
            out.add(BenchResult.higherIsBetter(
                    name(), "hot_random_4kib_ops_per_s", rnd.a(), rnd.b(), "ops/s", ">= 0.90", pr));

            Map<String, Object> ps = new LinkedHashMap<>(common);
            ps.put("reads", passes + " pass(es) of 1 MiB reads over the hot range, one thread");
            ps.put("baseline", "the same reads of a resident object of the same size (cold part a hole)");
            ps.put("samples_split", rounded(seq.as()));
            ps.put("samples_resident", rounded(seq.bs()));
            out.add(BenchResult.higherIsBetter(
                    name(), "hot_sequential_mib_per_s", seq.a(), seq.b(), "MiB/s", ">= 0.90", ps));

            Map<String, Object> pm = new LinkedHashMap<>(common);
            pm.put("range_spills", rangeSpills);
            pm.put("range_spill_seconds", Math.round(rangeSeconds * 10) / 10.0);
            pm.put("whole_spill_bytes", whole.bytes());
            pm.put("whole_spill_seconds", Math.round(wholeSeconds * 10) / 10.0);
            pm.put("whole_promote", promote);
            pm.put(
                    "baseline",
                    "whole-object mover: the object spilled whole (measured) + promoted whole for the hot head's"
                            + " reads");
            pm.put("value", "range placement: the cold ranges spilled once; the hot head never moves");
            out.add(BenchResult.lowerIsBetter(
                    name(),
                    "bytes_moved_mib",
                    rangeMoved / (double) MIB,
                    wholeMoved / (double) MIB,
                    "MiB",
                    "> 1.0",
                    pm));
        } finally {
            pool.close();
        }
        return out;
    }

    private static List<Double> rounded(List<Double> xs) {
        return xs.stream().map(x -> Math.round(x * 10) / 10.0).toList();
    }

    private static long fastUsed(PoolOsd pool) throws OsdException {
        var s = pool.device(0).osd().statfs();
        return s.usedBytes();
    }

    private static void create(PoolOsd pool, Fid f, long size) throws OsdException {
        try (Transaction tx = pool.newTransaction()) {
            tx.declareCreate(f, ObjectKind.DATA);
            tx.declareTruncate(f, size);
            tx.start();
            tx.create(f, ObjectKind.DATA, AttrChange.none().mode(0644));
            tx.truncate(f, size);
        }
    }

    /** Writes {@code [from, to)} of {@code f} with the pattern, one transaction per 16 MiB. */
    private static void write(PoolOsd pool, Fid f, long from, long to, byte[] pattern) throws OsdException {
        for (long off = from; off < to; off += BUF) {
            int n = (int) Math.min(BUF, to - off);
            try (Transaction tx = pool.newTransaction()) {
                tx.declareWrite(f, off, n);
                tx.start();
                tx.write(f, off, ByteBuffer.wrap(pattern, 0, n));
            }
        }
    }

    /** The two objects' hot ranges read the same. */
    private static void check(PoolOsd pool, Fid a, Fid b, long hot) throws OsdException {
        ByteBuffer x = ByteBuffer.allocate((int) MIB);
        ByteBuffer y = ByteBuffer.allocate((int) MIB);
        for (long off = 0; off < hot; off += MIB) {
            x.clear();
            y.clear();
            fill(pool, a, off, x);
            fill(pool, b, off, y);
            if (!Arrays.equals(x.array(), y.array())) {
                throw new IllegalStateException("the hot ranges differ at " + off);
            }
        }
    }

    private static void fill(PoolOsd pool, Fid f, long off, ByteBuffer b) throws OsdException {
        while (b.hasRemaining()) {
            int n = pool.read(f, off + b.position(), b);
            if (n <= 0) {
                throw new IllegalStateException("read of " + f + " ended at " + (off + b.position()));
            }
        }
    }

    private static double randomReads(PoolOsd pool, Fid f, int[] offsets, ByteBuffer b) throws OsdException {
        long t = System.nanoTime();
        for (int block : offsets) {
            b.clear();
            fill(pool, f, (long) block * 4096, b);
        }
        return offsets.length / ((System.nanoTime() - t) / 1e9);
    }

    private static double sequential(PoolOsd pool, Fid f, long hot, int passes, ByteBuffer b) throws OsdException {
        long t = System.nanoTime();
        for (int p = 0; p < passes; p++) {
            for (long off = 0; off < hot; off += b.capacity()) {
                b.clear();
                fill(pool, f, off, b);
            }
        }
        return passes * (hot / (double) MIB) / ((System.nanoTime() - t) / 1e9);
    }
}
