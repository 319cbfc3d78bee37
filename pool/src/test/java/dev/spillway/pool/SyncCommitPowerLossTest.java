package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.OsdException;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import org.junit.jupiter.api.Test;

/**
 * {@link SyncCommitCrashTest}'s workload (client writes under {@code write-commit: sync 2}, each a
 * top transaction plus its extra copy, mixed with destroys, spills, garbage collection and syncs)
 * on a machine under power cuts ({@link PowerLossCampaign}): the extra copies go to osd-vfs with
 * journal off — the bench's spill device, whose new copy is created by {@code O_EXCL} and gets its
 * record once, as its transaction ends — on the fault-injecting storage in every crash mode. After
 * each cut: recovery, a deep fsck, every acknowledged write byte for byte.
 *
 * <p>{@code -Dspillway.crash.points=N} (default 400) over {@code -Dspillway.crash.seeds=S}
 * workloads (default 8); {@code -Dspillway.seed=X} the master seed.
 */
class SyncCommitPowerLossTest {
    static PoolConfig config(int seed) {
        try {
            String y = "name: syncpower\nreplicas: 2\nwrite-commit: sync 2\ndevices:\n"
                    + "  - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {durability: simulated, strict-declares: true}}\n"
                    + "  - {name: slow0, backend: vfs, roles: [background], settings: {journal: \"off\", sync-threads: 1, strict-declares: true}}\n"
                    + "  - {name: slow1, backend: vfs, roles: [background], settings: {journal: \"off\", sync-threads: 1, strict-declares: true}}\n";
            return PoolConfigParser.parse(y, "sync power-loss test");
        } catch (OsdException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void everyCutLeavesTheOldOrTheNewVersionWithCopiesOnVfs() throws Exception {
        int points = Integer.getInteger("spillway.crash.points", 400);
        int seeds = Integer.getInteger("spillway.crash.seeds", 8);
        int ran = PowerLossCampaign.run(
                "sync write-commit power-loss campaign",
                points,
                seeds,
                SyncCommitPowerLossTest::config,
                4,
                SyncCommitCrashTest::workload,
                null);
        if (System.getProperty("spillway.crash.replay") == null) {
            assertThat(ran).isEqualTo(points);
        }
    }
}
