package dev.spillway.migrate.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.SpaceClass;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.filter.FilterOsd;
import dev.spillway.osd.filter.FilterTransaction;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.ops.CapacityControl;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The daemon on a full fast tier (issue 12), under a clock the test moves: the emergency spill
 * starts from a device full to the last byte clients may use; a spill failed by the metadata
 * device does not back its target off; a fast tier shrunk below what it holds is spilled down to
 * its new size; chores run every pass.
 */
class FullTierDaemonTest {
    /** The metadata device, whose next {@code failReserved} RESERVED starts fail with ENOSPC. */
    static final class Refusing extends FilterOsd {
        final AtomicInteger failReserved = new AtomicInteger();

        Refusing(Osd in) {
            super(in);
        }

        @Override
        protected Transaction wrap(Transaction tx) {
            return new FilterTransaction(tx) {
                SpaceClass space = SpaceClass.CLIENT;

                @Override
                public void setSpaceClass(SpaceClass c) throws OsdException {
                    space = c;
                    super.setSpaceClass(c);
                }

                @Override
                public void start() throws OsdException {
                    if (space == SpaceClass.RESERVED && failReserved.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                        throw new OsdException(Errno.ENOSPC, name(), null, "injected: no room for the spill's begin");
                    }
                    super.start();
                }
            };
        }
    }

    private final DaemonTest.TestClock clock = new DaemonTest.TestClock();
    private PoolOsd pool;
    private MigrationDaemon daemon;
    private Refusing fast;
    private int next = 1;

    private void mount(long fastCapacity) throws OsdException {
        mount(fastCapacity, "0s");
    }

    private void mount(long fastCapacity, String writerWait) throws OsdException {
        PoolConfig c = PoolConfigParser.parse("""
                name: full
                devices:
                  - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {capacity: %d, strict-declares: true}}
                  - {name: slow, backend: mem, roles: [background], settings: {strict-declares: true}}
                policy: {high-watermark: 0.8, low-watermark: 0.5, min-resident-age: 0s, checkpoint-interval: 1h, spill-streams: 1}
                space: {writer-wait: %s}
                """.formatted(fastCapacity, writerWait), "full tier daemon test");
        pool = PoolOsd.mount(c, clock, PoolOsd.MountMode.RECOVER, (d, clk) -> {
            Osd o = new MemOsd(new OsdConfig(d.name(), "mem", d.settings(), clk));
            if (d.index() == 0) {
                fast = new Refusing(o);
                return fast;
            }
            return o;
        });
    }

    private void attach() throws OsdException {
        daemon = MigrationDaemon.attach(pool, DaemonConfig.parse(pool.config().policy(), pool.name()), clock);
        pool.listener(daemon);
    }

    private boolean write(int size) throws OsdException {
        Fid f = new Fid(0x200000400L, next++, 0);
        byte[] b = new byte[size];
        new Random(f.oid()).nextBytes(b);
        try (Transaction tx = pool.newTransaction()) {
            tx.declareCreate(f, ObjectKind.DATA);
            tx.declareWrite(f, 0, size);
            tx.start();
            tx.create(f, ObjectKind.DATA, AttrChange.none());
            tx.write(f, 0, ByteBuffer.wrap(b));
            return true;
        } catch (OsdException e) {
            if (e.is(Errno.ENOSPC)) {
                return false;
            }
            throw e;
        }
    }

    /** Writes until not even 4 KiB fits for a client. */
    private void fillToTheBoundary() throws OsdException {
        for (int size = 64 << 10; size >= 4096; size /= 2) {
            while (write(size)) {
                // keep filling
            }
        }
    }

    @Test
    void theEmergencySpillStartsFromAFullTier() throws Exception {
        mount(4L << 20);
        attach();
        fillToTheBoundary();
        long avail = pool.metadataStatfs().availableBytes();
        assertThat(avail).as("clients see the tier full").isLessThan(8192);
        // The writer waits on its own thread while the daemon spills (its begin uses the reserve).
        assertThat(pool.config().space().writerWait()).isZero();
        MigrationDaemon d = daemon;
        assertThat(d.reclaim(
                        256 << 10,
                        List.of(),
                        System.nanoTime() + Duration.ofMinutes(5).toNanos()))
                .as("the emergency spill made room on a full tier")
                .isTrue();
        assertThat(write(64 << 10)).isTrue();
        assertThat(d.status().moves()).containsKey("emergency/DONE");
        assertThat(pool.fsck(false, true, null).problems()).isEmpty();
    }

