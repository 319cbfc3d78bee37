package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.osd.testkit.Seeds;
import dev.spillway.osd.testkit.fault.CrashSwitch;
import dev.spillway.osd.testkit.fault.CrashingOsd;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.recovery.Fsck;
import java.nio.ByteBuffer;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.function.IntFunction;

/**
 * A crash-point campaign over a pool whose devices are osd-mem with simulated durability under
 * {@link CrashingOsd}: a seeded workload runs until the crash point, everything not durable on
 * every device is dropped, the pool is mounted on what survived (recovery from the work index),
 * and then fsck (deep) must be clean and every acknowledged client write must be there byte for
 * byte. Used by the pool's own campaign and by the migration daemon's.
 */
public final class CrashCampaign {
    /** Client objects of a campaign: {@code [0x200000400:0x1:0x0]} and up. */
    public static Fid object(int i) {
        return new Fid(0x200000400L, i + 1, 0);
    }

    /** The model: per object, the states a client may find after a crash. */
    public static final class Model {
        // Every state possibly committed, in order; null = absent.
        final Map<Fid, List<byte[]>> states = new HashMap<>();
        // Index of the last state acknowledged durable (-1: none; the initial absence stands).
        final Map<Fid, Integer> acked = new HashMap<>();

        synchronized int add(Fid f, byte[] state) {
            List<byte[]> l = states.computeIfAbsent(f, k -> new ArrayList<>());
            l.add(state);
            return l.size() - 1;
        }

        synchronized void ack(Fid f, int index) {
            acked.merge(f, index, Math::max);
        }

        /** An independent copy (several crash points start from one prefilled, acknowledged state). */
        public synchronized Model copy() {
            Model m = new Model();
            states.forEach((f, l) -> m.states.put(f, new ArrayList<>(l)));
            m.acked.putAll(acked);
            return m;
        }

