package dev.spillway.pool.ops;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.SpaceClass;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.spi.ObjectLocks;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.config.Role;
import dev.spillway.pool.core.PoolContext;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.io.CopyIo;
import dev.spillway.pool.io.SplitBody;
import dev.spillway.pool.io.StripedIo;
import dev.spillway.pool.meta.Checksums;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.Counters;
import dev.spillway.pool.meta.DeviceIndex;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.Stripe;
import dev.spillway.pool.meta.StripedCounters;
import dev.spillway.pool.meta.WorkIndex;
import dev.spillway.pool.ops.Migrator.Begun;
import dev.spillway.pool.ops.Migrator.Spilled;
import dev.spillway.pool.space.ReservePlan;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * The copy protocol of docs/design.md (spill, copy, migrate, resync, a promotion to a cache
 * device): the pending copy and its COPY job made durable in one metadata transaction; the body
 * written to the target without the object's lock and made durable there; then, only if the
 * object is unchanged, the flip to IN_SYNC (and for a spill the release of the local body). A copy
 * that cannot finish becomes garbage ({@link Garbage}); a full or failing target parks the move.
 */
final class CopyProtocol {
    private static final System.Logger LOG = System.getLogger(CopyProtocol.class.getName());
    private final MoveContext mc;
    private final PoolContext ctx;
    private final int mdIndex;
    private final CopyKeys keys;
    private final LayoutOps layout;
    private final Garbage garbage;

    // Copy jobs an emergency spill could neither finish nor abandon (the object was locked).
    private final ConcurrentLinkedQueue<Job> leftovers = new ConcurrentLinkedQueue<>();

    CopyProtocol(MoveContext mc, CopyKeys keys, LayoutOps layout, Garbage garbage) {
        this.mc = mc;
        this.ctx = mc.ctx;
        this.mdIndex = mc.mdIndex;
        this.keys = keys;
        this.layout = layout;
        this.garbage = garbage;
    }

    /** Spills: copies the body to {@code target} and releases the local body. */
    public MoveResult spill(Fid fid, PoolDevice target, MoveOptions o) throws OsdException {
        return copy(fid, target, true, o);
    }

    /**
     * Adds (or refreshes) a copy on {@code target}; with {@code release}, then drops the local
     * body if enough durable copies remain. A STALE copy already on {@code target} is replaced.
     */
    public MoveResult copy(Fid fid, PoolDevice target, boolean release, MoveOptions o) throws OsdException {
        return copy(fid, target, release, o, NONE);
    }

    /**
     * {@link #copy(Fid, PoolDevice, boolean, MoveOptions)} of a copy that will replace mirror
     * {@code replacing} (a migration's old copy, dropped once the new one is in sync; {@link #NONE}
     * for none): only that mirror's devices may be reused by the new copy's stripes.
     */
    private MoveResult copy(Fid fid, PoolDevice target, boolean release, MoveOptions o, int replacing)
            throws OsdException {
        String why = mc.refusal(target);
        if (why != null) {
            return new MoveResult.Refused(why);
        }
        return mc.slotted(o, () -> {
            List<Fid> ks = takeKeys(target);
            // In flight from before its job is recorded until its flip or roll-back has ended.
            return mc.inFlight.during(ks.get(0), () -> {
                Optional<Job> job = begin(fid, target, release, ks, o, replacing);
                if (job.isEmpty()) {
                    return release
                            ? layout.release(fid, o)
                            : new MoveResult.NothingToDo("already in sync on " + target.name());
                }
                return completeCopy(job.get(), release, o);
            });
        });
    }

    /**
     * Step 1 of a copy: the pending copy enters the layout and its COPY job the work index, in one
     * durable metadata transaction. Empty if the target already holds an in-sync copy. The copy is
     * in flight (the daemon leaves its job alone) until {@link #complete} has run.
     *
     * @throws OsdException EBUSY if a copy to the target is already being made
     */
    public Optional<Job> begin(Fid fid, PoolDevice target) throws OsdException {
        return mc.slotted(MoveOptions.DEFAULT, () -> {
            List<Fid> ks = takeKeys(target);
            mc.inFlight.enter(ks.get(0));
            Optional<Job> job = Optional.empty();
            try {
                job = begin(fid, target, true, ks, MoveOptions.DEFAULT, NONE);
                return job;
            } finally {
                if (job.isEmpty()) {
                    mc.inFlight.leave(ks.get(0));
                }
            }
        });
    }

    /**
     * Whose space a copy's begin takes: the reserve (RESERVED) when finishing it will release the
     * body from the metadata device — that is what the reserve is for, and it bounds what is in
     * flight — and the clients' space (CLIENT) for a copy that only adds.
     */
    private SpaceClass beginClass(PoolObject p, PoolDevice target, boolean release) {
        boolean frees = release
                && p.resident(mdIndex)
                && target.durability() > 0
                && mc.durableInSyncElsewhere(p) + 1 >= ctx.replicas();
        return frees ? SpaceClass.RESERVED : SpaceClass.CLIENT;
    }

    private Optional<Job> begin(Fid fid, PoolDevice target, boolean release, List<Fid> ks, MoveOptions o, int replacing)
            throws OsdException {
        mc.requireWritable(fid, target);
        Job job = mc.locked(fid, o, () -> beginHeld(fid, target, release, ks, replacing));
        return Optional.ofNullable(job);
    }

