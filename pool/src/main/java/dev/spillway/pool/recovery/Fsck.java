package dev.spillway.pool.recovery;

import dev.spillway.osd.Capability;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectCursor;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.core.PoolContext;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.io.CopyIo;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.Counters;
import dev.spillway.pool.meta.DeviceIndex;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.PoolFids;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.Span;
import dev.spillway.pool.meta.Stripe;
import dev.spillway.pool.meta.WorkIndex;
import dev.spillway.pool.ops.Migrator;
import dev.spillway.pool.ops.SyncKeys;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The pool's consistency check, as e2fsck is ext4's: every layout decodes; every copy a layout
 * names exists with the right size (and, with {@code deep}, the right checksums); every copy on
 * every listable device is named by a layout or a job; device indexes and counters match the
 * layouts. It reports; with {@code repair} it fixes what can be fixed without losing data
 * (rebuilds indexes and counters, turns orphan copies into garbage jobs, drops layout entries for
 * copies that are gone).
 *
 * <p>It walks everything, so it is slow by design; it is never part of a mount.
 */
public final class Fsck {
    /** One inconsistency. */
    public record Problem(String kind, Fid fid, String device, String detail, boolean repaired) {
        @Override
        public String toString() {
            return kind + " " + (fid == null ? "" : fid + " ") + (device == null ? "" : "on " + device + ": ") + detail
                    + (repaired ? " [repaired]" : "");
        }
    }

    /** What fsck found. */
    public record Report(long objects, long copies, List<Problem> problems) {
        public boolean clean() {
            return problems.isEmpty();
        }
    }

    private final PoolContext ctx;
    private final boolean repair;
    private final boolean deep;
    private final List<Problem> problems = new ArrayList<>();
    private final Progress progress;
    private long walkTotal;

    /**
     * Told how far a check is: {@code phase} "walk" (objects of the structural walk, of about
     * {@code total}: the pool's object count when it began) or "verify" (copies read by a deep
     * check). Called every few hundred objects and at the end of each phase.
     */
    @FunctionalInterface
    public interface Progress {
        void update(String phase, long done, long total);

        /** A line to {@code out} every 10,000 objects checked or copies verified. */
        static Progress lines(Consumer<String> out) {
            return (phase, done, total) -> {
                if (done > 0 && done % 10_000 == 0) {
                    out.accept("fsck: " + done + (phase.equals("walk") ? " objects checked" : " copies verified"));
                }
            };
        }
    }

    private final Migrator migrator;

    private Fsck(PoolContext ctx, Migrator migrator, boolean repair, boolean deep, Progress progress) {
        this.ctx = ctx;
        this.migrator = migrator;
        this.repair = repair;
        this.deep = deep;
        this.progress = progress == null ? (p, d, t) -> {} : progress;
    }

    /** How long an online check waits for the metadata transactions in flight to end. */
    private static final Duration QUIESCE_WAIT = Duration.ofSeconds(30);

    /**
     * Checks the pool. The structural walk runs with metadata transactions held off (see
     * {@link PoolContext#quiesced}), so on a pool in use it sees one consistent state; reads go on,
     * writes wait for the walk. The deep content verification runs afterwards without holding
     * anything, and a copy that fails it is re-checked under its object's lock before it is
     * reported, since it may have been replaced meanwhile.
     */
    public static Report check(PoolContext ctx, Migrator migrator, boolean repair, boolean deep, Progress progress)
            throws OsdException {
        Fsck f = new Fsck(ctx, migrator, repair, deep, progress);
        try {
            f.walkTotal = ctx.statfs().devices().get(ctx.metadata().index()).objects();
        } catch (OsdException e) {
            f.walkTotal = 0; // unknown: the walk reports what it has done
        }
        Report structural = ctx.quiesced(QUIESCE_WAIT, f::run);
        f.verifyDeferred();
        f.progress.update("verify", f.deferred.size(), f.deferred.size());
        return new Report(structural.objects(), structural.copies(), List.copyOf(f.problems));
    }

    /** An in-sync copy to read through (deep) or to mark bad (repair) once the gate is released. */
    private record Deferred(Fid fid, Copy copy, long size, OsdException bad, String kind) {}

    private final List<Deferred> deferred = new ArrayList<>();

