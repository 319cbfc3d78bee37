package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.testkit.fault.CrashSwitch;
import dev.spillway.osd.testkit.fault.CrashingOsd;
import dev.spillway.pool.config.DeviceConfig;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.recovery.Fsck;
import java.nio.ByteBuffer;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The pool's crash-point campaign. Every device is an osd-mem with simulated durability under a
 * {@link CrashingOsd}; a seeded workload of client writes and destroys, spills, copies, promotes,
 * releases, migrations, mirror drops, garbage collection and syncs runs until the crash point,
 * where everything not yet durable on every device is dropped. The pool is then mounted on what
 * survived (recovery runs from the work index), and checked: fsck (deep: every copy's checksums)
 * is clean — no leaked copy, no layout naming a missing copy, indexes and counters exact — and
 * every acknowledged (durably committed) client write is there, byte for byte.
 *
 * <p>{@code -Dspillway.crash.points=N} (default 2,000) crash points, spread over
 * {@code -Dspillway.crash.seeds=S} workloads (default 20); {@code -Dspillway.seed=X} picks the
 * master seed. A failure names the seed and crash point.
 */
class PoolCrashTest {
    private static final int OBJECTS = 5;
    private static final boolean TRACE = Boolean.getBoolean("spillway.crash.trace");

    /** The model: per object, the states a client may find after a crash. */
    static final class Model {
        // Every state possibly committed, in order; null = absent.
        final Map<Fid, List<byte[]>> states = new HashMap<>();
        // Index of the last state acknowledged durable (-1: none; the initial absence stands).
        final Map<Fid, Integer> acked = new HashMap<>();

        int add(Fid f, byte[] state) {
            List<byte[]> l = states.computeIfAbsent(f, k -> new ArrayList<>());
            l.add(state);
            return l.size() - 1;
        }

        synchronized void ack(Fid f, int index) {
            acked.merge(f, index, Math::max);
        }

        /** The states allowed now: from the last acknowledged one on (or absence and everything). */
        List<byte[]> allowed(Fid f) {
            List<byte[]> l = states.getOrDefault(f, List.of());
            int a = acked.getOrDefault(f, -1);
            List<byte[]> out = new ArrayList<>();
            if (a < 0) {
                out.add(null);
                out.addAll(l);
            } else {
                out.addAll(l.subList(a, l.size()));
            }
            return out;
        }
    }

    private static PoolConfig config(int replicas) throws OsdException {
        String y = "name: crashpool\nreplicas: " + replicas + "\ndevices:\n"
                + "  - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {durability: simulated, strict-declares: true}}\n"
                + "  - {name: slow0, backend: mem, roles: [background], settings: {durability: simulated, strict-declares: true}}\n"
                + "  - {name: slow1, backend: mem, roles: [background], settings: {durability: simulated, strict-declares: true}}\n";
        return PoolConfigParser.parse(y, "crash test");
    }

    private static List<MemOsd> freshDevices(PoolConfig c) throws OsdException {
        List<MemOsd> l = new ArrayList<>();
        for (DeviceConfig d : c.devices()) {
            l.add(new MemOsd(new OsdConfig(d.name(), d.backend(), d.settings(), InstantSource.system())));
        }
        return l;
    }

    private static PoolOsd mount(PoolConfig c, List<MemOsd> raw, CrashSwitch sw) throws OsdException {
        return PoolOsd.mount(c, InstantSource.system(), PoolOsd.MountMode.RECOVER,
                (d, clock) -> new CrashingOsd(raw.get(d.index()), sw));
    }

    /** Runs the workload; returns normally when it ends or the crash point is hit. */
    private static void workload(long seed, PoolConfig c, List<MemOsd> raw, CrashSwitch sw, Model model) throws Exception {
        PoolOsd pool;
        try {
            pool = mount(c, raw, sw);
        } catch (OsdException | CrashSwitch.SimulatedCrash e) {
            if (sw.crashed()) {
                return;
            }
            throw e;
        }
        Random r = new Random(seed);
        List<Fid> fids = new ArrayList<>();
        for (int i = 0; i < OBJECTS; i++) {
            fids.add(new Fid(0x200000400L, i + 1, 0));
        }
        List<PoolDevice> bg = pool.devices().subList(1, pool.devices().size());
        for (int step = 0; step < 70; step++) {
            Fid f = fids.get(r.nextInt(fids.size()));
            int op = r.nextInt(100);
            if (TRACE) {
                System.out.println("step " + step + " op " + op + " on " + f + " at call " + sw.calls());
            }
            try {
                if (op < 35) {
                    byte[] body = new byte[1 + r.nextInt(40_000)];
                    r.nextBytes(body);
                    boolean exists = pool.exists(f);
                    int idx;
                    try (Transaction tx = pool.newTransaction()) {
                        if (!exists) {
                            tx.declareCreate(f, ObjectKind.DATA);
                        }
                        tx.declareTruncate(f, 0);
                        tx.declareWrite(f, 0, body.length);
                        tx.start();
                        if (!exists) {
                            tx.create(f, ObjectKind.DATA, AttrChange.none());
                        }
                        tx.truncate(f, 0);
                        tx.write(f, 0, ByteBuffer.wrap(body));
                        idx = model.add(f, body);
                        tx.addCommitCallback((id, err) -> {
                            if (err == null) {
                                model.ack(f, idx);
                            }
                        });
                        tx.setSync(r.nextInt(4) == 0);
                    }
                } else if (op < 42) {
                    if (pool.exists(f)) {
                        try (Transaction tx = pool.newTransaction()) {
                            tx.declareDestroy(f);
                            tx.start();
                            tx.destroy(f);
                            int idx = model.add(f, null);
                            tx.addCommitCallback((id, err) -> {
                                if (err == null) {
                                    model.ack(f, idx);
                                }
                            });
                        }
                    }
                } else if (op < 60) {
                    pool.migrator().spill(f, bg.get(r.nextInt(bg.size())));
                } else if (op < 66) {
                    pool.migrator().copy(f, bg.get(r.nextInt(bg.size())), false);
                } else if (op < 72) {
                    pool.migrator().promote(f);
                } else if (op < 76) {
                    pool.migrator().release(f);
                } else if (op < 80) {
                    pool.migrator().migrate(f, bg.get(0), bg.get(1));
                } else if (op < 84) {
                    var p = pool.store().load(f);
                    if (p.isPresent() && p.get().copies().size() > 1) {
                        pool.migrator().dropMirror(f, p.get().copies().get(r.nextInt(p.get().copies().size())).mirrorId());
                    }
                } else if (op < 90) {
                    pool.migrator().collectGarbage();
                } else {
                    pool.sync();
                }
            } catch (CrashSwitch.SimulatedCrash e) {
                return;
            } catch (OsdException e) {
                if (sw.crashed()) {
                    return;
                }
                // Refusals a single-threaded workload may meet: the object is gone, or not spillable now.
                if (!e.is(Errno.ENOENT) && !e.is(Errno.EISDIR) && !e.is(Errno.EBUSY)) {
                    throw new AssertionError("step " + step + " failed without a crash: " + e.getMessage(), e);
                }
            }
        }
    }

    /** After the crash: mount on what survived, fsck, and check every acknowledged write. */
    private static void verify(PoolConfig c, List<MemOsd> survived, Model model, String where) throws Exception {
        PoolOsd pool = mount(c, survived, new CrashSwitch(0));
        Fsck.Report rep = Fsck.run(pool, false, true, null);
        if (TRACE && !rep.clean()) {
            System.out.println("recovery: " + pool.recoveryReport());
            for (int i = 0; i < OBJECTS; i++) {
                Fid f = new Fid(0x200000400L, i + 1, 0);
                System.out.println(f + " -> " + (pool.exists(f) ? pool.store().load(f) : "absent"));
            }
            System.out.println("jobs " + dev.spillway.pool.meta.WorkIndex.all(pool.metadata().osd()));
        }
        assertThat(rep.problems()).as("fsck after recovery (%s)", where).isEmpty();
        for (int i = 0; i < OBJECTS; i++) {
            Fid f = new Fid(0x200000400L, i + 1, 0);
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
                if (allowed == null ? actual == null : actual != null && java.util.Arrays.equals(allowed, actual)) {
                    ok = true;
                    break;
                }
            }
            assertThat(ok).as("%s after the crash holds %s, which is not its last acknowledged state nor a later one (%s)",
                    f, actual == null ? "nothing" : actual.length + " bytes", where).isTrue();
        }
        // The recovered pool works: everything can still be spilled and read back.
        for (int i = 0; i < OBJECTS; i++) {
            Fid f = new Fid(0x200000400L, i + 1, 0);
            if (pool.exists(f)) {
                pool.migrator().spill(f, pool.device(1));
            }
        }
        pool.migrator().collectGarbage();
        assertThat(Fsck.run(pool, false, false, null).problems()).as("fsck after post-recovery spills (%s)", where).isEmpty();
    }

    @Test
    void everyCrashPointRecoversWithoutLossOrLeak() throws Exception {
        int points = Integer.getInteger("spillway.crash.points", 2000);
        int seeds = Integer.getInteger("spillway.crash.seeds", 20);
        long master = dev.spillway.osd.testkit.Seeds.master();
        System.out.printf("pool crash campaign: master seed 0x%x, %d crash points over %d workloads%n", master, points, seeds);
        SplittableRandom sr = new SplittableRandom(master);
        AtomicInteger ran = new AtomicInteger();
        Set<String> crashedIn = new HashSet<>();
        for (int s = 0; s < seeds; s++) {
            long seed = sr.nextLong();
            int replicas = 1 + (s % 2);
            PoolConfig c = config(replicas);
            CrashSwitch counter = new CrashSwitch(0);
            workload(seed, c, freshDevices(c), counter, new Model());
            long total = counter.calls();
            int here = points / seeds + (s < points % seeds ? 1 : 0);
            Random pick = new Random(seed);
            for (int k = 0; k < here; k++) {
                long at = 1 + (long) (pick.nextDouble() * total);
                List<MemOsd> raw = freshDevices(c);
                CrashSwitch sw = new CrashSwitch(at);
                Model model = new Model();
                String where = String.format("seed 0x%x, replicas %d, crash at call %d of %d", seed, replicas, at, total);
                try {
                    workload(seed, c, raw, sw, model);
                    List<MemOsd> survived = new ArrayList<>();
                    for (MemOsd m : raw) {
                        survived.add(m.crash());
                    }
                    verify(c, survived, model, where);
                } catch (Throwable e) {
                    throw new AssertionError("crash point failed: " + where + " (master seed 0x" + Long.toHexString(master) + "): " + e, e);
                }
                ran.incrementAndGet();
            }
        }
        assertThat(ran.get()).isEqualTo(points);
    }

    @Test
    void crashSwitchWithoutAPointOnlyCounts() throws Exception {
        PoolConfig c = config(1);
        CrashSwitch sw = new CrashSwitch(0);
        workload(1, c, freshDevices(c), sw, new Model());
        assertThat(sw.calls()).isPositive();
        assertThat(sw.crashed()).isFalse();
    }

    static Osd unused() {
        return null;
    }
}
