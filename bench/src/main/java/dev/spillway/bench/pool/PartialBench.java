package dev.spillway.bench.pool;

import dev.spillway.bench.AbRunner;
import dev.spillway.bench.BenchOptions;
import dev.spillway.bench.BenchResult;
import dev.spillway.bench.Benchmark;
import dev.spillway.migrate.daemon.DaemonConfig;
import dev.spillway.migrate.daemon.MigrationDaemon;
import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.Span;
import dev.spillway.pool.ops.MoveResult;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * {@code partial} (issue 20, range-level placement): a large object (4 GiB; 256 MiB with {@code
 * --quick}) whose first 64 MiB (16 MiB quick) are hot, on a kv fast tier of 1 GiB (64 MiB quick)
 * that cannot hold it, draining to a vfs spill device, both in the work folder on the disk under
 * test. The object is sized first (a hole) and written an extent at a time (one write call per
 * extent, the extent being the hot head's size), its head read at random between the pieces (the
 * hot accesses); after each piece the migration daemon ({@code MigrationDaemon.runOnce}, under a
 * clock the benchmark moves past {@code min-resident-age}) decides what to spill from the heat it
 * tracks per extent — nothing tells it which ranges are cold. The watermarks are set so that a
 * piece and the head pass the high watermark and the head alone does not (a pass after each piece,
 * the head never pushed out). Then:
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
        return "a 4 GiB object with a hot 64 MiB head on a 1 GiB kv tier, the migration daemon spilling its cold"
                + " extents to vfs:"
                + " hot-range reads vs a resident object's (goal >= 0.90); bytes moved vs whole-object spill + promote";
    }

    static PoolConfig config(Path dir, long fastBytes, long object, long extent, double high) throws OsdException {
        return PoolConfigParser.parse(
                """
                name: partial
                devices:
                  - {name: fast, backend: kv, roles: [metadata, foreground, promote], settings: {path: '%s', capacity: %d}}
                  - {name: slow, backend: vfs, roles: [background], settings: {path: '%s', journal: "off"}}
                policy: {high-watermark: %s, low-watermark: %s, min-resident-age: 1s, probation-share: 0,
                         spill-streams: 1, checkpoint-interval: 1h, extent-threshold: %d, extent-size: %d}
                """.formatted(
                                dir.resolve("fast"),
                                fastBytes,
                                dir.resolve("slow"),
                                high,
                                high / 2,
                                Math.min(256 * MIB, object),
                                extent),
                "partial bench");
    }

    /** The daemon's clock: moved by the benchmark, so a pass sees the object past its minimum age. */
    private static final class ManualClock implements InstantSource {
        private volatile Instant now = Instant.parse("2026-01-01T00:00:00Z");

        @Override
        public Instant instant() {
            return now;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }
    }

    @Override
    public List<BenchResult> run(BenchOptions o) throws Exception {
        long object = Long.parseLong(o.option("--object-mib", o.quick() ? "256" : "4096")) * MIB;
        long hot = Long.parseLong(o.option("--hot-mib", o.quick() ? "16" : "64")) * MIB;
        long fast = Long.parseLong(o.option("--fast-mib", o.quick() ? "64" : "1024")) * MIB;
        int rounds = o.quick() ? 3 : 5;
        int randomReads = o.quick() ? 20_000 : 100_000;
        // The daemon's extent is the hot head's size: the head is one extent, written by one call.
        long extent = hot;
        if (extent % (64 * 1024) != 0 || object % extent != 0 || extent > Integer.MAX_VALUE / 2) {
            throw new IllegalArgumentException(
                    "--hot-mib must divide --object-mib (the daemon's extent is the hot head's size)");
        }
        // A pass after each piece: the head and a piece pass the high watermark, the head alone not.
        double high = (hot + extent / 2.0) / fast;
        byte[] pattern = new byte[(int) Math.max(BUF, extent)];
        new Random(20).nextBytes(pattern);
        int hotReadsPerPiece = 16;

        Path dir = o.workDir().resolve("pool");
        ManualClock clock = new ManualClock();
        PoolConfig cfg = config(dir, fast, object, extent, high);
        PoolOsd pool = PoolOsd.mount(cfg, clock, PoolOsd.MountMode.RECOVER);
        MigrationDaemon daemon = MigrationDaemon.attach(pool, DaemonConfig.parse(cfg.policy(), cfg.name()), clock);
        pool.listener(daemon);
        Fid split = new Fid(0x200000400L, 1, 0);
        Fid resident = new Fid(0x200000400L, 2, 0);
        List<BenchResult> out = new ArrayList<>();
        try {
            // The split object: sized first (a hole: growing a split body would recall every
            // range), then written an extent per write call — one that fills a spilled extent
            // whole needs none of its old bytes, so an extent the daemon spilled while it was
            // still a hole is not recalled, its copy becomes garbage.
            create(pool, split, object);
            Random hotReads = new Random(11);
            ByteBuffer probe = ByteBuffer.allocate(4096);
            Map<Fid, Span> seen = new HashMap<>();
            long dataSpilled = 0;
            long holeSpilled = 0;
            int dataSpills = 0;
            int holeSpills = 0;
            int daemonPasses = 0;
            int promotedExtents = 0;
            List<String> passErrors = new ArrayList<>();
            long t0 = System.nanoTime();
            for (long off = 0; off < object; off += extent) {
                write(pool, split, off, off + extent, pattern);
                for (int i = 0; i < hotReadsPerPiece; i++) {
                    probe.clear();
                    fill(pool, split, (long) hotReads.nextInt((int) (hot / 4096)) * 4096, probe);
                }
                clock.advance(Duration.ofSeconds(2));
                MigrationDaemon.PassReport r = daemon.runOnce();
                daemonPasses++;
                promotedExtents += r.extentsPromoted();
                passErrors.addAll(r.errors());
                // What this pass spilled: each new copy of a range, data if written, else a hole.
                long written = off + extent;
                for (Copy c : pool.requireObject(split).ranges(0)) {
                    if (c.state() == CopyState.IN_SYNC
                            && seen.putIfAbsent(c.key(), c.spans().get(0)) == null) {
                        Span sp = c.spans().get(0);
                        long len = sp.length(object);
                        if (sp.start() < written) {
                            dataSpilled += len;
                            dataSpills++;
                        } else {
                            holeSpilled += len;
                            holeSpills++;
                        }
                    }
                }
            }
            double rangeSeconds = (System.nanoTime() - t0) / 1e9;
            long rangeMoved = dataSpilled + (long) promotedExtents * extent;
            PoolObject after = pool.requireObject(split);
            List<Span> held = after.on(0).orElseThrow().held();
            if (!after.split(0) || !held.equals(List.of(new Span(0, hot)))) {
                throw new IllegalStateException("after the daemon's passes the fast tier holds " + held + " of " + split
                        + ", not its hot head [0, " + hot + ") alone (errors: " + passErrors + ")");
            }
            // The resident object: same size, same hot bytes, the rest a hole.
            create(pool, resident, object);
            write(pool, resident, 0, hot, pattern);
            pool.sync();
            o.log()
                    .printf(
                            "  %d daemon passes: %d extents of data spilled (%d MiB), %d still holes (%d MiB, sparse),"
                                    + " %d promoted, in %.1f s; fast tier resident %d MiB%n",
                            daemonPasses,
                            dataSpills,
                            dataSpilled >> 20,
                            holeSpills,
                            holeSpilled >> 20,
                            promotedExtents,
                            rangeSeconds,
                            fastUsed(pool) >> 20);
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
                    "the migration daemon: one runOnce pass after each " + (extent >> 20) + " MiB extent written"
                            + " (injected clock, 2 s a pass), heat per extent (extent-size " + (extent >> 20)
                            + " MiB), " + hotReadsPerPiece + " random 4 KiB reads of the head between pieces;"
                            + " watermarks " + Math.round(high * 1000) / 1000.0 + "/"
                            + Math.round(high * 500) / 1000.0);
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
            pm.put("daemon_passes", daemonPasses);
            pm.put("extents_spilled", dataSpills);
            pm.put("hole_extents_spilled", holeSpills);
            pm.put("hole_bytes_spilled", holeSpilled);
            pm.put("extents_promoted", promotedExtents);
            pm.put("pass_errors", passErrors.size());
            pm.put("range_spill_seconds", Math.round(rangeSeconds * 10) / 10.0);
            pm.put("whole_spill_bytes", whole.bytes());
            pm.put("whole_spill_seconds", Math.round(wholeSeconds * 10) / 10.0);
            pm.put("whole_promote", promote);
            pm.put(
                    "baseline",
                    "whole-object mover: the object spilled whole (measured) + promoted whole for the hot head's"
                            + " reads");
            pm.put(
                    "value",
                    "range placement by the daemon: the written cold extents spilled (once each) + extents promoted;"
                            + " the hot head never moves. Extents spilled while still holes (sparse copies:"
                            + " no data written, overwritten whole later, so never recalled) are not counted");
            out.add(BenchResult.lowerIsBetter(
                    name(),
                    "bytes_moved_mib",
                    rangeMoved / (double) MIB,
                    wholeMoved / (double) MIB,
                    "MiB",
                    "> 1.0",
                    pm));
        } finally {
            daemon.close();
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

    /** Writes {@code [from, to)} of {@code f} with the pattern, one transaction per pattern's length. */
    private static void write(PoolOsd pool, Fid f, long from, long to, byte[] pattern) throws OsdException {
        for (long off = from; off < to; off += pattern.length) {
            int n = (int) Math.min(pattern.length, to - off);
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
