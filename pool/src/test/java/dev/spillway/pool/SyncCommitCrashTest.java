package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.osd.testkit.fault.CrashSwitch;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.PoolObject;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A crash-point campaign over writes under {@code write-commit: sync 2} ({@link CrashCampaign}):
 * client writes (each a top transaction plus its extra copy) mixed with destroys, spills, garbage
 * collection and syncs, crashed at 1,000 points. After each: recovery, a deep fsck that finds
 * nothing, every acknowledged write byte for byte — and every object whose last write was
 * acknowledged holds its two in-sync copies on distinct durable devices (the acknowledgement
 * promised them).
 *
 * <p>{@code -Dspillway.crash.points=N} (default 1,000) over {@code -Dspillway.crash.seeds=S}
 * workloads (default 10); {@code -Dspillway.seed=X} picks the master seed.
 */
class SyncCommitCrashTest {
    private static final int OBJECTS = 4;

    static PoolConfig config(int seed) {
        try {
            String y = "name: synccrash\nreplicas: 2\nwrite-commit: sync 2\ndevices:\n"
                    + "  - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {durability: simulated, strict-declares: true}}\n"
                    + "  - {name: slow0, backend: mem, roles: [background], settings: {durability: simulated, strict-declares: true}}\n"
                    + "  - {name: slow1, backend: mem, roles: [background], settings: {durability: simulated, strict-declares: true}}\n";
            return PoolConfigParser.parse(y, "sync crash test");
        } catch (OsdException e) {
            throw new IllegalStateException(e);
        }
    }

    static void workload(long seed, PoolOsd pool, CrashSwitch sw, CrashCampaign.Model model) throws Exception {
        Random r = new Random(seed);
        List<PoolDevice> bg = pool.devices().subList(1, pool.devices().size());
        for (int step = 0; step < 30; step++) {
            Fid f = CrashCampaign.object(r.nextInt(OBJECTS));
            int op = r.nextInt(100);
            try {
                if (op < 60) {
                    byte[] body = new byte[1 + r.nextInt(30_000)];
                    r.nextBytes(body);
                    CrashCampaign.write(pool, f, body, r.nextBoolean(), model);
                } else if (op < 70) {
                    if (pool.exists(f)) {
                        CrashCampaign.destroy(pool, f, model);
                    }
                } else if (op < 80) {
                    pool.migrator().spill(f, bg.get(r.nextInt(bg.size())));
                } else if (op < 90) {
                    pool.migrator().collectGarbage();
                } else {
                    pool.sync();
                }
            } catch (OsdException e) {
                CrashCampaign.refusedOrCrashed(e, sw, step);
            }
        }
    }

    /** Every object whose last write was acknowledged has two in-sync copies of it on distinct durable devices. */
    static void ackedWritesHaveTheirCopies(PoolOsd pool, CrashCampaign.Model model, String where) throws Exception {
        for (int i = 0; i < OBJECTS; i++) {
            Fid f = CrashCampaign.object(i);
            List<byte[]> states = model.states.getOrDefault(f, List.of());
            int acked = model.acked.getOrDefault(f, -1);
            if (acked < 0 || acked != states.size() - 1 || states.get(acked) == null) {
                continue; // nothing acknowledged, a later write not acknowledged, or destroyed
            }
            Optional<PoolObject> p = pool.object(f);
            assertThat(p).as("%s: acknowledged, so present (%s)", f, where).isPresent();
            long devices = p.get().inSync().stream()
                    .filter(c -> c.version() == p.get().dataVersion()
                            && pool.device(c.device()).durability() > 0)
                    .mapToInt(Copy::device)
                    .distinct()
                    .count();
            assertThat(devices)
                    .as("%s: its last write was acknowledged under sync 2, layout %s (%s)", f, p.get(), where)
                    .isGreaterThanOrEqualTo(2);
        }
    }

    @Test
    void everyCrashPointLeavesTheOldOrTheNewVersionAndAcknowledgedCopies() throws Exception {
        int points = Integer.getInteger("spillway.crash.points", 1000);
        int seeds = Integer.getInteger("spillway.crash.seeds", 10);
        int ran = CrashCampaign.run(
                "sync write-commit crash campaign",
                points,
                seeds,
                SyncCommitCrashTest::config,
                OBJECTS,
                null,
                SyncCommitCrashTest::workload,
                SyncCommitCrashTest::ackedWritesHaveTheirCopies);
        assertThat(ran).isEqualTo(points);
    }

    @Test
    void withoutACrashEveryWriteIsAcknowledgedWithTwoCopies() throws Exception {
        PoolConfig c = config(0);
        CrashSwitch sw = new CrashSwitch(0);
        List<MemOsd> raw = CrashCampaign.freshDevices(c);
        PoolOsd pool = CrashCampaign.mount(c, raw, sw);
        CrashCampaign.Model model = new CrashCampaign.Model();
        workload(7, pool, sw, model);
        assertThat(sw.crashed()).isFalse();
        assertThat(model.acked).isNotEmpty();
        ackedWritesHaveTheirCopies(pool, model, "no crash");
    }
}