    @Test
    void thePassMakesRoomForTheWritersWaitingForIt() throws Exception {
        // The writer's wait is a guard only (a hung run ends); the verdict is the pass's.
        mount(8L << 20, "10m");
        attach();
        // 5 MiB of 8: below the high watermark (6.4 MiB), so the tier alone asks for no spill.
        for (int i = 0; i < 80; i++) {
            assertThat(write(64 << 10)).isTrue();
        }
        // Only the daemon's pass may make the room: no emergency spill on the writer's thread.
        pool.spaceReclaimer(null);
        int big = (int) (pool.metadataStatfs().availableBytes() + (1 << 20));
        boolean[] wrote = new boolean[1];
        Exception[] failed = new Exception[1];
        Thread writer = Thread.ofPlatform().start(() -> {
            try {
                wrote[0] = write(big);
            } catch (Exception e) {
                failed[0] = e;
            }
        });
        long guard = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        while (pool.roomQueue().stats().waiting() == 0 && writer.isAlive() && System.nanoTime() < guard) {
            Thread.sleep(1);
        }
        assertThat(pool.roomQueue().waitingBytes())
                .as("the waiting writer's bytes")
                .isGreaterThanOrEqualTo(big);
        MigrationDaemon.PassReport r = daemon.runOnce();
        assertThat(r.spilled()).as("the pass spilled for the waiting writer").isPositive();
        writer.join(Duration.ofMinutes(5));
        assertThat(failed[0]).isNull();
        assertThat(wrote[0]).as("the writer got its room").isTrue();
        assertThat(pool.roomQueue().waitingBytes()).isZero();
    }

    @Test
    void aSpillFailedByTheMetadataDeviceDoesNotBackTheTargetOff() throws Exception {
        mount(8L << 20);
        attach();
        for (int i = 0; i < 110; i++) {
            write(64 << 10);
        }
        fast.failReserved.set(Integer.MAX_VALUE);
        MigrationDaemon.PassReport first = daemon.runOnce();
        fast.failReserved.set(0);
        assertThat(first.errors()).anyMatch(e -> e.contains("injected"));
        assertThat(daemon.status().backoffs()).as("the target is not blamed").isEmpty();
        // Same instant: a backed-off target would be skipped ("no background device has room").
        MigrationDaemon.PassReport second = daemon.runOnce();
        assertThat(second.errors()).noneMatch(e -> e.contains("no background device has room"));
        assertThat(second.spilled()).isPositive();
    }

    @Test
    void aFastTierShrunkBelowWhatItHoldsIsSpilledDownToItsNewSize() throws Exception {
        mount(8L << 20);
        attach();
        for (int i = 0; i < 70; i++) {
            write(64 << 10);
        }
        long used = pool.metadataStatfs().usedBytes();
        long want = 4L << 20;
        assertThat(used).isGreaterThan(want);
        CapacityControl.Resize r = pool.capacity().resize(pool.device(pool.metadataIndex()), want);
        assertThat(r.applied()).isFalse();
        assertThat(r.toSpill()).isPositive();
        assertThat(pool.capacity().target()).hasValue(want);
        for (int i = 0; i < 10 && pool.capacity().target().isPresent(); i++) {
            daemon.runOnce();
        }
        assertThat(pool.capacity().target()).as("applied once spilled").isEmpty();
        assertThat(pool.metadataStatfs().totalBytes()).isEqualTo(want);
        assertThat(pool.metadataStatfs().usedBytes()
                        + pool.reservePlan().orElseThrow().total())
                .isLessThanOrEqualTo(want);
        assertThat(pool.fsck(false, true, null).problems()).isEmpty();
        // Growing applies at once.
        assertThat(pool.capacity()
                        .resize(pool.device(pool.metadataIndex()), 16L << 20)
                        .applied())
                .isTrue();
        assertThat(pool.metadataStatfs().totalBytes()).isEqualTo(16L << 20);
    }

    @Test
    void aCapacityBelowTheReserveIsRefused() throws Exception {
        mount(8L << 20);
        long min = pool.capacity().minimum();
        try {
            pool.capacity().resize(pool.device(pool.metadataIndex()), min - 1);
            throw new AssertionError("resize below the minimum was accepted");
        } catch (OsdException e) {
            assertThat(e.errno()).isEqualTo(Errno.EINVAL);
            assertThat(e.getMessage()).contains("smallest fast tier");
        }
    }

    @Test
    void choresRunEveryPassAndTheirFailuresAreReported() throws Exception {
        mount(8L << 20);
        attach();
        AtomicInteger runs = new AtomicInteger();
        daemon.addChore("count", () -> runs.incrementAndGet() == 1 ? 3 : 0);
        daemon.addChore("broken", () -> {
            throw new OsdException(Errno.EIO, "x", null, "chore failed");
        });
        MigrationDaemon.PassReport r = daemon.runOnce();
        daemon.runOnce();
        assertThat(runs.get()).isEqualTo(2);
        assertThat(daemon.choresDone()).containsEntry("count", 3L).containsEntry("broken", 0L);
        assertThat(r.errors()).anyMatch(e -> e.contains("broken") && e.contains("chore failed"));
    }
}
