package dev.spillway.migrate.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.PlacementHint;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.XattrFlag;
import dev.spillway.osd.filter.FilterOsd;
import dev.spillway.osd.filter.FilterTransaction;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.pool.PoolListener;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.ops.MoveResult;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The daemon under a clock the test moves: every decision is deterministic. */
class DaemonTest {
    /** A clock the test advances. */
    static final class TestClock implements InstantSource {
        private Instant now = Instant.parse("2026-01-01T00:00:00Z");

        @Override
        public synchronized Instant instant() {
            return now;
        }

        synchronized void advance(Duration d) {
            now = now.plus(d);
        }
    }

    /** A device whose writes can be made to fail with EIO, counting attempts. */
    static final class Flaky extends FilterOsd {
        final AtomicBoolean fail = new AtomicBoolean();
        final AtomicInteger attempts = new AtomicInteger();

        Flaky(Osd in) {
            super(in);
        }

        @Override
        protected Transaction wrap(Transaction tx) {
            return new FilterTransaction(tx) {
                @Override
                public void write(Fid fid, long offset, ByteBuffer src) throws OsdException {
                    attempts.incrementAndGet();
                    if (fail.get()) {
                        throw new OsdException(Errno.EIO, name(), fid, "injected write error");
                    }
                    super.write(fid, offset, src);
                }
            };
        }
    }

    private final TestClock clock = new TestClock();
    private final Map<String, Flaky> devices = new HashMap<>();
    private PoolOsd pool;
    private MigrationDaemon daemon;
    private int next = 1;

    private static final String YAML = """
            name: daemon
            replicas: %d
            devices:
              - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {capacity: %d}}
              - {name: slow0, backend: mem, roles: [background], settings: {capacity: %d}}
              - {name: slow1, backend: mem, roles: [background]}
            policy: {high-watermark: 0.8, low-watermark: 0.5, min-resident-age: 10s, promote-hits: 2, probation-share: 0, spill-streams: 1,
                     checkpoint-interval: 1h, %s}
            """;

    private void mount(int replicas, long fast, long slow0, String extra) throws OsdException {
        PoolConfig c = PoolConfigParser.parse(String.format(YAML, replicas, fast, slow0, extra), "daemon test");
        pool = PoolOsd.mount(c, clock, PoolOsd.MountMode.RECOVER, (d, clk) -> {
            Map<String, Object> s = new HashMap<>(d.settings());
            s.put("strict-declares", true);
            Flaky f = new Flaky(new MemOsd(new OsdConfig(d.name(), "mem", s, clk)));
            devices.put(d.name(), f);
            return f;
        });
        daemon = MigrationDaemon.attach(pool, DaemonConfig.parse(c.policy(), c.name()), clock);
        pool.listener(daemon);
    }

    private Fid write(int size) throws OsdException {
        Fid f = new Fid(0x200000400L, next++, 0);
        DaemonBodies.create(pool, f, size);
        return f;
    }

    private void read(Fid f) throws OsdException {
        ByteBuffer b = ByteBuffer.allocate((int) pool.getAttr(f).size());
        while (b.hasRemaining()) {
            if (pool.read(f, b.position(), b) <= 0) {
                break;
            }
        }
    }

    private double fastUse() throws OsdException {
        var s = pool.metadataStatfs();
        return (double) s.usedBytes() / s.totalBytes();
    }

    private boolean resident(Fid f) throws OsdException {
        return pool.requireObject(f).resident(0);
    }

