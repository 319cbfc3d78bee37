package dev.spillway.migrate.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.testkit.fault.CrashSwitch;
import dev.spillway.pool.CrashCampaign;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import java.nio.ByteBuffer;
import java.time.InstantSource;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The daemon's crash-point campaign: a fast tier of 1 MiB that client writes keep overfilling, so
 * writers constantly wait on emergency spills run on their own threads, while daemon passes,
 * promotions from reads and destroys go on; crashed at 500 points (default), each followed by
 * recovery, a deep fsck and a check that no acknowledged write was lost.
 * {@code -Dspillway.daemon.crash.points=N}.
 */
class DaemonCrashTest {
    private static final int OBJECTS = 12;
    private static MigrationDaemon daemon;

    static PoolConfig config() {
        try {
            return PoolConfigParser.parse("""
                    name: daemoncrash
                    devices:
                      - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {capacity: 1MiB, durability: simulated, strict-declares: true}}
                      - {name: slow0, backend: mem, roles: [background], settings: {durability: simulated, strict-declares: true}}
                    policy: {high-watermark: 0.7, low-watermark: 0.5, min-resident-age: 0s, promote-hits: 2, probation-share: 0, spill-streams: 1}
                    space: {writer-wait: 2s}
                    """, "daemon crash test");
        } catch (OsdException e) {
            throw new IllegalStateException(e);
        }
    }

    static void attach(PoolOsd pool) throws OsdException {
        daemon = MigrationDaemon.attach(
                pool, DaemonConfig.parse(pool.config().policy(), pool.name()), InstantSource.system());
        pool.listener(daemon);
    }

    static void workload(long seed, PoolOsd pool, CrashSwitch sw, CrashCampaign.Model model) throws Exception {
        Random r = new Random(seed);
        for (int step = 0; step < 60; step++) {
            Fid f = CrashCampaign.object(r.nextInt(OBJECTS));
            int op = r.nextInt(100);
            try {
                if (op < 55) {
                    byte[] body = new byte[20_000 + r.nextInt(120_000)];
                    r.nextBytes(body);
                    CrashCampaign.write(pool, f, body, r.nextInt(3) == 0, model);
                } else if (op < 62) {
                    if (pool.exists(f)) {
                        CrashCampaign.destroy(pool, f, model);
                    }
                } else if (op < 80) {
                    if (pool.exists(f)) {
                        pool.read(f, 0, ByteBuffer.allocate(4096));
                    }
                } else if (op < 92) {
                    daemon.runOnce();
                } else {
                    pool.sync();
                }
            } catch (OsdException e) {
                if (sw.crashed()) {
                    throw e;
                }
                // A tier full of objects locked by the writer itself may still say ENOSPC; nothing else is expected.
                if (!e.is(Errno.ENOSPC) && !e.is(Errno.ENOENT) && !e.is(Errno.EBUSY)) {
                    throw new AssertionError("step " + step + " failed without a crash: " + e.getMessage(), e);
                }
            }
        }
    }

    @Test
    void theEmergencyPathNeverLosesAnAcknowledgedWrite() throws Exception {
        int points = Integer.getInteger("spillway.daemon.crash.points", 500);
        int ran = CrashCampaign.run(
                "daemon crash campaign",
                points,
                10,
                s -> config(),
                OBJECTS,
                DaemonCrashTest::attach,
                DaemonCrashTest::workload);
        assertThat(ran).isEqualTo(points);
    }

    @Test
    void withoutACrashWritersAreSlowedNotFailed() throws Exception {
        PoolConfig c = config();
        PoolOsd pool = CrashCampaign.mount(c, CrashCampaign.freshDevices(c), new CrashSwitch(0));
        attach(pool);
        Random r = new Random(3);
        CrashCampaign.Model model = new CrashCampaign.Model();
        for (int i = 0; i < 60; i++) {
            byte[] body = new byte[100_000];
            r.nextBytes(body);
            CrashCampaign.write(pool, CrashCampaign.object(i % OBJECTS), body, false, model);
        }
        assertThat(daemon.status().moves()).containsKey("emergency/DONE");
    }
}
