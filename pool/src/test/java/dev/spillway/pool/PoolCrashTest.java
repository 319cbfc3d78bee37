package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.testkit.fault.CrashSwitch;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.ops.Migrator;
import dev.spillway.pool.ops.MoveOptions;
import dev.spillway.pool.ops.MoveResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The pool's crash-point campaign ({@link CrashCampaign}): a seeded workload of client writes and
 * destroys, spills (one at a time and in batches), copies, promotes, releases, migrations,
 * mirror drops, resyncs of copies found bad, evacuation steps, garbage collection and syncs,
 * crashed at 2,000 points; after each, recovery, a deep fsck (no leaked copy, no layout naming a
 * missing copy, indexes and counters exact) and every acknowledged write byte for byte.
 *
 * <p>{@code -Dspillway.crash.points=N} (default 2,000) over {@code -Dspillway.crash.seeds=S}
 * workloads (default 20); {@code -Dspillway.seed=X} picks the master seed.
 */
class PoolCrashTest {
    private static final int OBJECTS = 5;

    static PoolConfig config(int replicas) {
        try {
            String y = "name: crashpool\nreplicas: " + replicas + "\ndevices:\n"
                    + "  - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {durability: simulated, strict-declares: true}}\n"
                    + "  - {name: slow0, backend: mem, roles: [background], settings: {durability: simulated, strict-declares: true}}\n"
                    + "  - {name: slow1, backend: mem, roles: [background], settings: {durability: simulated, strict-declares: true}}\n";
            return PoolConfigParser.parse(y, "crash test");
        } catch (OsdException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Client writes and destroys mixed with every data-moving operation of the pool. */
    static void workload(long seed, PoolOsd pool, CrashSwitch sw, CrashCampaign.Model model) throws Exception {
        workload(seed, pool, sw, model, MoveOptions.DEFAULT);
    }

    /** As {@link #workload(long, PoolOsd, CrashSwitch, CrashCampaign.Model)}, batches spilled with {@code batchOptions}. */
    static void workload(long seed, PoolOsd pool, CrashSwitch sw, CrashCampaign.Model model, MoveOptions batchOptions)
            throws Exception {
        Random r = new Random(seed);
        List<PoolDevice> bg = pool.devices().subList(1, pool.devices().size());
        for (int step = 0; step < 70; step++) {
            Fid f = CrashCampaign.object(r.nextInt(OBJECTS));
            int op = r.nextInt(100);
            try {
                if (op < 35) {
                    byte[] body = new byte[1 + r.nextInt(40_000)];
                    r.nextBytes(body);
                    CrashCampaign.write(pool, f, body, r.nextInt(4) == 0, model);
                } else if (op < 42) {
                    if (pool.exists(f)) {
                        CrashCampaign.destroy(pool, f, model);
                    }
                } else if (op < 53) {
                    pool.migrator().spill(f, bg.get(r.nextInt(bg.size())));
                } else if (op < 60) {
                    // A batch: begun in one durable transaction, then written and flipped one by one.
                    List<Fid> batch = new ArrayList<>();
                    for (int k = 2 + r.nextInt(3); k > 0; k--) {
                        batch.add(CrashCampaign.object(r.nextInt(OBJECTS)));
                    }
                    for (Migrator.Spilled sp :
                            pool.migrator().spillAll(batch, bg.get(r.nextInt(bg.size())), batchOptions)) {
                        if (sp.result() instanceof MoveResult.Failed failed) {
                            throw failed.error();
                        }
                    }
                } else if (op < 66) {
                    pool.migrator().copy(f, bg.get(r.nextInt(bg.size())), false);
                } else if (op < 72) {
                    pool.migrator().promote(f);
                } else if (op < 76) {
                    pool.migrator().release(f);
                } else if (op < 80) {
                    pool.migrator().migrate(f, bg.get(0), bg.get(1));
                } else if (op < 84) {
                    var p = pool.object(f);
                    if (p.isPresent() && p.get().copies().size() > 1) {
                        pool.migrator()
                                .dropMirror(
                                        f,
                                        p.get()
                                                .copies()
                                                .get(r.nextInt(p.get().copies().size()))
                                                .mirrorId());
                    }
                } else if (op < 87) {
                    pool.migrator().collectGarbage();
                } else if (op < 91) {
                    // A copy found bad (as a failed checksum would), then rewritten from a good one.
                    var p = pool.object(f);
                    var bad = p.flatMap(x ->
                            x.inSync().stream().filter(c -> c.device() != 0).findFirst());
                    if (bad.isPresent() && p.get().inSync().size() > 1) {
                        pool.migrator().markBad(f, bad.get(), new OsdException(Errno.EIO, "test", f, "injected"));
                        pool.migrator().resync(f, bad.get().device());
                    }
                } else if (op < 94) {
                    // Evacuate a spill device a few objects at a time, then put it back in service.
                    PoolDevice d = bg.get(r.nextInt(bg.size()));
                    var prog = pool.deviceOps().evacuateStep(d, 2);
                    if (prog.done() || r.nextBoolean()) {
                        pool.deviceOps().setState(d, DeviceState.RW);
                    }
                } else {
                    pool.sync();
                }
            } catch (OsdException e) {
                CrashCampaign.refusedOrCrashed(e, sw, step);
            }
        }
    }

    @Test
    void everyCrashPointRecoversWithoutLossOrLeak() throws Exception {
        int points = Integer.getInteger("spillway.crash.points", 2000);
        int seeds = Integer.getInteger("spillway.crash.seeds", 20);
        int ran = CrashCampaign.run(
                "pool crash campaign", points, seeds, s -> config(1 + s % 2), OBJECTS, null, PoolCrashTest::workload);
        assertThat(ran).isEqualTo(points);
    }

    /**
     * The same campaign with a spill batch's copies written side by side (the daemon's
     * {@code spill-writers}): the crash falls on whichever writer makes the chosen call, so a seed
     * does not replay one interleaving exactly — but every interleaving must recover: no copy is
     * flipped before the batch's one sync, whatever order the writers finished in.
     */
    @Test
    void everyCrashPointRecoversWithParallelSpillWriters() throws Exception {
        int points = Integer.getInteger("spillway.crash.points", 2000) / 4;
        int seeds = Integer.getInteger("spillway.crash.seeds", 20) / 4;
        int ran = CrashCampaign.run(
                "pool crash campaign, 3 spill writers",
                points,
                Math.max(1, seeds),
                s -> config(1 + s % 2),
                OBJECTS,
                null,
                (seed, pool, sw, model) -> workload(seed, pool, sw, model, MoveOptions.DEFAULT.withWriters(3)));
        assertThat(ran).isEqualTo(points);
    }

    @Test
    void aCrashSwitchWithoutAPointOnlyCounts() throws Exception {
        PoolConfig c = config(1);
        CrashSwitch sw = new CrashSwitch(0);
        PoolOsd pool = CrashCampaign.mount(c, CrashCampaign.freshDevices(c), sw);
        workload(1, pool, sw, new CrashCampaign.Model());
        assertThat(sw.calls()).isPositive();
        assertThat(sw.crashed()).isFalse();
    }
}
