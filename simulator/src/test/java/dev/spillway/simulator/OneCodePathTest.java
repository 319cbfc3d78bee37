package dev.spillway.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.migrate.daemon.DaemonConfig;
import dev.spillway.migrate.daemon.MigrationDaemon;
import dev.spillway.migrate.heat.HeatCheckpoint;
import dev.spillway.migrate.heat.HeatConfig;
import dev.spillway.migrate.policy.PolicyConfig;
import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Transaction;
import dev.spillway.pool.LocalFile;
import dev.spillway.pool.PoolListener;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.BitSet;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * One code path: a trace replayed through a real pool (mem devices) with the migration daemon —
 * real reads through the pool's access rule, real spills and promotions by the daemon's passes —
 * and through the simulator ends every request with the same objects on the fast tier.
 *
 * <p>The fast device's statfs, which the daemon reads, also counts the pool's metadata; the
 * simulator is told the bodies plus that overhead as measured once, and the objects are large (256
 * KiB) with the watermarks placed mid-object, so that the overhead's small drift as layouts change
 * can never tip a comparison either way.
 */
class OneCodePathTest {
    static final long S = 256 << 10;
    static final int OBJECTS = 120;

    /** Zipf-like reads of {@link #OBJECTS} objects of {@link #S} bytes, with a scan every 400. */
    private static Trace zipfTrace() {
        SplittableRandom rnd = new SplittableRandom(20251203);
        Trace.Builder tb = new Trace.Builder("zipf-256KiB");
        double[] cdf = new double[OBJECTS];
        double sum = 0;
        for (int k = 0; k < OBJECTS; k++) {
            sum += 1 / Math.pow(k + 1, 0.8);
            cdf[k] = sum;
        }
        for (int i = 0; i < 2_500; i++) {
            double u = rnd.nextDouble() * sum;
            int k = 0;
            while (cdf[k] < u) {
                k++;
            }
            // Every 400 requests, a scan of 30 objects read once in order.
            int id = (i % 400) < 30 ? (int) ((i / 400 * 37 + i % 400) % OBJECTS) : (k * 7919) % OBJECTS;
            tb.add(id, S, false);
        }
        return tb.build();
    }

    @Test
    void aTraceReplayedThroughAPoolAndTheSimulatorMakesTheSameDecisions() throws Exception {
        Trace t = zipfTrace();
        InstantSource wall = InstantSource.fixed(Instant.parse("2026-01-01T00:00:00Z"));
        // Every object written and spilled first (the simulator's cold start), in a pool of
        // unbounded capacity to measure the metadata it leaves on the fast device.
        PoolOsd pool = PoolOsd.mount(config(1L << 40), wall, PoolOsd.MountMode.RECOVER);
        Fid[] fids = setUp(pool, t);
        long overhead = pool.metadataStatfs().usedBytes();
        pool.close();

        // A capacity whose watermarks fall mid-object once the overhead is counted.
        long cap = 0;
        for (int n = 24; n < 64 && cap == 0; n++) {
            long c = n * S + overhead + S / 2;
            double hi = ((0.9 * c) - overhead) / S;
            double lo = ((0.7 * c) - overhead) / S;
            if (frac(hi) > 0.2 && frac(hi) < 0.8 && frac(lo) > 0.2 && frac(lo) < 0.8) {
                cap = c;
            }
        }
        assertThat(cap).isPositive();

        pool = PoolOsd.mount(config(cap), wall, PoolOsd.MountMode.RECOVER);
        setUp(pool, t);
        assertThat(pool.metadataStatfs().usedBytes()).isEqualTo(overhead);
        PoolConfig pc = config(cap);
        DaemonConfig dc = DaemonConfig.parse(pc.policy(), pc.name());
        MigrationDaemon daemon = MigrationDaemon.attach(pool, dc, wall);
        pool.listener(daemon);
        assertThat(dc.heat().halfLife()).isEqualTo(HeatConfig.defaults().halfLife());

        PolicyConfig simPolicy = dc.policy();
        long o0 = overhead;
        SpillwayPolicy sim = new SpillwayPolicy(cap, dc.heat(), simPolicy, "Spillway").occupancy(b -> b + o0);

        ByteBuffer buf = ByteBuffer.allocate((int) S);
        long promotions = 0;
        for (int i = 0; i < t.length(); i++) {
            sim.request(t, i);
            Fid f = fids[t.object(i)];
            buf.clear();
            while (buf.hasRemaining() && pool.read(f, buf.position(), buf.slice(buf.position(), buf.remaining())) > 0) {
                buf.position(buf.limit()); // one call reads the whole body from either tier
            }
            promotions += daemon.runOnce().promoted();
            BitSet poolResident = new BitSet();
            for (int o = 0; o < fids.length; o++) {
                if (pool.requireObject(fids[o]).resident(0)) {
                    poolResident.set(o);
                }
            }
            assertThat(poolResident).as("resident objects after request %d", i).isEqualTo(sim.residentObjects());
        }
        assertThat(promotions).isPositive();
        assertThat(daemon.policy().stats().passesStarted()).isPositive();
        assertThat(daemon.policy().stats().passesStarted())
                .isEqualTo(sim.policy().stats().passesStarted());
        assertThat(daemon.policy().stats().trialPromotions())
                .isEqualTo(sim.policy().stats().trialPromotions());
        daemon.close();
        pool.close();
    }

