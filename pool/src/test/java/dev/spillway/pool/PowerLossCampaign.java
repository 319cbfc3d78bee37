package dev.spillway.pool;

import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.kv.KvOsd;
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
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.function.IntFunction;
import java.util.stream.Stream;

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
        // osd-kv devices: RocksDB's folder (real; a survivor gets a copy taken at the cut) and the open device.
        final Map<Integer, Path> dbs = new LinkedHashMap<>();
        final Map<Integer, KvOsd> kvs = new LinkedHashMap<>();
        private final Path scratch;

        Machine(PoolConfig config, CrashSwitch power) throws OsdException {
            this(config, power, null);
        }

        /** @param scratch where osd-kv devices keep RocksDB (needed only if the pool has one) */
        Machine(PoolConfig config, CrashSwitch power, Path scratch) throws OsdException {
            this.config = config;
            this.power = power;
            this.scratch = scratch;
            for (DeviceConfig d : config.devices()) {
                if (d.backend().equals("kv")) {
                    dbs.put(d.index(), fresh(scratch));
                }
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

        private Machine(PoolConfig config, Path scratch) {
            this.config = config;
            this.power = new CrashSwitch(0);
            this.scratch = scratch;
        }

        private static Path fresh(Path scratch) {
            try {
                return Files.createTempDirectory(scratch, "db");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /**
         * What a reboot finds: each device as {@code mode} lets it survive; osd-kv's RocksDB as it
         * was at the cut (copied, then the crashed device is closed: nothing reached it after the
         * cut, which stopped every call to it).
         */
        Machine survivor(FaultInjectingStorage.CrashMode mode, long seed) throws OsdException {
            Machine m = new Machine(config, scratch);
            for (var e : mems.entrySet()) {
                m.mems.put(e.getKey(), e.getValue().crash());
            }
            for (var e : storages.entrySet()) {
                m.storages.put(e.getKey(), e.getValue().survivor(mode, seed + e.getKey()));
            }
            for (var e : dbs.entrySet()) {
                Path to = fresh(scratch);
                try {
                    if (Files.exists(e.getValue())) {
                        try (Stream<Path> files = Files.list(e.getValue())) {
                            for (Path f : files.toList()) {
                                Files.copy(f, to.resolve(f.getFileName()));
                            }
                        }
                    }
                } catch (IOException x) {
                    throw new UncheckedIOException(x);
                }
                m.dbs.put(e.getKey(), to);
            }
            discard();
            return m;
        }

        /** Closes what the crashed devices still hold open (their storages are down) and removes RocksDB's folders. */
        void discard() {
            for (KvOsd k : kvs.values()) {
                try {
                    k.close();
                } catch (OsdException | RuntimeException ignored) {
                    // The machine is down: its devices cannot unmount cleanly, and need not.
                }
            }
            kvs.clear();
            for (Path p : dbs.values()) {
                try (Stream<Path> files = Files.walk(p)) {
                    for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(f);
                    }
                } catch (IOException ignored) {
                    // A temporary folder: JUnit removes what is left.
                }
            }
        }

        Osd open(DeviceConfig d) throws OsdException {
            MemOsd mem = mems.get(d.index());
            if (mem != null) {
                return new CrashingOsd(mem, power);
            }
            OsdConfig oc = new OsdConfig(d.name(), d.backend(), d.settings(), new SteppingClock());
            if (d.backend().equals("kv")) {
                KvOsd k = KvOsd.open(oc, storages.get(d.index()), dbs.get(d.index()), Runnable::run);
                kvs.put(d.index(), k);
                // Every call ticks the machine's clock and none reaches RocksDB after the cut.
                return new CrashingOsd(k, power);
            }
            return VfsOsd.open(oc, storages.get(d.index()), Runnable::run);
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
            IntFunction<PoolConfig> configs,
            int objects,
            CrashCampaign.Workload w,
            Path scratch)
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
                    Integer.parseInt(p[3]),
                    scratch);
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
            Machine dry = new Machine(c, counter, scratch);
            once(dry, w, seed, new CrashCampaign.Model());
            dry.discard();
            long total = counter.calls();
            int here = points / seeds + (s < points % seeds ? 1 : 0);
            Random pick = new Random(seed);
            for (int k = 0; k < here; k++) {
                long at = 1 + (long) (pick.nextDouble() * total);
                one(name, c, objects, w, seed, at, total, modes[(k + s) % modes.length], master, s, scratch);
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
            int config,
            Path scratch)
            throws Exception {
        String where = String.format(
                "%s, seed 0x%x, cut at operation %d of %d, mode %s (master seed 0x%x);"
                        + " replay with -Dspillway.crash.replay=0x%x:%d:%s:%d",
                name, seed, at, total, mode, master, seed, at, mode, config);
        try {
            Machine m = new Machine(c, new CrashSwitch(at), scratch);
            CrashCampaign.Model model = new CrashCampaign.Model();
            once(m, w, seed, model);
            Machine after = m.survivor(mode, seed ^ at);
            try {
                CrashCampaign.verify(after::mount, model, objects, where).close();
            } finally {
                after.discard();
            }
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