    private void verifyDeferred() throws OsdException {
        long done = 0;
        for (Deferred d : deferred) {
            if (done++ % 16 == 0) {
                progress.update("verify", done - 1, deferred.size());
            }
            PoolDevice dev = ctx.device(d.copy().device());
            OsdException bad = d.bad();
            if (bad == null) {
                try {
                    CopyIo.verify(ctx::device, d.fid(), d.copy(), d.size());
                    continue;
                } catch (OsdException e) {
                    if (!e.is(Errno.EIO) && !e.is(Errno.ENOENT)) {
                        throw e;
                    }
                    bad = e;
                }
            }
            // The copy may have been replaced or dropped since the walk: check again under the lock.
            OsdException first = bad;
            OsdException still = migrator.locked(d.fid(), () -> {
                Optional<PoolObject> now = ctx.store().load(d.fid());
                Optional<Copy> same = now.flatMap(p -> p.byKey(d.copy().key()))
                        .filter(c -> c.state() == CopyState.IN_SYNC
                                && c.version() == now.get().dataVersion());
                if (same.isEmpty()) {
                    return null;
                }
                try {
                    if ("copy-size".equals(d.kind())) {
                        return sizeMismatch(d.fid(), same.get(), now.get().size());
                    }
                    CopyIo.verify(ctx::device, d.fid(), same.get(), now.get().size());
                    return null;
                } catch (OsdException e) {
                    if (!e.is(Errno.EIO) && !e.is(Errno.ENOENT)) {
                        throw e;
                    }
                    e.addSuppressed(first);
                    return e;
                }
            });
            if (still == null) {
                continue;
            }
            // Marked bad, the copy is healed from another by a resync; the last in-sync copy is
            // never demoted (there is nothing to heal it from): the object is lost until restored.
            boolean fixed = repair && migrator.markBad(d.fid(), d.copy(), still);
            String last = !fixed
                            && ctx.store()
                                    .load(d.fid())
                                    .map(p -> p.inSync().size() <= 1)
                                    .orElse(false)
                    ? " (its only in-sync copy: reads fail with EIO until the object is written again or deleted)"
                    : "";
            // A striped copy's fault is its stripe's: the device the failure names.
            PoolDevice at =
                    still.device() == null ? dev : ctx.device(still.device()).orElse(dev);
            if (d.kind() != null) {
                problem(d.kind(), d.fid(), at, still.detail() + last, fixed);
            } else if (still.is(Errno.ENOENT)) {
                String what = d.copy().striped()
                        ? "stripe " + (still.fid() == null ? "" : still.fid() + " ") + "of in-sync copy "
                                + d.copy().key() + " does not exist (" + still.detail() + ")"
                        : "in-sync copy " + d.copy().key() + " does not exist";
                problem("missing", d.fid(), at, what + last, fixed);
            } else {
                problem("checksum", d.fid(), at, still.getMessage() + last, fixed);
            }
        }
    }

    private void problem(String kind, Fid fid, PoolDevice d, String detail, boolean repaired) {
        problems.add(new Problem(kind, fid, d == null ? null : d.name(), detail, repaired));
    }

    private Osd md() {
        return ctx.metadata().osd();
    }

