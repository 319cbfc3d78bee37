package dev.spillway.migrate.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.filter.FilterOsd;
import dev.spillway.osd.filter.FilterTransaction;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.ops.MoveResult;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A COPY job left behind at run time — its copy failed half-way and its roll-back's own
 * transaction failed — is rolled back by the daemon without a remount, as mount-time recovery
 * would; a COPY job whose copy is still being written is left alone however old it is.
 */
class StuckCopyTest {
    private static final String YAML = """
            name: stuck
            devices:
              - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {capacity: 67108864}}
              - {name: slow0, backend: mem, roles: [background]}
            policy: {high-watermark: 0.8, low-watermark: 0.5, min-resident-age: 10s, spill-streams: 1,
                     checkpoint-interval: 1h, stuck-copy-age: 1m}
            """;

    /** The metadata device: its next transaction can be made to fail at start, once. */
    static final class FailOnce extends FilterOsd {
        final AtomicBoolean armed = new AtomicBoolean();

        FailOnce(Osd in) {
            super(in);
        }

        @Override
        protected Transaction wrap(Transaction tx) {
            return new FilterTransaction(tx) {
                @Override
                public void start() throws OsdException {
                    if (armed.compareAndSet(true, false)) {
                        throw new OsdException(Errno.EIO, name(), null, "injected metadata transaction failure");
                    }
                    super.start();
                }
            };
        }
    }

    /**
     * The spill device: its second write of a copy fails (the copy half-written), arming the
     * metadata device so that the roll-back's transaction fails too; or its first write waits on a
     * latch (a copy in flight).
     */
    static final class Target extends FilterOsd {
        volatile FailOnce md;
        final AtomicBoolean failHalfWay = new AtomicBoolean();
        volatile CountDownLatch entered;
        volatile CountDownLatch release;
        private int writes;

        Target(Osd in) {
            super(in);
        }

        @Override
        protected Transaction wrap(Transaction tx) {
            return new FilterTransaction(tx) {
                @Override
                public void write(Fid fid, long offset, ByteBuffer src) throws OsdException {
                    CountDownLatch hold = release;
                    if (hold != null) {
                        entered.countDown();
                        try {
                            // A guard against a hung run only; the test releases it.
                            if (!hold.await(60, TimeUnit.SECONDS)) {
                                throw new OsdException(Errno.ETIMEDOUT, name(), fid, "test latch never released");
                            }
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new OsdException(Errno.ECANCELED, name(), fid, "interrupted");
                        }
                    }
                    if (failHalfWay.get() && ++writes == 2) {
                        md.armed.set(true);
                        throw new OsdException(Errno.EIO, name(), fid, "injected write error half-way");
                    }
                    super.write(fid, offset, src);
                }
            };
        }
    }

    private final DaemonTest.TestClock clock = new DaemonTest.TestClock();
    private FailOnce md;
    private Target slow;
    private PoolOsd pool;
    private MigrationDaemon daemon;
    private final ExecutorService copier = Executors.newSingleThreadExecutor();

    private void mount() throws OsdException {
        PoolConfig c = PoolConfigParser.parse(YAML, "stuck copy test");
        pool = PoolOsd.mount(c, clock, PoolOsd.MountMode.RECOVER, (d, clk) -> {
            Map<String, Object> s = new HashMap<>(d.settings());
            s.put("strict-declares", true);
            Osd mem = new MemOsd(new OsdConfig(d.name(), "mem", s, clk));
            if (d.name().equals("fast")) {
                md = new FailOnce(mem);
                return md;
            }
            slow = new Target(mem);
            return slow;
        });
        slow.md = md;
        daemon = MigrationDaemon.attach(pool, DaemonConfig.parse(c.policy(), c.name()), clock);
        pool.listener(daemon);
    }

    @AfterEach
    void close() throws Exception {
        if (slow != null && slow.release != null) {
            slow.release.countDown();
        }
        copier.shutdownNow();
        if (daemon != null) {
            daemon.close();
        }
        if (pool != null) {
            pool.close();
        }
    }

    private byte[] write(Fid f, int size) throws OsdException {
        byte[] b = new byte[size];
        new Random(f.oid()).nextBytes(b);
        try (Transaction tx = pool.newTransaction()) {
            tx.declareCreate(f, ObjectKind.DATA);
            tx.declareWrite(f, 0, size);
            tx.start();
            tx.create(f, ObjectKind.DATA, AttrChange.none());
            tx.write(f, 0, ByteBuffer.wrap(b));
        }
        return b;
    }

