package dev.spillway.migrate.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.StatFs;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.testkit.Seeds;
import dev.spillway.osd.testkit.fault.CrashSwitch;
import dev.spillway.osd.testkit.fault.CrashingOsd;
import dev.spillway.osd.testkit.fault.FaultInjectingStorage;
import dev.spillway.osd.vfs.VfsOsd;
import dev.spillway.pool.CrashCampaign;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.recovery.Fsck;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The crash campaign at 100% full (issue 12): the pool and its daemon start with the fast tier
 * filled to the last byte clients may use (or a little below), and a seeded workload keeps it
 * there — writes that meet ENOSPC, emergency spills, daemon passes, deletes, reads, heat
 * checkpoints, syncs — crashed at 1,000 points (default). Faults are injected below every device:
 * the fast device is osd-mem with simulated durability under {@link CrashingOsd}; the spill device
 * is osd-vfs on {@link FaultInjectingStorage}, every storage operation of which is a crash point
 * too, and whose unforced writes and names are dropped (or torn) by the crash. After each point:
 * the pool mounts on what survived — a mount never needs space — recovers, passes a deep fsck, and
 * every acknowledged write is there byte for byte.
 *
 * <p>{@code -Dspillway.fullcrash.points=N}, {@code -Dspillway.seed=X} (the master seed, printed).
 * The fast device is osd-mem rather than osd-kv: RocksDB cannot run on simulated storage.
 */
class FullTierCrashTest {
    private static final int OBJECTS = 40;
    private static final long FAST = 1L << 20;

