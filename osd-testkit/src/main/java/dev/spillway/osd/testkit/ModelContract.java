package dev.spillway.osd.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Attr;
import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Capabilities;
import dev.spillway.osd.Capability;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.XattrFlag;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Random transactions checked against a small reference model, as the randomized tests of
 * Lucene and Caffeine do. Each run draws a master seed (or takes {@code -Dspillway.seed}), prints
 * it, and derives one seed per sequence; a failure names the sequence's seed, and
 * {@code -Dspillway.model.replay=SEED} replays that sequence alone, exactly.
 * {@code -Dspillway.model.sequences=N} changes how many sequences run (default 1,000).
 */
public interface ModelContract extends OsdContract {

    @Test
    default void randomTransactionsMatchTheModel() throws Exception {
        String replay = System.getProperty("spillway.model.replay");
        if (replay != null) {
            new ModelRun(this, Seeds.parse(replay)).run();
            return;
        }
        int sequences = modelSequences();
        long master = dev.spillway.osd.testkit.Seeds.master();
        System.out.printf("model test on %s: master seed 0x%x, %d sequences%n", osd().name(), master, sequences);
        SplittableRandom seeds = new SplittableRandom(master);
        int ran = 0;
        for (int i = 0; i < sequences; i++) {
            long seed = seeds.nextLong();
            try {
                new ModelRun(this, seed).run();
            } catch (Throwable e) {
                throw new AssertionError(
                        String.format(
                                "model sequence %d of %s failed; replay it with -Dspillway.model.replay=0x%x (master seed 0x%x): %s",
                                i, osd().name(), seed, master, e.getMessage()),
                        e);
            }
            ran++;
        }
        assertThat(ran).isEqualTo(sequences);
    }

    /** One sequence: a handful of objects, a few random transactions, each checked. */
    final class ModelRun {
        private static final String[] NAMES = {"user.a", "user.b", "user.c", "trusted.x"};
        private final OsdContract t;
        private final Random rnd;
        private final Capabilities caps;
        private final int bs;
        private final List<Fid> fids = new ArrayList<>();
        private final byte[][] keys;
        private Map<Fid, MObj> model = new HashMap<>();

        ModelRun(OsdContract test, long seed) {
            this.t = test;
            this.rnd = new Random(seed);
            this.caps = test.osd().capabilities();
            this.bs = caps.blockSize();
            for (int i = 0; i < 5; i++) {
                fids.add(test.newFid());
            }
            keys = new byte[8][];
            for (int i = 0; i < keys.length; i++) {
                keys[i] = new byte[1 + rnd.nextInt(6)];
                rnd.nextBytes(keys[i]);
            }
        }

        /** The model of one object. */
        static final class MObj {
            ObjectKind kind;
            byte[] body = new byte[0];
            Map<String, byte[]> xattrs = new java.util.TreeMap<>();
            java.util.TreeMap<byte[], byte[]> index = new java.util.TreeMap<>(Arrays::compareUnsigned);
            int mode;
            int uid;
            boolean bodyChanged;
            boolean recreated;

            MObj copy() {
                MObj m = new MObj();
                m.kind = kind;
                m.body = body.clone();
                m.xattrs = new java.util.TreeMap<>(xattrs);
                m.index = new java.util.TreeMap<>(index);
                m.mode = mode;
                m.uid = uid;
                m.bodyChanged = bodyChanged;
                m.recreated = recreated;
                return m;
            }
        }

        enum Kind {
            CREATE,
            DESTROY,
            WRITE,
            PUNCH,
            TRUNCATE,
            SET_ATTR,
            SET_XATTR,
            DELETE_XATTR,
            INSERT,
            UPSERT,
            DELETE
        }

        record Update(
                Kind kind,
                Fid fid,
                ObjectKind objectKind,
                long offset,
                byte[] data,
                long length,
                String name,
                XattrFlag flag,
                byte[] key,
                int mode,
                int uid,
                Errno expected) {
            @Override
            public String toString() {
                return kind + " " + fid + (expected == null ? "" : " (expect " + expected + ")");
            }
        }

        private static Map<Fid, MObj> copy(Map<Fid, MObj> m) {
            Map<Fid, MObj> c = new HashMap<>();
            m.forEach((k, v) -> c.put(k, v.copy()));
            return c;
        }

        void run() throws Exception {
            int txs = 6 + rnd.nextInt(10);
            for (int i = 0; i < txs; i++) {
                oneTransaction();
            }
            cleanup();
        }