    @Test
    void watermarksConvergeAndNeverFlap() throws Exception {
        mount(1, 10 << 20, 100 << 20, "");
        List<Fid> fids = new ArrayList<>();
        while (fastUse() < 0.85) {
            fids.add(write(200_000));
        }
        clock.advance(Duration.ofMinutes(1));
        // Keep a few objects hot: the cold ones must go first.
        for (int i = 0; i < 3; i++) {
            for (Fid f : fids.subList(fids.size() - 5, fids.size())) {
                read(f);
            }
        }
        MigrationDaemon.PassReport r = daemon.runOnce();
        assertThat(r.spilled()).isPositive();
        assertThat(fastUse()).isLessThanOrEqualTo(0.5);
        for (Fid f : fids.subList(fids.size() - 5, fids.size())) {
            assertThat(resident(f)).as("hot object %s stays", f).isTrue();
        }
        // Between the marks nothing moves, however often the daemon runs.
        while (fastUse() < 0.7) {
            fids.add(write(200_000));
        }
        clock.advance(Duration.ofMinutes(1));
        for (int i = 0; i < 5; i++) {
            assertThat(daemon.runOnce().spilled()).isZero();
        }
        assertThat(pool.fsck(false, true, null).problems()).isEmpty();
    }

    private void advise(Fid f, String advice) throws OsdException {
        byte[] v = advice.getBytes(StandardCharsets.US_ASCII);
        try (Transaction tx = pool.newTransaction()) {
            tx.declareSetXattr(f, PlacementHint.XATTR, v.length);
            tx.start();
            tx.setXattr(f, PlacementHint.XATTR, v, XattrFlag.UPSERT);
        }
    }

    @Test
    void anObjectAdvisedColdSpillsBeforeColderLookingOnes() throws Exception {
        mount(1, 10 << 20, 100 << 20, "");
        List<Fid> fids = new ArrayList<>();
        while (fastUse() < 0.85) {
            fids.add(write(200_000));
        }
        clock.advance(Duration.ofMinutes(1));
        // The newest objects are read often, so without advice they would be the last to go.
        List<Fid> advised = fids.subList(fids.size() - 3, fids.size());
        for (int i = 0; i < 5; i++) {
            for (Fid f : advised) {
                read(f);
            }
        }
        for (Fid f : advised) {
            advise(f, PlacementHint.COLD);
            assertThat(daemon.heat().heat(f))
                    .as("heat of %s once advised cold", f)
                    .isLessThan(1e-6);
        }
        daemon.runOnce();
        for (Fid f : advised) {
            assertThat(resident(f))
                    .as("%s was advised cold (a non-current version)", f)
                    .isFalse();
        }
        // The advice holds until the next access: a read makes it an ordinary object again.
        assertThat(daemon.heat().heat(fids.get(0))).isPositive();
    }

    @Test
    void anObjectAdvisedToATierIsNotPromoted() throws Exception {
        mount(1, 10 << 20, 100 << 20, "");
        Fid f = write(100_000);
        clock.advance(Duration.ofMinutes(1));
        advise(f, PlacementHint.tier("slow0"));
        pool.migrator().spill(f, pool.device(1));
        daemon.heat().markSpilled(f);
        for (int i = 0; i < 4; i++) {
            read(f);
            daemon.runOnce();
        }
        assertThat(resident(f)).as("its storage class keeps it on slow0").isFalse();
    }

    @Test
    void aSpilledObjectReadWithRoomToSpareIsPromotedAndNotSpilledStraightBack() throws Exception {
        mount(1, 10 << 20, 100 << 20, "");
        Fid f = write(100_000);
        clock.advance(Duration.ofMinutes(1));
        pool.migrator().spill(f, pool.device(1));
        daemon.heat().markSpilled(f);
        read(f);
        daemon.runOnce();
        assertThat(resident(f))
                .as("the tier is nearly empty: one read brings it up")
                .isTrue();
        for (int i = 0; i < 5; i++) {
            clock.advance(Duration.ofSeconds(30));
            daemon.runOnce();
        }
        assertThat(resident(f)).isTrue();
        assertThat(daemon.policy().stats().pingPongs()).isZero();
    }