        /** The states allowed now: from the last acknowledged one on (or absence and everything). */
        public synchronized List<byte[]> allowed(Fid f) {
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

    /** A workload: runs on a mounted pool until it ends or the crash switch fires. */
    @FunctionalInterface
    public interface Workload {
        void run(long seed, PoolOsd pool, CrashSwitch sw, Model model) throws Exception;
    }

    /** A further check after recovery (the pool mounted on what survived, fsck clean, bytes checked). */
    @FunctionalInterface
    public interface Check {
        void after(PoolOsd pool, Model model, String where) throws Exception;
    }

    /** Something attached to each mount (the migration daemon); closed never — the machine crashes. */
    @FunctionalInterface
    public interface Attach {
        void to(PoolOsd pool) throws OsdException;
    }

    private CrashCampaign() {}

    public static List<MemOsd> freshDevices(PoolConfig c) throws OsdException {
        return PoolFixtures.memDevices(c);
    }

    public static PoolOsd mount(PoolConfig c, List<MemOsd> raw, CrashSwitch sw) throws OsdException {
        return PoolOsd.mount(
                c,
                InstantSource.system(),
                PoolOsd.MountMode.RECOVER,
                (d, clock) -> new CrashingOsd(raw.get(d.index()), sw));
    }

    /**
     * A client write replacing {@code fid}'s body (creating it if needed), recorded in the model
     * before stop (it may commit) and acknowledged when its commit callback says it is durable.
     */
    public static void write(PoolOsd pool, Fid f, byte[] body, boolean sync, Model model) throws OsdException {
        PoolFixtures.replace(pool, f, body, tx -> {
            int idx = model.add(f, body);
            tx.addCommitCallback((id, err) -> {
                if (err == null) {
                    model.ack(f, idx);
                }
            });
            tx.setSync(sync);
        });
    }

    /**
     * What a workload step does with its error: after the crash it is rethrown (the campaign's
     * point); a refusal a single-threaded workload may meet — the object is gone (ENOENT), not
     * spillable now (EISDIR) or busy (EBUSY) — is passed over; anything else fails the campaign.
     */
    public static void refusedOrCrashed(OsdException e, CrashSwitch sw, int step) throws OsdException {
        if (sw.crashed()) {
            throw e;
        }
        if (!e.is(Errno.ENOENT) && !e.is(Errno.EISDIR) && !e.is(Errno.EBUSY)) {
            throw new AssertionError("step " + step + " failed without a crash: " + e.getMessage(), e);
        }
    }

    /** A client destroy, modelled like {@link #write}. */
    public static void destroy(PoolOsd pool, Fid f, Model model) throws OsdException {
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

    /** Mounts a pool on what survived a crash. */
    @FunctionalInterface
    public interface Mount {
        PoolOsd mount() throws OsdException;
    }

    /** After the crash: mount on what survived, fsck, and check every acknowledged write. */
    public static PoolOsd verify(PoolConfig c, List<MemOsd> survived, Model model, int objects, String where)
            throws Exception {
        return verify(() -> mount(c, survived, new CrashSwitch(0)), model, objects, where);
    }

    /** After the crash: mount with {@code m}, fsck, and check every acknowledged write. */
    public static PoolOsd verify(Mount m, Model model, int objects, String where) throws Exception {
        PoolOsd pool = m.mount();
        Fsck.Report rep = pool.fsck(false, true, null);
        assertThat(rep.problems()).as("fsck after recovery (%s)", where).isEmpty();
        for (int i = 0; i < objects; i++) {
            Fid f = object(i);
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
                            "%s after the crash holds %s, which is not its last acknowledged state nor a later one (%s)",
                            f, actual == null ? "nothing" : actual.length + " bytes", where)
                    .isTrue();
        }
        return pool;
    }

    /**
     * Runs {@code points} crash points over {@code seeds} workloads: each workload once without a
     * crash to count its device calls, then at points drawn uniformly over them.
     */
    public static int run(
            String name, int points, int seeds, IntFunction<PoolConfig> configs, int objects, Attach attach, Workload w)
            throws Exception {
        return run(name, points, seeds, configs, objects, attach, w, null);
    }

    /** As {@link #run(String, int, int, java.util.function.IntFunction, int, Attach, Workload)}, then {@code check}. */
    public static int run(
            String name,
            int points,
            int seeds,
            IntFunction<PoolConfig> configs,
            int objects,
            Attach attach,
            Workload w,
            Check check)
            throws Exception {
        long master = Seeds.master();
        System.out.printf("%s: master seed 0x%x, %d crash points over %d workloads%n", name, master, points, seeds);
        SplittableRandom sr = new SplittableRandom(master);
        int ran = 0;
        for (int s = 0; s < seeds; s++) {
            long seed = sr.nextLong();
            PoolConfig c = configs.apply(s);
            CrashSwitch counter = new CrashSwitch(0);
            once(c, freshDevices(c), counter, attach, w, seed, new Model());
            long total = counter.calls();
            int here = points / seeds + (s < points % seeds ? 1 : 0);
            Random pick = new Random(seed);
            for (int k = 0; k < here; k++) {
                long at = 1 + (long) (pick.nextDouble() * total);
                List<MemOsd> raw = freshDevices(c);
                Model model = new Model();
                String where = String.format(
                        "%s, seed 0x%x, crash at call %d of %d (master seed 0x%x)", name, seed, at, total, master);
                try {
                    once(c, raw, new CrashSwitch(at), attach, w, seed, model);
                    List<MemOsd> survived = new ArrayList<>();
                    for (MemOsd m : raw) {
                        survived.add(m.crash());
                    }
                    PoolOsd after = verify(c, survived, model, objects, where);
                    if (check != null) {
                        check.after(after, model, where);
                    }
                } catch (Throwable e) {
                    throw new AssertionError("crash point failed: " + where + ": " + e, e);
                }
                ran++;
            }
        }
        return ran;
    }

    private static void once(
            PoolConfig c, List<MemOsd> raw, CrashSwitch sw, Attach attach, Workload w, long seed, Model model)
            throws Exception {
        PoolOsd pool;
        try {
            pool = mount(c, raw, sw);
            if (attach != null) {
                attach.to(pool);
            }
        } catch (OsdException | CrashSwitch.SimulatedCrash e) {
            if (sw.crashed()) {
                return;
            }
            throw e;
        }
        try {
            w.run(seed, pool, sw, model);
        } catch (CrashSwitch.SimulatedCrash e) {
            return;
        } catch (OsdException e) {
            if (!sw.crashed()) {
                throw e;
            }
        }
    }
}
