package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.OsdException;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import org.junit.jupiter.api.Test;

/**
 * The pool's crash campaign ({@link PoolCrashTest}'s workload: client writes and destroys,
 * spills, batches, copies, promotes, releases, migrations, mirror drops, resyncs, evacuation
 * steps, garbage collection, syncs) on a machine under power cuts ({@link PowerLossCampaign}):
 * the metadata device is osd-mem with simulated durability, the spill devices osd-vfs with
 * journal off and on, their files on the fault-injecting storage in every crash mode. After
 * each cut: recovery, a deep fsck, every acknowledged write byte for byte.
 *
 * <p>{@code -Dspillway.crash.points=N} (default 2,000) over {@code -Dspillway.crash.seeds=S}
 * workloads (default 20); {@code -Dspillway.seed=X} the master seed.
 */
class PoolPowerLossTest {
    private static final int OBJECTS = 5;

    static PoolConfig config(int replicas) {
        try {
            String y = "name: powerpool\nreplicas: " + replicas + "\ndevices:\n"
                    + "  - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {durability: simulated, strict-declares: true}}\n"
                    + "  - {name: slow0, backend: vfs, roles: [background], settings: {journal: \"off\", sync-threads: 1, strict-declares: true}}\n"
                    + "  - {name: slow1, backend: vfs, roles: [background], settings: {journal: \"on\", sync-threads: 1, journal-segment-size: 64KiB, strict-declares: true}}\n";
            return PoolConfigParser.parse(y, "power-loss test");
        } catch (OsdException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void everyCutRecoversWithoutLossOrLeakWhateverTheSpillDevicesKept() throws Exception {
        int points = Integer.getInteger("spillway.crash.points", 2000);
        int seeds = Integer.getInteger("spillway.crash.seeds", 20);
        int ran = PowerLossCampaign.run(
                "pool power-loss campaign",
                points,
                seeds,
                s -> config(1 + s % 2),
                OBJECTS,
                PoolCrashTest::workload,
                null);
        if (System.getProperty("spillway.crash.replay") == null) {
            assertThat(ran).isEqualTo(points);
        }
    }
}
