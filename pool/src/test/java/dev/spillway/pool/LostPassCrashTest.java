package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.testkit.fault.CrashSwitch;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.device.DeviceTable;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.PoolObject;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A crash-point campaign over a device failure ({@link CrashCampaign}): objects get copies on
 * slow0 and on the fast device or slow1, slow0 is set failed (FAILED persisted with the pass's
 * cursor, then the lost-marking pass), clients keep writing, the lost copies are replaced and
 * garbage collected — crashed at 300 points. After each: the pool mounts (resuming an interrupted
 * pass), fsck is clean, every acknowledged write is there byte for byte, and if slow0 is failed
 * no copy there is still counted in sync or stale and no pass is left under way.
 *
 * <p>{@code -Dspillway.crash.points=N} (default 300) over {@code -Dspillway.crash.seeds=S}
 * workloads (default 10); {@code -Dspillway.seed=X} picks the master seed.
 */
class LostPassCrashTest {
    private static final int OBJECTS = 6;

    static PoolConfig config(int seed) {
        try {
            String y = "name: lostcrash\nreplicas: 2\ndevices:\n"
                    + "  - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {durability: simulated, strict-declares: true}}\n"
                    + "  - {name: slow0, backend: mem, roles: [background], settings: {durability: simulated, strict-declares: true}}\n"
                    + "  - {name: slow1, backend: mem, roles: [background], settings: {durability: simulated, strict-declares: true}}\n"
                    + "  - {name: slow2, backend: mem, roles: [background], settings: {durability: simulated, strict-declares: true}}\n";
            return PoolConfigParser.parse(y, "lost pass crash test");
        } catch (OsdException e) {
            throw new IllegalStateException(e);
        }
    }

    static void workload(long seed, PoolOsd pool, CrashSwitch sw, CrashCampaign.Model model) throws Exception {
        Random r = new Random(seed);
        try {
            // Every object gets a copy on slow0 and one that survives it (fast, or slow1 too).
            for (int i = 0; i < OBJECTS; i++) {
                Fid f = CrashCampaign.object(i);
                byte[] body = new byte[1 + r.nextInt(20_000)];
                r.nextBytes(body);
                CrashCampaign.write(pool, f, body, true, model);
                pool.migrator().copy(f, pool.device(1), false);
                if (r.nextBoolean()) {
                    pool.migrator().spill(f, pool.device(2));
                }
            }
            pool.sync();
            pool.deviceOps().setState(pool.device(1), DeviceState.FAILED);
            // Clients go on; one object changes (its lost copy becomes garbage).
            Fid f = CrashCampaign.object(r.nextInt(OBJECTS));
            byte[] body = new byte[1 + r.nextInt(20_000)];
            r.nextBytes(body);
            CrashCampaign.write(pool, f, body, r.nextBoolean(), model);
            pool.deviceOps().replaceLost(pool.device(1), 1 + r.nextInt(OBJECTS));
            pool.migrator().collectGarbage();
            pool.sync();
        } catch (OsdException e) {
            if (sw.crashed()) {
                throw e;
            }
            if (!e.is(Errno.EBUSY)) {
                throw new AssertionError("failed without a crash: " + e.getMessage(), e);
            }
        }
    }

    /** A failed slow0 holds no copy that counts, and its pass is finished. */
    static void failedMeansLost(PoolOsd pool, CrashCampaign.Model model, String where) throws Exception {
        if (pool.device(1).state() != DeviceState.FAILED) {
            return;
        }
        assertThat(DeviceTable.lostCursor(pool.metadata().osd(), 1))
                .as("the lost pass ended at mount (%s)", where)
                .isEmpty();
        for (int i = 0; i < OBJECTS; i++) {
            Optional<PoolObject> p = pool.object(CrashCampaign.object(i));
            if (p.isEmpty()) {
                continue;
            }
            for (Copy c : p.get().copies()) {
                if (c.device() == 1) {
                    assertThat(c.state())
                            .as("copy on failed slow0 of %s: %s (%s)", CrashCampaign.object(i), p.get(), where)
                            .isIn(CopyState.LOST, CopyState.PENDING);
                }
            }
        }
        var totals = pool.copyTotals().getOrDefault(1, Map.of());
        assertThat(totals.getOrDefault(CopyState.IN_SYNC, new long[2])[1])
                .as(where)
                .isZero();
        assertThat(totals.getOrDefault(CopyState.STALE, new long[2])[1])
                .as(where)
                .isZero();
    }

    @Test
    void everyCrashPointMountsCleanWithTheFailedDevicesCopiesLost() throws Exception {
        int points = Integer.getInteger("spillway.crash.points", 300);
        int seeds = Integer.getInteger("spillway.crash.seeds", 10);
        int ran = CrashCampaign.run(
                "lost-marking pass crash campaign",
                points,
                seeds,
                LostPassCrashTest::config,
                OBJECTS,
                null,
                LostPassCrashTest::workload,
                LostPassCrashTest::failedMeansLost);
        assertThat(ran).isEqualTo(points);
    }
}
