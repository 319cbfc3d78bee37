package dev.spillway.migrate.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.migrate.heat.ObjectHeat;
import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Transaction;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/**
 * After a crash, objects written since the last heat checkpoint are unknown to the tracker: the
 * daemon adopts them from the pool's index of resident objects, one part a pass, each with its
 * logical size, so that they can be spilled.
 */
class DaemonAdoptTest {
    private static final String YAML = """
            name: adopt
            devices:
              - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {capacity: 10485760}}
              - {name: slow, backend: mem, roles: [background]}
            policy: {checkpoint-interval: 1h}
            """;

    private final DaemonTest.TestClock clock = new DaemonTest.TestClock();

    @Test
    void residentsUnknownToHeatAreAdoptedWithTheirSizesOnePartAPass() throws Exception {
        PoolConfig c = PoolConfigParser.parse(YAML, "adopt test");
        try (PoolOsd pool = PoolOsd.mount(c, clock, PoolOsd.MountMode.RECOVER)) {
            // Written with no daemon listening: as after a crash that lost the heat since its checkpoint.
            int n = 40;
            for (int i = 1; i <= n; i++) {
                Fid f = fid(i);
                try (Transaction tx = pool.newTransaction()) {
                    tx.declareCreate(f, ObjectKind.DATA);
                    tx.declareWrite(f, 0, 100L * i);
                    tx.start();
                    tx.create(f, ObjectKind.DATA, AttrChange.none());
                    tx.write(f, 0, ByteBuffer.allocate(100 * i));
                }
            }
            try (MigrationDaemon daemon =
                    MigrationDaemon.attach(pool, DaemonConfig.parse(c.policy(), c.name()), clock)) {
                assertThat(daemon.heat().lookup(fid(1))).isEmpty();
                for (int pass = 0; pass < pool.residentParts(); pass++) {
                    daemon.runOnce();
                }
                for (int i = 1; i <= n; i++) {
                    assertThat(daemon.heat().lookup(fid(i)))
                            .as("object %d", i)
                            .map(ObjectHeat::sizeBytes)
                            .contains(100L * i);
                }
            }
        }
    }

    private static Fid fid(int i) {
        return new Fid(0x200000400L, i, 0);
    }
}
