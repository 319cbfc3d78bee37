package dev.spillway.pool.ops;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.SpaceClass;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.spi.ObjectLocks;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.core.PoolContext;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.Counters;
import dev.spillway.pool.meta.DeviceIndex;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.StripedCounters;
import dev.spillway.pool.meta.WorkIndex;
import dev.spillway.pool.ops.Migrator.Collected;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Garbage and roll-back: a copy no layout may name (a COPY job rolled back, a pending copy whose
 * object changed, an orphan found on a device) leaves the layout as a GC job, and the GC jobs
 * are collected — deleted from their devices only once the transactions that made them garbage
 * are durable. Never needs free space: every removal comes first (FREEING).
 */
final class Garbage {
    private static final System.Logger LOG = System.getLogger(Garbage.class.getName());
    private final MoveContext mc;
    private final PoolContext ctx;

    Garbage(MoveContext mc) {
        this.mc = mc;
        this.ctx = mc.ctx;
    }

    /** A COPY job whose copy must not become part of the layout: it becomes garbage. */
    void discard(Job job, PoolObject p) throws OsdException {
        Fid fid = job.fid();
        // Only a copy still pending is this job's to drop (an in-sync one with its key was finished).
        Optional<Copy> pending =
                p == null ? Optional.empty() : p.byKey(job.key()).filter(c -> c.state() == CopyState.PENDING);
        PoolObject next =
                p == null ? null : pending.map(c -> p.remove(c.mirrorId())).orElse(p);
        // A striped copy's stripes each have a COPY job naming the copy: all of them become GC
        // jobs together, found by the copy's key even when the object (and its record) is gone.
        List<Job> jobs = new ArrayList<>();
        jobs.add(job);
        if (!job.copy().equals(Job.NO_KEY)) {
            for (Job j : WorkIndex.stripesOf(mc.md(), fid, job.copy())) {
                if (!j.key().equals(job.key())) {
                    jobs.add(j);
                }
            }
        }
        AttrChange times = p == null ? null : ctx.store().times(fid);
        // The pending copy leaves the layout and its job becomes a GC job: frees first.
        mc.meta(
                fid,
                false,
                SpaceClass.FREEING,
                (tx, c) -> {
                    for (Job j : jobs) {
                        WorkIndex.declareAdd(tx, fid);
                        WorkIndex.declareRemove(tx, fid);
                        DeviceIndex.declareDelete(tx, j.device(), fid);
                        if (j.kind() == Job.Kind.SYNC_COPY) {
                            SyncKeys.declareEnd(tx);
                        }
                    }
                    if (next != null) {
                        ctx.store().declare(tx, fid, next);
                    }
                },
                (tx, c) -> {
                    if (next != null) {
                        ctx.store().store(tx, fid, next, times);
                    }
                    for (Job j : jobs) {
                        if (DeviceIndex.contains(mc.md(), j.device(), fid, j.key())) {
                            DeviceIndex.delete(tx, j.device(), fid, j.key());
                        }
                        WorkIndex.remove(tx, j);
                        if (j.kind() == Job.Kind.SYNC_COPY) {
                            // The GC job names the key now.
                            SyncKeys.end(tx, mc.md(), j.device(), j.key());
                        }
                        WorkIndex.add(
                                tx,
                                new Job(
                                        Job.Kind.GC,
                                        fid,
                                        j.device(),
                                        j.key(),
                                        j.version(),
                                        j.bytes(),
                                        ctx.nowNanos(),
                                        0));
                        c.move(j.device(), CopyState.PENDING, CopyState.GARBAGE, j.bytes());
                    }
                });
    }

