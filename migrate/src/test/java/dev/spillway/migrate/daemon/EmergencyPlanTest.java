package dev.spillway.migrate.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.migrate.heat.TestClock;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.StatFs;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.filter.FilterOsd;
import dev.spillway.osd.filter.FilterTransaction;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.PoolObjectCodec;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The emergency plan (a writer waiting for room, {@link MigrationDaemon#reclaim}) beside its
 * failures and the spill pass: mem devices under a clock the test moves, {@code reclaim} called
 * as the pool calls it on a writer's thread, with no deadline (the writer's wait decides nothing
 * here). Interleavings are made with latches on the spill device, never with time. After each
 * test a deep fsck finds nothing.
 */
class EmergencyPlanTest {
    static final int EXT = 256 * 1024;
    static final int BIG = 4 * EXT;

    private static final String YAML = """
            name: emergency
            replicas: 1
            devices:
              - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {capacity: %d}}
              - {name: slow0, backend: mem, roles: [background]}
              - {name: slow1, backend: mem, roles: [background]}
            policy: {high-watermark: 0.4, low-watermark: 0.2, min-resident-age: 10s, promote-hits: 2, probation-share: 0,
                     spill-streams: 1, checkpoint-interval: 1h, extent-threshold: 1MiB, extent-size: 256KiB}
            """;

    private final TestClock clock = new TestClock();
    private PoolOsd pool;
    private MigrationDaemon daemon;
    private ExecutorService writer;
    private int next = 1;

    /** While set, reads of this object's pool record fail (EIO) once a committed transaction released part of its body. */
    private volatile Fid recordFault;

    private final AtomicBoolean recordFails = new AtomicBoolean();

    /** While set, the next body write on slow0 says so and waits for {@link #release}; slow0 then reports itself full. */
    private final AtomicBoolean gateArmed = new AtomicBoolean();

    private final AtomicBoolean slow0Full = new AtomicBoolean();
    private final CountDownLatch gateReached = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);

    /** The metadata device: its record reads fail as {@link #recordFault} says. */
    private final class RecordFault extends FilterOsd {
        RecordFault(Osd in) {
            super(in);
        }

        @Override
        public byte[] getXattr(Fid fid, String name) throws OsdException {
            if (recordFails.get() && fid.equals(recordFault) && name.equals(PoolObjectCodec.XATTR)) {
                throw new OsdException(Errno.EIO, name(), fid, "record read failed (test)");
            }
            return super.getXattr(fid, name);
        }

        @Override
        protected Transaction wrap(Transaction tx) {
            return new FilterTransaction(tx) {
                private boolean released;

                @Override
                public void punch(Fid fid, long offset, long length) throws OsdException {
                    super.punch(fid, offset, length);
                    released |= fid.equals(recordFault);
                }

                @Override
                public void truncate(Fid fid, long size) throws OsdException {
                    super.truncate(fid, size);
                    released |= fid.equals(recordFault);
                }

                @Override
                public void stop() throws OsdException {
                    super.stop();
                    recordFails.compareAndSet(false, released);
                }

                @Override
                public void close() throws OsdException {
                    super.close();
                    recordFails.compareAndSet(false, released);
                }
            };
        }
    }

    /** slow0: its next body write waits at the gate while {@link #gateArmed}; full to statfs while it waits. */
    private final class Gate extends FilterOsd {
        Gate(Osd in) {
            super(in);
        }

        @Override
        public StatFs statfs() throws OsdException {
            StatFs s = super.statfs();
            return slow0Full.get()
                    ? StatFs.of(s.device(), s.totalBytes(), 0, 0, s.objects(), s.freeObjects(), s.flags())
                    : s;
        }

        @Override
        protected Transaction wrap(Transaction tx) {
            return new FilterTransaction(tx) {
                @Override
                public void write(Fid fid, long offset, ByteBuffer src) throws OsdException {
                    if (gateArmed.getAndSet(false)) {
                        slow0Full.set(true);
                        gateReached.countDown();
                        try {
                            // A guard only: it ends a run whose test never opens the gate.
                            if (!release.await(120, TimeUnit.SECONDS)) {
                                throw new OsdException(Errno.EIO, name(), fid, "gate never opened (test hung)");
                            }
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new OsdException(Errno.ECANCELED, name(), fid, "interrupted at the gate");
                        } finally {
                            slow0Full.set(false);
                        }
                    }
                    super.write(fid, offset, src);
                }
            };
        }
    }

    private void mount() throws OsdException {
        mount(1_200_000);
    }

    private void mount(long fast) throws OsdException {
        PoolConfig c = PoolConfigParser.parse(String.format(YAML, fast), "emergency plan test");
        pool = PoolOsd.mount(c, clock, PoolOsd.MountMode.RECOVER, (d, clk) -> {
            Map<String, Object> s = new HashMap<>(d.settings());
            s.put("strict-declares", true);
            Osd m = new MemOsd(new OsdConfig(d.name(), "mem", s, clk));
            return d.index() == 0 ? new RecordFault(m) : d.index() == 1 ? new Gate(m) : m;
        });
        daemon = MigrationDaemon.attach(pool, DaemonConfig.parse(c.policy(), c.name()), clock);
        pool.listener(daemon);
    }

    @AfterEach
    void fsckClean() throws Exception {
        release.countDown();
        if (writer != null) {
            writer.shutdown();
            assertThat(writer.awaitTermination(120, TimeUnit.SECONDS)).isTrue();
        }
        recordFault = null;
        recordFails.set(false);
        if (pool != null) {
            pool.migrator().collectGarbage();
            assertThat(pool.fsck(false, true, null).problems()).isEmpty();
        }
    }

    private byte[] body;

    private Fid write(int size) throws OsdException {
        Fid f = new Fid(0x200000400L, next++, 0);
        body = DaemonBodies.create(pool, f, size);
        return f;
    }

    private byte[] read(Fid f, long off, int len) throws OsdException {
        return DaemonBodies.read(pool, f, off, len);
    }

    /** A big object whose first extent is hot (read five times), the rest cold. */
    private Fid bigWithHotHead() throws OsdException {
        Fid f = write(BIG);
        for (int i = 0; i < 5; i++) {
            read(f, 0, EXT);
        }
        return f;
    }

    @Test
    void aFailedReadBackOfTheRecordAfterEmergencyExtentSpillsIsReportedAndTheWriterStillGetsItsRoom() throws Exception {
        mount();
        Fid f = bigWithHotHead();
        byte[] all = body;
        // Reads of f's record fail from its first range release on: the emergency's read-back of
        // the record after its extent spills fails (as a device error, or the pool closing, would).
        recordFault = f;

        boolean room = daemon.reclaim(100_000, List.of(), Long.MAX_VALUE);

        // Failed before: the read-back's error left the plan with the extent's room uncounted
        // (the writer told there was none, though a cold extent had gone by range).
        assertThat(room)
                .as(
                        "room reported to the writer; last error: %s",
                        daemon.status().lastError())
                .isTrue();
        assertThat(daemon.status().moves()).containsEntry("emergency-extent/DONE", 1L);
        assertThat(daemon.emergencyErrors()).isEqualTo(1);
        assertThat(daemon.status().lastError()).contains(f.toString()).contains("record read failed (test)");

        // The device heals: the daemon goes on, and its next pass reads the record again.
        recordFault = null;
        recordFails.set(false);
        clock.advance(Duration.ofSeconds(11));
        MigrationDaemon.PassReport r = daemon.runOnce();
        assertThat(r.errors()).isEmpty();
        PoolObject p = pool.requireObject(f);
        assertThat(p.split(0)).as("%s", p).isTrue();
        assertThat(daemon.extents().split(f)).isTrue();
        assertThat(read(f, 0, BIG)).isEqualTo(all);
    }

    @Test
    void aFailedReadBackOfTheRecordAfterThePasssExtentSpillsIsThatObjectsErrorAndThePassSpillsTheOthers()
            throws Exception {
        mount(2_400_000);
        // c, written first and never read, is the colder: the pass's plan (1.65 MB of 2.4 MB down
        // to the low watermark, 480 KB) holds c, then f.
        Fid c = write(600_000);
        byte[] cBody = body;
        Fid f = bigWithHotHead();
        byte[] all = body;
        clock.advance(Duration.ofSeconds(11));
        recordFault = f;

        MigrationDaemon.PassReport r = daemon.runOnce();

        // Failed before: the read-back's error ended the spill round before any batch ran (c stayed).
        assertThat(r.spilled()).as("objects spilled whole: %s", r).isEqualTo(1);
        assertThat(pool.requireObject(c).resident(0)).isFalse();
        assertThat(r.extentsSpilled()).isPositive();
        assertThat(r.errors())
                .anySatisfy(e -> assertThat(e)
                        .contains("reading back the record of " + f)
                        .contains("record read failed (test)"));

        recordFault = null;
        recordFails.set(false);
        assertThat(pool.requireObject(f).split(0)).isTrue();
        assertThat(read(c, 0, 600_000)).isEqualTo(cBody);
        assertThat(read(f, 0, BIG)).isEqualTo(all);
    }

    @Test
    void aPassBesideAnEmergencySpillInFlightLeavesItsObjectToItAndSpillsTheOthers() throws Exception {
        mount();
        Fid x = write(300_000);
        byte[] xBody = body;
        Fid y = write(300_000);
        byte[] yBody = body;
        // Both old enough for a pass; x, written first, is the colder: the emergency takes it.
        clock.advance(Duration.ofSeconds(11));
        gateArmed.set(true);
        writer = Executors.newSingleThreadExecutor();
        Future<Boolean> room = writer.submit(() -> daemon.reclaim(100_000, List.of(), Long.MAX_VALUE));
        assertThat(gateReached.await(120, TimeUnit.SECONDS))
                .as("the emergency's copy reached slow0")
                .isTrue();

        // The emergency's copy of x is being written to slow0 (full to statfs meanwhile, so the
        // pass targets slow1); the tier (600 KB of 1.2 MB) is past its high watermark: a pass now.
        MigrationDaemon.PassReport r = daemon.runOnce();
        release.countDown();
        assertThat(room.get(120, TimeUnit.SECONDS)).isTrue();

        // Failed before: the pass started x's move too (to slow1) while the emergency's was in
        // flight — the emergency checked the object was free, never claimed it.
        assertThat(r.spilled()).as("objects the pass spilled: %s", r).isEqualTo(1);
        assertThat(pool.requireObject(x).copies())
                .as("x's copies")
                .extracting(Copy::device)
                .containsExactly(1);
        assertThat(pool.requireObject(y).copies())
                .as("y's copies")
                .extracting(Copy::device)
                .containsExactly(2);
        assertThat(read(x, 0, 300_000)).isEqualTo(xBody);
        assertThat(read(y, 0, 300_000)).isEqualTo(yBody);
    }

    @Test
    void aBigObjectWhoseColdExtentsWentByRangeGoesOutWholeAsTheLastResortWhenTheRoomIsStillShort() throws Exception {
        mount();
        Fid f = bigWithHotHead();
        byte[] all = body;

        // The writer needs more than the three cold extents (768 KiB) and nothing else is on the
        // tier: the cold extents go by range, then — the last resort — the hot head whole.
        boolean room = daemon.reclaim(1_000_000, List.of(), Long.MAX_VALUE);

        assertThat(room).isTrue();
        assertThat(daemon.status().moves())
                .containsEntry("emergency-extent/DONE", 3L)
                .containsKey("emergency/DONE");
        PoolObject p = pool.requireObject(f);
        assertThat(p.resident(0)).as("%s", p).isFalse();
        assertThat(p.split(0)).as("%s", p).isFalse();
        assertThat(daemon.extents().allSpilled(f)).isTrue();
        assertThat(pool.metadataStatfs().usedBytes()).isLessThan(1_200_000 - 1_000_000);
        assertThat(read(f, 0, BIG)).isEqualTo(all);
    }
}