        private Kind pick(Map<Fid, MObj> w, Fid f) {
            MObj o = w.get(f);
            if (o == null && rnd.nextInt(4) != 0) {
                return Kind.CREATE;
            }
            List<Kind> ks = new ArrayList<>(List.of(Kind.CREATE, Kind.DESTROY, Kind.SET_ATTR, Kind.WRITE, Kind.WRITE));
            if (caps.has(Capability.PARTIAL_WRITE)) {
                ks.add(Kind.TRUNCATE);
                ks.add(Kind.WRITE);
            }
            if (caps.has(Capability.PUNCH) && caps.has(Capability.PARTIAL_WRITE)) {
                ks.add(Kind.PUNCH);
            }
            if (caps.has(Capability.XATTRS)) {
                ks.addAll(List.of(Kind.SET_XATTR, Kind.SET_XATTR, Kind.DELETE_XATTR));
            }
            if (caps.has(Capability.INDEX)) {
                ks.addAll(List.of(Kind.INSERT, Kind.UPSERT, Kind.INSERT, Kind.DELETE));
            }
            return ks.get(rnd.nextInt(ks.size()));
        }

        /** Draws an update against the working model {@code w}, applies it there, returns it. */
        private Update draw(Map<Fid, MObj> w, java.util.Set<Fid> written) {
            Fid f = fids.get(rnd.nextInt(fids.size()));
            MObj o = w.get(f);
            Kind k = pick(w, f);
            if (k == Kind.WRITE && !caps.has(Capability.PARTIAL_WRITE) && written.contains(f)) {
                k = Kind.SET_ATTR;
            }
            switch (k) {
                case CREATE -> {
                    ObjectKind ok =
                            caps.has(Capability.INDEX) && rnd.nextInt(3) == 0 ? ObjectKind.INDEX : ObjectKind.DATA;
                    if (o != null) {
                        return upd(k, f, ok, Errno.EEXIST);
                    }
                    MObj n = new MObj();
                    n.kind = ok;
                    n.recreated = true;
                    w.put(f, n);
                    return upd(k, f, ok, null);
                }
                case DESTROY -> {
                    if (o == null) {
                        return upd(k, f, null, Errno.ENOENT);
                    }
                    w.remove(f);
                    return upd(k, f, null, null);
                }
                case SET_ATTR -> {
                    int mode = rnd.nextInt(01000);
                    int uid = rnd.nextInt(5000);
                    if (o == null) {
                        return new Update(k, f, null, 0, null, 0, null, null, null, mode, uid, Errno.ENOENT);
                    }
                    o.mode = mode;
                    o.uid = uid;
                    return new Update(k, f, null, 0, null, 0, null, null, null, mode, uid, null);
                }
                case WRITE -> {
                    boolean partial = caps.has(Capability.PARTIAL_WRITE);
                    long off = partial ? rnd.nextInt((o == null ? 0 : o.body.length) + bs + 1) : 0;
                    byte[] data = new byte[1 + rnd.nextInt(2 * bs)];
                    rnd.nextBytes(data);
                    off = Math.min(off, 8L * bs);
                    Errno e = o == null ? Errno.ENOENT : o.kind == ObjectKind.INDEX ? Errno.EISDIR : null;
                    if (e == null) {
                        written.add(f);
                        byte[] nb = partial
                                ? Arrays.copyOf(o.body, (int) Math.max(o.body.length, off + data.length))
                                : data.clone();
                        if (partial) {
                            System.arraycopy(data, 0, nb, (int) off, data.length);
                        }
                        o.body = nb;
                        o.bodyChanged = true;
                    }
                    return new Update(k, f, null, off, data, data.length, null, null, null, 0, 0, e);
                }
                case PUNCH, TRUNCATE -> {
                    long size = o == null ? 0 : o.body.length;
                    // Truncates shrink as often as they grow, and often inside a block, where
                    // a stale tail would show.
                    long off = k == Kind.PUNCH
                            ? rnd.nextInt((int) size + 1)
                            : rnd.nextBoolean() ? rnd.nextInt((int) size + 1) : size + rnd.nextInt(2 * bs);
                    long len = k == Kind.PUNCH ? 1 + rnd.nextInt(3 * bs) : 0;
                    Errno e = o == null ? Errno.ENOENT : o.kind == ObjectKind.INDEX ? Errno.EISDIR : null;
                    if (e == null) {
                        if (k == Kind.PUNCH) {
                            int end = (int) Math.min(size, off + len);
                            if (off < end) {
                                Arrays.fill(o.body, (int) off, end, (byte) 0);
                            }
                        } else {
                            o.body = Arrays.copyOf(o.body, (int) off);
                        }
                        o.bodyChanged = true;
                    }
                    return new Update(k, f, null, off, null, len, null, null, null, 0, 0, e);
                }
                case SET_XATTR -> {
                    String name = NAMES[rnd.nextInt(NAMES.length)];
                    byte[] v = new byte[rnd.nextInt(100)];
                    rnd.nextBytes(v);
                    XattrFlag flag = XattrFlag.values()[rnd.nextInt(3)];
                    Errno e = null;
                    if (o == null) {
                        e = Errno.ENOENT;
                    } else if (flag == XattrFlag.CREATE && o.xattrs.containsKey(name)) {
                        e = Errno.EEXIST;
                    } else if (flag == XattrFlag.REPLACE && !o.xattrs.containsKey(name)) {
                        e = Errno.ENODATA;
                    } else {
                        o.xattrs.put(name, v);
                    }
                    return new Update(k, f, null, 0, v, v.length, name, flag, null, 0, 0, e);
                }
                case DELETE_XATTR -> {
                    String name = NAMES[rnd.nextInt(NAMES.length)];
                    Errno e = o == null ? Errno.ENOENT : !o.xattrs.containsKey(name) ? Errno.ENODATA : null;
                    if (e == null) {
                        o.xattrs.remove(name);
                    }
                    return new Update(k, f, null, 0, null, 0, name, null, null, 0, 0, e);
                }
                case INSERT, UPSERT, DELETE -> {
                    byte[] key = keys[rnd.nextInt(keys.length)];
                    byte[] v = new byte[rnd.nextInt(40)];
                    rnd.nextBytes(v);
                    Errno e;
                    if (o == null) {
                        e = Errno.ENOENT;
                    } else if (o.kind != ObjectKind.INDEX) {
                        e = Errno.ENOTDIR;
                    } else if (k == Kind.INSERT && o.index.containsKey(key)) {
                        e = Errno.EEXIST;
                    } else if (k == Kind.DELETE && !o.index.containsKey(key)) {
                        e = Errno.ENOENT;
                    } else {
                        e = null;
                        if (k == Kind.DELETE) {
                            o.index.remove(key);
                        } else {
                            o.index.put(key, v);
                        }
                    }
                    return new Update(k, f, null, 0, v, v.length, null, null, key, 0, 0, e);
                }
            }
            throw new IllegalStateException(k.toString());
        }

