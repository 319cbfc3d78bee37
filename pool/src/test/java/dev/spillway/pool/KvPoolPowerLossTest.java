package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.OsdException;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pool's power-loss campaign ({@link PowerLossCampaign}) with the embedded default pool's
 * backends: osd-kv as the metadata device (its folder on the fault-injecting storage, RocksDB as
 * it was at the cut) and osd-vfs with journal off as the spill device. Fewer points than {@link
 * PoolPowerLossTest}: each mounts RocksDB twice.
 *
 * <p>{@code -Dspillway.crash.points=N} (default 100) over {@code -Dspillway.crash.seeds=S}
 * workloads (default 5); {@code -Dspillway.seed=X} the master seed.
 */
class KvPoolPowerLossTest {
    private static final int OBJECTS = 5;

    @TempDir
    Path tmp;

    static PoolConfig config(int replicas) {
        try {
            String y = "name: kvpool\nreplicas: " + replicas + "\ndevices:\n"
                    + "  - {name: fast, backend: kv, roles: [metadata, foreground, promote], settings: {path: /on-the-simulated-storage, inline-max: 8KiB, block-cache: 1MiB, strict-declares: true}}\n"
                    + "  - {name: slow0, backend: vfs, roles: [background], settings: {journal: \"off\", sync-threads: 1, strict-declares: true}}\n"
                    + "  - {name: slow1, backend: vfs, roles: [background], settings: {journal: \"off\", sync-threads: 1, strict-declares: true}}\n";
            return PoolConfigParser.parse(y, "kv power-loss test");
        } catch (OsdException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void everyCutRecoversWithoutLossOrLeakOnTheDefaultPoolsBackends() throws Exception {
        int points = Integer.getInteger("spillway.crash.points", 100);
        int seeds = Integer.getInteger("spillway.crash.seeds", 5);
        int ran = PowerLossCampaign.run(
                "kv pool power-loss campaign",
                points,
                seeds,
                s -> config(1 + s % 2),
                OBJECTS,
                PoolCrashTest::workload,
                tmp);
        if (System.getProperty("spillway.crash.replay") == null) {
            assertThat(ran).isEqualTo(points);
        }
    }
}