    /**
     * Collects a batch of GC jobs: one sync of the metadata device first (the transactions that
     * made these copies garbage must be durable before the copies go, or a crash could bring back
     * a layout naming a deleted copy), the deletions, one sync per device, then the jobs go.
     *
     * <p>Garbage is whatever a crash left of a copy nobody points at: missing, empty, torn or
     * unreadable. A device's destroy removes what is there; a copy already gone is fine; a copy
     * the device cannot delete now keeps its job for later and never fails the batch — a mount
     * must not stop on one damaged copy.
     */
    public Collected collect(List<Job> jobs) throws OsdException {
        if (jobs.isEmpty()) {
            return new Collected(0, 0, 0);
        }
        mc.md().sync();
        Map<Integer, List<Job>> byDevice = new TreeMap<>();
        for (Job j : jobs) {
            byDevice.computeIfAbsent(j.device(), d -> new ArrayList<>()).add(j);
        }
        int removed = 0;
        int missing = 0;
        Set<Job> kept = new HashSet<>();
        for (var e : byDevice.entrySet()) {
            PoolDevice d = ctx.device(e.getKey());
            if (d.state() == DeviceState.FAILED) {
                continue;
            }
            Destroyed out = destroyCopies(d, e.getValue());
            List<Job> gone = new ArrayList<>(out.removed());
            gone.addAll(out.missing());
            removed += out.removed().size();
            missing += out.missing().size();
            for (var f : out.failed().entrySet()) {
                Job job = f.getKey();
                LOG.log(
                        System.Logger.Level.WARNING,
                        "pool " + ctx.name() + ": garbage copy " + job.key() + " of " + job.fid() + " on "
                                + d.name() + " not deleted now (" + f.getValue().getMessage()
                                + "); its job stays for the next garbage pass");
                kept.add(job);
            }
            try {
                d.osd().sync();
            } catch (OsdException ex) {
                // The deletions may not be durable: every job of the device stays.
                LOG.log(
                        System.Logger.Level.WARNING,
                        "pool " + ctx.name() + ": sync of " + d.name() + " after deleting garbage failed ("
                                + ex.getMessage() + "); its garbage jobs stay for the next pass");
                kept.addAll(gone);
            }
        }
        int deferred = kept.size();
        List<Job> done = kept.isEmpty()
                ? jobs
                : jobs.stream().filter(j -> !kept.contains(j)).toList();
        // The jobs go a batch per metadata transaction.
        for (int from = 0; from < done.size(); from += 256) {
            List<Job> some = done.subList(from, Math.min(done.size(), from + 256));
            StripedCounters counters = new StripedCounters();
            try (Transaction tx = mc.md().newTransaction()) {
                for (Job job : some) {
                    WorkIndex.declareRemove(tx, job.fid());
                    Counters.declare(tx, job.fid());
                }
                tx.setSpaceClass(SpaceClass.FREEING);
                tx.start();
                for (Job job : some) {
                    if (WorkIndex.contains(mc.md(), job)) {
                        WorkIndex.remove(tx, job);
                        counters.of(job.fid()).add(job.device(), CopyState.GARBAGE, job.bytes(), -1);
                    }
                }
                counters.flush(tx, mc.md());
            }
        }
        return new Collected(removed, missing, deferred);
    }

    /** Rolls a COPY job back (recovery): the pending copy leaves the layout and is collected. */
    public void rollBack(Job job) throws OsdException {
        mc.locked(job.fid(), () -> {
            Optional<PoolObject> p = mc.loadIfExists(job.fid());
            discard(job, p.orElse(null));
            return null;
        });
    }

    /**
     * Rolls back many COPY jobs (recovery), a batch per metadata transaction: each pending copy
     * leaves its layout and becomes a GC job. Cheaper than {@link #rollBack} one by one, which is
     * what keeps a mount with a thousand jobs in flight quick.
     */
    public void rollBackAll(List<Job> jobs) throws OsdException {
        // At mount nothing is in flight and nothing else runs: every job is rolled back as read.
        rollBackAll(jobs, (fids, some) -> some, false);
    }