    /**
     * The adapted trial share and the ghosts live through a restart in the heat checkpoint; a torn
     * checkpoint mounts with the defaults (the share at {@code probation-share}, no heat).
     */
    @Test
    void theTrialShareAndTheGhostsSurviveARestartAndATornCheckpointStartsFresh() throws Exception {
        Trace t = zipfTrace();
        InstantSource wall = InstantSource.fixed(Instant.parse("2026-01-01T00:00:00Z"));
        PoolConfig pc = config(40 * S + (2 << 20));
        PoolOsd pool = PoolOsd.mount(pc, wall, PoolOsd.MountMode.RECOVER);
        Fid[] fids = setUp(pool, t);
        DaemonConfig dc = DaemonConfig.parse(pc.policy(), pc.name());
        MigrationDaemon daemon = MigrationDaemon.attach(pool, dc, wall);
        pool.listener(daemon);
        double start = dc.policy().probationShare();
        ByteBuffer buf = ByteBuffer.allocate((int) S);
        for (int i = 0; i < t.length(); i++) {
            Fid f = fids[t.object(i)];
            buf.clear();
            while (buf.hasRemaining() && pool.read(f, buf.position(), buf.slice(buf.position(), buf.remaining())) > 0) {
                buf.position(buf.limit());
            }
            daemon.runOnce();
        }
        double adapted = daemon.policy().trialShare();
        assertThat(adapted).as("returns to the ghosts moved the share").isNotEqualTo(start);
        pool.listener(PoolListener.NONE);
        daemon.close(); // writes the checkpoint

        LocalFile file = pool.localFile(LocalFile.Name.HEAT);
        byte[] saved = file.read().orElseThrow();
        MigrationDaemon again = MigrationDaemon.attach(pool, dc, wall);
        assertThat(again.policy().trialShare()).isEqualTo(adapted);
        // Everything the tracker held before the restart, ghost marks and their clocks included,
        // is what it holds after it: written again, the same bytes.
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        HeatCheckpoint.write(again.heat(), out);
        assertThat(out.toByteArray()).isEqualTo(saved);
        again.close();

        // Torn: half a checkpoint is no checkpoint. The daemon starts cold, with the defaults.
        assertThat(file.replace(Arrays.copyOf(saved, saved.length / 2))).isTrue();
        MigrationDaemon torn = MigrationDaemon.attach(pool, dc, wall);
        assertThat(torn.policy().trialShare()).isEqualTo(start);
        assertThat(torn.heat().tracked()).isZero();
        torn.close();
        pool.close();
    }

    private static Fid[] setUp(PoolOsd pool, Trace t) throws Exception {
        Fid[] fids = new Fid[t.objects()];
        for (int o = 0; o < t.objects(); o++) {
            fids[o] = new Fid(0x200000400L, (int) t.idOf(o) + 1, 0);
            try (Transaction tx = pool.newTransaction()) {
                tx.declareCreate(fids[o], ObjectKind.DATA);
                tx.declareWrite(fids[o], 0, S);
                tx.start();
                tx.create(fids[o], ObjectKind.DATA, AttrChange.none());
                tx.write(fids[o], 0, ByteBuffer.allocate((int) S));
            }
            pool.migrator().spill(fids[o], pool.device(1));
        }
        return fids;
    }

    private static double frac(double x) {
        return x - Math.floor(x);
    }

    private static PoolConfig config(long fastCapacity) throws Exception {
        return PoolConfigParser.parse("""
                name: one-path
                replicas: 1
                devices:
                  - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {capacity: %d}}
                  - {name: slow, backend: mem, roles: [background]}
                policy: {high-watermark: 0.9, low-watermark: 0.7, min-resident-age: 0s, checkpoint-interval: 1000d}
                """.formatted(fastCapacity), "one-code-path test");
    }
}
