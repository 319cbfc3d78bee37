package dev.spillway.osd.kv;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.XattrFlag;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * The crash test's workload: per writer thread, a deterministic sequence of multi-object
 * transactions (a pure function of the seed, the thread and the index), and the model state
 * after any prefix of it. Each thread touches only its own objects, so after a crash the device
 * must hold, per thread, exactly the model state after some prefix — and that prefix must
 * include every transaction whose commit callback fired.
 *
 * <p>Transaction {@code i} of thread {@code t} creates 1–3 objects (small inline bodies or large
 * extent-file ones) with an xattr, records them in the thread's index, destroys the objects of
 * the oldest transaction when more than {@link #ALIVE} are alive, often rewrites part of a
 * "register" object (partial writes, truncates, punches: copy-on-write of inline blocks and
 * extents), and upserts the index key {@code last = i}, which tells the checker the prefix.
 */
final class CrashWorkload {
    static final int ALIVE = 12;
    static final int REGISTERS = 3;
    static final byte[] LAST = "last".getBytes(StandardCharsets.US_ASCII);

    private CrashWorkload() {}

    static Fid object(int t, long i, int j) {
        return Fid.of(0x1000L + t, (int) (i * 4 + j + 1));
    }

    static Fid register(int t, int r) {
        return Fid.of(0x2000L + t, r + 1);
    }

    static Fid index(int t) {
        return Fid.of(0x3000L + t, 1);
    }

    static byte[] key(char kind, long i) {
        return ByteBuffer.allocate(9).put((byte) kind).putLong(i).array();
    }

    static byte[] longBytes(long v) {
        return ByteBuffer.allocate(8).putLong(v).array();
    }

    /** Fast deterministic bytes (SplitMix64), so replaying thousands of transactions is cheap. */
    static void fill(byte[] b, int off, int len, long seed) {
        long x = seed;
        int i = 0;
        while (i < len) {
            x += 0x9E3779B97F4A7C15L;
            long z = x;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            z ^= z >>> 31;
            for (int k = 0; k < 8 && i < len; k++, i++) {
                b[off + i] = (byte) (z >>> (k * 8));
            }
        }
    }

    static byte[] data(long seed, int len) {
        byte[] b = new byte[len];
        fill(b, 0, len, seed);
        return b;
    }

    static long mix(long seed, long... xs) {
        long h = seed;
        for (long x : xs) {
            h = (h ^ x) * 0x9E3779B97F4A7C15L;
            h ^= h >>> 29;
        }
        return h;
    }

    /** The model of one thread's objects after a prefix of its transactions. */
    static final class Model {
        final int thread;
        final long seed;
        long next;
        final Map<Fid, byte[]> bodies = new HashMap<>();
        final Map<Fid, Map<String, byte[]>> xattrs = new HashMap<>();
        final TreeMap<byte[], byte[]> index = new TreeMap<>(Arrays::compareUnsigned);
        final Deque<long[]> alive = new ArrayDeque<>(); // {tx, objects}

        Model(int thread, long seed) {
            this.thread = thread;
            this.seed = seed;
        }
    }

    /** One update of a planned transaction. */
    sealed interface Op {
        record Create(Fid fid, ObjectKind kind) implements Op {}

        record Write(Fid fid, long offset, byte[] data) implements Op {}

        record Truncate(Fid fid, long size) implements Op {}

        record Punch(Fid fid, long offset, long length) implements Op {}

        record SetXattr(Fid fid, String name, byte[] value) implements Op {}

        record Destroy(Fid fid) implements Op {}

        record Upsert(Fid index, byte[] key, byte[] value) implements Op {}

        record Delete(Fid index, byte[] key) implements Op {}
    }

    /** Plans transaction {@code m.next} against the model and applies it there. */
    static List<Op> planAndApply(Model m) {
        long i = m.next++;
        int t = m.thread;
        SplittableRandom r = new SplittableRandom(mix(m.seed, t, i));
        List<Op> ops = new ArrayList<>();
        Fid ix = index(t);
        if (i == 0) {
            ops.add(new Op.Create(ix, ObjectKind.INDEX));
            for (int k = 0; k < REGISTERS; k++) {
                ops.add(new Op.Create(register(t, k), ObjectKind.DATA));
            }
        }
        int n = 1 + r.nextInt(3);
        for (int j = 0; j < n; j++) {
            Fid f = object(t, i, j);
            int len = r.nextInt(10) < 3 ? 70_000 + r.nextInt(230_000) : 1 + r.nextInt(20_000);
            ops.add(new Op.Create(f, ObjectKind.DATA));
            ops.add(new Op.Write(f, 0, data(mix(m.seed, t, i, j), len)));
            ops.add(new Op.SetXattr(f, "user.tx", longBytes(i)));
        }
        ops.add(new Op.Upsert(ix, key('o', i), longBytes(n)));
        m.alive.addLast(new long[] {i, n});
        if (m.alive.size() > ALIVE) {
            long[] old = m.alive.pollFirst();
            for (int j = 0; j < old[1]; j++) {
                ops.add(new Op.Destroy(object(t, old[0], j)));
            }
            ops.add(new Op.Delete(ix, key('o', old[0])));
            ops.add(new Op.Upsert(ix, key('d', old[0]), longBytes(i)));
        }
        if (r.nextInt(10) < 6) {
            Fid reg = register(t, r.nextInt(REGISTERS));
            long size = m.bodies.getOrDefault(reg, new byte[0]).length;
            switch (r.nextInt(5)) {
                case 0 -> ops.add(new Op.Truncate(reg, r.nextInt(300_000)));
                case 1 -> ops.add(new Op.Punch(reg, r.nextLong(size + 1), 1 + r.nextInt(120_000)));
                default -> {
                    long off = r.nextLong(Math.min(size, 200_000) + 1);
                    int len = r.nextInt(3) == 0 ? 60_000 + r.nextInt(60_000) : 1 + r.nextInt(9_000);
                    ops.add(new Op.Write(reg, off, data(mix(m.seed, t, i, 99), len)));
                }
            }
            ops.add(new Op.SetXattr(reg, "user.stamp", longBytes(i)));
        }
        ops.add(new Op.Upsert(ix, LAST, longBytes(i)));
        for (Op op : ops) {
            apply(m, op);
        }
        return ops;
    }

    private static void apply(Model m, Op op) {
        switch (op) {
            case Op.Create c -> {
                if (c.kind() == ObjectKind.DATA) {
                    m.bodies.put(c.fid(), new byte[0]);
                }
                m.xattrs.put(c.fid(), new TreeMap<>());
            }
            case Op.Write w -> {
                byte[] b = m.bodies.get(w.fid());
                byte[] nb = Arrays.copyOf(b, (int) Math.max(b.length, w.offset() + w.data().length));
                System.arraycopy(w.data(), 0, nb, (int) w.offset(), w.data().length);
                m.bodies.put(w.fid(), nb);
            }
            case Op.Truncate tr -> m.bodies.put(tr.fid(), Arrays.copyOf(m.bodies.get(tr.fid()), (int) tr.size()));
            case Op.Punch p -> {
                byte[] b = m.bodies.get(p.fid());
                int end = (int) Math.min(b.length, p.offset() + p.length());
                if (p.offset() < end) {
                    Arrays.fill(b, (int) p.offset(), end, (byte) 0);
                }
            }
            case Op.SetXattr x -> m.xattrs.get(x.fid()).put(x.name(), x.value());
            case Op.Destroy d -> {
                m.bodies.remove(d.fid());
                m.xattrs.remove(d.fid());
            }
            case Op.Upsert u -> m.index.put(u.key(), u.value());
            case Op.Delete d -> m.index.remove(d.key());
        }
    }

    /** The model after transactions {@code 0..last} of thread {@code t}. */
    static Model replay(long seed, int t, long last) {
        Model m = new Model(t, seed);
        while (m.next <= last) {
            planAndApply(m);
        }
        return m;
    }

    /** The last transaction of thread {@code t} on the device, or -1. */
    static long lastOnDevice(KvOsd osd, int t) throws OsdException {
        if (!osd.exists(index(t))) {
            return -1;
        }
        Optional<byte[]> v = osd.lookup(index(t), LAST);
        return v.map(b -> ByteBuffer.wrap(b).getLong()).orElse(-1L);
    }

    static void run(KvOsd osd, List<Op> ops, boolean sync, Runnable onCommit) throws OsdException {
        try (Transaction tx = osd.newTransaction()) {
            for (Op op : ops) {
                switch (op) {
                    case Op.Create c -> tx.declareCreate(c.fid(), c.kind());
                    case Op.Write w -> tx.declareWrite(w.fid(), w.offset(), w.data().length);
                    case Op.Truncate tr -> tx.declareTruncate(tr.fid(), tr.size());
                    case Op.Punch p -> tx.declarePunch(p.fid(), p.offset(), p.length());
                    case Op.SetXattr x -> tx.declareSetXattr(x.fid(), x.name(), x.value().length);
                    case Op.Destroy d -> tx.declareDestroy(d.fid());
                    case Op.Upsert u -> tx.declareInsert(u.index(), u.key().length, u.value().length);
                    case Op.Delete d -> tx.declareDelete(d.index(), d.key().length);
                }
            }
            tx.setSync(sync);
            tx.addCommitCallback((id, err) -> {
                if (err == null) {
                    onCommit.run();
                }
            });
            tx.start();
            for (Op op : ops) {
                switch (op) {
                    case Op.Create c -> tx.create(c.fid(), c.kind(), AttrChange.none());
                    case Op.Write w -> tx.write(w.fid(), w.offset(), ByteBuffer.wrap(w.data()));
                    case Op.Truncate tr -> tx.truncate(tr.fid(), tr.size());
                    case Op.Punch p -> tx.punch(p.fid(), p.offset(), p.length());
                    case Op.SetXattr x -> tx.setXattr(x.fid(), x.name(), x.value(), XattrFlag.UPSERT);
                    case Op.Destroy d -> tx.destroy(d.fid());
                    case Op.Upsert u -> tx.upsert(u.index(), u.key(), u.value());
                    case Op.Delete d -> tx.delete(d.index(), d.key());
                }
            }
        }
    }

    /**
     * The child: continues every thread's sequence from what the device holds, printing
     * {@code C thread tx} from each commit callback (so only once durable) until killed.
     */
    static void runChild(Path dir, long seed, int threads) throws Exception {
        PrintStream out = new PrintStream(
                new java.io.FileOutputStream(java.io.FileDescriptor.out), false, StandardCharsets.US_ASCII);
        KvOsd osd = KvTestSupport.open(dir);
        out.println("READY");
        out.flush();
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            Model m = replay(seed, t, lastOnDevice(osd, t));
            ts.add(Thread.ofPlatform().start(() -> {
                try {
                    while (true) {
                        long i = m.next;
                        List<Op> ops = planAndApply(m);
                        boolean sync = new SplittableRandom(mix(seed, thread, i, 7)).nextInt(10) == 0;
                        run(osd, ops, sync, () -> {
                            synchronized (out) {
                                out.println("C " + thread + " " + i);
                                out.flush();
                            }
                        });
                    }
                } catch (Throwable e) {
                    synchronized (out) {
                        out.println("ERROR " + e);
                        e.printStackTrace(out);
                        out.flush();
                    }
                    System.exit(2);
                }
            }));
        }
        for (Thread th : ts) {
            th.join();
        }
    }
}