    /**
     * Mount-time roll-back that deletes each pending copy first: the copies go from their devices
     * (one transaction each, never forced) and each device is synced once, then the jobs, layout
     * entries and device-index entries go in one FREEING metadata transaction per batch — with no
     * GC job written and removed again, half the metadata transactions of {@link #rollBackAll}
     * followed by {@link #collect}. A pending copy is never read, so deleting it before its layout
     * entry goes is safe: a crash in between leaves the COPY job, and the next mount finds the copy
     * already gone. A copy its device cannot delete now (or whose device's sync fails, or whose
     * device has failed) is rolled back the usual way: it becomes a GC job for {@link #collect},
     * and never stops the mount.
     */
    public Collected rollBackDeleting(List<Job> jobs) throws OsdException {
        if (jobs.isEmpty()) {
            return new Collected(0, 0, 0);
        }
        Map<Integer, List<Job>> byDevice = new TreeMap<>();
        for (Job j : jobs) {
            byDevice.computeIfAbsent(j.device(), d -> new ArrayList<>()).add(j);
        }
        int removed = 0;
        int missing = 0;
        Set<Job> deleted = new HashSet<>();
        for (var e : byDevice.entrySet()) {
            PoolDevice d = ctx.device(e.getKey());
            if (d.state() == DeviceState.FAILED) {
                continue;
            }
            Destroyed out = destroyCopies(d, e.getValue());
            List<Job> gone = new ArrayList<>(out.removed());
            gone.addAll(out.missing());
            int devRemoved = out.removed().size();
            int devMissing = out.missing().size();
            for (var f : out.failed().entrySet()) {
                Job job = f.getKey();
                LOG.log(
                        System.Logger.Level.WARNING,
                        "pool " + ctx.name() + ": pending copy " + job.key() + " of " + job.fid() + " on "
                                + d.name() + " not deleted at roll-back ("
                                + f.getValue().getMessage()
                                + "); it becomes a GC job");
            }
            try {
                d.osd().sync();
            } catch (OsdException ex) {
                // The deletions may not be durable: the device's copies become GC jobs instead.
                LOG.log(
                        System.Logger.Level.WARNING,
                        "pool " + ctx.name() + ": sync of " + d.name() + " after deleting pending copies failed ("
                                + ex.getMessage() + "); they become GC jobs");
                continue;
            }
            deleted.addAll(gone);
            removed += devRemoved;
            missing += devMissing;
        }
        List<Job> direct = new ArrayList<>();
        List<Job> rest = new ArrayList<>();
        for (Job j : jobs) {
            (deleted.contains(j) ? direct : rest).add(j);
        }
        rollBackAll(direct, (fids, some) -> some, true);
        rollBackAll(rest, (fids, some) -> some, false);
        return new Collected(removed, missing, 0);
    }

    /**
     * Rolls back COPY jobs a copy left behind at run time (the daemon; see {@link CopiesInFlight}):
     * as recovery does, and only those that, once the objects' locks are held, are still recorded
     * and still no move's. A striped copy goes whole: every stripe's job with it.
     *
     * @param stuck COPY jobs no move owned when they were listed
     * @return the copies rolled back
     */
    public int rollBackStuck(List<Job> stuck) throws OsdException {
        Set<Fid> copies = new HashSet<>();
        stuck.forEach(j -> copies.add(CopiesInFlight.copyOf(j)));
        List<Job> done = rollBackAll(
                stuck,
                (fids, some) -> {
                    List<Job> still = new ArrayList<>();
                    for (Fid f : fids) {
                        for (Job j : WorkIndex.of(mc.md(), f)) {
                            if (j.kind() == Job.Kind.COPY
                                    && copies.contains(CopiesInFlight.copyOf(j))
                                    && !mc.inFlight.owns(j)) {
                                still.add(j);
                            }
                        }
                    }
                    return still;
                },
                false);
        Set<Fid> rolled = new HashSet<>();
        done.forEach(j -> rolled.add(CopiesInFlight.copyOf(j)));
        return rolled.size();
    }

    /**
     * The COPY jobs among {@code jobs} whose copy no move of this pool is making and that are at
     * least {@code age} old (the pool's clock): left behind by a copy that failed half-way without
     * its roll-back finishing. One job per copy (a striped copy's first stripe found).
     */
    public List<Job> stuckCopies(Collection<Job> jobs, Duration age) {
        long now = ctx.nowNanos();
        Set<Fid> seen = new HashSet<>();
        List<Job> out = new ArrayList<>();
        for (Job j : jobs) {
            if (j.kind() == Job.Kind.COPY
                    && now - j.createdNs() >= age.toNanos()
                    && !mc.inFlight.owns(j)
                    && seen.add(CopiesInFlight.copyOf(j))) {
                out.add(j);
            }
        }
        return out;
    }