        private static Update upd(Kind k, Fid f, ObjectKind ok, Errno e) {
            return new Update(k, f, ok, 0, null, 0, null, null, null, 0, 0, e);
        }

        private void declare(Transaction tx, Update u) throws OsdException {
            switch (u.kind) {
                case CREATE -> tx.declareCreate(u.fid, u.objectKind);
                case DESTROY -> tx.declareDestroy(u.fid);
                case WRITE -> tx.declareWrite(u.fid, u.offset, u.length);
                case PUNCH -> tx.declarePunch(u.fid, u.offset, u.length);
                case TRUNCATE -> tx.declareTruncate(u.fid, u.offset);
                case SET_ATTR -> tx.declareSetAttr(u.fid);
                case SET_XATTR -> tx.declareSetXattr(u.fid, u.name, u.data.length);
                case DELETE_XATTR -> tx.declareDeleteXattr(u.fid, u.name);
                case INSERT, UPSERT -> tx.declareInsert(u.fid, u.key.length, u.data.length);
                case DELETE -> tx.declareDelete(u.fid, u.key.length);
            }
        }

        private void apply(Transaction tx, Update u) throws OsdException {
            switch (u.kind) {
                case CREATE -> tx.create(u.fid, u.objectKind, AttrChange.none());
                case DESTROY -> tx.destroy(u.fid);
                case WRITE -> tx.write(u.fid, u.offset, ByteBuffer.wrap(u.data));
                case PUNCH -> tx.punch(u.fid, u.offset, u.length);
                case TRUNCATE -> tx.truncate(u.fid, u.offset);
                case SET_ATTR ->
                    tx.setAttr(u.fid, AttrChange.none().mode(u.mode).uid(u.uid));
                case SET_XATTR -> tx.setXattr(u.fid, u.name, u.data, u.flag);
                case DELETE_XATTR -> tx.deleteXattr(u.fid, u.name);
                case INSERT -> tx.insert(u.fid, u.key, u.data);
                case UPSERT -> tx.upsert(u.fid, u.key, u.data);
                case DELETE -> tx.delete(u.fid, u.key);
            }
        }

