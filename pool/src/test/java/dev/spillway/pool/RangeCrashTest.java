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
 * through its checksums; a split body covered), and every acknowledged write byte for byte.
 *
 * <p>{@code -Dspillway.crash.points=N} (default 1,000) over {@code -Dspillway.crash.seeds=S}
 * workloads (default 10); {@code -Dspillway.seed=X} picks the master seed.
 */
class RangeCrashTest {
    private static final int OBJECTS = 4;
    private static final int UNIT = (int) Span.ALIGN;

    static PoolConfig config(int replicas) {
        String dev = ", backend: mem, roles: [background], settings: {durability: simulated, strict-declares: true}}\n";
        try {
            String y = "name: rangecrash\nreplicas: " + replicas + "\ndevices:\n"
                    + "  - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {durability: simulated, strict-declares: true}}\n"
                    + "  - {name: slow" + dev + "  - {name: far" + dev;
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

    @Test
    void everyCrashPointOverRangeSpillsAndRecallsRecoversWithoutLossOrLeak() throws Exception {
        int points = Integer.getInteger("spillway.crash.points", 1000);
        int seeds = Integer.getInteger("spillway.crash.seeds", 10);
        int ran = CrashCampaign.run(
                "range crash campaign", points, seeds, s -> config(1 + s % 2), OBJECTS, null, RangeCrashTest::workload);
        assertThat(ran).isEqualTo(points);
    }

    @Test
    void theWorkloadSplitsBodies() throws Exception {
        int split = 0;
        for (long seed = 1; seed <= 4; seed++) {
            PoolConfig c = config(1);
            CrashSwitch sw = new CrashSwitch(0);
            PoolOsd pool = CrashCampaign.mount(c, CrashCampaign.freshDevices(c), sw);
            CrashCampaign.Model model = new CrashCampaign.Model();
            workload(seed, pool, sw, model);
            for (int i = 0; i < OBJECTS; i++) {
                Fid f = CrashCampaign.object(i);
                PoolObject p = pool.exists(f) ? pool.object(f).orElse(null) : null;
                if (p != null && p.split(0)) {
                    split++;
                }
            }
            assertThat(pool.fsck(false, true, null).problems()).isEmpty();
            CrashCampaign.verify(() -> pool, model, OBJECTS, "no crash, seed " + seed);
        }
        assertThat(split).as("split bodies the workload leaves").isPositive();
    }
}