    @Test
    void parkedSpillsResumeWhenSpaceAppears() throws Exception {
        mount(1, 10 << 20, 2 << 20, "");
        List<Fid> fids = new ArrayList<>();
        while (fastUse() < 0.9) {
            fids.add(write(500_000));
        }
        clock.advance(Duration.ofMinutes(1));
        // slow0 holds only 2 MiB: spills beyond it park, or go to slow1. Fill slow1 by marking it read-only.
        pool.deviceOps().setState(pool.device(2), DeviceState.RO);
        daemon.runOnce();
        int parkedBefore = (int)
                pool.jobs().stream().filter(j -> j.kind() == Job.Kind.PARKED).count();
        assertThat(daemon.status().moves()).isNotEmpty();
        pool.deviceOps().setState(pool.device(2), DeviceState.RW);
        clock.advance(Duration.ofSeconds(5));
        daemon.runOnce();
        daemon.runOnce();
        long parkedAfter =
                pool.jobs().stream().filter(j -> j.kind() == Job.Kind.PARKED).count();
        assertThat(parkedAfter).isLessThanOrEqualTo(parkedBefore);
        assertThat(fastUse()).isLessThanOrEqualTo(0.5);
        assertThat(pool.fsck(false, true, null).problems()).isEmpty();
    }

    @Test
    void aFailingDeviceBacksOffInsteadOfAHotLoop() throws Exception {
        mount(1, 10 << 20, 100 << 20, "backoff-base: 10s");
        while (fastUse() < 0.9) {
            write(300_000);
        }
        clock.advance(Duration.ofMinutes(1));
        devices.get("slow0").fail.set(true);
        devices.get("slow1").fail.set(true);
        daemon.runOnce();
        int attempts = devices.get("slow0").attempts.get()
                + devices.get("slow1").attempts.get();
        assertThat(daemon.status().backoffs()).isNotEmpty();
        assertThat(daemon.status().lastError()).contains("EIO");
        daemon.runOnce();
        daemon.runOnce();
        assertThat(devices.get("slow0").attempts.get()
                        + devices.get("slow1").attempts.get())
                .as("no retries while backing off")
                .isEqualTo(attempts);
        devices.get("slow0").fail.set(false);
        devices.get("slow1").fail.set(false);
        clock.advance(Duration.ofSeconds(30));
        daemon.runOnce();
        daemon.runOnce();
        assertThat(fastUse()).isLessThanOrEqualTo(0.5);
        pool.migrator().collectGarbage();
        assertThat(pool.fsck(false, true, null).problems()).isEmpty();
    }

    @Test
    void theBandwidthCapLimitsAPass() throws Exception {
        mount(1, 10 << 20, 100 << 20, "bandwidth: 1MiB");
        while (fastUse() < 0.9) {
            write(250_000);
        }
        clock.advance(Duration.ofMinutes(1));
        MigrationDaemon.PassReport r = daemon.runOnce();
        // A move starts only while the bucket is not in debt; the last one may overdraw it by one object.
        assertThat(r.spilledBytes())
                .as("one second's worth of tokens, plus the move in flight")
                .isLessThanOrEqualTo((1 << 20) + 250_000);
        assertThat(fastUse()).isGreaterThan(0.5);
        for (int i = 0; i < 10 && fastUse() > 0.5; i++) {
            clock.advance(Duration.ofSeconds(1));
            daemon.runOnce();
        }
        assertThat(fastUse()).isLessThanOrEqualTo(0.5);
    }

    @Test
    void anAdministratorsSpillIsNotChargedToTheDaemonsBandwidthCap() throws Exception {
        mount(1, 20 << 20, 100 << 20, "bandwidth: 1MiB");
        Fid big = write(3 << 19);
        while (fastUse() < 0.95) {
            write(250_000);
        }
        clock.advance(Duration.ofMinutes(1));
        // An administrator's spill (the clock does not move; the pool stays above its high
        // watermark): it takes nothing from the daemon's bucket — it did once, when whatever copy
        // ran while the daemon was attached was paced by it.
        assertThat(pool.migrator().spill(big, pool.device("slow0").orElseThrow()))
                .isInstanceOf(MoveResult.Done.class);
        MigrationDaemon.PassReport r = daemon.runOnce();
        assertThat(r.spilledBytes())
                .as("the daemon's pass still has its second's worth of tokens")
                .isGreaterThanOrEqualTo(1 << 20);
    }

