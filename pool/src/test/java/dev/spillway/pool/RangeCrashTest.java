package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.testkit.fault.CrashSwitch;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.Span;
import dev.spillway.pool.ops.MoveResult;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The crash-point campaign ({@link CrashCampaign}) over range-level placement (issue 20): whole and
 * partial client writes, destroys, range spills of random 64 KiB-aligned ranges to two devices,
 * recalls, promotions, whole spills of split bodies, garbage collection and syncs; crashed at
 * 1,000 points. After each: mount (recovery from the work index: a range's COPY job rolled back),
 * a deep fsck clean (every copy of a range counted, indexed, checked at its range's length and
 * through its checksums; a split body covered), and every acknowledged write byte for byte. Half
 * the seeds of each campaign run on a pool whose two spill devices are a striping tier, so range
 * spills of 128 KiB or more make striped copies of ranges (two stripes, each with its own COPY
 * job, rolled back together).
 *
 * <p>{@code -Dspillway.crash.points=N} (default 1,000) over {@code -Dspillway.crash.seeds=S}
 * workloads (default 10); {@code -Dspillway.seed=X} picks the master seed.
 */
class RangeCrashTest {
    private static final int OBJECTS = 4;
    private static final int UNIT = (int) Span.ALIGN;

    static PoolConfig config(int replicas) {
        return config(replicas, false);
    }

    /**
     * With {@code striped}, slow and far are a striping tier (2 stripes of 64 KiB, bodies and ranges
     * of 128 KiB or more): a range spill of two units or more makes a striped copy of the range.
     */
    static PoolConfig config(int replicas, boolean striped) {
        String dev = ", backend: mem, roles: [background], settings: {durability: simulated, strict-declares: true}}\n";
        try {
            String y = "name: rangecrash\nreplicas: " + replicas + "\ndevices:\n"
                    + "  - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {durability: simulated, strict-declares: true}}\n"
                    + "  - {name: slow" + dev + "  - {name: far" + dev
                    + (striped
                            ? "striping:\n  - {devices: [slow, far], stripe-count: 2, stripe-size: 64KiB,"
                                    + " min-object-size: 128KiB}\n"
                            : "");
            return PoolConfigParser.parse(y, "range crash test");
        } catch (OsdException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A client write of {@code patch} at {@code off} inside the body, modelled on the latest state. */
    static void patch(PoolOsd pool, Fid f, long off, byte[] patch, CrashCampaign.Model model) throws OsdException {
        List<byte[]> states = model.states.get(f);
        byte[] now = states == null || states.isEmpty() ? null : states.get(states.size() - 1);
        if (now == null || off >= now.length) {
            return;
        }
        byte[] patched = Arrays.copyOf(now, Math.max(now.length, (int) off + patch.length));
        System.arraycopy(patch, 0, patched, (int) off, patch.length);
        try (Transaction tx = pool.newTransaction()) {
            tx.declareWrite(f, off, patch.length);
            tx.start();
            tx.write(f, off, ByteBuffer.wrap(patch));
            int idx = model.add(f, patched);
            tx.addCommitCallback((id, err) -> {
                if (err == null) {
                    model.ack(f, idx);
                }
            });
        }
    }

    static void workload(long seed, PoolOsd pool, CrashSwitch sw, CrashCampaign.Model model) throws Exception {
        Random r = new Random(seed);
        List<PoolDevice> spill = pool.devices().subList(1, 3);
        for (int step = 0; step < 40; step++) {
            Fid f = CrashCampaign.object(r.nextInt(OBJECTS));
            int op = r.nextInt(100);
            try {
                if (op < 20) {
                    byte[] body = new byte[1 + r.nextInt(12 * UNIT)];
                    r.nextBytes(body);
                    CrashCampaign.write(pool, f, body, r.nextInt(4) == 0, model);
                } else if (op < 32) {
                    byte[] p = new byte[1 + r.nextInt(UNIT)];
                    r.nextBytes(p);
                    long size = pool.exists(f) ? pool.getAttr(f).size() : 0;
                    long off = size == 0 ? 0 : (long) (r.nextDouble() * size);
                    patch(pool, f, off, p, model);
                } else if (op < 35) {
                    if (pool.exists(f)) {
                        CrashCampaign.destroy(pool, f, model);
                    }
                } else if (op < 62) {
                    int a = r.nextInt(12);
                    int b = a + 1 + r.nextInt(6);
                    pool.migrator()
                            .spillRange(
                                    f,
                                    spill.get(r.nextInt(2)),
                                    (long) a * UNIT,
                                    r.nextInt(3) == 0 ? Span.EOF : (long) b * UNIT);
                } else if (op < 70) {
                    pool.migrator().promote(f);
                } else if (op < 76) {
                    pool.migrator().recallRanges(f);
                } else if (op < 84) {
                    pool.migrator().spill(f, spill.get(r.nextInt(2)));
                } else if (op < 90) {
                    pool.migrator().collectGarbage();
                } else {
                    pool.sync();
                }
            } catch (OsdException e) {
                if (sw.crashed()) {
                    throw e;
                }
                if (!e.is(Errno.ENOENT) && !e.is(Errno.EISDIR) && !e.is(Errno.EBUSY)) {
                    throw new AssertionError("step " + step + " failed without a crash: " + e.getMessage(), e);
                }
            }
        }
    }

    /**
     * The single-range promotion mix: range spills of random ranges, then promotions of random
     * 64 KiB-aligned ranges ({@code Migrator.promoteRange}: one range's copies home, the others
     * spilled) between writes, patches, destroys, whole promotions, spills, GC and syncs.
     * {@code promoteCalls[0]} counts the device calls made inside promoteRange, {@code [1]} the
     * promotions that moved a range; {@code spans}, if not null, gets the device calls (from, to]
     * of each promotion that moved a range.
     */
    static void promoteRangeWorkload(
            long seed, PoolOsd pool, CrashSwitch sw, CrashCampaign.Model model, long[] promoteCalls, List<long[]> spans)
            throws Exception {
        promoteRangeWorkload(seed, pool, sw, model, promoteCalls, spans, false);
    }

    /**
     * The promotion mix; {@code fromWhole}: bodies are mostly spilled whole (four spills in five)
     * and promoted by range from their whole copy ({@code promoteCalls} and {@code spans} then count
     * only the promotions that read a whole copy), then written (a write recalls such a body whole),
     * spilled whole again (the resident ranges dropped without a copy) or range-spilled.
     */
    static void promoteRangeWorkload(
            long seed,
            PoolOsd pool,
            CrashSwitch sw,
            CrashCampaign.Model model,
            long[] promoteCalls,
            List<long[]> spans,
            boolean fromWhole)
            throws Exception {
        Random r = new Random(seed);
        List<PoolDevice> spill = pool.devices().subList(1, 3);
        for (int step = 0; step < 60; step++) {
            Fid f = CrashCampaign.object(r.nextInt(OBJECTS));
            int op = r.nextInt(100);
            try {
                if (fromWhole && spilledWhole(pool, f) && r.nextInt(3) != 0) {
                    op = 56;
                } else if (fromWhole && residentWhole(pool, f) && r.nextInt(3) == 0) {
                    op = 28;
                }
                if (op < 18) {
                    byte[] body = new byte[1 + r.nextInt(12 * UNIT)];
                    r.nextBytes(body);
                    CrashCampaign.write(pool, f, body, r.nextInt(4) == 0, model);
                } else if (op < 26) {
                    byte[] p = new byte[1 + r.nextInt(UNIT)];
                    r.nextBytes(p);
                    long size = pool.exists(f) ? pool.getAttr(f).size() : 0;
                    long off = size == 0 ? 0 : (long) (r.nextDouble() * size);
                    patch(pool, f, off, p, model);
                } else if (op < 28) {
                    if (pool.exists(f)) {
                        CrashCampaign.destroy(pool, f, model);
                    }
                } else if (op < 56 && fromWhole && r.nextInt(5) != 0) {
                    pool.migrator().spill(f, spill.get(r.nextInt(2)));
                } else if (op < 56) {
                    // Inside the body: a range spill past its end does nothing.
                    long size = pool.exists(f) ? pool.getAttr(f).size() : 0;
                    int a = r.nextInt((int) Math.max(1, size / UNIT));
                    pool.migrator()
                            .spillRange(
                                    f,
                                    spill.get(r.nextInt(2)),
                                    (long) a * UNIT,
                                    r.nextInt(4) == 0 ? Span.EOF : (long) (a + 1 + r.nextInt(3)) * UNIT);
                } else if (op < 84) {
                    // Mostly a range a copy of a range holds (or a 64 KiB piece of it), else any.
                    long start = (long) r.nextInt(8) * UNIT;
                    long end = r.nextInt(4) == 0 ? Span.EOF : start + (long) (1 + r.nextInt(3)) * UNIT;
                    PoolObject p = pool.exists(f) ? pool.object(f).orElse(null) : null;
                    if (p != null && !p.ranges(0).isEmpty() && r.nextInt(5) != 0) {
                        Span sp = p.ranges(0)
                                .get(r.nextInt(p.ranges(0).size()))
                                .spans()
                                .get(0);
                        start = sp.start();
                        end = r.nextBoolean() ? sp.end() : start + UNIT;
                    }
                    long before = sw.calls();
                    try {
                        MoveResult m = pool.migrator().promoteRange(f, start, end);
                        if (m instanceof MoveResult.Done
                                && (!fromWhole || m.detail().contains(" (from "))) {
                            promoteCalls[1]++;
                            if (spans != null) {
                                spans.add(new long[] {before, sw.calls()});
                            }
                        }
                    } finally {
                        promoteCalls[0] += sw.calls() - before;
                    }
                } else if (op < 88) {
                    pool.migrator().promote(f);
                } else if (op < 92) {
                    pool.migrator().spill(f, spill.get(r.nextInt(2)));
                } else if (op < 96) {
                    pool.migrator().collectGarbage();
                } else {
                    pool.sync();
                }
            } catch (OsdException e) {
                if (sw.crashed()) {
                    throw e;
                }
                if (!e.is(Errno.ENOENT) && !e.is(Errno.EISDIR) && !e.is(Errno.EBUSY)) {
                    throw new AssertionError("step " + step + " failed without a crash: " + e.getMessage(), e);
                }
            }
        }
    }

    private static boolean residentWhole(PoolOsd pool, Fid f) throws OsdException {
        PoolObject p = pool.exists(f) ? pool.object(f).orElse(null) : null;
        return p != null && p.size() > 0 && p.resident(0);
    }

    private static boolean spilledWhole(PoolOsd pool, Fid f) throws OsdException {
        PoolObject p = pool.exists(f) ? pool.object(f).orElse(null) : null;
        return p != null && p.size() > 0 && p.on(0).isEmpty();
    }

    /**
     * 400 crash points ({@code -Dspillway.rangepromote.points=N}) over the single-range promotion
     * mix, aimed: each workload runs once without a crash to find the device calls made inside
     * {@code promoteRange} calls that moved a range, and three points in four fall among those
     * calls (uniformly), the rest anywhere. After each: mount, deep fsck clean, every acknowledged
     * byte back (or a later state of it).
     */
    @Test
    void everyCrashPointOverSingleRangePromotionsRecoversWithoutLossOrLeak() throws Exception {
        promotionCampaign(Integer.getInteger("spillway.rangepromote.points", 400), false);
    }

    /**
     * 400 crash points ({@code -Dspillway.wholepromote.points=N}) over the mix of bodies spilled
     * whole and promoted by range from their whole copy (then written, spilled whole again or
     * range-spilled), aimed as above at the promotions that read a whole copy.
     */
    @Test
    void everyCrashPointOverRangePromotionsOfBodiesSpilledWholeRecoversWithoutLossOrLeak() throws Exception {
        promotionCampaign(Integer.getInteger("spillway.wholepromote.points", 400), true);
    }

    private static void promotionCampaign(int points, boolean fromWhole) throws Exception {
        int seeds = 8;
        long master = dev.spillway.osd.testkit.Seeds.master();
        java.util.SplittableRandom sr = new java.util.SplittableRandom(master ^ 0x5eed);
        int ran = 0;
        long inside = 0;
        int skipped = 0;
        for (int s = 0; s < seeds; s++) {
            long seed = sr.nextLong();
            PoolConfig c = config(1 + s % 2, s % 4 >= 2);
            CrashSwitch counter = new CrashSwitch(0);
            List<long[]> spans = new java.util.ArrayList<>();
            promoteRangeWorkload(
                    seed,
                    CrashCampaign.mount(c, CrashCampaign.freshDevices(c), counter),
                    counter,
                    new CrashCampaign.Model(),
                    new long[2],
                    spans,
                    fromWhole);
            if (spans.isEmpty() && skipped < 64) {
                // This seed's workload promoted no range, so none of its points could be aimed
                // inside a promotion: draw another (deterministically, from the master seed), so
                // the campaign's coverage does not depend on how many such seeds the master drew.
                skipped++;
                s--;
                continue;
            }
            long total = counter.calls();
            long aimed = spans.stream().mapToLong(x -> x[1] - x[0]).sum();
            int here = points / seeds + (s < points % seeds ? 1 : 0);
            Random pick = new Random(seed);
            for (int k = 0; k < here; k++) {
                long at;
                if (aimed > 0 && k % 4 != 3) {
                    long n = (long) (pick.nextDouble() * aimed);
                    at = -1;
                    for (long[] x : spans) {
                        if (n < x[1] - x[0]) {
                            at = x[0] + 1 + n;
                            break;
                        }
                        n -= x[1] - x[0];
                    }
                    inside++;
                } else {
                    at = 1 + (long) (pick.nextDouble() * total);
                }
                String where = String.format(
                        (fromWhole ? "whole-copy " : "")
                                + "range promotion campaign, seed 0x%x, crash at call %d of %d (master seed 0x%x)",
                        seed,
                        at,
                        total,
                        master);
                List<dev.spillway.osd.mem.MemOsd> raw = CrashCampaign.freshDevices(c);
                CrashCampaign.Model model = new CrashCampaign.Model();
                CrashSwitch sw = new CrashSwitch(at);
                try {
                    try {
                        promoteRangeWorkload(
                                seed, CrashCampaign.mount(c, raw, sw), sw, model, new long[2], null, fromWhole);
                    } catch (CrashSwitch.SimulatedCrash e) {
                        // the point
                    } catch (OsdException e) {
                        if (!sw.crashed()) {
                            throw e;
                        }
                    }
                    assertThat(sw.crashed()).as("crashed (%s)", where).isTrue();
                    List<dev.spillway.osd.mem.MemOsd> survived = new java.util.ArrayList<>();
                    for (var m : raw) {
                        survived.add(m.crash());
                    }
                    CrashCampaign.verify(c, survived, model, OBJECTS, where);
                } catch (Throwable e) {
                    throw new AssertionError("crash point failed: " + where + ": " + e, e);
                }
                ran++;
            }
        }
        System.out.printf(
                "%srange promotion crash campaign: master seed 0x%x, %d points, %d inside promoteRange calls%n",
                fromWhole ? "whole-copy " : "", master, ran, inside);
        assertThat(ran).isEqualTo(points);
        assertThat(inside * 2)
                .as(
                        "points inside promoteRange (master seed 0x%x, %d seeds without a promotion skipped)",
                        master, skipped)
                .isGreaterThanOrEqualTo(points);
    }

    /** The promotion mix does promote single ranges (and reads back right without a crash). */
    @Test
    void thePromotionWorkloadPromotesSingleRanges() throws Exception {
        long[] counts = new long[2];
        for (long seed = 1; seed <= 8; seed++) {
            PoolConfig c = config(1 + (int) seed % 2);
            CrashSwitch sw = new CrashSwitch(0);
            PoolOsd pool = CrashCampaign.mount(c, CrashCampaign.freshDevices(c), sw);
            CrashCampaign.Model model = new CrashCampaign.Model();
            promoteRangeWorkload(seed, pool, sw, model, counts, null);
            assertThat(pool.fsck(false, true, null).problems()).isEmpty();
            CrashCampaign.verify(() -> pool, model, OBJECTS, "no crash, seed " + seed);
        }
        System.out.printf("range promotion mix: %d ranges promoted, %d device calls inside%n", counts[1], counts[0]);
        assertThat(counts[1]).as("ranges promoted").isGreaterThanOrEqualTo(10);
    }

    /** The whole-copy mix does promote ranges of bodies spilled whole (and reads back right without a crash). */
    @Test
    void theWholeCopyPromotionWorkloadPromotesRangesOfBodiesSpilledWhole() throws Exception {
        long[] counts = new long[2];
        for (long seed = 1; seed <= 8; seed++) {
            PoolConfig c = config(1 + (int) seed % 2);
            CrashSwitch sw = new CrashSwitch(0);
            PoolOsd pool = CrashCampaign.mount(c, CrashCampaign.freshDevices(c), sw);
            CrashCampaign.Model model = new CrashCampaign.Model();
            promoteRangeWorkload(seed, pool, sw, model, counts, null, true);
            assertThat(pool.fsck(false, true, null).problems()).isEmpty();
            CrashCampaign.verify(() -> pool, model, OBJECTS, "no crash, seed " + seed);
        }
        System.out.printf(
                "whole-copy range promotion mix: %d ranges promoted from a whole copy, %d device calls inside%n",
                counts[1], counts[0]);
        assertThat(counts[1]).as("ranges promoted from a whole copy").isGreaterThanOrEqualTo(10);
    }

    @Test
    void everyCrashPointOverRangeSpillsAndRecallsRecoversWithoutLossOrLeak() throws Exception {
        int points = Integer.getInteger("spillway.crash.points", 1000);
        int seeds = Integer.getInteger("spillway.crash.seeds", 10);
        int ran = CrashCampaign.run(
                "range crash campaign",
                points,
                seeds,
                s -> config(1 + s % 2, s % 4 >= 2),
                OBJECTS,
                null,
                RangeCrashTest::workload);
        assertThat(ran).isEqualTo(points);
    }

    @Test
    void theWorkloadSplitsBodies() throws Exception {
        int split = 0;
        int stripedRanges = 0;
        for (long seed = 1; seed <= 8; seed++) {
            PoolConfig c = config(1, seed > 4);
            CrashSwitch sw = new CrashSwitch(0);
            PoolOsd pool = CrashCampaign.mount(c, CrashCampaign.freshDevices(c), sw);
            CrashCampaign.Model model = new CrashCampaign.Model();
            workload(seed, pool, sw, model);
            for (int i = 0; i < OBJECTS; i++) {
                Fid f = CrashCampaign.object(i);
                PoolObject p = pool.exists(f) ? pool.object(f).orElse(null) : null;
                if (p != null && p.split(0)) {
                    split++;
                    stripedRanges += (int) p.ranges(0).stream()
                            .filter(dev.spillway.pool.meta.Copy::striped)
                            .count();
                }
            }
            assertThat(pool.fsck(false, true, null).problems()).isEmpty();
            CrashCampaign.verify(() -> pool, model, OBJECTS, "no crash, seed " + seed);
        }
        assertThat(split).as("split bodies the workload leaves").isPositive();
        assertThat(stripedRanges)
                .as("striped copies of ranges the workload leaves")
                .isPositive();
    }

    /**
     * Under {@code replicas: 2} (half the campaign's workloads) a range spill makes two copies of
     * its range, one on each spill device, and the workload leaves such ranges (and reads back
     * right without a crash) — also on the striping tier across both devices, whose ranges of two
     * units or more would be striped over both and now get a device each.
     */
    @Test
    void underReplicasTwoTheWorkloadLeavesRangesHeldByTwoCopies() throws Exception {
        int twice = 0;
        int twiceOnTheTier = 0;
        for (long seed = 1; seed <= 12; seed++) {
            // Seeds 7 to 12 on the striping tier across both spill devices: a range of 128 KiB or
            // more gets its stripe count lowered so the two copies have a device each (session 11).
            boolean striped = seed > 6;
            PoolConfig c = config(2, striped);
            CrashSwitch sw = new CrashSwitch(0);
            PoolOsd pool = CrashCampaign.mount(c, CrashCampaign.freshDevices(c), sw);
            CrashCampaign.Model model = new CrashCampaign.Model();
            workload(seed, pool, sw, model);
            for (int i = 0; i < OBJECTS; i++) {
                Fid f = CrashCampaign.object(i);
                PoolObject p = pool.exists(f) ? pool.object(f).orElse(null) : null;
                if (p == null || !p.split(0)) {
                    continue;
                }
                for (var r : p.ranges(0)) {
                    long holders = p.ranges(0).stream()
                            .filter(o -> o.spans().equals(r.spans()) && o.device() != r.device())
                            .count();
                    if (holders > 0) {
                        twice++;
                        if (striped && r.spans().get(0).length(p.size()) >= 2 * UNIT) {
                            twiceOnTheTier++;
                        }
                    }
                }
            }
            assertThat(pool.fsck(false, true, null).problems()).isEmpty();
            CrashCampaign.verify(() -> pool, model, OBJECTS, "no crash, replicas 2, seed " + seed);
        }
        assertThat(twice).as("copies of ranges with a twin on the other device").isPositive();
        assertThat(twiceOnTheTier)
                .as("copies of ranges the tier would stripe, with a twin on the other device")
                .isPositive();
    }
}