    /** Which jobs of a batch to roll back, asked with the batch's objects locked. */
    @FunctionalInterface
    private interface Recheck {
        List<Job> still(Set<Fid> fids, List<Job> some) throws OsdException;
    }

    /**
     * Recovery's roll-back, batch by batch, of the jobs {@code recheck} keeps; returns those rolled
     * back. With {@code deleted} the pending copies are already gone from their (synced) devices:
     * the jobs simply go; otherwise each becomes a GC job.
     */
    private List<Job> rollBackAll(List<Job> jobs, Recheck recheck, boolean deleted) throws OsdException {
        final int batch = 128;
        List<Job> done = new ArrayList<>();
        for (int from = 0; from < jobs.size(); from += batch) {
            List<Job> listed = jobs.subList(from, Math.min(jobs.size(), from + batch));
            Set<Fid> fids = new LinkedHashSet<>();
            listed.forEach(j -> fids.add(j.fid()));
            ObjectLocks.Held h = mc.lockAll(fids, MoveOptions.DEFAULT);
            try {
                List<Job> some = recheck.still(fids, listed);
                if (some.isEmpty()) {
                    continue;
                }
                // Each object's state as the batch leaves it (several jobs may touch one object).
                Map<Fid, PoolObject> next = new LinkedHashMap<>();
                Map<Fid, AttrChange> times = new HashMap<>();
                for (Fid f : fids) {
                    try {
                        ctx.store().load(f).ifPresent(p -> next.put(f, p));
                        if (next.containsKey(f)) {
                            times.put(f, ctx.store().times(f));
                        }
                    } catch (OsdException e) {
                        if (!e.is(Errno.ENOENT)) {
                            throw e;
                        }
                    }
                }
                for (Job j : some) {
                    PoolObject p = next.get(j.fid());
                    if (p != null) {
                        next.put(
                                j.fid(),
                                p.byKey(j.key())
                                        .map(c -> p.remove(c.mirrorId()))
                                        .orElse(p));
                    }
                }
                StripedCounters counters = new StripedCounters();
                try (Transaction tx = mc.md().newTransaction()) {
                    for (Job j : some) {
                        if (!deleted) {
                            WorkIndex.declareAdd(tx, j.fid());
                        }
                        WorkIndex.declareRemove(tx, j.fid());
                        DeviceIndex.declareDelete(tx, j.device(), j.fid());
                        Counters.declare(tx, j.fid());
                    }
                    for (var e : next.entrySet()) {
                        ctx.store().declare(tx, e.getKey(), e.getValue());
                    }
                    // A roll-back frees space, never needs it (a mount on a full device must not
                    // fail): every removal comes before any addition, and nothing is reserved.
                    tx.setSpaceClass(SpaceClass.FREEING);
                    tx.start();
                    for (var e : next.entrySet()) {
                        ctx.store().store(tx, e.getKey(), e.getValue(), times.get(e.getKey()));
                    }
                    for (Job j : some) {
                        WorkIndex.remove(tx, j);
                        if (DeviceIndex.contains(mc.md(), j.device(), j.fid(), j.key())) {
                            DeviceIndex.delete(tx, j.device(), j.fid(), j.key());
                        }
                    }
                    for (Job j : some) {
                        if (deleted) {
                            counters.of(j.fid()).add(j.device(), CopyState.PENDING, j.bytes(), -1);
                            continue;
                        }
                        WorkIndex.add(
                                tx,
                                new Job(
                                        Job.Kind.GC,
                                        j.fid(),
                                        j.device(),
                                        j.key(),
                                        j.version(),
                                        j.bytes(),
                                        ctx.nowNanos(),
                                        0));
                        counters.of(j.fid()).move(j.device(), CopyState.PENDING, CopyState.GARBAGE, j.bytes());
                    }
                    counters.flush(tx, mc.md());
                }
                done.addAll(some);
            } finally {
                h.unlockAll();
            }
        }
        return done;
    }