        private void oneTransaction() throws Exception {
            boolean transactional = caps.has(Capability.TRANSACTIONS);
            Map<Fid, MObj> working = copy(model);
            working.values().forEach(m -> {
                m.bodyChanged = false;
                m.recreated = false;
            });
            List<Update> updates = new ArrayList<>();
            List<Map<Fid, MObj>> before = new ArrayList<>();
            java.util.Set<Fid> written = new java.util.HashSet<>();
            int n = 1 + rnd.nextInt(4);
            for (int i = 0; i < n; i++) {
                before.add(copy(working));
                Update u = draw(working, written);
                updates.add(u);
                if (u.expected != null) {
                    break;
                }
            }
            boolean abort = transactional && rnd.nextInt(20) == 0;
            Map<Fid, Long> versions = new HashMap<>();
            for (Fid f : fids) {
                if (model.containsKey(f)) {
                    versions.put(f, t.osd().getAttr(f).dataVersion());
                }
            }
            Map<Fid, MObj> after = working;
            boolean failed = false;
            try (Transaction tx = t.osd().newTransaction()) {
                for (Update u : updates) {
                    declare(tx, u);
                }
                tx.start();
                for (int i = 0; i < updates.size(); i++) {
                    Update u = updates.get(i);
                    if (u.expected == null) {
                        try {
                            apply(tx, u);
                        } catch (OsdException e) {
                            throw new AssertionError(
                                    "update " + (i + 1) + " of " + updates + " failed: " + e.getMessage(), e);
                        }
                    } else {
                        final int at = i;
                        try {
                            apply(tx, u);
                            throw new AssertionError(
                                    "update " + (at + 1) + " of " + updates + " succeeded, expected " + u.expected);
                        } catch (OsdException e) {
                            assertThat(e.errno())
                                    .as("update %d of %s: %s", at + 1, updates, e.getMessage())
                                    .isEqualTo(u.expected);
                        }
                        failed = true;
                        after = before.get(i);
                    }
                }
                if (abort) {
                    tx.abort();
                }
            }
            if (transactional && (failed || abort)) {
                after = model;
            }
            model = after;
            verify(versions, transactional && (failed || abort));
        }

        private void verify(Map<Fid, Long> versions, boolean discarded) throws Exception {
            for (Fid f : fids) {
                MObj m = model.get(f);
                if (m == null) {
                    assertThat(t.osd().exists(f)).as("%s should not exist", f).isFalse();
                    continue;
                }
                Attr a = t.osd().getAttr(f);
                assertThat(a.kind()).as("kind of %s", f).isEqualTo(m.kind);
                assertThat(a.mode()).as("mode of %s", f).isEqualTo(m.mode);
                assertThat(a.uid()).as("uid of %s", f).isEqualTo(m.uid);
                if (m.kind == ObjectKind.DATA) {
                    assertThat(a.size()).as("size of %s", f).isEqualTo(m.body.length);
                    assertThat(t.readAll(f, 3000)).as("body of %s", f).isEqualTo(m.body);
                } else {
                    var es = t.entries(f, null);
                    assertThat(es).as("entries of %s", f).hasSize(m.index.size());
                    int i = 0;
                    for (Map.Entry<byte[], byte[]> e : m.index.entrySet()) {
                        assertThat(es.get(i).getKey()).as("key %d of %s", i, f).isEqualTo(e.getKey());
                        assertThat(es.get(i).getValue())
                                .as("value %d of %s", i, f)
                                .isEqualTo(e.getValue());
                        assertThat(t.osd().lookup(f, e.getKey()).orElseThrow()).isEqualTo(e.getValue());
                        i++;
                    }
                }
                if (caps.has(Capability.XATTRS)) {
                    assertThat(t.osd().listXattrs(f))
                            .as("xattrs of %s", f)
                            .containsExactlyElementsOf(m.xattrs.keySet());
                    for (Map.Entry<String, byte[]> e : m.xattrs.entrySet()) {
                        assertThat(t.osd().getXattr(f, e.getKey()))
                                .as("xattr %s of %s", e.getKey(), f)
                                .isEqualTo(e.getValue());
                    }
                }
                Long v0 = versions.get(f);
                if (v0 != null && !m.recreated && !discarded) {
                    if (m.bodyChanged) {
                        assertThat(a.dataVersion())
                                .as("data version of %s after a body change", f)
                                .isGreaterThan(v0);
                    } else {
                        assertThat(a.dataVersion())
                                .as("data version of %s without a body change", f)
                                .isEqualTo(v0);
                    }
                }
            }
        }

        private void cleanup() throws Exception {
            for (Fid f : fids) {
                if (model.containsKey(f)) {
                    t.destroy(f);
                }
            }
        }
    }
}