    @Test
    void replicasAreRestoredAfterADeviceFailsAndEvacuationEmptiesADevice() throws Exception {
        mount(2, 50 << 20, 100 << 20, "");
        List<Fid> fids = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            Fid f = write(100_000);
            pool.migrator().copy(f, pool.device(1), false);
            fids.add(f);
        }
        pool.deviceOps().setState(pool.device(1), DeviceState.FAILED);
        daemon.runOnce();
        // Only two durable devices remain for two copies: the fast one and slow1.
        for (Fid f : fids) {
            var p = pool.requireObject(f);
            assertThat(p.on(1)).isEmpty();
            assertThat(p.inSync()).hasSize(2);
        }
        pool.deviceOps().setState(pool.device(1), DeviceState.SPARE);
        pool.deviceOps().setState(pool.device(2), DeviceState.EVACUATING);
        pool.deviceOps().setState(pool.device(1), DeviceState.RW);
        for (int i = 0; i < 5; i++) {
            daemon.runOnce();
        }
        assertThat(pool.device(2).state()).isEqualTo(DeviceState.SPARE);
        for (Fid f : fids) {
            assertThat(pool.requireObject(f).on(2)).isEmpty();
            assertThat(pool.requireObject(f).inSync()).hasSize(2);
        }
        assertThat(pool.fsck(false, true, null).problems()).isEmpty();
    }

    @Test
    void aFullFastTierSlowsWritersDownInsteadOfFailingThem() throws Exception {
        mount(1, 4 << 20, 100 << 20, "");
        // No daemon passes at all: only the writers' own emergency spills make room.
        for (int i = 0; i < 40; i++) {
            write(300_000);
            clock.advance(Duration.ofSeconds(1));
        }
        assertThat(daemon.status().moves()).containsKey("emergency/DONE");
        assertThat(pool.fsck(false, true, null).problems()).isEmpty();
    }

    @Test
    void heatSurvivesARestartThroughTheCheckpoint() throws Exception {
        mount(1, 10 << 20, 100 << 20, "");
        Fid hot = write(1000);
        for (int i = 0; i < 10; i++) {
            read(hot);
        }
        daemon.close();
        var reloaded = MigrationDaemon.attach(pool, DaemonConfig.parse(Map.of(), "daemon test"), clock);
        assertThat(reloaded.heat().lookup(hot)).isPresent();
        assertThat(reloaded.heat().heat(hot)).isGreaterThan(1.0);
    }

    @Test
    void unknownPolicyKeysAreErrorsNamingTheKey() {
        try {
            DaemonConfig.parse(Map.of("high-watermrk", 0.9), "p");
            throw new AssertionError("accepted");
        } catch (OsdException e) {
            assertThat(e.getMessage()).contains("policy.high-watermrk");
        }
        try {
            DaemonConfig.parse(Map.of("high-watermark", "90%", "low-watermark", "95%"), "p");
            throw new AssertionError("accepted");
        } catch (OsdException e) {
            assertThat(e.getMessage()).contains("watermark");
        }
    }

    @Test
    void spillWritersDefaultToFourAndToOneForASingleStream() throws OsdException {
        assertThat(DaemonConfig.parse(Map.of(), "p").spillWriters()).isEqualTo(DaemonConfig.DEFAULT_SPILL_WRITERS);
        assertThat(DaemonConfig.parse(Map.of("spill-streams", 1), "p").spillWriters())
                .as("one stream: the daemon's single thread writes every copy")
                .isEqualTo(1);
        assertThat(DaemonConfig.parse(Map.of("spill-streams", 1, "spill-writers", 3), "p")
                        .spillWriters())
                .isEqualTo(3);
        try {
            DaemonConfig.parse(Map.of("spill-writers", 0), "p");
            throw new AssertionError("accepted");
        } catch (OsdException e) {
            assertThat(e.getMessage()).contains("policy.spill-writers").contains("from 1 to 16");
        }
    }

    static PoolListener none() {
        return PoolListener.NONE;
    }
}
