package dev.spillway.migrate.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.meta.CopyState;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The daemon with a read-cache device: a hot spilled object is promoted to the cache, not to the
 * fast tier, and its reads from the cache do not promote it again.
 */
class DaemonCacheTest {
    private static final String YAML = """
            name: cached
            devices:
              - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {capacity: 10485760, strict-declares: true}}
              - {name: slow0, backend: mem, roles: [background], settings: {strict-declares: true}}
              - {name: ram, backend: mem, roles: [cache], settings: {strict-declares: true}}
            policy: {high-watermark: 0.8, low-watermark: 0.5, min-resident-age: 10s, promote-hits: 2, probation-share: 0,
                     spill-streams: 1, checkpoint-interval: 1h}
            """;

    private final DaemonTest.TestClock clock = new DaemonTest.TestClock();

    @Test
    void aHotSpilledObjectIsPromotedToTheCacheOnceAndReadFromThere() throws Exception {
        PoolConfig c = PoolConfigParser.parse(YAML, "cache test");
        try (PoolOsd pool = PoolOsd.mount(c, clock, PoolOsd.MountMode.RECOVER);
                MigrationDaemon daemon =
                        MigrationDaemon.attach(pool, DaemonConfig.parse(c.policy(), c.name()), clock)) {
            pool.listener(daemon);
            Fid f = new Fid(0x200000400L, 1, 0);
            byte[] body = new byte[100_000];
            new Random(1).nextBytes(body);
            try (Transaction tx = pool.newTransaction()) {
                tx.declareCreate(f, ObjectKind.DATA);
                tx.declareWrite(f, 0, body.length);
                tx.start();
                tx.create(f, ObjectKind.DATA, AttrChange.none());
                tx.write(f, 0, ByteBuffer.wrap(body));
            }
            clock.advance(Duration.ofMinutes(1));
            pool.migrator().spill(f, pool.device("slow0").orElseThrow());
            daemon.heat().markSpilled(f);
            read(pool, f, body);
            daemon.runOnce();
            int ram = pool.device("ram").orElseThrow().index();
            assertThat(pool.requireObject(f).resident(pool.metadataIndex()))
                    .as("the fast tier is left alone")
                    .isFalse();
            assertThat(pool.requireObject(f).on(ram).orElseThrow().state()).isEqualTo(CopyState.IN_SYNC);
            assertThat(daemon.status().moves()).containsEntry("promote/DONE", 1L);
            for (int i = 0; i < 5; i++) {
                clock.advance(Duration.ofSeconds(30));
                read(pool, f, body);
                daemon.runOnce();
            }
            assertThat(daemon.status().moves())
                    .as("reads from the cache do not promote again")
                    .containsEntry("promote/DONE", 1L)
                    .doesNotContainKey("promote/NOTHING_TO_DO");
            assertThat(pool.fsck(false, true, null).problems()).isEmpty();
        }
    }

    /**
     * A spilled object read again soon after a spill pass took it is a hit its part of the tier
     * would have had with more room (its ghost): the trial share moves by it wherever the read
     * was served from. Here the object got a cache copy after it was spilled (a promotion the
     * daemon did not decide: the admin's), so its first read since is served by the cache — and
     * must still shrink the share, as the same read served by the spill device would (a return to
     * the main part's ghost). It used to consume the ghost and leave the share as it was.
     */
    @Test
    void aReturnServedByTheCacheStillMovesTheTrialShare() throws Exception {
        PoolConfig c = PoolConfigParser.parse(YAML.replace("probation-share: 0", "probation-share: 0.1"), "cache test");
        try (PoolOsd pool = PoolOsd.mount(c, clock, PoolOsd.MountMode.RECOVER);
                MigrationDaemon daemon =
                        MigrationDaemon.attach(pool, DaemonConfig.parse(c.policy(), c.name()), clock)) {
            pool.listener(daemon);
            Fid f = new Fid(0x200000400L, 1, 0);
            byte[] body = new byte[100_000];
            new Random(2).nextBytes(body);
            try (Transaction tx = pool.newTransaction()) {
                tx.declareCreate(f, ObjectKind.DATA);
                tx.declareWrite(f, 0, body.length);
                tx.start();
                tx.create(f, ObjectKind.DATA, AttrChange.none());
                tx.write(f, 0, ByteBuffer.wrap(body));
            }
            daemon.runOnce(); // learns the fast tier's capacity
            clock.advance(Duration.ofMinutes(1));
            // Spilled from the main part, as a pass spills it: its ghost is marked.
            pool.migrator().spill(f, pool.device("slow0").orElseThrow());
            daemon.heat().markSpilled(f);
            pool.migrator().promote(f);
            int ram = pool.device("ram").orElseThrow().index();
            assertThat(pool.requireObject(f).on(ram)).isPresent();
            double before = daemon.policy().trialShare();
            read(pool, f, body);
            assertThat(daemon.policy().trialShare())
                    .as("a return to the main part's ghost, served by the cache, shrinks the trial share")
                    .isLessThan(before);
            double after = daemon.policy().trialShare();
            read(pool, f, body);
            assertThat(daemon.policy().trialShare())
                    .as("the ghost is used up by the first read")
                    .isEqualTo(after);
        }
    }

    private static void read(PoolOsd pool, Fid f, byte[] expected) throws OsdException {
        ByteBuffer b = ByteBuffer.allocate(expected.length);
        while (b.hasRemaining()) {
            if (pool.read(f, b.position(), b) <= 0) {
                break;
            }
        }
        assertThat(b.array()).isEqualTo(expected);
    }
}
