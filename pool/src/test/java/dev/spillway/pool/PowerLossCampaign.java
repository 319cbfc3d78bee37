package dev.spillway.pool;

import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.testkit.Seeds;
import dev.spillway.osd.testkit.fault.CrashSwitch;
import dev.spillway.osd.testkit.fault.CrashingOsd;
import dev.spillway.osd.testkit.fault.FaultInjectingStorage;
import dev.spillway.osd.testkit.fault.SteppingClock;
import dev.spillway.osd.vfs.VfsOsd;
import dev.spillway.pool.config.DeviceConfig;
import dev.spillway.pool.config.PoolConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * The pool's crash campaign on a simulated machine under power cuts: the pool's devices are
 * backends that keep their files on the fault-injecting storage (osd-vfs, journal off and on) or
 * simulate durability themselves (osd-mem), all on one crash clock ({@link CrashSwitch}), so a
 * cut stops every device at the same instant. After the cut each storage keeps what a POSIX
 * filesystem may keep ({@link FaultInjectingStorage.CrashMode}), the pool is mounted on what
 * survived — recovery then rolls back and collects copies whatever a crash left of them — and
 * {@link CrashCampaign#verify} checks fsck (deep) and every acknowledged write.
 */
final class PowerLossCampaign {
    private PowerLossCampaign() {}

    /** The devices of one run: raw osd-mem devices and the storages of the others, by device index. */
    static final class Machine {
        final PoolConfig config;
        final CrashSwitch power;
        final Map<Integer, MemOsd> mems = new LinkedHashMap<>();
        final Map<Integer, FaultInjectingStorage> storages = new LinkedHashMap<>();

        Machine(PoolConfig config, CrashSwitch power) throws OsdException {
            this.config = config;
            this.power = power;
            for (DeviceConfig d : config.devices()) {
                if (d.backend().equals("mem")) {
                    mems.put(d.index(), new MemOsd(new OsdConfig(d.name(), "mem", d.settings(), new SteppingClock())));
                } else {
                    storages.put(
                            d.index(),
                            new FaultInjectingStorage(
                                    FaultInjectingStorage.Features.ext4(),
                                    FaultInjectingStorage.Root.FOLDER,
                                    power,
                                    d.name()));
                }
            }
        }

        private Machine(PoolConfig config) {
            this.config = config;
            this.power = new CrashSwitch(0);
        }

        /** What a reboot finds: each device as {@code mode} lets it survive. */
        Machine survivor(FaultInjectingStorage.CrashMode mode, long seed) throws OsdException {
            Machine m = new Machine(config);
            for (var e : mems.entrySet()) {
                m.mems.put(e.getKey(), e.getValue().crash());
            }
            for (var e : storages.entrySet()) {
                m.storages.put(e.getKey(), e.getValue().survivor(mode, seed + e.getKey()));
            }
            return m;
        }

        Osd open(DeviceConfig d) throws OsdException {
            MemOsd mem = mems.get(d.index());
            if (mem != null) {
                return new CrashingOsd(mem, power);
            }
            return VfsOsd.open(
                    new OsdConfig(d.name(), d.backend(), d.settings(), new SteppingClock()),
                    storages.get(d.index()),
                    Runnable::run);
        }

        PoolOsd mount() throws OsdException {
            return PoolOsd.mount(config, new SteppingClock(), PoolOsd.MountMode.RECOVER, (d, clock) -> open(d));
        }
    }

    /**
     * Runs {@code points} crash points over {@code seeds} workloads, the crash modes in turn: each
     * workload once without a cut to count its operations, then cut at points drawn over them.
     * {@code -Dspillway.crash.replay=SEED:OPERATION:MODE} runs that one point.
     */
    static int run(
            String name,
            int points,
            int seeds,
            java.util.function.IntFunction<PoolConfig> configs,
            int objects,
            CrashCampaign.Workload w)
            throws Exception {
        String replay = System.getProperty("spillway.crash.replay");
        if (replay != null) {
            String[] p = replay.split(":");
            long seed = Seeds.parse(p[0]);
            one(
                    name,
                    configs.apply(Integer.parseInt(p[3])),
                    objects,
                    w,
                    seed,
                    Long.parseLong(p[1]),
                    0,
                    FaultInjectingStorage.CrashMode.valueOf(p[2]),
                    0,
                    Integer.parseInt(p[3]));
            return 1;
        }
        long master = Seeds.master();
        System.out.printf("%s: master seed 0x%x, %d crash points over %d workloads%n", name, master, points, seeds);
        SplittableRandom sr = new SplittableRandom(master);
        FaultInjectingStorage.CrashMode[] modes = FaultInjectingStorage.CrashMode.values();
        int ran = 0;
        for (int s = 0; s < seeds; s++) {
            long seed = sr.nextLong();
            PoolConfig c = configs.apply(s);
            CrashSwitch counter = new CrashSwitch(0);
            once(new Machine(c, counter), w, seed, new CrashCampaign.Model());
            long total = counter.calls();
            int here = points / seeds + (s < points % seeds ? 1 : 0);
            Random pick = new Random(seed);
            for (int k = 0; k < here; k++) {
                long at = 1 + (long) (pick.nextDouble() * total);
                one(name, c, objects, w, seed, at, total, modes[(k + s) % modes.length], master, s);
                ran++;
            }
        }
        return ran;
    }

    private static void one(
            String name,
            PoolConfig c,
            int objects,
            CrashCampaign.Workload w,
            long seed,
            long at,
            long total,
            FaultInjectingStorage.CrashMode mode,
            long master,
            int config)
            throws Exception {
        String where = String.format(
                "%s, seed 0x%x, cut at operation %d of %d, mode %s (master seed 0x%x);"
                        + " replay with -Dspillway.crash.replay=0x%x:%d:%s:%d",
                name, seed, at, total, mode, master, seed, at, mode, config);
        try {
            Machine m = new Machine(c, new CrashSwitch(at));
            CrashCampaign.Model model = new CrashCampaign.Model();
            once(m, w, seed, model);
            Machine after = m.survivor(mode, seed ^ at);
            CrashCampaign.verify(after::mount, model, objects, where).close();
        } catch (Throwable e) {
            throw new AssertionError("crash point failed: " + where + ": " + e, e);
        }
    }

    private static void once(Machine m, CrashCampaign.Workload w, long seed, CrashCampaign.Model model)
            throws Exception {
        PoolOsd pool;
        try {
            pool = m.mount();
        } catch (OsdException | CrashSwitch.SimulatedCrash e) {
            if (m.power.crashed()) {
                return;
            }
            throw e;
        }
        try {
            w.run(seed, pool, m.power, model);
        } catch (CrashSwitch.SimulatedCrash e) {
            return;
        } catch (OsdException e) {
            if (!m.power.crashed()) {
                throw e;
            }
        }
    }

    /** The devices in use when the configuration lists them, for a one-line summary. */
    static List<String> backends(PoolConfig c) {
        List<String> out = new ArrayList<>();
        for (DeviceConfig d : c.devices()) {
            out.add(d.name() + ":" + d.backend());
        }
        return out;
    }
}