    private Report run() throws OsdException {
        int mdIndex = ctx.metadata().index();
        List<Job> jobs = WorkIndex.all(md());
        Set<String> jobKeys = new HashSet<>();
        for (Job j : jobs) {
            jobKeys.add(j.kind() + "/" + j.device() + "/" + j.key());
        }
        // Expected counters, rebuilt from the layouts and the GC jobs.
        Map<Integer, Map<CopyState, long[]>> expected = new TreeMap<>();
        for (Job j : jobs) {
            if (j.kind() == Job.Kind.GC) {
                count(expected, j.device(), CopyState.GARBAGE, j.bytes());
            }
        }
        // Copies the layouts name, per device: key -> object.
        Map<Integer, Map<Fid, Fid>> named = new HashMap<>();
        long objects = 0;
        long copies = 0;
        try (ObjectCursor c = md().listObjects()) {
            while (c.next()) {
                Fid f = c.fid();
                if (PoolFids.reserved(f)) {
                    continue;
                }
                objects++;
                if (objects % 256 == 0) {
                    progress.update("walk", objects, Math.max(walkTotal, objects));
                }
                Optional<PoolObject> po;
                try {
                    po = ctx.store().load(f);
                    if (po.isPresent()) {
                        Optional<String> m = ctx.store().mismatch(f, po.get());
                        if (m.isPresent()) {
                            problem("layout", f, ctx.metadata(), m.get(), false);
                        }
                    }
                } catch (OsdException | RuntimeException e) {
                    // One object's damage is a finding, never the end of the check.
                    problem("undecodable", f, ctx.metadata(), String.valueOf(e.getMessage()), false);
                    continue;
                }
                if (po.isEmpty()) {
                    continue;
                }
                PoolObject p = po.get();
                for (Copy cp : p.copies()) {
                    copies++;
                    for (Stripe st : cp.parts()) {
                        named.computeIfAbsent(st.device(), d -> new HashMap<>()).put(st.key(), f);
                    }
                    checkCopy(f, p, cp, jobKeys, expected);
                }
                long mdSize = md().getAttr(f).size();
                if (p.resident(mdIndex) && mdSize != p.size()) {
                    problem(
                            "size",
                            f,
                            ctx.metadata(),
                            "resident body is " + mdSize + " bytes, layout says " + p.size(),
                            false);
                }
                if (p.split(mdIndex)) {
                    checkSplit(f, p, mdSize);
                } else if (!p.resident(mdIndex) && mdSize != 0) {
                    problem(
                            "stub",
                            f,
                            ctx.metadata(),
                            "spilled object keeps " + mdSize + " bytes on the metadata device",
                            false);
                }
                if (p.inSync().isEmpty() && !p.split(mdIndex)) {
                    List<String> lostOn = p.copies().stream()
                            .filter(x -> x.state() == CopyState.LOST)
                            .map(x -> ctx.device(x.device()).name())
                            .toList();
                    problem(
                            "lost",
                            f,
                            null,
                            "no in-sync copy of its body remains"
                                    + (lostOn.isEmpty()
                                            ? ""
                                            : " (lost with failed device " + String.join(", ", lostOn) + ")")
                                    + ": reads fail with EIO until the object is written again or deleted",
                            false);
                }
            }
        }
        // A copy under way whose object was deleted (or replaced) meanwhile has left the layout
        // but is still its COPY job's until the job finds the object gone and collects it: the
        // job, not a layout, owns its device-index entry and its PENDING count.
        Set<String> jobOwned = new HashSet<>();
        for (Job j : jobs) {
            if ((j.kind() == Job.Kind.COPY || j.kind() == Job.Kind.SYNC_COPY)
                    && !j.fid().equals(named.getOrDefault(j.device(), Map.of()).get(j.key()))) {
                jobOwned.add(j.device() + "/" + j.fid() + "/" + j.key());
                count(expected, j.device(), CopyState.PENDING, j.bytes());
            }
        }
        // Every device index entry must be named by a layout (or owned by a job).
        for (PoolDevice d : ctx.devices()) {
            Map<Fid, Fid> mine = named.getOrDefault(d.index(), Map.of());
            for (Fid[] e : DeviceIndex.list(md(), d.index())) {
                Fid owner = mine.get(e[1]);
                if ((owner == null || !owner.equals(e[0])) && !jobOwned.contains(d.index() + "/" + e[0] + "/" + e[1])) {
                    boolean fixed = repair && fixIndex(d, e[0], e[1], false);
                    problem("index", e[0], d, "device index names copy " + e[1] + " that no layout has", fixed);
                }
            }
        }
        // Every object on a listable device must be named by a layout, a job or a lease (a sync
        // copy's key, which may hold its precreated empty object: SyncKeys).
        Set<String> leased = new HashSet<>();
        for (SyncKeys.Lease l : SyncKeys.all(md())) {
            leased.add(l.device() + "/" + l.key());
        }
        for (PoolDevice d : ctx.devices()) {
            if (d == ctx.metadata()
                    || d.state() == DeviceState.FAILED
                    || !d.osd().capabilities().has(Capability.LIST_OBJECTS)) {
                continue;
            }
            Map<Fid, Fid> mine = named.getOrDefault(d.index(), Map.of());
            List<Fid> orphans = new ArrayList<>();
            try (ObjectCursor c = d.osd().listObjects()) {
                while (c.next()) {
                    Fid k = c.fid();
                    if (!mine.containsKey(k)
                            && !leased.contains(d.index() + "/" + k)
                            && !jobKeys.contains(Job.Kind.GC + "/" + d.index() + "/" + k)
                            && !jobKeys.contains(Job.Kind.COPY + "/" + d.index() + "/" + k)
                            && !jobKeys.contains(Job.Kind.SYNC_COPY + "/" + d.index() + "/" + k)) {
                        orphans.add(k);
                    }
                }
            } catch (OsdException e) {
                // A spare device may be a retired disk that is dead: nothing on it is the pool's.
                if (d.state() != DeviceState.SPARE || !e.is(Errno.EIO)) {
                    throw e;
                }
                continue;
            }
            for (Fid k : orphans) {
                boolean fixed = false;
                if (repair) {
                    long bytes;
                    try {
                        bytes = d.osd().getAttr(k).blocks() * 512;
                    } catch (OsdException e) {
                        // A damaged leftover (its attributes unreadable): collected all the same.
                        bytes = 0;
                    }
                    addJob(new Job(Job.Kind.GC, k, d.index(), k, 0, bytes, ctx.nowNanos(), 0), d.index(), bytes);
                    count(expected, d.index(), CopyState.GARBAGE, bytes);
                    fixed = true;
                }
                problem("orphan", k, d, "copy named by no layout and no job (leaked space)", fixed);
            }
        }
        checkCounters(expected);
        progress.update("walk", objects, objects);
        return new Report(objects, copies, List.copyOf(problems));
    }