    private void readsBack(Fid f, byte[] expected) throws OsdException {
        ByteBuffer b = ByteBuffer.allocate(expected.length);
        while (b.hasRemaining()) {
            if (pool.read(f, b.position(), b) <= 0) {
                break;
            }
        }
        assertThat(b.array()).as("body of %s", f).isEqualTo(expected);
    }

    private List<Job> copyJobs() throws OsdException {
        return pool.jobs().stream().filter(j -> j.kind() == Job.Kind.COPY).toList();
    }

    private PoolDevice slow0() {
        return pool.device("slow0").orElseThrow();
    }

    @Test
    void aCopyLeftBehindAtRunTimeIsRolledBackByTheDaemonWithoutARemount() throws Exception {
        mount();
        Fid f = new Fid(0x200000400L, 1, 0);
        byte[] body = write(f, 3 << 20);
        clock.advance(Duration.ofMinutes(1));

        // The copy fails half-way, and so does its roll-back: the COPY job is left behind.
        slow.failHalfWay.set(true);
        assertThatThrownBy(() -> pool.migrator().spill(f, slow0()))
                .isInstanceOfSatisfying(
                        OsdException.class, e -> assertThat(e.getMessage()).contains("injected metadata"));
        slow.failHalfWay.set(false);
        assertThat(copyJobs()).hasSize(1);
        Job left = copyJobs().get(0);

        // Younger than stuck-copy-age: not stuck yet, not touched.
        MigrationDaemon.PassReport r = daemon.runOnce();
        assertThat(r.stuckCopiesRolledBack()).isZero();
        assertThat(copyJobs()).containsExactly(left);

        // Past it, a roll-back that fails again leaves it listed as stuck in the status.
        clock.advance(Duration.ofMinutes(2));
        md.armed.set(true);
        r = daemon.runOnce();
        assertThat(r.stuckCopiesRolledBack()).isZero();
        assertThat(r.errors()).anySatisfy(e -> assertThat(e).contains("stuck copies"));
        assertThat(daemon.status().stuckCopies()).singleElement().satisfies(s -> {
            assertThat(s.fid()).isEqualTo(f.toString());
            assertThat(s.device()).isEqualTo("slow0");
            assertThat(s.copyKey()).isEqualTo(left.key().toString());
            assertThat(s.ageSeconds()).isEqualTo(120.0);
        });

        // The next pass rolls it back, as recovery would, and collects the half-written copy.
        r = daemon.runOnce();
        assertThat(r.stuckCopiesRolledBack()).isEqualTo(1);
        assertThat(r.collected()).isEqualTo(1);
        assertThat(copyJobs()).isEmpty();
        assertThat(pool.jobs()).isEmpty();
        assertThat(daemon.status().stuckCopies()).isEmpty();
        assertThat(daemon.status().stuckCopiesRolledBack()).isEqualTo(1);
        assertThat(pool.requireObject(f).copies()).hasSize(1);
        readsBack(f, body);
        assertThat(pool.fsck(false, true, null).problems()).isEmpty();

        // And the object spills as ever.
        assertThat(pool.migrator().spill(f, slow0())).isInstanceOf(MoveResult.Done.class);
        readsBack(f, body);
        assertThat(pool.fsck(false, true, null).problems()).isEmpty();
    }

    @Test
    void aCopyStillBeingWrittenIsNotRolledBackHoweverOld() throws Exception {
        mount();
        Fid f = new Fid(0x200000400L, 2, 0);
        byte[] body = write(f, 1 << 20);
        clock.advance(Duration.ofMinutes(1));

        slow.entered = new CountDownLatch(1);
        slow.release = new CountDownLatch(1);
        Future<MoveResult> spill = copier.submit(() -> pool.migrator().spill(f, slow0()));
        assertThat(slow.entered.await(60, TimeUnit.SECONDS))
                .as("the copy started")
                .isTrue();
        assertThat(copyJobs()).hasSize(1);

        // Far past stuck-copy-age, the copy still in flight: not stuck, not rolled back.
        clock.advance(Duration.ofHours(1));
        MigrationDaemon.PassReport r = daemon.runOnce();
        assertThat(r.stuckCopiesRolledBack()).isZero();
        assertThat(daemon.status().stuckCopies()).isEmpty();
        assertThat(copyJobs()).hasSize(1);

        slow.release.countDown();
        assertThat(spill.get(60, TimeUnit.SECONDS)).isInstanceOf(MoveResult.Done.class);
        assertThat(pool.jobs()).isEmpty();
        assertThat(pool.requireObject(f).resident(pool.metadataIndex())).isFalse();
        readsBack(f, body);
        assertThat(pool.fsck(false, true, null).problems()).isEmpty();
    }
}
