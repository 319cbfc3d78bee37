package dev.spillway.osd.testkit.fault;

import dev.spillway.osd.Attr;
import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Capabilities;
import dev.spillway.osd.Capability;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.XattrFlag;
import dev.spillway.osd.spi.storage.Storage;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A crash-point campaign for any OSD with TRANSACTIONS and DURABLE_COMMIT that does its I/O
 * through a {@link Storage}: random multi-object transactions run on a
 * {@link FaultInjectingStorage} that crashes at a chosen operation; the OSD is then mounted on
 * what survived and must show exactly the state after the last transaction whose commit
 * callback fired, or after the one in flight at the crash — every object at once: a transaction
 * is wholly present or wholly absent, and an acknowledged one is present.
 *
 * <p>Deterministic: a workload is a seed, a crash point is (seed, operation, mode), so the OSD
 * must run its background work inline (a checkpoint executor of {@code Runnable::run}). Each
 * workload first runs without a crash to count its operations, then once per crash point, spread
 * over all of them, mount included. A failure names the triple; {@code
 * -Dspillway.crash.replay=SEED:OPERATION:MODE} makes {@link #run} replay that one point alone.
 */
public final class CrashCampaign {

    /** Mounts the OSD under test on a storage. */
    @FunctionalInterface
    public interface Opener {
        Osd open(Storage storage) throws OsdException;
    }

    /**
     * What a campaign did.
     *
     * @param crashPoints crash points run
     * @param byMode how many per crash mode
     * @param acknowledgedState recoveries that showed the last acknowledged state
     * @param inFlightState recoveries that showed the in-flight transaction applied
     * @param operations storage operations a workload made on average
     */
    public record Report(
            int crashPoints,
            Map<FaultInjectingStorage.CrashMode, Integer> byMode,
            int acknowledgedState,
            int inFlightState,
            long operations) {}

    /** One object as the model has it. */
    private record Obj(byte[] body, int mode, int uid, TreeMap<String, byte[]> xattrs) {
        Obj copy() {
            TreeMap<String, byte[]> x = new TreeMap<>();
            xattrs.forEach((k, v) -> x.put(k, v.clone()));
            return new Obj(body.clone(), mode, uid, x);
        }

        boolean same(Obj o) {
            if (!Arrays.equals(body, o.body)
                    || mode != o.mode
                    || uid != o.uid
                    || !xattrs.keySet().equals(o.xattrs.keySet())) {
                return false;
            }
            for (Map.Entry<String, byte[]> e : xattrs.entrySet()) {
                if (!Arrays.equals(e.getValue(), o.xattrs.get(e.getKey()))) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public String toString() {
            return "{size " + body.length + ", mode " + Integer.toOctalString(mode) + ", uid " + uid + ", xattrs "
                    + xattrs.keySet() + "}";
        }
    }

    /** What a run up to its crash left: the acknowledged states and the one in flight. */
    private record Run(List<Map<Fid, Obj>> acknowledged, Map<Fid, Obj> inFlight, long operations) {}

    /**
     * Told when a crashed storage's survivor is made, before the OSD is mounted on it: a device
     * that keeps part of its state outside the storage (osd-kv's RocksDB) carries it over here.
     */
    @FunctionalInterface
    public interface Survival {
        void survived(FaultInjectingStorage crashed, FaultInjectingStorage survivor) throws Exception;
    }

    private final Opener opener;
    private final FaultInjectingStorage.Features features;
    private final int transactions;
    private final boolean syncCommits;
    private final Survival survival;
    // Null, or mounts the device read-only: tried on every survivor before the read-write mount.
    private final Opener readOnly;

    /**
     * @param transactions transactions per workload
     */
    public CrashCampaign(Opener opener, FaultInjectingStorage.Features features, int transactions) {
        this(opener, features, transactions, false, (a, b) -> {}, null);
    }

    private CrashCampaign(
            Opener opener,
            FaultInjectingStorage.Features features,
            int transactions,
            boolean syncCommits,
            Survival survival,
            Opener readOnly) {
        this.opener = opener;
        this.features = features;
        this.transactions = transactions;
        this.syncCommits = syncCommits;
        this.survival = survival;
        this.readOnly = readOnly;
    }

    /**
     * The same campaign with a read-only mount ({@code readOnly}) of every survivor first, on a
     * {@link WriteRefusingStorage} over it: it must mount, try no change at all, and show what
     * the read-write mount after it shows (every object, body, mode, uid, xattr; the listing;
     * statfs's object count) — a read-only check of a crashed device sees the recovered state.
     */
    public CrashCampaign withReadOnlyMountFirst(Opener readOnly) {
        return new CrashCampaign(opener, features, transactions, syncCommits, survival, readOnly);
    }

    /**
     * The same campaign with every transaction committed synchronously ({@code setSync(true)}),
     * for a device whose commit callbacks fire after stop returns otherwise; and {@code survival}
     * told of every survivor.
     */
    public CrashCampaign withSyncCommits(Survival survival) {
        return new CrashCampaign(opener, features, transactions, true, survival, readOnly);
    }

    /** The system property that replays one crash point: {@code SEED:OPERATION:MODE}. */
    public static final String REPLAY_PROPERTY = "spillway.crash.replay";

    /**
     * Runs {@code workloads × pointsPerWorkload} crash points from {@code masterSeed}, or only
     * the one {@link #REPLAY_PROPERTY} names.
     */
    public Report run(long masterSeed, int workloads, int pointsPerWorkload, PrintStream log) throws Exception {
        String replay = System.getProperty(REPLAY_PROPERTY);
        if (replay != null) {
            String[] p = replay.split(":");
            FaultInjectingStorage.CrashMode mode = FaultInjectingStorage.CrashMode.valueOf(p[2]);
            log.printf("crash campaign: replaying seed %s, crash at operation %s, mode %s%n", p[0], p[1], mode);
            int which = check(dev.spillway.osd.testkit.Seeds.parse(p[0]), Long.parseLong(p[1]), mode);
            return new Report(1, Map.of(mode, 1), which == 0 ? 1 : 0, which, 0);
        }
        log.printf(
                "crash campaign: master seed 0x%x, %d workloads x %d crash points, %d transactions each%n",
                masterSeed, workloads, pointsPerWorkload, transactions);
        SplittableRandom seeds = new SplittableRandom(masterSeed);
        Map<FaultInjectingStorage.CrashMode, Integer> byMode = new EnumMap<>(FaultInjectingStorage.CrashMode.class);
        int[] outcome = new int[2];
        long ops = 0;
        int points = 0;
        FaultInjectingStorage.CrashMode[] modes = FaultInjectingStorage.CrashMode.values();
        for (int w = 0; w < workloads; w++) {
            long seed = seeds.nextLong();
            FaultInjectingStorage dry = new FaultInjectingStorage(features);
            Run full = runUntilCrash(dry, seed);
            if (dry.crashed()) {
                throw new AssertionError("workload 0x" + Long.toHexString(seed) + " failed without a crash");
            }
            long total = full.operations();
            ops += total;
            Random pick = new Random(seed ^ 0x5eed);
            for (int p = 0; p < pointsPerWorkload; p++) {
                long at = 1
                        + (long) ((double) total * p / pointsPerWorkload)
                        + pick.nextInt((int) Math.max(1, total / pointsPerWorkload));
                FaultInjectingStorage.CrashMode mode = modes[(p + w) % modes.length];
                try {
                    outcome[check(seed, Math.min(at, total), mode)]++;
                } catch (AssertionError | Exception e) {
                    throw new AssertionError(
                            String.format(
                                    "crash point failed: seed 0x%x, crash at operation %d of %d, mode %s"
                                            + " (master seed 0x%x); replay it alone with -D%s=0x%x:%d:%s: %s",
                                    seed,
                                    Math.min(at, total),
                                    total,
                                    mode,
                                    masterSeed,
                                    REPLAY_PROPERTY,
                                    seed,
                                    Math.min(at, total),
                                    mode,
                                    e),
                            e);
                }
                byMode.merge(mode, 1, Integer::sum);
                points++;
            }
        }
        Report r = new Report(points, byMode, outcome[0], outcome[1], workloads == 0 ? 0 : ops / workloads);
        log.printf(
                "crash campaign: %d crash points %s; recovered the acknowledged state %d times, with the in-flight transaction %d times;"
                        + " %d storage operations per workload%n",
                r.crashPoints(), r.byMode(), r.acknowledgedState(), r.inFlightState(), r.operations());
        return r;
    }

    /** Runs one crash point; returns 0 if the acknowledged state was recovered, 1 if the in-flight one. */
    private int check(long seed, long crashAt, FaultInjectingStorage.CrashMode mode) throws Exception {
        FaultInjectingStorage st = new FaultInjectingStorage(features);
        st.crashAt(crashAt);
        Run run = runUntilCrash(st, seed);
        FaultInjectingStorage after = st.survivor(mode, seed ^ crashAt);
        survival.survived(st, after);
        Map<Fid, Obj> last = run.acknowledged().get(run.acknowledged().size() - 1);
        Map<Fid, Obj> seenReadOnly = null;
        long objectsReadOnly = 0;
        List<Fid> listedReadOnly = null;
        OsdException refused = null;
        if (readOnly != null) {
            WriteRefusingStorage guard = new WriteRefusingStorage(after);
            try (Osd ro = readOnly.open(guard)) {
                seenReadOnly = read(ro, seed);
                objectsReadOnly = ro.statfs().objects();
                listedReadOnly = listed(ro);
            } catch (OsdException e) {
                // Only a device the crash left unformatted (it formats nothing): checked below.
                if (!e.is(dev.spillway.osd.Errno.EROFS)) {
                    throw e;
                }
                refused = e;
            }
            if (!guard.attempts().isEmpty()) {
                throw new AssertionError("the read-only mount tried to change the device: " + guard.attempts());
            }
        }
        Osd osd = opener.open(after);
        int which;
        try {
            Map<Fid, Obj> actual = read(osd, seed);
            if (refused != null && !actual.isEmpty()) {
                throw new AssertionError(
                        "the read-only mount was refused (" + refused.getMessage()
                                + ") but the read-write mount after it shows " + actual,
                        refused);
            }
            if (seenReadOnly != null) {
                if (!same(seenReadOnly, actual)) {
                    throw new AssertionError(
                            "the read-only mount showed " + seenReadOnly + ", the read-write mount after it " + actual);
                }
                if (objectsReadOnly != osd.statfs().objects() || !listedReadOnly.equals(listed(osd))) {
                    throw new AssertionError("the read-only mount counted " + objectsReadOnly + " objects and listed "
                            + listedReadOnly + ", the read-write mount after it "
                            + osd.statfs().objects() + " and "
                            + listed(osd));
                }
            }
            if (same(actual, last)) {
                which = 0;
            } else if (run.inFlight() != null && same(actual, run.inFlight())) {
                which = 1;
            } else {
                throw new AssertionError("recovered state matches neither the last acknowledged transaction ("
                        + (run.acknowledged().size() - 1) + " acknowledged) nor the one in flight: recovered " + actual
                        + ", acknowledged " + last
                        + (run.inFlight() != null ? ", in flight " + run.inFlight() : ", none in flight"));
            }
            long objects = osd.statfs().objects();
            if (objects != actual.size()) {
                throw new AssertionError(
                        "statfs counts " + objects + " objects after recovery, there are " + actual.size());
            }
            // The recovered device works: more transactions, an orderly unmount, a mount.
            Map<Fid, Obj> model = which == 0 ? last : run.inFlight();
            Random rnd = new Random(seed * 31 + crashAt);
            for (int i = 0; i < 3; i++) {
                model = transaction(osd, rnd, fids(seed), model, null);
            }
            osd.close();
            osd = opener.open(after);
            Map<Fid, Obj> again = read(osd, seed);
            if (!same(again, model)) {
                throw new AssertionError(
                        "after recovery, 3 more transactions and a remount: " + again + ", expected " + model);
            }
        } finally {
            osd.close();
        }
        return which;
    }

    private static List<Fid> fids(long seed) {
        List<Fid> f = new ArrayList<>();
        long seq = 0x300000000L + (seed & 0xffff);
        for (int i = 0; i < 6; i++) {
            f.add(new Fid(seq, i + 1, 0));
        }
        return f;
    }

    private Run runUntilCrash(FaultInjectingStorage st, long seed) throws Exception {
        List<Map<Fid, Obj>> acked = new ArrayList<>();
        acked.add(Map.of());
        Osd osd;
        try {
            osd = opener.open(st);
        } catch (OsdException e) {
            if (st.crashed()) {
                return new Run(acked, null, st.operations());
            }
            throw e;
        }
        Random rnd = new Random(seed);
        List<Fid> pool = fids(seed);
        Map<Fid, Obj> model = Map.of();
        AtomicReference<Map<Fid, Obj>> inFlight = new AtomicReference<>();
        try {
            for (int i = 0; i < transactions; i++) {
                model = transaction(osd, rnd, pool, model, inFlight);
                acked.add(model);
                inFlight.set(null);
            }
            osd.close();
        } catch (OsdException e) {
            if (!st.crashed()) {
                throw e;
            }
            try {
                osd.close();
            } catch (OsdException closing) {
                // The storage is down: nothing to unmount.
            }
        }
        return new Run(acked, inFlight.get(), st.operations());
    }

    /** Every object the OSD lists, sorted. */
    private static List<Fid> listed(Osd osd) throws OsdException {
        List<Fid> out = new ArrayList<>();
        try (dev.spillway.osd.ObjectCursor c = osd.listObjects()) {
            while (c.next()) {
                out.add(c.fid());
            }
        }
        out.sort(null);
        return out;
    }

    /** Reads the pool's objects from the OSD into the model's form. */
    private Map<Fid, Obj> read(Osd osd, long seed) throws OsdException {
        Map<Fid, Obj> out = new HashMap<>();
        boolean xattrs = osd.capabilities().has(Capability.XATTRS);
        for (Fid f : fids(seed)) {
            if (!osd.exists(f)) {
                continue;
            }
            Attr a = osd.getAttr(f);
            byte[] body = new byte[Math.toIntExact(a.size())];
            ByteBuffer b = ByteBuffer.wrap(body);
            while (b.hasRemaining()) {
                if (osd.read(f, b.position(), b) == 0) {
                    throw new AssertionError(f + ": read returned 0 at " + b.position() + " of " + a.size());
                }
            }
            TreeMap<String, byte[]> x = new TreeMap<>();
            if (xattrs) {
                for (String n : osd.listXattrs(f)) {
                    x.put(n, osd.getXattr(f, n));
                }
            }
            out.put(f, new Obj(body, a.mode(), a.uid(), x));
        }
        return out;
    }

    private static boolean same(Map<Fid, Obj> a, Map<Fid, Obj> b) {
        if (!a.keySet().equals(b.keySet())) {
            return false;
        }
        for (Map.Entry<Fid, Obj> e : a.entrySet()) {
            if (!e.getValue().same(b.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    private record Update(
            String kind, Fid fid, long offset, long length, byte[] data, String name, int mode, int uid) {}

    /**
     * Draws and runs one transaction of 1-4 updates over 1-3 objects; returns the model after it
     * (the same model if it was aborted). {@code inFlight} receives the model the transaction
     * would make before it stops.
     */
    private Map<Fid, Obj> transaction(
            Osd osd, Random rnd, List<Fid> pool, Map<Fid, Obj> model, AtomicReference<Map<Fid, Obj>> inFlight)
            throws OsdException {
        Capabilities caps = osd.capabilities();
        Map<Fid, Obj> w = new HashMap<>();
        model.forEach((k, v) -> w.put(k, v.copy()));
        List<Update> updates = new ArrayList<>();
        List<Fid> objects = new ArrayList<>();
        int nObjects = 1 + rnd.nextInt(3);
        while (objects.size() < nObjects) {
            Fid f = pool.get(rnd.nextInt(pool.size()));
            if (!objects.contains(f)) {
                objects.add(f);
            }
        }
        int n = 1 + rnd.nextInt(4);
        for (int i = 0; i < n; i++) {
            updates.add(draw(rnd, objects.get(rnd.nextInt(objects.size())), w, caps));
        }
        boolean abort = rnd.nextInt(12) == 0;
        if (inFlight != null) {
            inFlight.set(abort ? null : w);
        }
        AtomicReference<OsdException> result = new AtomicReference<>();
        boolean[] fired = new boolean[1];
        try (Transaction t = osd.newTransaction()) {
            for (Update u : updates) {
                declare(t, u);
            }
            t.addCommitCallback((id, err) -> {
                fired[0] = true;
                result.set(err);
            });
            t.start();
            t.setSync(syncCommits);
            for (Update u : updates) {
                apply(t, u);
            }
            if (abort) {
                t.abort();
            }
        }
        if (abort) {
            return model;
        }
        if (!fired[0] || result.get() != null) {
            throw new AssertionError(
                    "transaction stopped without its commit callback reporting success: " + result.get());
        }
        return w;
    }

    private static Update draw(Random rnd, Fid f, Map<Fid, Obj> w, Capabilities caps) {
        Obj o = w.get(f);
        if (o == null) {
            int size = rnd.nextInt(4) == 0 ? rnd.nextInt(48_000) : rnd.nextInt(3_000);
            byte[] d = new byte[size];
            rnd.nextBytes(d);
            w.put(f, new Obj(d, 0, 0, new TreeMap<>()));
            return new Update("create", f, 0, size, d, null, 0, 0);
        }
        List<String> kinds = new ArrayList<>(List.of("write", "write", "truncate", "setattr", "destroy"));
        if (caps.has(Capability.PUNCH)) {
            kinds.add("punch");
        }
        if (caps.has(Capability.XATTRS)) {
            kinds.add("setxattr");
            kinds.add("setxattr");
            if (!o.xattrs().isEmpty()) {
                kinds.add("rmxattr");
            }
        }
        String k = kinds.get(rnd.nextInt(kinds.size()));
        int size = o.body().length;
        switch (k) {
            case "write" -> {
                long off = rnd.nextInt(size + 2_000);
                byte[] d = new byte[1 + (rnd.nextInt(3) == 0 ? rnd.nextInt(40_000) : rnd.nextInt(3_000))];
                rnd.nextBytes(d);
                byte[] nb = Arrays.copyOf(o.body(), (int) Math.max(size, off + d.length));
                System.arraycopy(d, 0, nb, (int) off, d.length);
                w.put(f, new Obj(nb, o.mode(), o.uid(), o.xattrs()));
                return new Update(k, f, off, d.length, d, null, 0, 0);
            }
            case "punch" -> {
                long off = rnd.nextInt(size + 1);
                long len = 1 + rnd.nextInt(20_000);
                byte[] nb = o.body().clone();
                Arrays.fill(nb, (int) off, (int) Math.min(size, off + len), (byte) 0);
                w.put(f, new Obj(nb, o.mode(), o.uid(), o.xattrs()));
                return new Update(k, f, off, len, null, null, 0, 0);
            }
            case "truncate" -> {
                long to = rnd.nextInt(size + 8_000);
                w.put(f, new Obj(Arrays.copyOf(o.body(), (int) to), o.mode(), o.uid(), o.xattrs()));
                return new Update(k, f, to, 0, null, null, 0, 0);
            }
            case "setattr" -> {
                int mode = rnd.nextInt(01000);
                int uid = rnd.nextInt(5000);
                w.put(f, new Obj(o.body(), mode, uid, o.xattrs()));
                return new Update(k, f, 0, 0, null, null, mode, uid);
            }
            case "setxattr" -> {
                String name = "user.x" + rnd.nextInt(3);
                byte[] v = new byte[rnd.nextInt(200)];
                rnd.nextBytes(v);
                o.xattrs().put(name, v);
                return new Update(k, f, 0, v.length, v, name, 0, 0);
            }
            case "rmxattr" -> {
                List<String> names = new ArrayList<>(o.xattrs().keySet());
                String name = names.get(rnd.nextInt(names.size()));
                o.xattrs().remove(name);
                return new Update(k, f, 0, 0, null, name, 0, 0);
            }
            default -> {
                w.remove(f);
                return new Update("destroy", f, 0, 0, null, null, 0, 0);
            }
        }
    }

    private static void declare(Transaction t, Update u) throws OsdException {
        switch (u.kind()) {
            case "create" -> {
                t.declareCreate(u.fid(), ObjectKind.DATA);
                t.declareWrite(u.fid(), 0, u.length());
            }
            case "write" -> t.declareWrite(u.fid(), u.offset(), u.length());
            case "punch" -> t.declarePunch(u.fid(), u.offset(), u.length());
            case "truncate" -> t.declareTruncate(u.fid(), u.offset());
            case "setattr" -> t.declareSetAttr(u.fid());
            case "setxattr" -> t.declareSetXattr(u.fid(), u.name(), u.data().length);
            case "rmxattr" -> t.declareDeleteXattr(u.fid(), u.name());
            case "destroy" -> t.declareDestroy(u.fid());
            default -> throw new IllegalStateException(u.kind());
        }
    }

    private static void apply(Transaction t, Update u) throws OsdException {
        switch (u.kind()) {
            case "create" -> {
                t.create(u.fid(), ObjectKind.DATA, AttrChange.none());
                if (u.length() > 0) {
                    t.write(u.fid(), 0, ByteBuffer.wrap(u.data()));
                }
            }
            case "write" -> t.write(u.fid(), u.offset(), ByteBuffer.wrap(u.data()));
            case "punch" -> t.punch(u.fid(), u.offset(), u.length());
            case "truncate" -> t.truncate(u.fid(), u.offset());
            case "setattr" ->
                t.setAttr(u.fid(), AttrChange.none().mode(u.mode()).uid(u.uid()));
            case "setxattr" -> t.setXattr(u.fid(), u.name(), u.data(), XattrFlag.UPSERT);
            case "rmxattr" -> t.deleteXattr(u.fid(), u.name());
            case "destroy" -> t.destroy(u.fid());
            default -> throw new IllegalStateException(Objects.toString(u.kind()));
        }
    }
}