    /**
     * A split body (issue 20): the metadata device's body ends no earlier than what it holds, and
     * every byte of the object is held in sync by it or by a copy of a range (or of the whole).
     */
    private void checkSplit(Fid f, PoolObject p, long mdSize) {
        int mdIndex = ctx.metadata().index();
        Copy local = p.on(mdIndex).orElseThrow();
        long heldEnd = Math.min(local.held().get(local.held().size() - 1).end(), p.size());
        if (mdSize < heldEnd || mdSize > p.size()) {
            problem(
                    "size",
                    f,
                    ctx.metadata(),
                    "split body is " + mdSize + " bytes on the metadata device, which holds " + local.held() + " of "
                            + p.size(),
                    false);
        }
        List<Span> have = new ArrayList<>();
        for (Copy c : p.copies()) {
            if (c.state() == CopyState.IN_SYNC && c.version() == p.dataVersion()) {
                have.addAll(c.held());
            }
        }
        if (!Span.covers(have, 0, p.size())) {
            problem(
                    "lost",
                    f,
                    null,
                    "the in-sync copies hold only " + Span.normalize(have) + " of its " + p.size()
                            + " bytes: reads of the rest fail with EIO",
                    false);
        }
    }

    private void checkCopy(
            Fid f, PoolObject p, Copy cp, Set<String> jobKeys, Map<Integer, Map<CopyState, long[]>> expected)
            throws OsdException {
        PoolDevice d = ctx.device(cp.device());
        int mdIndex = ctx.metadata().index();
        if (cp.device() == mdIndex) {
            if (!DeviceIndex.contains(md(), mdIndex, f, f)) {
                problem(
                        "index",
                        f,
                        d,
                        "resident object missing from the metadata device's index",
                        repair && fixIndex(d, f, f, true));
            }
            return;
        }
        // Each part (a striped copy's stripes, each on its own device) is counted, indexed and
        // journalled as a whole copy is.
        for (Stripe st : cp.parts()) {
            PoolDevice sd = ctx.device(st.device());
            String what = cp.striped() ? "stripe " + st.key() + " of copy " + cp.key() : "copy " + cp.key();
            count(expected, st.device(), cp.state(), st.bytes());
            if (!DeviceIndex.contains(md(), st.device(), f, st.key())) {
                problem(
                        "index",
                        f,
                        sd,
                        what + " missing from the device index",
                        repair && fixIndex(sd, f, st.key(), true));
            }
            if (cp.state() == CopyState.PENDING
                    && !jobKeys.contains(Job.Kind.COPY + "/" + st.device() + "/" + st.key())
                    && !jobKeys.contains(Job.Kind.SYNC_COPY + "/" + st.device() + "/" + st.key())) {
                problem("pending", f, sd, "pending " + what + " without its COPY job", false);
            }
        }
        boolean failed =
                cp.parts().stream().anyMatch(st -> ctx.device(st.device()).state() == DeviceState.FAILED);
        if (cp.state() != CopyState.IN_SYNC || failed) {
            return;
        }
        try {
            OsdException wrong = sizeMismatch(f, cp, p.size());
            if (wrong != null) {
                // Judged (and repaired) after the gate is released, as a read failure.
                deferred.add(new Deferred(f, cp, p.size(), wrong, "copy-size"));
            } else if (deep) {
                // Read after the walk, outside the gate: reading every copy may take hours.
                deferred.add(new Deferred(f, cp, p.size(), null, null));
            }
        } catch (OsdException e) {
            if (e.is(Errno.ENOENT) || e.is(Errno.EIO)) {
                // Judged (and repaired) after the gate is released: markBad takes the object's lock.
                deferred.add(new Deferred(f, cp, p.size(), e, null));
            } else {
                throw e;
            }
        }
    }