    /**
     * Fresh keys for a copy placed on {@code target}: one, or one per stripe of its striping tier
     * (a copy that ends up whole, or with fewer stripes, leaves the rest unused: keys are never
     * reused, so skipping some costs nothing).
     */
    private List<Fid> takeKeys(PoolDevice target) throws OsdException {
        int n = ctx.config().stripeTier(target.name()).map(t -> t.stripeCount()).orElse(1);
        List<Fid> ks = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ks.add(keys.next());
        }
        return ks;
    }

    /**
     * The pending copy of {@code p} placed on {@code target} under {@code ks}: striped over the
     * target's stripe set when its tier stripes an object of this size, else whole.
     */
    private Copy pendingCopy(PoolObject p, PoolDevice target, List<Fid> ks, int replacing) {
        // One device's loss must never take two copies of a body: the stripes leave out every
        // device holding a part of another copy that stays (in sync or being made), all but the
        // mirror this copy replaces. A stale or lost copy is being replaced anyway.
        List<PoolDevice> set = ctx.stripeSet(target, p.size(), d -> !heldByAnother(p, d, replacing));
        if (set.size() < 2 || ks.size() < set.size()) {
            return new Copy(
                    p.nextMirrorId(),
                    target.index(),
                    ks.get(0),
                    CopyState.PENDING,
                    p.dataVersion(),
                    p.size(),
                    false,
                    Checksums.NONE);
        }
        int unit = ctx.stripeSize(target);
        List<Stripe> stripes = new ArrayList<>(set.size());
        for (int i = 0; i < set.size(); i++) {
            stripes.add(new Stripe(
                    set.get(i).index(), ks.get(i), Stripe.length(p.size(), set.size(), unit, i), Checksums.NONE));
        }
        return Copy.striped(p.nextMirrorId(), CopyState.PENDING, p.dataVersion(), false, unit, stripes);
    }

    /** No mirror: a copy that replaces none. */
    private static final int NONE = -1;

    /**
     * True if device {@code d} holds a part of a copy of {@code p} other than mirror
     * {@code replacing} that stays: in sync or being made, with no part on a device being evacuated
     * (such a copy is on its way out).
     */
    private boolean heldByAnother(PoolObject p, PoolDevice d, int replacing) {
        for (Copy c : p.copies()) {
            if (c.mirrorId() == replacing
                    || c.device() == mdIndex
                    || !(c.state() == CopyState.IN_SYNC || c.state() == CopyState.PENDING)
                    || !c.onDevice(d.index())) {
                continue;
            }
            boolean leaving = false;
            for (Stripe part : c.parts()) {
                if (ctx.device(part.device()).state() == DeviceState.EVACUATING) {
                    leaving = true;
                    break;
                }
            }
            if (!leaving) {
                return true;
            }
        }
        return false;
    }

    /** A fresh copy key (a sync write's extra copies take theirs as a spill does). */
    Fid nextKey() throws OsdException {
        return keys.next();
    }

    /**
     * Step 1 of a copy, the object's lock held by the caller: null if the target already holds an
     * in-sync copy.
     */
    Job beginHeld(Fid fid, PoolDevice target, boolean release, Fid key) throws OsdException {
        return beginHeld(fid, target, release, List.of(key), NONE);
    }

    /**
     * Step 1 of a copy under keys {@code ks} (one per stripe if the copy is striped; one makes a
     * whole copy), the object's lock held by the caller: null if the target already holds an in-sync
     * copy. The copy's first part's COPY job is returned; each other stripe has its own.
     */
    Job beginHeld(Fid fid, PoolDevice target, boolean release, List<Fid> ks, int replacing) throws OsdException {
        PoolObject p = mc.load(fid);
        Optional<Copy> there = p.on(target.index()).filter(Copy::whole);
        if (there.isPresent()
                && there.get().state() == CopyState.IN_SYNC
                && there.get().version() == p.dataVersion()) {
            return null;
        }
        if (there.isPresent() && there.get().state() == CopyState.PENDING) {
            throw new OsdException(
                    Errno.EBUSY, ctx.name(), fid, "a copy to " + target.name() + " is already being made");
        }
        Copy pending = ks.size() == 1
                ? new Copy(
                        p.nextMirrorId(),
                        target.index(),
                        ks.get(0),
                        CopyState.PENDING,
                        p.dataVersion(),
                        p.size(),
                        false,
                        Checksums.NONE)
                : pendingCopy(p, target, ks, replacing);
        List<Job> js = Job.perPart(Job.Kind.COPY, fid, pending, p.dataVersion(), ctx.nowNanos());
        AttrChange times = ctx.store().times(fid);
        PoolObject next = p.add(pending);
        mc.meta(
                fid,
                true,
                beginClass(p, target, release),
                (tx, c) -> {
                    for (int i = 0; i < js.size(); i++) {
                        WorkIndex.declareAdd(tx, fid);
                    }
                    WorkIndex.declareRemove(tx, fid);
                    DeviceIndex.declareInsert(tx, fid, pending);
                    ctx.store().declare(tx, fid, next);
                },
                (tx, c) -> {
                    for (Job j : js) {
                        WorkIndex.add(tx, j);
                    }
                    for (Job parked : WorkIndex.of(mc.md(), fid)) {
                        if (parked.kind() == Job.Kind.PARKED && parked.device() == target.index()) {
                            WorkIndex.remove(tx, parked);
                        }
                    }
                    DeviceIndex.insert(tx, fid, pending);
                    c.add(pending, CopyState.PENDING, +1);
                    ctx.store().store(tx, fid, next, times);
                });
        return js.get(0);
    }

    /**
     * Step 1 of copies of several objects to one target: {@link #begin} for each, in one durable
     * metadata transaction, so the log is forced once for the batch rather than once per object
     * (on a disk, the largest fixed cost of a spill). Takes the objects' locks together. Each copy
     * begun is in flight (the daemon leaves its job alone) until {@link #complete} has run.
     */
    public Begun beginAll(List<Fid> fids, PoolDevice target) throws OsdException {
        List<Fid> entered = new ArrayList<>();
        try {
            Begun b = mc.slotted(MoveOptions.DEFAULT, () -> beginBatch(fids, target, MoveOptions.DEFAULT, entered));
            // complete() takes each begun copy out of flight; the copies not begun leave now.
            for (Optional<Job> j : b.jobs().values()) {
                j.ifPresent(job -> entered.remove(CopiesInFlight.copyOf(job)));
            }
            return b;
        } finally {
            entered.forEach(mc.inFlight::leave);
        }
    }

    /**
     * Step 1 for a batch: each planned copy enters flight (and {@code entered}, for the caller to
     * take it out again) before the transaction that records its job.
     */
    private Begun beginBatch(List<Fid> fids, PoolDevice target, MoveOptions o, List<Fid> entered) throws OsdException {
        mc.requireWritable(null, target);
        Map<Fid, Optional<Job>> jobs = new LinkedHashMap<>();
        Map<Fid, OsdException> refused = new LinkedHashMap<>();
        Set<Fid> all = new LinkedHashSet<>(fids);
        ObjectLocks.Held h = mc.lockAll(all, o);
        try {
            record Planned(Fid fid, List<Job> jobs, Copy pending, PoolObject next, AttrChange times, SpaceClass space) {
                Job job() {
                    return jobs.get(0);
                }
            }
            List<Planned> plan = new ArrayList<>();
            for (Fid fid : all) {
                Optional<PoolObject> po;
                try {
                    po = mc.loadIfExists(fid);
                } catch (OsdException e) {
                    refused.put(fid, e);
                    continue;
                }
                if (po.isEmpty()) {
                    refused.put(fid, new OsdException(Errno.ENOENT, ctx.name(), fid, "no such object"));
                    continue;
                }
                PoolObject p = po.get();
                Optional<Copy> there = p.on(target.index()).filter(Copy::whole);
                if (there.isPresent()
                        && there.get().state() == CopyState.IN_SYNC
                        && there.get().version() == p.dataVersion()) {
                    jobs.put(fid, Optional.empty());
                    continue;
                }
                if (there.isPresent() && there.get().state() == CopyState.PENDING) {
                    refused.put(
                            fid,
                            new OsdException(
                                    Errno.EBUSY,
                                    ctx.name(),
                                    fid,
                                    "a copy to " + target.name() + " is already being made"));
                    continue;
                }
                Copy pending = pendingCopy(p, target, takeKeys(target), NONE);
                mc.inFlight.enter(pending.key());
                entered.add(pending.key());
                List<Job> js = Job.perPart(Job.Kind.COPY, fid, pending, p.dataVersion(), ctx.nowNanos());
                PoolObject next = p.add(pending);
                plan.add(new Planned(fid, js, pending, next, ctx.store().times(fid), beginClass(p, target, true)));
            }
            if (plan.isEmpty()) {
                return new Begun(jobs, refused);
            }
            // One Counters per stripe: two objects of one stripe must add to one read-modify-write.
            StripedCounters stripes = new StripedCounters();
            try (Transaction tx = mc.md().newTransaction()) {
                for (Planned pl : plan) {
                    for (int i = 0; i < pl.jobs().size(); i++) {
                        WorkIndex.declareAdd(tx, pl.fid());
                    }
                    WorkIndex.declareRemove(tx, pl.fid());
                    DeviceIndex.declareInsert(tx, pl.fid(), pl.pending());
                    ctx.store().declare(tx, pl.fid(), pl.next());
                    Counters.declare(tx, pl.fid());
                }
                tx.setSync(true);
                // RESERVED only if every copy of the batch will release its body.
                tx.setSpaceClass(
                        plan.stream().allMatch(pl -> pl.space() == SpaceClass.RESERVED)
                                ? SpaceClass.RESERVED
                                : SpaceClass.CLIENT);
                tx.start();
                for (Planned pl : plan) {
                    Fid fid = pl.fid();
                    for (Job j : pl.jobs()) {
                        WorkIndex.add(tx, j);
                    }
                    for (Job parked : WorkIndex.of(mc.md(), fid)) {
                        if (parked.kind() == Job.Kind.PARKED && parked.device() == target.index()) {
                            WorkIndex.remove(tx, parked);
                        }
                    }
                    DeviceIndex.insert(tx, fid, pl.pending());
                    stripes.of(fid).add(pl.pending(), CopyState.PENDING, +1);
                    ctx.store().store(tx, fid, pl.next(), pl.times());
                }
                stripes.flush(tx, mc.md());
            }
            for (Planned pl : plan) {
                jobs.put(pl.fid(), Optional.of(pl.job()));
            }
            return new Begun(jobs, refused);
        } finally {
            h.unlockAll();
        }
    }

    /**
     * Spills several objects to one target: their copies begun in one durable transaction
     * ({@link #beginAll}), all written, then made durable together ({@link Osd#sync(java.util.Collection)}:
     * one round of fsyncs for the batch), then flipped and released, up to the move's writers side
     * by side — no flip before the sync of the whole batch has returned. A target that takes no
     * new copies refuses every object, as {@link #spill} does. If the metadata device has no room
     * for the whole batch's declared space, the objects are spilled one at a time. Once the target
     * parks a spill (it failed or is full), the rest of the batch is refused rather than tried on
     * it. A job not completed is rolled back before this returns or throws.
     */
    public List<Spilled> spillAll(List<Fid> list, PoolDevice target, MoveOptions o) throws OsdException {
        List<Fid> fids = List.copyOf(new LinkedHashSet<>(list));
        // A caller has at most a batch of copies begun and not finished: what the reserve counts on.
        return mc.slotted(o, () -> {
            List<Spilled> out = new ArrayList<>();
            for (int from = 0; from < fids.size(); from += ReservePlan.BATCH) {
                List<Fid> some = fids.subList(from, Math.min(fids.size(), from + ReservePlan.BATCH));
                String parked = out.stream()
                        .filter(sp -> sp.result() instanceof MoveResult.Parked)
                        .map(sp -> "not tried: " + target.name() + " parked an earlier spill of this batch ("
                                + sp.result().detail() + ")")
                        .findFirst()
                        .orElse(null);
                if (parked != null) {
                    for (Fid f : some) {
                        out.add(new Spilled(f, new MoveResult.Refused(parked)));
                    }
                    continue;
                }
                out.addAll(spillBatch(some, target, o));
            }
            return out;
        });
    }

    private List<Spilled> spillBatch(List<Fid> fids, PoolDevice target, MoveOptions o) throws OsdException {
        String refusal = mc.refusal(target);
        if (refusal != null) {
            // As spill() answers: a refusal per object, not an error.
            List<Spilled> out = new ArrayList<>();
            for (Fid f : fids) {
                out.add(new Spilled(f, new MoveResult.Refused(refusal)));
            }
            return out;
        }
        // The batch's copies are in flight from before their jobs are recorded until each is
        // flipped or rolled back (or left behind by a roll-back that failed).
        List<Fid> entered = new ArrayList<>();
        try {
            return spillBatch(fids, target, o, entered);
        } finally {
            entered.forEach(mc.inFlight::leave);
        }
    }

    private List<Spilled> spillBatch(List<Fid> fids, PoolDevice target, MoveOptions o, List<Fid> entered)
            throws OsdException {
        List<Spilled> out = new ArrayList<>();
        Begun b;
        try {
            b = beginBatch(fids, target, o, entered);
        } catch (OsdException e) {
            if (fids.size() <= 1 || !(e.is(Errno.ENOSPC) || e.is(Errno.EDQUOT))) {
                throw e;
            }
            // The metadata device is too full for the batch's declared space (it is when spills
            // matter most): one object at a time, each needing only its own.
            String parked = null;
            for (Fid f : fids) {
                if (parked != null) {
                    out.add(new Spilled(f, new MoveResult.Refused(parked)));
                    continue;
                }
                try {
                    MoveResult r = spill(f, target, o);
                    out.add(new Spilled(f, r));
                    if (r instanceof MoveResult.Parked) {
                        parked = "not tried: " + target.name() + " parked an earlier spill of this batch (" + r.detail()
                                + ")";
                    }
                } catch (OsdException x) {
                    out.add(new Spilled(f, new MoveResult.Failed(x)));
                }
            }
            return out;
        }
        List<Job> open = new ArrayList<>();
        for (Optional<Job> j : b.jobs().values()) {
            j.ifPresent(open::add);
        }
        Map<Fid, Spilled> done = new HashMap<>();
        String stopped = null;
        try {
            // Step 2 for the whole batch: every body written (up to the options' writers side by
            // side), then made durable together (one round of fsyncs and each directory once, not
            // three fsyncs per copy in turn).
            List<Job> toWrite = new ArrayList<>();
            for (Fid f : fids) {
                OsdException refused = b.refused().get(f);
                Optional<Job> j = b.jobs().get(f);
                if (refused != null || j == null) {
                    done.put(f, new Spilled(f, new MoveResult.Failed(refused)));
                    continue;
                }
                try {
                    if (j.isEmpty()) {
                        done.put(f, new Spilled(f, layout.release(f, o)));
                        continue;
                    }
                    Job job = j.get();
                    if (!WorkIndex.contains(mc.md(), job)) {
                        open.remove(job);
                        done.put(f, new Spilled(f, gone(job)));
                        continue;
                    }
                    toWrite.add(job);
                } catch (OsdException e) {
                    done.put(f, new Spilled(f, new MoveResult.Failed(e)));
                }
            }
            List<Written> written = new ArrayList<>();
            for (Attempt a : writeAll(toWrite, target, o)) {
                Fid f = a.job().fid();
                if (a.parts() != null) {
                    written.add(new Written(a.job(), a.parts()));
                    continue;
                }
                if (a.error() == null) {
                    // Not started: the target failed or filled up on an earlier copy; rolled back below.
                    done.put(
                            f,
                            new Spilled(
                                    f,
                                    new MoveResult.Refused(
                                            stopped != null
                                                    ? stopped
                                                    : "not tried: an earlier copy of this batch to " + target.name()
                                                            + " failed")));
                    continue;
                }
                open.remove(a.job());
                try {
                    MoveResult r = copyFailed(a.job(), target, a.error(), o);
                    done.put(f, new Spilled(f, r));
                    if (r instanceof MoveResult.Parked && stopped == null) {
                        stopped = "not tried: " + target.name() + " parked an earlier spill of this batch ("
                                + r.detail() + ")";
                    }
                } catch (OsdException e) {
                    done.put(f, new Spilled(f, new MoveResult.Failed(e)));
                }
            }
            Map<Job, List<Stripe>> occupied = new HashMap<>();
            if (!written.isEmpty()) {
                try {
                    // Every device of the batch synced once, the devices side by side.
                    StripedIo.sync(
                            written.stream().flatMap(w -> w.parts().stream()).toList(), ctx::device);
                    for (Written w : written) {
                        occupied.put(w.job(), StripedIo.occupied(w.parts(), ctx::device));
                    }
                } catch (OsdException e) {
                    // None of the batch may be taken as durable: every copy is abandoned.
                    for (Written w : written) {
                        open.remove(w.job());
                        Fid f = w.job().fid();
                        try {
                            done.put(f, new Spilled(f, copyFailed(w.job(), target, e, o)));
                        } catch (OsdException x) {
                            done.put(f, new Spilled(f, new MoveResult.Failed(x)));
                        }
                    }
                    written = List.of();
                }
            }
            // Step 3, object by object: the flip names only copies made durable above. The flips
            // are independent metadata transactions (each under its own object's lock, all under
            // this caller's reserve slot): up to the options' writers run side by side, so their
            // log syncs are committed together rather than one after another.
            List<Written> flipping = written;
            for (Written w : flipping) {
                open.remove(w.job());
            }
            Spilled[] flipped = new Spilled[flipping.size()];
            // A flip that throws anything but an OsdException (a bug, an Error) is rethrown as it is
            // once every other flip of the batch has run: it says nothing about the target device.
            // Its job stays in the work index for the stuck-copy roll-back.
            Throwable[] threw = new Throwable[flipping.size()];
            eachSideBySide(o.writers(), flipping.size(), i -> {
                Written w = flipping.get(i);
                Fid f = w.job().fid();
                try {
                    flipped[i] = new Spilled(f, flip(w.job(), occupied.get(w.job()), true, o));
                } catch (OsdException e) {
                    flipped[i] = new Spilled(f, new MoveResult.Failed(e));
                } catch (RuntimeException | Error e) {
                    threw[i] = e;
                }
            });
            rethrowFirst(threw);
            for (int i = 0; i < flipping.size(); i++) {
                done.put(flipping.get(i).job().fid(), flipped[i]);
            }
        } finally {
            for (Job j : open) {
                try {
                    garbage.rollBack(j);
                } catch (OsdException | RuntimeException e) {
                    // Recovery rolls it back at the next mount; the work index still names it.
                }
            }
        }
        for (Fid f : fids) {
            out.add(done.get(f));
        }
        return out;
    }

    /** A copy written to its target (each part, with its checksums) and not yet durable there. */
    private record Written(Job job, List<Stripe> parts) {}

    /** One copy of a batch: its parts as written, or why not; both null if it was never started. */
    private record Attempt(Job job, List<Stripe> parts, OsdException error) {}

    /**
     * Writes the copies of a batch, not yet durable: up to {@link MoveOptions#writers} side by
     * side, on the copy writers' platform threads (a copy reads its body from the metadata device,
     * which may be a JNI call that would pin a virtual thread's carrier). Once one fails in a way that parks the
     * move (the target full or failing), no further copy is started: those come back as neither
     * written nor failed. With one writer the copies are written in order on this thread. An
     * {@link Error} stops the batch and is rethrown as it is, once the other writers have ended.
     */
    private List<Attempt> writeAll(List<Job> jobs, PoolDevice target, MoveOptions o) {
        Attempt[] out = new Attempt[jobs.size()];
        AtomicInteger next = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        Runnable writer = () -> {
            int i;
            while (!stop.get() && (i = next.getAndIncrement()) < jobs.size()) {
                Job j = jobs.get(i);
                try {
                    out[i] = new Attempt(j, writeBody(j, target, o), null);
                } catch (OsdException e) {
                    out[i] = new Attempt(j, null, e);
                    if (e.is(Errno.ENOSPC)
                            || e.is(Errno.EDQUOT)
                            || e.is(Errno.EIO)
                            || e.is(Errno.ETIMEDOUT)
                            || e.is(Errno.EAGAIN)) {
                        stop.set(true);
                    }
                } catch (RuntimeException e) {
                    out[i] = new Attempt(
                            j,
                            null,
                            new OsdException(
                                    Errno.EIO,
                                    target.name(),
                                    j.fid(),
                                    "copy to " + target.name() + " failed: " + e,
                                    e));
                    stop.set(true);
                } catch (Error e) {
                    // Not the target's fault: no copy more is started, and CopyWriters.run rethrows
                    // it once the others have ended (the batch's jobs are rolled back on the way out).
                    stop.set(true);
                    throw e;
                }
            }
        };
        mc.writers.run(Math.min(o.writers(), jobs.size()), writer);
        List<Attempt> r = new ArrayList<>();
        for (int i = 0; i < out.length; i++) {
            r.add(out[i] != null ? out[i] : new Attempt(jobs.get(i), null, null));
        }
        return r;
    }

    /** {@code body(i)} for each {@code i} in {@code [0, count)}, up to {@code writers} side by side ({@link CopyWriters#run}). */
    private void eachSideBySide(int writers, int count, IntConsumer body) {
        AtomicInteger next = new AtomicInteger();
        mc.writers.run(Math.min(writers, count), () -> {
            int i;
            while ((i = next.getAndIncrement()) < count) {
                body.accept(i);
            }
        });
    }

    /** Throws the first non-null of {@code threw} as it is (the others suppressed on it), if any. */
    private static void rethrowFirst(Throwable[] threw) {
        Throwable first = null;
        for (Throwable t : threw) {
            if (t == null) {
                continue;
            }
            if (first == null) {
                first = t;
            } else if (t != first) {
                first.addSuppressed(t);
            }
        }
        if (first instanceof Error e) {
            throw e;
        }
        if (first instanceof RuntimeException e) {
            throw e;
        }
    }

    /** Steps 2 and 3 of a copy begun by {@link #begin}: write the body, then flip (and release). */
    public MoveResult complete(Job job, boolean release) throws OsdException {
        try {
            return mc.slotted(MoveOptions.DEFAULT, () -> completeCopy(job, release, MoveOptions.DEFAULT));
        } finally {
            mc.inFlight.leave(CopiesInFlight.copyOf(job));
        }
    }

    private MoveResult completeCopy(Job job, boolean release, MoveOptions o) throws OsdException {
        if (!WorkIndex.contains(mc.md(), job)) {
            return gone(job);
        }
        PoolDevice target = ctx.device(job.device());
        // Step 2: the copy, without the lock, made durable before step 3 names it.
        List<Stripe> parts;
        try {
            parts = writeBody(job, target, o);
            StripedIo.sync(parts, ctx::device);
            parts = StripedIo.occupied(parts, ctx::device);
        } catch (OsdException e) {
            return copyFailed(job, target, e, o);
        }
        return flip(job, parts, release, o);
    }

    /** The answer for a job finished or rolled back already (the same job completed twice). */
    private static MoveResult gone(Job job) {
        return new MoveResult.NothingToDo("the copy job " + job + " is no longer in the work index");
    }

    /**
     * Writes the body of a copy job to its target (not yet durable there) and returns its parts
     * with their checksums: a striped copy's stripes written side by side, each to its device.
     */
    private List<Stripe> writeBody(Job job, PoolDevice target, MoveOptions o) throws OsdException {
        Fid fid = job.fid();
        PoolObject p = mc.load(fid);
        CopyIo.Source src = source(fid, p);
        CopyIo.Pacer pace = o.pacer();
        Optional<Copy> pending = p.byKey(job.key()).filter(c -> c.state() == CopyState.PENDING);
        if (pending.isPresent() && pending.get().striped()) {
            Copy c = pending.get();
            return StripedIo.writeUnsynced(src, fid, c.bytes(), c.stripes(), c.stripeSize(), ctx::device, pace);
        }
        Checksums sums = CopyIo.writeUnsynced(src, fid, job.bytes(), target, job.key(), pace);
        return List.of(new Stripe(target.index(), job.key(), job.bytes(), sums));
    }

    /**
     * A copy could not be written or made durable: its job is abandoned (the pending copy becomes
     * garbage) and, if the target is full or failing, the move is parked; other errors are thrown.
     */
    private MoveResult copyFailed(Job job, PoolDevice target, OsdException e, MoveOptions o) throws OsdException {
        boolean full = e.is(Errno.ENOSPC) || e.is(Errno.EDQUOT);
        // A failing device parks the move too; the daemon retries it with back-off.
        boolean failing = e.is(Errno.EIO) || e.is(Errno.ETIMEDOUT) || e.is(Errno.EAGAIN);
        if (failing && e.device() != null && !partDevices(job).contains(e.device())) {
            failing = false;
        }
        // A cache copy is never parked: the promotion goes to the metadata device instead.
        abandon(job, (full || failing) && !target.has(Role.CACHE), o);
        if (full) {
            return new MoveResult.Parked(target.name() + " is full: " + e.getMessage(), null);
        }
        if (failing) {
            return new MoveResult.Parked(target.name() + " failed the copy: " + e.getMessage(), e);
        }
        if (e.is(Errno.ENOENT) || e.is(Errno.ESTALE)) {
            return new MoveResult.Changed("the object changed during the copy: " + e.getMessage());
        }
        throw e;
    }

    /** The names of the devices the copy of a COPY job is written to (its stripes', or its target's). */
    private Set<String> partDevices(Job job) {
        Set<String> names = new HashSet<>();
        names.add(ctx.device(job.device()).name());
        try {
            mc.loadIfExists(job.fid())
                    .flatMap(p -> p.byKey(job.key()))
                    .ifPresent(c -> c.parts()
                            .forEach(s -> names.add(ctx.device(s.device()).name())));
        } catch (OsdException e) {
            // The record cannot be read: only the job's own device is known.
        }
        return names;
    }

    /** Step 3 of a copy whose body is durable on its target: flip, only if nothing changed meanwhile. */
    private MoveResult flip(Job job, List<Stripe> parts, boolean release, MoveOptions o) throws OsdException {
        Fid fid = job.fid();
        try {
            return mc.locked(fid, o, () -> finish(job, parts, release));
        } catch (OsdException e) {
            if (!e.is(Errno.EBUSY) || o.mayWait()) {
                throw e;
            }
            // An emergency spill may not wait for the object's lock (a writer holds it): the copy
            // is left for a thread that may wait to roll back, rather than to the next mount.
            leftovers.add(job);
            return new MoveResult.Changed("object " + fid + " is being written; the copy is left to be rolled back");
        }
    }

    /** Where to read the body from: the metadata device if resident, else the best in-sync copy. */
    private CopyIo.Source source(Fid fid, PoolObject p) throws OsdException {
        if (p.resident(mdIndex)) {
            return CopyIo.of(mc.md(), fid);
        }
        if (p.split(mdIndex)) {
            return SplitBody.source(mc.md(), mdIndex, ctx::device, ctx::readable, fid, p);
        }
        Copy best = p.inSync().stream()
                .filter(ctx::readable)
                .min(Comparator.comparing((Copy c) -> !c.preferred()).thenComparingInt(Copy::device))
                .orElseThrow(
                        () -> new OsdException(Errno.EIO, ctx.name(), fid, "no readable in-sync copy to copy from"));
        return CopyIo.of(ctx::device, fid, best, p.size());
    }

    /** Step 3 of a copy without a release, the object's lock held by the caller (not forced to disk). */
    MoveResult flipHeld(Job job, Checksums sums, long occupied) throws OsdException {
        return flipHeld(job, sums, occupied, null);
    }

    /**
     * {@link #flipHeld}, the object's committed state given by a caller that holds its lock and
     * knows it ({@code committed}, as its own transaction stored it; null: loaded).
     */
    MoveResult flipHeld(Job job, Checksums sums, long occupied, PoolObject committed) throws OsdException {
        return finish(job, List.of(new Stripe(job.device(), job.key(), occupied, sums)), false, null, committed);
    }

    /**
     * A sync write's copy found at mount whole and equal to the body ({@link SyncRecovery}): flipped
     * in sync as {@link #flipHeld} would have, drawing on the metadata device's reserve (the pool's
     * own work at mount; ENOSPC even there leaves the caller to roll it back), not forced.
     */
    MoveResult flipRecovered(Job job, Checksums sums, long occupied) throws OsdException {
        return finish(
                job, List.of(new Stripe(job.device(), job.key(), occupied, sums)), false, SpaceClass.RESERVED, null);
    }

    /**
     * Step 3: the pending copy of {@code job} becomes IN_SYNC with {@code parts} as written and made
     * durable (each part's occupied bytes and checksums; a striped copy's stripes in order), every
     * part's COPY job goes, and with {@code release} the local body.
     */
    private MoveResult finish(Job job, List<Stripe> parts, boolean release) throws OsdException {
        return finish(job, parts, release, null, null);
    }

    /**
     * {@link #finish}, its metadata transaction of class {@code flipClass} if given (a recovery's
     * roll-forward), from the object's committed state {@code known} if the caller knows it (null:
     * loaded).
     */
    private MoveResult finish(Job job, List<Stripe> parts, boolean release, SpaceClass flipClass, PoolObject known)
            throws OsdException {
        Fid fid = job.fid();
        Optional<PoolObject> now = known != null ? Optional.of(known) : mc.loadIfExists(fid);
        Optional<Copy> pending = now.flatMap(p -> p.byKey(job.key()));
        if (now.isEmpty() || pending.isEmpty() || now.get().dataVersion() != job.version()) {
            garbage.discard(job, now.orElse(null));
            return new MoveResult.Changed("object " + fid + " changed while it was copied; the copy is garbage");
        }
        if (ctx.device(job.device()).state() == DeviceState.FAILED) {
            // The target failed while the copy was written: never name a copy on a failed device.
            garbage.discard(job, now.get());
            return new MoveResult.Changed(ctx.device(job.device()).name() + " failed while " + fid
                    + " was copied there; the copy is garbage");
        }
        PoolObject p = now.get();
        Copy was = pending.get();
        Copy done = was.striped()
                ? was.inSyncStripes(p.dataVersion(), parts)
                : was.inSync(p.dataVersion(), parts.get(0).bytes(), parts.get(0).checksums());
        PoolObject next = p.replace(done.mirrorId(), c -> done);
        // A stale (or lost) copy on the same device (on one of the new copy's devices) is replaced
        // by the fresh one.
        List<Copy> replaced = new ArrayList<>();
        for (Copy c : p.copies()) {
            boolean shares = done.parts().stream().anyMatch(s -> c.onDevice(s.device()));
            if (shares
                    && c.device() != mdIndex
                    && c.mirrorId() != done.mirrorId()
                    && (c.state() == CopyState.STALE || c.state() == CopyState.LOST)) {
                replaced.add(c);
                next = next.remove(c.mirrorId());
            }
        }
        boolean split = p.split(mdIndex);
        boolean drop = release && (p.resident(mdIndex) || split) && mc.durableInSyncElsewhere(next) >= ctx.replicas();
        // A split body spilled whole: the copies of its ranges go with its resident part.
        List<Copy> ranges = drop
                ? p.ranges(mdIndex).stream()
                        .filter(c -> c.state() != CopyState.PENDING)
                        .toList()
                : List.of();
        if (drop) {
            next = next.remove(p.on(mdIndex).orElseThrow().mirrorId())
                    .withBlocks(split ? p.blocks() : mc.md().getAttr(fid).blocks());
            for (Copy r : ranges) {
                next = next.remove(r.mirrorId());
            }
        }
        // Reads prefer a fresh cache copy over a spill copy (a resident body comes first anyway).
        boolean cached = ctx.device(job.device()).has(Role.CACHE) && !p.resident(mdIndex);
        PoolObject fin = next.preferring(drop || cached ? job.device() : mdIndex);
        AttrChange times = ctx.store().times(fid);
        // Releasing the body gives back far more than the flip adds (frees first, below);
        // without a release the flip grows the record for good: the reserve only if it was begun
        // for a release.
        SpaceClass space = drop
                ? SpaceClass.FREEING
                : flipClass != null ? flipClass : release ? SpaceClass.RESERVED : SpaceClass.CLIENT;
        mc.meta(
                fid,
                false,
                space,
                (tx, c) -> {
                    WorkIndex.declareAdd(tx, fid);
                    for (int i = 0; i < was.parts().size(); i++) {
                        WorkIndex.declareRemove(tx, fid);
                    }
                    if (job.kind() == Job.Kind.SYNC_COPY) {
                        SyncKeys.declareEnd(tx);
                    }
                    ctx.store().declare(tx, fid, fin);
                    for (Copy r : replaced) {
                        for (int i = 0; i < r.parts().size(); i++) {
                            WorkIndex.declareAdd(tx, fid);
                        }
                        DeviceIndex.declareDelete(tx, fid, r);
                    }
                    if (drop) {
                        tx.declareTruncate(fid, 0);
                        DeviceIndex.declareDelete(tx, mdIndex, fid);
                    }
                    for (Copy r : ranges) {
                        WorkIndex.declareAdd(tx, fid);
                        DeviceIndex.declareDelete(tx, fid, r);
                    }
                },
                (tx, c) -> {
                    if (drop) {
                        tx.truncate(fid, 0);
                        DeviceIndex.delete(tx, mdIndex, fid, fid);
                    }
                    for (Copy r : ranges) {
                        mc.gcJob(tx, c, fid, r);
                    }
                    // A sync write's copy has a SYNC_COPY job, any other a COPY job per part.
                    for (Job j : Job.perPart(job.kind(), fid, was, job.version(), 0)) {
                        WorkIndex.remove(tx, j);
                    }
                    if (job.kind() == Job.Kind.SYNC_COPY) {
                        SyncKeys.end(tx, mc.md(), job.device(), job.key());
                    }
                    c.add(was, CopyState.PENDING, -1).add(done, CopyState.IN_SYNC, +1);
                    for (Copy r : replaced) {
                        mc.gcJob(tx, c, fid, r);
                        for (Job j : WorkIndex.of(mc.md(), fid)) {
                            if (j.kind() == Job.Kind.RESYNC && r.hasKey(j.key())) {
                                WorkIndex.remove(tx, j);
                            }
                        }
                    }
                    ctx.store().store(tx, fid, fin, times);
                });
        return new MoveResult.Done(
                p.size(),
                (drop ? "spilled " : cached ? "cached " : "copied ") + p.size() + " bytes of " + fid + " to "
                        + mc.where(done));
    }

    /** The copy failed: the pending copy becomes garbage; if the target was full, the move is parked. */
    private void abandon(Job job, boolean park, MoveOptions o) throws OsdException {
        try {
            abandonLocked(job, park, o);
        } catch (OsdException e) {
            if (!e.is(Errno.EBUSY) || o.mayWait()) {
                throw e;
            }
            // An emergency spill may not wait for the object's lock: left for a thread that may.
            leftovers.add(job);
        }
    }

    /**
     * Rolls back the copies emergency spills could not finish or abandon because a writer held the
     * object's lock, as the daemon rolls back any copy left behind ({@link Garbage#rollBackStuck}).
     * A thread that may wait for locks calls it (the daemon, every pass); whatever is left at
     * unmount is rolled back by the next mount's recovery.
     *
     * @return the copies rolled back
     */
    public int settleLeftovers() throws OsdException {
        List<Job> left = new ArrayList<>();
        Job j;
        while ((j = leftovers.poll()) != null) {
            left.add(j);
        }
        return left.isEmpty() ? 0 : garbage.rollBackStuck(left);
    }

    private void abandonLocked(Job job, boolean park, MoveOptions o) throws OsdException {
        mc.locked(job.fid(), o, () -> {
            Optional<PoolObject> p = mc.loadIfExists(job.fid());
            garbage.discard(job, p.orElse(null));
            if (park && p.isPresent()) {
                // A parked move is a hint to retry (the object stays a candidate anyway): it takes
                // clients' space, and where there is none it is not recorded.
                try {
                    park(job);
                } catch (OsdException e) {
                    if (!e.is(Errno.ENOSPC) && !e.is(Errno.EDQUOT)) {
                        throw e;
                    }
                }
            }
            return null;
        });
    }

    private void park(Job job) throws OsdException {
        mc.meta(
                job.fid(),
                false,
                SpaceClass.CLIENT,
                (tx, c) -> WorkIndex.declareAdd(tx, job.fid()),
                (tx, c) -> WorkIndex.add(
                        tx,
                        new Job(
                                Job.Kind.PARKED,
                                job.fid(),
                                job.device(),
                                Job.NO_KEY,
                                job.version(),
                                job.bytes(),
                                ctx.nowNanos(),
                                0)));
    }

    /**
     * Promotes for reads: with a writable cache device in the pool, a copy there (by the spill
     * protocol: pending, written and made durable on it, flipped in sync and preferred for reads);
     * otherwise, or if the cache cannot take it (full, failing), the body back to the metadata
     * device as {@link LayoutOps#promoteHome} does. A cache copy never counts toward {@code replicas}.
     */
    public MoveResult promote(Fid fid, MoveOptions o) throws OsdException {
        PoolObject p = mc.load(fid);
        if (p.resident(mdIndex)) {
            return new MoveResult.NothingToDo("already resident");
        }
        PoolDevice cache = null;
        for (PoolDevice d : ctx.devices()) {
            if (!d.has(Role.CACHE) || !d.state().writable()) {
                continue;
            }
            Optional<Copy> there = p.on(d.index());
            if (there.isPresent()
                    && there.get().state() == CopyState.IN_SYNC
                    && there.get().version() == p.dataVersion()) {
                return new MoveResult.NothingToDo("already cached on " + d.name());
            }
            if (cache == null && there.isEmpty()) {
                cache = d;
            }
        }
        if (cache == null) {
            return layout.promoteHome(fid);
        }
        PoolDevice to = cache;
        MoveResult r = mc.slotted(o, () -> {
            Fid key = keys.next();
            return mc.inFlight.during(key, () -> {
                Job job = mc.locked(fid, o, () -> beginHeld(fid, to, false, key));
                return job == null
                        ? new MoveResult.NothingToDo("already cached on " + to.name())
                        : completeCopy(job, false, o);
            });
        });
        if (r.settled()) {
            return r;
        }
        LOG.log(
                System.Logger.Level.DEBUG,
                "pool " + ctx.name() + ": " + fid + " not cached on " + to.name() + " (" + r.detail()
                        + "); promoted to " + ctx.metadata().name() + " instead");
        return layout.promoteHome(fid);
    }

    /** Moves the copy on {@code from} to {@code to}: copy, then drop the old one. */
    public MoveResult migrate(Fid fid, PoolDevice from, PoolDevice to, MoveOptions o) throws OsdException {
        PoolObject p = mc.load(fid);
        Optional<Copy> old = p.on(from.index());
        if (old.isEmpty()) {
            return new MoveResult.NothingToDo("no copy on " + from.name());
        }
        if (from.index() == mdIndex) {
            return copy(fid, to, true, o);
        }
        if (old.get().onDevice(to.index())) {
            return new MoveResult.Refused("mirror " + old.get().mirrorId() + " is striped over " + mc.where(old.get())
                    + ", " + to.name() + " among them: move it to a device it does not use");
        }
        MoveResult r = copy(fid, to, false, o, old.get().mirrorId());
        if (!r.settled()) {
            return r;
        }
        MoveResult d = layout.dropMirror(fid, old.get().mirrorId());
        String both = r.detail() + "; " + d.detail();
        return switch (d) {
            case MoveResult.Done x -> new MoveResult.Done(r.bytes(), both);
            case MoveResult.NothingToDo x -> new MoveResult.NothingToDo(both);
            case MoveResult.Changed x -> new MoveResult.Changed(both);
            case MoveResult.Parked x -> new MoveResult.Parked(both, x.failure());
            case MoveResult.Refused x -> new MoveResult.Refused(both);
            case MoveResult.Failed x -> x;
        };
    }

    /** Rewrites a stale copy from a good one. */
    public MoveResult resync(Fid fid, int device, MoveOptions o) throws OsdException {
        return copy(fid, ctx.device(device), false, o);
    }

    /**
     * Forgets a PARKED job (its object is gone, or no longer needs the move): the work-index entry
     * goes in one FREEING metadata transaction, if it is still there.
     */
    public void dropParked(Job job) throws OsdException {
        if (job.kind() != Job.Kind.PARKED) {
            throw new OsdException(
                    Errno.EINVAL,
                    ctx.name(),
                    job.fid(),
                    "not a parked job: " + job.kind() + " (only a parked move is dropped)");
        }
        try (Transaction tx = mc.md().newTransaction()) {
            WorkIndex.declareRemove(tx, job.fid());
            tx.setSpaceClass(SpaceClass.FREEING);
            tx.start();
            if (WorkIndex.contains(mc.md(), job)) {
                WorkIndex.remove(tx, job);
            }
        }
    }
}