    /** Records a copy no layout names (found on a device) as garbage, to be deleted by a GC job. */
    public void orphan(PoolDevice d, Fid key, long bytes) throws OsdException {
        Job j = new Job(Job.Kind.GC, key, d.index(), key, 0, bytes, ctx.nowNanos(), 0);
        mc.slotted(MoveOptions.DEFAULT, () -> {
            mc.meta(key, false, SpaceClass.RESERVED, (tx, c) -> WorkIndex.declareAdd(tx, key), (tx, c) -> {
                WorkIndex.add(tx, j);
                c.add(d.index(), CopyState.GARBAGE, bytes, +1);
            });
            return null;
        });
    }

    /** Runs every GC job now (tests, recovery, and the daemon's garbage pass); returns the jobs done. */
    public int collectGarbage() throws OsdException {
        return collectAll().done();
    }

    /** Runs every GC job now, saying what became of each copy. */
    public Collected collectAll() throws OsdException {
        List<Job> garbage = WorkIndex.all(mc.md()).stream()
                .filter(j -> j.kind() == Job.Kind.GC)
                .toList();
        return collect(garbage);
    }

    /** Copies deleted at most per device transaction ({@link #destroyCopies}). */
    static final int DESTROY_BATCH = 1024;

    /** What became of the copies a device was asked to delete: removed, already gone, or not deleted now (why). */
    private record Destroyed(List<Job> removed, List<Job> missing, Map<Job, OsdException> failed) {}

    /**
     * Deletes the copies named by {@code jobs} from {@code d}: one unforced space-freeing
     * transaction per {@link #DESTROY_BATCH} copies (the caller syncs the device once for all of
     * them), each copy by {@link Transaction#destroyIfExists}, so a copy that was never written —
     * most of a roll-back's: {@code begin} records the copy before a byte of it is written — costs
     * no error. If a batch's transaction fails (a damaged copy, a failing device), its copies are
     * deleted again one transaction each, so that a copy the device cannot delete now fails alone.
     */
    private static Destroyed destroyCopies(PoolDevice d, List<Job> jobs) {
        List<Job> removed = new ArrayList<>();
        List<Job> missing = new ArrayList<>();
        Map<Job, OsdException> failed = new LinkedHashMap<>();
        for (int from = 0; from < jobs.size(); from += DESTROY_BATCH) {
            List<Job> some = jobs.subList(from, Math.min(jobs.size(), from + DESTROY_BATCH));
            // Deleted by the batch before it failed (a device without transactions keeps them).
            Set<Job> deleted = new LinkedHashSet<>();
            List<Job> gone = new ArrayList<>();
            try (Transaction tx = d.osd().newTransaction()) {
                for (Job job : some) {
                    tx.declareDestroy(job.key());
                }
                tx.setSpaceClass(SpaceClass.FREEING);
                tx.start();
                for (Job job : some) {
                    if (tx.destroyIfExists(job.key())) {
                        deleted.add(job);
                    } else {
                        gone.add(job);
                    }
                }
            } catch (OsdException batchFailed) {
                for (Job job : some) {
                    try {
                        if (destroyCopy(d, job) || deleted.contains(job)) {
                            removed.add(job);
                        } else {
                            missing.add(job);
                        }
                    } catch (OsdException ex) {
                        failed.put(job, ex);
                    }
                }
                continue;
            }
            removed.addAll(deleted);
            missing.addAll(gone);
        }
        return new Destroyed(removed, missing, failed);
    }

    /**
     * Deletes one copy named by {@code job} from its device: one unforced space-freeing
     * transaction. True if it was deleted, false if it was already gone; any other error is
     * thrown for the caller to keep the job.
     */
    private static boolean destroyCopy(PoolDevice d, Job job) throws OsdException {
        try (Transaction tx = d.osd().newTransaction()) {
            tx.declareDestroy(job.key());
            tx.setSpaceClass(SpaceClass.FREEING);
            tx.start();
            return tx.destroyIfExists(job.key());
        }
    }
}