    /**
     * Null if every part of {@code cp} has the length it must have for a body of {@code size}
     * bytes (a striped copy: each stripe its share), else EIO naming the part, its device and both
     * lengths; ENOENT or EIO from a device is thrown.
     */
    private OsdException sizeMismatch(Fid f, Copy cp, long size) throws OsdException {
        List<Stripe> parts = cp.parts();
        for (int i = 0; i < parts.size(); i++) {
            Stripe st = parts.get(i);
            PoolDevice sd = ctx.device(st.device());
            // What the copy's objects hold together: the body, or a copy of a range its range.
            long held = cp.whole() || cp.device() == ctx.metadata().index() ? size : cp.extent(size);
            long want = cp.striped() ? Stripe.length(held, parts.size(), cp.stripeSize(), i) : held;
            long have = sd.osd().getAttr(st.key()).size();
            if (have != want) {
                return new OsdException(
                        Errno.EIO,
                        sd.name(),
                        f,
                        (cp.striped() ? "stripe " + i + " (" + st.key() + ") of copy " + cp.key() : "copy " + cp.key())
                                + " is " + have + " bytes, " + (cp.striped() ? "its share of " : "")
                                + (cp.whole()
                                        ? "the object "
                                        : "its range " + cp.spans().get(0) + " ")
                                + (cp.striped() ? held + " bytes is " + want : held));
            }
        }
        return null;
    }

    private static void count(Map<Integer, Map<CopyState, long[]>> m, int device, CopyState s, long bytes) {
        long[] v = m.computeIfAbsent(device, d -> new TreeMap<>()).computeIfAbsent(s, x -> new long[2]);
        v[0] += bytes;
        v[1] += 1;
    }

    private void checkCounters(Map<Integer, Map<CopyState, long[]>> expected) throws OsdException {
        Map<Integer, Map<CopyState, long[]>> actual = Counters.totals(md());
        Set<Integer> devs = new HashSet<>(expected.keySet());
        devs.addAll(actual.keySet());
        for (int d : devs) {
            for (CopyState s : CopyState.values()) {
                long[] e = expected.getOrDefault(d, Map.of()).getOrDefault(s, new long[2]);
                long[] a = actual.getOrDefault(d, Map.of()).getOrDefault(s, new long[2]);
                if (e[0] != a[0] || e[1] != a[1]) {
                    problem(
                            "counters",
                            null,
                            ctx.device(d),
                            s + ": counted " + a[0] + " bytes / " + a[1] + " copies, the layouts say " + e[0] + " / "
                                    + e[1],
                            false);
                }
            }
        }
    }

    private boolean fixIndex(PoolDevice d, Fid object, Fid copy, boolean insert) throws OsdException {
        try (Transaction tx = md().newTransaction()) {
            if (insert) {
                DeviceIndex.declareInsert(tx, d.index(), object);
            } else {
                DeviceIndex.declareDelete(tx, d.index(), object);
            }
            tx.start();
            if (insert) {
                DeviceIndex.insert(tx, d.index(), object, copy);
            } else {
                DeviceIndex.delete(tx, d.index(), object, copy);
            }
        }
        return true;
    }

    private void addJob(Job j, int device, long bytes) throws OsdException {
        Counters c = new Counters(j.fid());
        try (Transaction tx = md().newTransaction()) {
            WorkIndex.declareAdd(tx, j.fid());
            Counters.declare(tx, j.fid());
            tx.start();
            WorkIndex.add(tx, j);
            c.add(device, CopyState.GARBAGE, bytes, +1);
            c.flush(tx, md());
        }
    }

    /** Reads a whole copy through the pool's verified path (used by scrub). */
    static void readAll(PoolDevice d, Fid f, Copy c, long size) throws OsdException {
        CopyIo.readVerified(d, f, c, size, 0, ByteBuffer.allocate((int) Math.min(size, 1 << 20)));
    }
}