    private static PoolConfig config() {
        try {
            return PoolConfigParser.parse("""
                    name: fullcrash
                    devices:
                      - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {capacity: %d, durability: simulated, strict-declares: true}}
                      - {name: slow, backend: vfs, roles: [background], settings: {journal: "off", strict-declares: true}}
                    policy: {high-watermark: 0.97, low-watermark: 0.93, min-resident-age: 0s, promote-hits: 2, probation-share: 0, checkpoint-interval: 1h, spill-streams: 1}
                    space: {writer-wait: 0s}
                    """.formatted(FAST), "full-tier crash test");
        } catch (OsdException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The machine's devices: what they hold durably, and how to open them. */
    private record Machine(MemOsd fast, FaultInjectingStorage slow) {
        static Machine fresh(PoolConfig c) throws OsdException {
            var d = c.devices().get(0);
            return new Machine(
                    new MemOsd(new OsdConfig(d.name(), d.backend(), d.settings(), InstantSource.system())),
                    new FaultInjectingStorage(FaultInjectingStorage.Features.ext4()));
        }

        /** What a power cut leaves: the durable image of each. */
        Machine survivor(long seed) throws OsdException {
            FaultInjectingStorage.CrashMode mode =
                    seed % 3 == 0 ? FaultInjectingStorage.CrashMode.TORN : FaultInjectingStorage.CrashMode.DROP;
            return new Machine(fast.crash(), slow.survivor(mode, seed));
        }

        /** Mounts the pool with every device call (and every storage operation of the spill device) a crash point. */
        PoolOsd mount(PoolConfig c, CrashSwitch sw) throws OsdException {
            slow.setFault((op, path, n) -> {
                try {
                    sw.tick("slow storage " + op + " " + path);
                    return null;
                } catch (CrashSwitch.SimulatedCrash e) {
                    return new IOException(e.getMessage());
                }
            });
            return PoolOsd.mount(c, InstantSource.system(), PoolOsd.MountMode.RECOVER, (d, clock) -> {
                Osd o = d.index() == 0
                        ? fast
                        : VfsOsd.open(new OsdConfig(d.name(), d.backend(), d.settings(), clock), slow, Runnable::run);
                return new CrashingOsd(o, sw);
            });
        }
    }

    private static MigrationDaemon attach(PoolOsd pool) throws OsdException {
        MigrationDaemon d = MigrationDaemon.attach(
                pool, DaemonConfig.parse(pool.config().policy(), pool.name()), InstantSource.system());
        pool.listener(d);
        return d;
    }

    /**
     * Fills the fast tier with acknowledged objects (synced): to the client boundary, or to
     * {@code share} of it. Returns the machine as it is after a clean stop of that.
     */
    private static Machine prefill(PoolConfig c, long seed, CrashCampaign.Model model) throws Exception {
        Machine m = Machine.fresh(c);
        PoolOsd pool = m.mount(c, new CrashSwitch(0));
        MigrationDaemon daemon = attach(pool);
        Random r = new Random(seed);
        double share = r.nextBoolean() ? 1.0 : 0.9 + r.nextDouble() * 0.09;
        long total = pool.metadataStatfs().totalBytes();
        int i = 0;
        for (int size = 48 << 10; size >= 512 && i < OBJECTS; size /= 2) {
            while (i < OBJECTS) {
                var s = pool.metadataStatfs();
                if (share < 1.0 && s.usedBytes() + size > share * total) {
                    break;
                }
                byte[] body = new byte[size];
                r.nextBytes(body);
                try {
                    CrashCampaign.write(pool, CrashCampaign.object(i), body, true, model);
                    i++;
                } catch (OsdException e) {
                    if (!e.is(Errno.ENOSPC)) {
                        throw e;
                    }
                    break;
                }
            }
        }
        // The heat the workload's daemon starts from, as after a clean stop.
        daemon.checkpoint();
        pool.sync();
        return copy(m, seed);
    }

    static void workload(long seed, PoolOsd pool, MigrationDaemon daemon, CrashSwitch sw, CrashCampaign.Model model)
            throws Exception {
        Random r = new Random(seed);
        for (int step = 0; step < 40; step++) {
            Fid f = CrashCampaign.object(r.nextInt(OBJECTS));
            int op = r.nextInt(100);
            try {
                if (op < 52) {
                    byte[] body = new byte[1 + r.nextInt(64 << 10)];
                    r.nextBytes(body);
                    try {
                        CrashCampaign.write(pool, f, body, r.nextInt(3) == 0, model);
                    } catch (OsdException e) {
                        if (!e.is(Errno.ENOSPC) || sw.crashed()) {
                            throw e;
                        }
                        // A full tier: the emergency spill a waiting writer would run, then again.
                        daemon.reclaim(body.length, List.of(f), System.nanoTime() + 60_000_000_000L);
                        CrashCampaign.write(pool, f, body, r.nextBoolean(), model);
                    }
                } else if (op < 57) {
                    if (pool.exists(f)) {
                        CrashCampaign.destroy(pool, f, model);
                    }
                } else if (op < 68) {
                    if (pool.exists(f)) {
                        pool.read(f, 0, ByteBuffer.allocate(4096));
                    }
                } else if (op < 86) {
                    daemon.runOnce();
                } else if (op < 90) {
                    daemon.reclaim(1 + r.nextInt(128 << 10), List.of(), System.nanoTime() + 60_000_000_000L);
                } else if (op < 95) {
                    daemon.checkpoint();
                } else {
                    pool.sync();
                }
            } catch (OsdException e) {
                if (sw.crashed()) {
                    throw e;
                }
                // A full tier may still refuse a write the emergency spill could not make room for.
                if (!e.is(Errno.ENOSPC) && !e.is(Errno.ENOENT) && !e.is(Errno.EBUSY)) {
                    throw new AssertionError("step " + step + " failed without a crash: " + e.getMessage(), e);
                }
            }
        }
    }

    /** Runs the workload on {@code m} until it ends or the switch fires; the model collects what was acknowledged. */
    private static String once(PoolConfig c, Machine m, CrashSwitch sw, long seed, CrashCampaign.Model model)
            throws Exception {
        PoolOsd pool;
        MigrationDaemon daemon;
        try {
            pool = m.mount(c, sw);
            daemon = attach(pool);
        } catch (OsdException | CrashSwitch.SimulatedCrash e) {
            if (sw.crashed()) {
                return "crashed at mount";
            }
            throw e;
        }
        try {
            workload(seed, pool, daemon, sw, model);
        } catch (CrashSwitch.SimulatedCrash e) {
            return "crashed";
        } catch (OsdException e) {
            if (!sw.crashed()) {
                throw e;
            }
            return "crashed";
        }
        StatFs st;
        try {
            st = pool.metadataStatfs();
        } catch (CrashSwitch.SimulatedCrash e) {
            return "crashed";
        }
        return String.format(
                "fast tier %d%% used (%d bytes available to clients), moves %s",
                100 * st.usedBytes() / st.totalBytes(),
                st.availableBytes(),
                daemon.status().moves());
    }

    private static void verify(PoolConfig c, Machine survived, CrashCampaign.Model model, String where)
            throws Exception {
        PoolOsd pool = survived.mount(c, new CrashSwitch(0));
        Fsck.Report rep = pool.fsck(false, true, null);
        assertThat(rep.problems()).as("fsck after recovery (%s)", where).isEmpty();
        for (int i = 0; i < OBJECTS; i++) {
            Fid f = CrashCampaign.object(i);
            byte[] actual = null;
            if (pool.exists(f)) {
                long size = pool.getAttr(f).size();
                actual = new byte[(int) size];
                int pos = 0;
                while (pos < size) {
                    int n = pool.read(f, pos, ByteBuffer.wrap(actual, pos, actual.length - pos));
                    assertThat(n).as("read of %s at %d (%s)", f, pos, where).isPositive();
                    pos += n;
                }
            }
            boolean ok = false;
            for (byte[] allowed : model.allowed(f)) {
                if (allowed == null ? actual == null : actual != null && Arrays.equals(allowed, actual)) {
                    ok = true;
                    break;
                }
            }
            assertThat(ok)
                    .as(
                            "%s holds %s, not its last acknowledged state nor a later one (%s)",
                            f, actual == null ? "nothing" : actual.length + " bytes", where)
                    .isTrue();
        }
    }

    @Test
    void everyCrashPointOfAFullTierMountsRecoversAndLosesNothing() throws Exception {
        int points = Integer.getInteger("spillway.fullcrash.points", 1000);
        int seeds = 10;
        long master = Seeds.master();
        System.out.printf(
                "full-tier crash campaign: master seed 0x%x, %d crash points over %d workloads%n",
                master, points, seeds);
        PoolConfig c = config();
        SplittableRandom sr = new SplittableRandom(master);
        int ran = 0;
        for (int s = 0; s < seeds; s++) {
            long seed = sr.nextLong();
            CrashCampaign.Model base = new CrashCampaign.Model();
            Machine start = prefill(c, seed, base);
            // Count the workload's crash points on a copy of the prefilled machine.
            CrashSwitch counter = new CrashSwitch(0);
            String end = once(c, copy(start, seed), counter, seed, base.copy());
            long total = counter.calls();
            System.out.printf("  workload 0x%x: %d crash points; at its end %s%n", seed, total, end);
            int here = points / seeds + (s < points % seeds ? 1 : 0);
            Random pick = new Random(seed);
            for (int k = 0; k < here; k++) {
                long at = 1 + (long) (pick.nextDouble() * total);
                String where = String.format(
                        "full-tier campaign, seed 0x%x, crash at call %d of %d (master seed 0x%x)",
                        seed, at, total, master);
                try {
                    Machine m = copy(start, seed);
                    CrashCampaign.Model model = base.copy();
                    once(c, m, new CrashSwitch(at), seed, model);
                    verify(c, m.survivor(seed + k), model, where);
                } catch (Throwable e) {
                    throw new AssertionError("crash point failed: " + where + ": " + e, e);
                }
                ran++;
            }
        }
        assertThat(ran).isEqualTo(points);
    }

    /** An independent copy of a machine's durable state (each crash point starts from the same one). */
    private static Machine copy(Machine m, long seed) throws OsdException {
        return new Machine(m.fast().crash(), m.slow().survivor(FaultInjectingStorage.CrashMode.DROP, seed));
    }
}
