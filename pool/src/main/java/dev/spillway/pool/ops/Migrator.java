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
import dev.spillway.pool.space.ReservePlan;
import dev.spillway.pool.space.ReserveSlots;
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
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The pool's data-moving operations, each following the spill protocol of docs/design.md so that a spill device
 * needs no transactions:
 * <ol>
 * <li>in one metadata transaction, the new copy enters the layout as PENDING and a COPY job is
 * recorded (made durable before a byte is written to the target);</li>
 * <li>the body is copied to the target under a fresh key, made durable there and checksummed —
 * without holding the object's lock, so foreground I/O never waits for it;</li>
 * <li>in one metadata transaction, and only if the data version is unchanged, the copy becomes
 * IN_SYNC, the job is dropped and (for a spill) the local body released; if it changed, the new
 * copy is garbage and a GC job says so.</li>
 * </ol>
 * A crash at any point leaves a job that recovery finishes or rolls back: space never leaks and
 * the last good copy is never lost.
 */
public final class Migrator {
    private final PoolContext ctx;
    private final int mdIndex;
    private final CopyKeys keys;

    /** How an operation ended. */
    public enum Outcome {
        /** Done as asked. */
        DONE,
        /** Nothing to do (already so). */
        NOTHING_TO_DO,
        /** The object changed while its copy was made; the copy was discarded. Try again. */
        CHANGED,
        /** The target had no room; the move is parked in the work index. */
        PARKED,
        /** The operation is not possible in the object's or device's state (see detail). */
        REFUSED
    }

    /**
     * The result of an operation: its outcome, the bytes moved, a sentence for humans, and for a
     * move parked because its target failed, that failure (the daemon backs the device off).
     */
    public record Result(Outcome outcome, long bytes, String detail, OsdException cause) {
        public Result(Outcome outcome, long bytes, String detail) {
            this(outcome, bytes, detail, null);
        }

        static Result of(Outcome o, String d) {
            return new Result(o, 0, d, null);
        }
    }

    private static final System.Logger LOG = System.getLogger(Migrator.class.getName());

    // Copy jobs an emergency spill could neither finish nor abandon (the object was locked).
    private final ConcurrentLinkedQueue<Job> leftovers = new ConcurrentLinkedQueue<>();

    private Migrator(PoolContext ctx, CopyKeys keys) {
        this.ctx = ctx;
        this.mdIndex = ctx.metadata().index();
        this.keys = keys;
    }

    /** The movers of a pool; reads the copy-key sequence from its metadata device. */
    public static Migrator open(PoolContext ctx) throws OsdException {
        return new Migrator(ctx, new CopyKeys(ctx.metadata().osd()));
    }

    private Osd md() {
        return ctx.metadata().osd();
    }

    @FunctionalInterface
    public interface Locked<T> {
        T run() throws OsdException;
    }

    /**
     * Runs {@code body} holding one of the pool's reserve slots ({@link ReserveSlots}): every
     * caller of RESERVED work does, taken before any object lock. An emergency spill does not
     * wait for one (EBUSY).
     */
    private <T> T slotted(MoveOptions o, Locked<T> body) throws OsdException {
        try (ReserveSlots.Held h = ctx.reserveSlots().take(o.mayWait())) {
            return body.run();
        }
    }

    /** Runs {@code body} holding the object's pool lock (the one client transactions take). */
    public <T> T locked(Fid fid, Locked<T> body) throws OsdException {
        return locked(fid, MoveOptions.DEFAULT, body);
    }

    private <T> T locked(Fid fid, MoveOptions o, Locked<T> body) throws OsdException {
        ObjectLocks.Held h = lockAll(Set.of(fid), o);
        try {
            return body.run();
        } finally {
            h.unlockAll();
        }
    }

    /**
     * The pool locks of {@code fids} (the ones client transactions take), all together; a move
     * that may not wait takes them only if all are free, and is refused with EBUSY otherwise.
     */
    private ObjectLocks.Held lockAll(Set<Fid> fids, MoveOptions o) throws OsdException {
        ObjectLocks.Held h = ctx.transactions().locks().newHolder();
        if (o.mayWait()) {
            h.lockAll(fids);
        } else if (!h.tryLockAll(fids)) {
            throw new OsdException(
                    Errno.EBUSY,
                    ctx.name(),
                    fids.size() == 1 ? fids.iterator().next() : null,
                    (fids.size() == 1 ? "object is" : "objects are")
                            + " locked by a transaction (emergency spill skips "
                            + (fids.size() == 1 ? "it)" : "them)"));
        }
        return h;
    }

    /**
     * Why {@code target} takes no new copy (it is the metadata device, not a background device, or
     * not writable), or null if it does. Every move onto a device asks this one question.
     */
    private String refusal(PoolDevice target) {
        if (target.index() == mdIndex || !target.has(Role.BACKGROUND)) {
            return target.name() + " is not a background device";
        }
        if (!target.state().writable()) {
            return target.name() + " is " + target.state().yamlName() + ": nothing new is placed there";
        }
        return null;
    }

    /** {@link #refusal} as an error, for the steps that cannot answer with a result. */
    private void requireWritable(Fid fid, PoolDevice target) throws OsdException {
        String why = refusal(target);
        if (why != null) {
            throw new OsdException(Errno.EINVAL, ctx.name(), fid, why + " (it takes no new copies)");
        }
    }

    /** A metadata transaction that changes an object's layout and the pool's records. */
    @FunctionalInterface
    interface MetaUpdate {
        void apply(Transaction tx, Counters counters) throws OsdException;
    }

    /**
     * One metadata transaction of class {@code space}: the pool's own bookkeeping is RESERVED
     * (it may use the metadata device's reserve) or FREEING (it gives space back, and must make
     * its frees before its additions); work that grows the pool for good (a recall, a copy that
     * releases nothing) is CLIENT.
     */
    private void meta(Fid fid, boolean sync, SpaceClass space, MetaUpdate declare, MetaUpdate update)
            throws OsdException {
        Counters counters = new Counters(fid);
        try (Transaction tx = md().newTransaction()) {
            declare.apply(tx, counters);
            Counters.declare(tx, fid);
            tx.setSync(sync);
            tx.setSpaceClass(space);
            tx.start();
            update.apply(tx, counters);
            counters.flush(tx, md());
        } finally {
            if (space == SpaceClass.FREEING) {
                ctx.roomQueue().roomMade();
            }
        }
    }

    private PoolObject load(Fid fid) throws OsdException {
        return ctx.store().require(fid);
    }

    /** The object's state, or empty if it is gone (destroyed meanwhile) or not a DATA object. */
    private Optional<PoolObject> loadIfExists(Fid fid) throws OsdException {
        try {
            return ctx.store().load(fid);
        } catch (OsdException e) {
            if (!e.is(Errno.ENOENT)) {
                throw e;
            }
            return Optional.empty();
        }
    }

    private long durableInSyncElsewhere(PoolObject p) {
        return p.copies().stream()
                .filter(c -> c.device() != mdIndex
                        && c.state() == CopyState.IN_SYNC
                        && c.version() == p.dataVersion()
                        && ctx.durable(c)
                        && ctx.readable(c))
                .count();
    }

    // ---- copy / spill / migrate ------------------------------------------------------------

    /** Spills: copies the body to {@code target} and releases the local body. */
    public Result spill(Fid fid, PoolDevice target) throws OsdException {
        return spill(fid, target, MoveOptions.DEFAULT);
    }

    /** {@link #spill(Fid, PoolDevice)} run as {@code o} says. */
    public Result spill(Fid fid, PoolDevice target, MoveOptions o) throws OsdException {
        return copy(fid, target, true, o);
    }

    /**
     * Adds (or refreshes) a copy on {@code target}; with {@code release}, then drops the local
     * body if enough durable copies remain. A STALE copy already on {@code target} is replaced.
     */
    public Result copy(Fid fid, PoolDevice target, boolean release) throws OsdException {
        return copy(fid, target, release, MoveOptions.DEFAULT);
    }

    /** {@link #copy(Fid, PoolDevice, boolean)} run as {@code o} says. */
    public Result copy(Fid fid, PoolDevice target, boolean release, MoveOptions o) throws OsdException {
        String why = refusal(target);
        if (why != null) {
            return Result.of(Outcome.REFUSED, why);
        }
        return slotted(o, () -> {
            Optional<Job> job = begin(fid, target, release, o);
            if (job.isEmpty()) {
                return release
                        ? release(fid, o)
                        : Result.of(Outcome.NOTHING_TO_DO, "already in sync on " + target.name());
            }
            return completeCopy(job.get(), release, o);
        });
    }

    /**
     * Step 1 of a copy: the pending copy enters the layout and its COPY job the work index, in one
     * durable metadata transaction. Empty if the target already holds an in-sync copy.
     *
     * @throws OsdException EBUSY if a copy to the target is already being made
     */
    public Optional<Job> begin(Fid fid, PoolDevice target) throws OsdException {
        return slotted(MoveOptions.DEFAULT, () -> begin(fid, target, true, MoveOptions.DEFAULT));
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
                && durableInSyncElsewhere(p) + 1 >= ctx.replicas();
        return frees ? SpaceClass.RESERVED : SpaceClass.CLIENT;
    }

    private Optional<Job> begin(Fid fid, PoolDevice target, boolean release, MoveOptions o) throws OsdException {
        requireWritable(fid, target);
        List<Fid> ks = takeKeys(target);
        Job job = locked(fid, o, () -> beginHeld(fid, target, release, ks));
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
    private Copy pendingCopy(PoolObject p, PoolDevice target, List<Fid> ks) {
        List<PoolDevice> set = ctx.stripeSet(target, p.size());
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

    /** A fresh copy key (a sync write's extra copies take theirs as a spill does). */
    Fid nextKey() throws OsdException {
        return keys.next();
    }

    /**
     * Step 1 of a copy, the object's lock held by the caller: null if the target already holds an
     * in-sync copy.
     */
    Job beginHeld(Fid fid, PoolDevice target, boolean release, Fid key) throws OsdException {
        return beginHeld(fid, target, release, List.of(key));
    }

    /**
     * Step 1 of a copy under keys {@code ks} (one per stripe if the copy is striped; one makes a
     * whole copy), the object's lock held by the caller: null if the target already holds an in-sync
     * copy. The copy's first part's COPY job is returned; each other stripe has its own.
     */
    Job beginHeld(Fid fid, PoolDevice target, boolean release, List<Fid> ks) throws OsdException {
        PoolObject p = load(fid);
        Optional<Copy> there = p.on(target.index());
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
                : pendingCopy(p, target, ks);
        List<Job> js = Job.perPart(Job.Kind.COPY, fid, pending, p.dataVersion(), ctx.nowNanos());
        AttrChange times = ctx.store().times(fid);
        PoolObject next = p.add(pending);
        meta(
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
                    for (Job parked : WorkIndex.of(md(), fid)) {
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
     * What {@link #beginAll} did: a job per object it began, empty for an object already in sync on
     * the target, and the reason for each object it left alone (gone, not a pool DATA object, or a
     * copy to the target already under way).
     */
    public record Begun(Map<Fid, Optional<Job>> jobs, Map<Fid, OsdException> refused) {}

    /**
     * Step 1 of copies of several objects to one target: {@link #begin} for each, in one durable
     * metadata transaction, so the log is forced once for the batch rather than once per object
     * (on a disk, the largest fixed cost of a spill). Takes the objects' locks together.
     */
    public Begun beginAll(List<Fid> fids, PoolDevice target) throws OsdException {
        return slotted(MoveOptions.DEFAULT, () -> beginBatch(fids, target, MoveOptions.DEFAULT));
    }

    private Begun beginBatch(List<Fid> fids, PoolDevice target, MoveOptions o) throws OsdException {
        requireWritable(null, target);
        Map<Fid, Optional<Job>> jobs = new LinkedHashMap<>();
        Map<Fid, OsdException> refused = new LinkedHashMap<>();
        Set<Fid> all = new LinkedHashSet<>(fids);
        ObjectLocks.Held h = lockAll(all, o);
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
                    po = loadIfExists(fid);
                } catch (OsdException e) {
                    refused.put(fid, e);
                    continue;
                }
                if (po.isEmpty()) {
                    refused.put(fid, new OsdException(Errno.ENOENT, ctx.name(), fid, "no such object"));
                    continue;
                }
                PoolObject p = po.get();
                Optional<Copy> there = p.on(target.index());
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
                Copy pending = pendingCopy(p, target, takeKeys(target));
                List<Job> js = Job.perPart(Job.Kind.COPY, fid, pending, p.dataVersion(), ctx.nowNanos());
                PoolObject next = p.add(pending);
                plan.add(new Planned(fid, js, pending, next, ctx.store().times(fid), beginClass(p, target, true)));
            }
            if (plan.isEmpty()) {
                return new Begun(jobs, refused);
            }
            // One Counters per stripe: two objects of one stripe must add to one read-modify-write.
            StripedCounters stripes = new StripedCounters();
            try (Transaction tx = md().newTransaction()) {
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
                    for (Job parked : WorkIndex.of(md(), fid)) {
                        if (parked.kind() == Job.Kind.PARKED && parked.device() == target.index()) {
                            WorkIndex.remove(tx, parked);
                        }
                    }
                    DeviceIndex.insert(tx, fid, pl.pending());
                    stripes.of(fid).add(pl.pending(), CopyState.PENDING, +1);
                    ctx.store().store(tx, fid, pl.next(), pl.times());
                }
                stripes.flush(tx, md());
            }
            for (Planned pl : plan) {
                jobs.put(pl.fid(), Optional.of(pl.job()));
            }
            return new Begun(jobs, refused);
        } finally {
            h.unlockAll();
        }
    }

    /** One object's part of {@link #spillAll}: its result, or why it was not spilled. */
    public record Spilled(Fid fid, Result result, OsdException error) {}

    /**
     * Spills several objects to one target: their copies begun in one durable transaction
     * ({@link #beginAll}), all written, then made durable together ({@link Osd#sync(java.util.Collection)}:
     * one round of fsyncs for the batch), then each flipped and released in turn — no flip before
     * the sync of the whole batch has returned. A target that takes no
     * new copies refuses every object, as {@link #spill} does. If the metadata device has no room
     * for the whole batch's declared space, the objects are spilled one at a time. Once the target
     * parks a spill (it failed or is full), the rest of the batch is refused rather than tried on
     * it. A job not completed is rolled back before this returns or throws.
     */
    public List<Spilled> spillAll(List<Fid> list, PoolDevice target) throws OsdException {
        return spillAll(list, target, MoveOptions.DEFAULT);
    }

    /** {@link #spillAll(List, PoolDevice)} run as {@code o} says. */
    public List<Spilled> spillAll(List<Fid> list, PoolDevice target, MoveOptions o) throws OsdException {
        List<Fid> fids = List.copyOf(new LinkedHashSet<>(list));
        // A caller has at most a batch of copies begun and not finished: what the reserve counts on.
        return slotted(o, () -> {
            List<Spilled> out = new ArrayList<>();
            for (int from = 0; from < fids.size(); from += ReservePlan.BATCH) {
                List<Fid> some = fids.subList(from, Math.min(fids.size(), from + ReservePlan.BATCH));
                String parked = out.stream()
                        .filter(sp -> sp.result() != null && sp.result().outcome() == Outcome.PARKED)
                        .map(sp -> "not tried: " + target.name() + " parked an earlier spill of this batch ("
                                + sp.result().detail() + ")")
                        .findFirst()
                        .orElse(null);
                if (parked != null) {
                    for (Fid f : some) {
                        out.add(new Spilled(f, Result.of(Outcome.REFUSED, parked), null));
                    }
                    continue;
                }
                out.addAll(spillBatch(some, target, o));
            }
            return out;
        });
    }

    private List<Spilled> spillBatch(List<Fid> fids, PoolDevice target, MoveOptions o) throws OsdException {
        List<Spilled> out = new ArrayList<>();
        String refusal = refusal(target);
        if (refusal != null) {
            // As spill() answers: a refusal per object, not an error.
            for (Fid f : fids) {
                out.add(new Spilled(f, Result.of(Outcome.REFUSED, refusal), null));
            }
            return out;
        }
        Begun b;
        try {
            b = beginBatch(fids, target, o);
        } catch (OsdException e) {
            if (fids.size() <= 1 || !(e.is(Errno.ENOSPC) || e.is(Errno.EDQUOT))) {
                throw e;
            }
            // The metadata device is too full for the batch's declared space (it is when spills
            // matter most): one object at a time, each needing only its own.
            String parked = null;
            for (Fid f : fids) {
                if (parked != null) {
                    out.add(new Spilled(f, Result.of(Outcome.REFUSED, parked), null));
                    continue;
                }
                try {
                    Result r = spill(f, target, o);
                    out.add(new Spilled(f, r, null));
                    if (r.outcome() == Outcome.PARKED) {
                        parked = "not tried: " + target.name() + " parked an earlier spill of this batch (" + r.detail()
                                + ")";
                    }
                } catch (OsdException x) {
                    out.add(new Spilled(f, null, x));
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
            // Step 2 for the whole batch: every body written, then made durable together (one
            // round of fsyncs and each directory once, not three fsyncs per copy in turn).
            List<Written> written = new ArrayList<>();
            for (Fid f : fids) {
                OsdException refused = b.refused().get(f);
                Optional<Job> j = b.jobs().get(f);
                if (refused != null || j == null) {
                    done.put(f, new Spilled(f, null, refused));
                    continue;
                }
                if (stopped != null) {
                    // The target failed or filled up on an earlier object: the rest are rolled back.
                    done.put(f, new Spilled(f, Result.of(Outcome.REFUSED, stopped), null));
                    continue;
                }
                try {
                    if (j.isEmpty()) {
                        done.put(f, new Spilled(f, release(f, o), null));
                        continue;
                    }
                    Job job = j.get();
                    if (!WorkIndex.contains(md(), job)) {
                        open.remove(job);
                        done.put(f, new Spilled(f, gone(job), null));
                        continue;
                    }
                    try {
                        written.add(new Written(job, writeBody(job, target, o)));
                    } catch (OsdException e) {
                        open.remove(job);
                        Result r = copyFailed(job, target, e, o);
                        done.put(f, new Spilled(f, r, null));
                        if (r.outcome() == Outcome.PARKED) {
                            stopped = "not tried: " + target.name() + " parked an earlier spill of this batch ("
                                    + r.detail() + ")";
                        }
                    }
                } catch (OsdException e) {
                    done.put(f, new Spilled(f, null, e));
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
                            done.put(f, new Spilled(f, copyFailed(w.job(), target, e, o), null));
                        } catch (OsdException x) {
                            done.put(f, new Spilled(f, null, x));
                        }
                    }
                    written = List.of();
                }
            }
            // Step 3, object by object: the flip names only copies made durable above.
            for (Written w : written) {
                Fid f = w.job().fid();
                open.remove(w.job());
                try {
                    done.put(f, new Spilled(f, flip(w.job(), occupied.get(w.job()), true, o), null));
                } catch (OsdException e) {
                    done.put(f, new Spilled(f, null, e));
                }
            }
        } finally {
            for (Job j : open) {
                try {
                    rollBack(j);
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

    /** Steps 2 and 3 of a copy begun by {@link #begin}: write the body, then flip (and release). */
    public Result complete(Job job, boolean release) throws OsdException {
        return slotted(MoveOptions.DEFAULT, () -> completeCopy(job, release, MoveOptions.DEFAULT));
    }

    private Result completeCopy(Job job, boolean release, MoveOptions o) throws OsdException {
        if (!WorkIndex.contains(md(), job)) {
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
    private static Result gone(Job job) {
        return Result.of(Outcome.NOTHING_TO_DO, "the copy job " + job + " is no longer in the work index");
    }

    /**
     * Writes the body of a copy job to its target (not yet durable there) and returns its parts
     * with their checksums: a striped copy's stripes written side by side, each to its device.
     */
    private List<Stripe> writeBody(Job job, PoolDevice target, MoveOptions o) throws OsdException {
        Fid fid = job.fid();
        PoolObject p = load(fid);
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
    private Result copyFailed(Job job, PoolDevice target, OsdException e, MoveOptions o) throws OsdException {
        boolean full = e.is(Errno.ENOSPC) || e.is(Errno.EDQUOT);
        // A failing device parks the move too; the daemon retries it with back-off.
        boolean failing = e.is(Errno.EIO) || e.is(Errno.ETIMEDOUT) || e.is(Errno.EAGAIN);
        if (failing && e.device() != null && !partDevices(job).contains(e.device())) {
            failing = false;
        }
        // A cache copy is never parked: the promotion goes to the metadata device instead.
        abandon(job, (full || failing) && !target.has(Role.CACHE), o);
        if (full) {
            return Result.of(Outcome.PARKED, target.name() + " is full: " + e.getMessage());
        }
        if (failing) {
            return new Result(Outcome.PARKED, 0, target.name() + " failed the copy: " + e.getMessage(), e);
        }
        if (e.is(Errno.ENOENT) || e.is(Errno.ESTALE)) {
            return Result.of(Outcome.CHANGED, "the object changed during the copy: " + e.getMessage());
        }
        throw e;
    }

    /** The names of the devices the copy of a COPY job is written to (its stripes', or its target's). */
    private Set<String> partDevices(Job job) {
        Set<String> names = new HashSet<>();
        names.add(ctx.device(job.device()).name());
        try {
            loadIfExists(job.fid())
                    .flatMap(p -> p.byKey(job.key()))
                    .ifPresent(c -> c.parts()
                            .forEach(s -> names.add(ctx.device(s.device()).name())));
        } catch (OsdException e) {
            // The record cannot be read: only the job's own device is known.
        }
        return names;
    }

    /** Step 3 of a copy whose body is durable on its target: flip, only if nothing changed meanwhile. */
    private Result flip(Job job, List<Stripe> parts, boolean release, MoveOptions o) throws OsdException {
        Fid fid = job.fid();
        try {
            return locked(fid, o, () -> finish(job, parts, release));
        } catch (OsdException e) {
            if (!e.is(Errno.EBUSY) || o.mayWait()) {
                throw e;
            }
            // An emergency spill may not wait for the object's lock (a writer holds it): the copy
            // is left for a thread that may wait to roll back, rather than to the next mount.
            leftovers.add(job);
            return Result.of(
                    Outcome.CHANGED, "object " + fid + " is being written; the copy is left to be rolled back");
        }
    }

    /** Where to read the body from: the metadata device if resident, else the best in-sync copy. */
    private CopyIo.Source source(Fid fid, PoolObject p) throws OsdException {
        if (p.resident(mdIndex)) {
            return CopyIo.of(md(), fid);
        }
        Copy best = p.inSync().stream()
                .filter(ctx::readable)
                .min(Comparator.comparing((Copy c) -> !c.preferred()).thenComparingInt(Copy::device))
                .orElseThrow(
                        () -> new OsdException(Errno.EIO, ctx.name(), fid, "no readable in-sync copy to copy from"));
        return CopyIo.of(ctx::device, fid, best, p.size());
    }

    /** Step 3 of a copy without a release, the object's lock held by the caller (not forced to disk). */
    Result flipHeld(Job job, Checksums sums, long occupied) throws OsdException {
        return finish(job, List.of(new Stripe(job.device(), job.key(), occupied, sums)), false);
    }

    /**
     * Step 3: the pending copy of {@code job} becomes IN_SYNC with {@code parts} as written and made
     * durable (each part's occupied bytes and checksums; a striped copy's stripes in order), every
     * part's COPY job goes, and with {@code release} the local body.
     */
    private Result finish(Job job, List<Stripe> parts, boolean release) throws OsdException {
        Fid fid = job.fid();
        Optional<PoolObject> now = loadIfExists(fid);
        Optional<Copy> pending = now.flatMap(p -> p.byKey(job.key()));
        if (now.isEmpty() || pending.isEmpty() || now.get().dataVersion() != job.version()) {
            discard(job, now.orElse(null));
            return Result.of(Outcome.CHANGED, "object " + fid + " changed while it was copied; the copy is garbage");
        }
        if (ctx.device(job.device()).state() == DeviceState.FAILED) {
            // The target failed while the copy was written: never name a copy on a failed device.
            discard(job, now.get());
            return Result.of(
                    Outcome.CHANGED,
                    ctx.device(job.device()).name() + " failed while " + fid
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
        boolean drop = release && p.resident(mdIndex) && durableInSyncElsewhere(next) >= ctx.replicas();
        if (drop) {
            next = next.remove(p.on(mdIndex).orElseThrow().mirrorId())
                    .withBlocks(md().getAttr(fid).blocks());
        }
        // Reads prefer a fresh cache copy over a spill copy (a resident body comes first anyway).
        boolean cached = ctx.device(job.device()).has(Role.CACHE) && !p.resident(mdIndex);
        PoolObject fin = next.preferring(drop || cached ? job.device() : mdIndex);
        AttrChange times = ctx.store().times(fid);
        // Releasing the body gives back far more than the flip adds (frees first, below);
        // without a release the flip grows the record for good: the reserve only if it was begun
        // for a release.
        SpaceClass space = drop ? SpaceClass.FREEING : release ? SpaceClass.RESERVED : SpaceClass.CLIENT;
        meta(
                fid,
                false,
                space,
                (tx, c) -> {
                    WorkIndex.declareAdd(tx, fid);
                    for (int i = 0; i < was.parts().size(); i++) {
                        WorkIndex.declareRemove(tx, fid);
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
                },
                (tx, c) -> {
                    if (drop) {
                        tx.truncate(fid, 0);
                        DeviceIndex.delete(tx, mdIndex, fid, fid);
                    }
                    for (Job j : Job.perPart(Job.Kind.COPY, fid, was, job.version(), 0)) {
                        WorkIndex.remove(tx, j);
                    }
                    c.add(was, CopyState.PENDING, -1).add(done, CopyState.IN_SYNC, +1);
                    for (Copy r : replaced) {
                        gcJob(tx, c, fid, r);
                        for (Job j : WorkIndex.of(md(), fid)) {
                            if (j.kind() == Job.Kind.RESYNC && r.hasKey(j.key())) {
                                WorkIndex.remove(tx, j);
                            }
                        }
                    }
                    ctx.store().store(tx, fid, fin, times);
                });
        return new Result(
                Outcome.DONE,
                p.size(),
                (drop ? "spilled " : cached ? "cached " : "copied ") + p.size() + " bytes of " + fid + " to "
                        + where(done));
    }

    /** The copy leaves the layout and a GC job will delete it. */
    private void gcJob(Transaction tx, Counters c, Fid fid, Copy copy) throws OsdException {
        for (Job j : Job.perPart(Job.Kind.GC, fid, copy, copy.version(), ctx.nowNanos())) {
            WorkIndex.add(tx, j);
        }
        c.move(copy, copy.state(), CopyState.GARBAGE);
        DeviceIndex.delete(tx, fid, copy);
    }

    /** Where a copy is, for messages: its device's name, or a striped copy's devices. */
    private String where(Copy c) {
        if (!c.striped()) {
            return ctx.device(c.device()).name();
        }
        List<String> names = new ArrayList<>();
        c.parts().forEach(s -> names.add(ctx.device(s.device()).name()));
        return c.parts().size() + " stripes on " + String.join(", ", names);
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
            for (Job j : WorkIndex.stripesOf(md(), fid, job.copy())) {
                if (!j.key().equals(job.key())) {
                    jobs.add(j);
                }
            }
        }
        AttrChange times = p == null ? null : ctx.store().times(fid);
        // The pending copy leaves the layout and its job becomes a GC job: frees first.
        meta(
                fid,
                false,
                SpaceClass.FREEING,
                (tx, c) -> {
                    for (Job j : jobs) {
                        WorkIndex.declareAdd(tx, fid);
                        WorkIndex.declareRemove(tx, fid);
                        DeviceIndex.declareDelete(tx, j.device(), fid);
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
                        if (DeviceIndex.contains(md(), j.device(), fid, j.key())) {
                            DeviceIndex.delete(tx, j.device(), fid, j.key());
                        }
                        WorkIndex.remove(tx, j);
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
     * object's lock. A thread that may wait for locks calls it (the daemon, every pass); whatever
     * is left at unmount is rolled back by the next mount's recovery.
     *
     * @return the jobs rolled back
     */
    public int settleLeftovers() throws OsdException {
        int n = 0;
        Job j;
        while ((j = leftovers.poll()) != null) {
            if (WorkIndex.contains(md(), j)) {
                rollBack(j);
                n++;
            }
        }
        return n;
    }

    private void abandonLocked(Job job, boolean park, MoveOptions o) throws OsdException {
        locked(job.fid(), o, () -> {
            Optional<PoolObject> p = loadIfExists(job.fid());
            discard(job, p.orElse(null));
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
        meta(
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

    // ---- release / promote / drop ----------------------------------------------------------

    /** Drops the local body if enough durable in-sync copies exist elsewhere. */
    public Result release(Fid fid) throws OsdException {
        return release(fid, MoveOptions.DEFAULT);
    }

    private Result release(Fid fid, MoveOptions o) throws OsdException {
        return locked(fid, o, () -> {
            PoolObject p = load(fid);
            if (!p.resident(mdIndex)) {
                return Result.of(Outcome.NOTHING_TO_DO, "not resident");
            }
            long others = durableInSyncElsewhere(p);
            if (others < ctx.replicas()) {
                return Result.of(
                        Outcome.REFUSED,
                        "only " + others + " durable in-sync cop" + (others == 1 ? "y" : "ies")
                                + " elsewhere; the pool keeps " + ctx.replicas());
            }
            PoolObject next = p.remove(p.on(mdIndex).orElseThrow().mirrorId())
                    .preferring(-1)
                    .withBlocks(md().getAttr(fid).blocks());
            AttrChange times = ctx.store().times(fid);
            meta(
                    fid,
                    false,
                    SpaceClass.FREEING,
                    (tx, c) -> {
                        tx.declareTruncate(fid, 0);
                        DeviceIndex.declareDelete(tx, mdIndex, fid);
                        ctx.store().declare(tx, fid, next);
                    },
                    (tx, c) -> {
                        tx.truncate(fid, 0);
                        DeviceIndex.delete(tx, mdIndex, fid, fid);
                        ctx.store().store(tx, fid, next, times);
                    });
            return new Result(Outcome.DONE, p.size(), "released " + p.size() + " bytes of " + fid);
        });
    }

    /**
     * Promotes for reads: with a writable cache device in the pool, a copy there (by the spill
     * protocol: pending, written and made durable on it, flipped in sync and preferred for reads);
     * otherwise, or if the cache cannot take it (full, failing), the body back to the metadata
     * device as {@link #promoteHome} does. A cache copy never counts toward {@code replicas}.
     */
    public Result promote(Fid fid) throws OsdException {
        return promote(fid, MoveOptions.DEFAULT);
    }

    /** {@link #promote(Fid)} run as {@code o} says (the copy to the cache device; a promotion home is not paced). */
    public Result promote(Fid fid, MoveOptions o) throws OsdException {
        PoolObject p = load(fid);
        if (p.resident(mdIndex)) {
            return Result.of(Outcome.NOTHING_TO_DO, "already resident");
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
                return Result.of(Outcome.NOTHING_TO_DO, "already cached on " + d.name());
            }
            if (cache == null && there.isEmpty()) {
                cache = d;
            }
        }
        if (cache == null) {
            return promoteHome(fid);
        }
        PoolDevice to = cache;
        Result r = slotted(o, () -> {
            Fid key = keys.next();
            Job job = locked(fid, o, () -> beginHeld(fid, to, false, key));
            return job == null
                    ? Result.of(Outcome.NOTHING_TO_DO, "already cached on " + to.name())
                    : completeCopy(job, false, o);
        });
        if (r.outcome() == Outcome.DONE || r.outcome() == Outcome.NOTHING_TO_DO) {
            return r;
        }
        LOG.log(
                System.Logger.Level.DEBUG,
                "pool " + ctx.name() + ": " + fid + " not cached on " + to.name() + " (" + r.detail()
                        + "); promoted to " + ctx.metadata().name() + " instead");
        return promoteHome(fid);
    }

    /**
     * Brings the body back to the metadata (promote) device, keeping the other copies; what an
     * evacuation does with a body that has nowhere else to go (never to a cache device).
     */
    public Result promoteHome(Fid fid) throws OsdException {
        return locked(fid, () -> {
            PoolObject p = load(fid);
            if (p.resident(mdIndex)) {
                return Result.of(Outcome.NOTHING_TO_DO, "already resident");
            }
            List<Copy> sources = new ArrayList<>(p.inSync());
            sources.removeIf(c -> !ctx.readable(c));
            sources.sort(Comparator.comparing((Copy c) -> !c.preferred()).thenComparingInt(Copy::device));
            OsdException last = null;
            AttrChange times = ctx.store().times(fid);
            for (Copy src : sources) {
                PoolObject next = p.add(new Copy(
                                p.nextMirrorId(),
                                mdIndex,
                                fid,
                                CopyState.IN_SYNC,
                                p.dataVersion(),
                                p.size(),
                                true,
                                Checksums.NONE))
                        .preferring(mdIndex);
                try {
                    meta(
                            fid,
                            false,
                            SpaceClass.CLIENT,
                            (tx, c) -> {
                                tx.declareWrite(fid, 0, p.size());
                                DeviceIndex.declareInsert(tx, mdIndex, fid);
                                ctx.store().declare(tx, fid, next);
                            },
                            (tx, c) -> {
                                CopyIo.recall(tx, ctx::device, fid, src, p.size());
                                DeviceIndex.insert(tx, mdIndex, fid, fid);
                                ctx.store().store(tx, fid, next, times);
                            });
                    return new Result(
                            Outcome.DONE,
                            p.size(),
                            "promoted " + p.size() + " bytes of " + fid + " from " + where(src));
                } catch (OsdException e) {
                    if (!e.is(Errno.EIO) && !e.is(Errno.ENOENT)) {
                        throw e;
                    }
                    last = e;
                }
            }
            if (last != null) {
                markBad(fid, sources.get(0), last);
            }
            throw new OsdException(Errno.EIO, ctx.name(), fid, "no copy could be read to promote", last);
        });
    }

    /** Removes one mirror (lfs mirror split -d); never the last in-sync copy. */
    public Result dropMirror(Fid fid, int mirrorId) throws OsdException {
        return locked(fid, () -> {
            PoolObject p = load(fid);
            Copy c = p.mirror(mirrorId)
                    .orElseThrow(() -> new OsdException(Errno.ENOENT, ctx.name(), fid, "no mirror " + mirrorId));
            if (c.device() == mdIndex) {
                return release(fid);
            }
            if (c.state() == CopyState.PENDING) {
                return Result.of(Outcome.REFUSED, "mirror " + mirrorId + " is being written; retry when its copy ends");
            }
            long goodAfter =
                    p.inSync().stream().filter(x -> x.mirrorId() != mirrorId).count();
            if (c.state() == CopyState.IN_SYNC && goodAfter == 0) {
                return Result.of(Outcome.REFUSED, "mirror " + mirrorId + " is the last in-sync copy of " + fid);
            }
            PoolObject next = p.remove(mirrorId).preferring(mdIndex);
            AttrChange times = ctx.store().times(fid);
            // The mirror leaves the layout (frees first), then its GC job is recorded.
            meta(
                    fid,
                    false,
                    SpaceClass.FREEING,
                    (tx, cs) -> {
                        for (int i = 0; i < c.parts().size(); i++) {
                            WorkIndex.declareAdd(tx, fid);
                        }
                        WorkIndex.declareRemove(tx, fid);
                        DeviceIndex.declareDelete(tx, fid, c);
                        ctx.store().declare(tx, fid, next);
                    },
                    (tx, cs) -> {
                        ctx.store().store(tx, fid, next, times);
                        for (Job j : WorkIndex.of(md(), fid)) {
                            if (j.kind() == Job.Kind.RESYNC && c.hasKey(j.key())) {
                                WorkIndex.remove(tx, j);
                            }
                        }
                        gcJob(tx, cs, fid, c);
                    });
            return new Result(Outcome.DONE, 0, "dropped mirror " + mirrorId + " (" + where(c) + ")");
        });
    }

    /** Drops a mirror whatever its state (a copy lost with a failed device); never the last in-sync copy. */
    public Result forceDrop(Fid fid, int mirrorId) throws OsdException {
        return dropMirror(fid, mirrorId);
    }

    /** Moves the copy on {@code from} to {@code to}: copy, then drop the old one. */
    public Result migrate(Fid fid, PoolDevice from, PoolDevice to) throws OsdException {
        return migrate(fid, from, to, MoveOptions.DEFAULT);
    }

    /** {@link #migrate(Fid, PoolDevice, PoolDevice)} run as {@code o} says. */
    public Result migrate(Fid fid, PoolDevice from, PoolDevice to, MoveOptions o) throws OsdException {
        PoolObject p = load(fid);
        Optional<Copy> old = p.on(from.index());
        if (old.isEmpty()) {
            return Result.of(Outcome.NOTHING_TO_DO, "no copy on " + from.name());
        }
        if (from.index() == mdIndex) {
            return copy(fid, to, true, o);
        }
        if (old.get().onDevice(to.index())) {
            return Result.of(
                    Outcome.REFUSED,
                    "mirror " + old.get().mirrorId() + " is striped over " + where(old.get()) + ", " + to.name()
                            + " among them: move it to a device it does not use");
        }
        Result r = copy(fid, to, false, o);
        if (r.outcome() != Outcome.DONE && r.outcome() != Outcome.NOTHING_TO_DO) {
            return r;
        }
        Result d = dropMirror(fid, old.get().mirrorId());
        return new Result(
                d.outcome() == Outcome.DONE ? Outcome.DONE : d.outcome(), r.bytes(), r.detail() + "; " + d.detail());
    }

    /** Rewrites a stale copy from a good one. */
    public Result resync(Fid fid, int device) throws OsdException {
        return resync(fid, device, MoveOptions.DEFAULT);
    }

    /** {@link #resync(Fid, int)} run as {@code o} says. */
    public Result resync(Fid fid, int device, MoveOptions o) throws OsdException {
        return copy(fid, ctx.device(device), false, o);
    }

    /** A copy failed a read (checksum, I/O, missing): it becomes STALE and a RESYNC job is queued. */
    public boolean markBad(Fid fid, Copy bad, OsdException cause) throws OsdException {
        return slotted(
                MoveOptions.DEFAULT,
                () -> locked(fid, () -> {
                    PoolObject p = ctx.store().load(fid).orElse(null);
                    if (p == null) {
                        return false;
                    }
                    Optional<Copy> c = p.byKey(bad.key());
                    if (c.isEmpty()
                            || c.get().state() != CopyState.IN_SYNC
                            || ctx.device(c.get().device()).state() == DeviceState.FAILED) {
                        // A failed device's copies are the lost-marking pass's.
                        return false;
                    }
                    // The last in-sync copy is never demoted: there is nothing to resync it from, and a
                    // read error may be its device's passing failure (an object store that stopped
                    // answering), after which the copy is as good as before. A corrupt last copy stays
                    // in the layout, every read of it fails with EIO, and fsck reports it.
                    if (p.inSync().size() <= 1) {
                        return false;
                    }
                    // Nor is the last durable one (cache copies beside it are no substitute: they go with
                    // the next restart of an osd-mem cache).
                    boolean durable = ctx.device(bad.device()).durability() > 0;
                    if (durable && durableInSync(p, c.get().key()) == 0) {
                        return false;
                    }
                    AttrChange times = ctx.store().times(fid);
                    if (ctx.device(bad.device()).has(Role.CACHE)) {
                        // A cache copy is not resynced: it leaves the layout (garbage), reads go to the
                        // durable copies, and the next promotion may cache the object again.
                        PoolObject dropped = p.remove(c.get().mirrorId()).preferring(mdIndex);
                        meta(
                                fid,
                                true,
                                SpaceClass.FREEING,
                                (tx, cs) -> {
                                    WorkIndex.declareAdd(tx, fid);
                                    DeviceIndex.declareDelete(tx, bad.device(), fid);
                                    ctx.store().declare(tx, fid, dropped);
                                },
                                (tx, cs) -> {
                                    ctx.store().store(tx, fid, dropped, times);
                                    gcJob(tx, cs, fid, c.get());
                                });
                        return true;
                    }
                    PoolObject next = p.replace(c.get().mirrorId(), x -> x.withState(CopyState.STALE))
                            .preferring(mdIndex);
                    meta(
                            fid,
                            true,
                            SpaceClass.RESERVED,
                            (tx, cs) -> {
                                WorkIndex.declareAdd(tx, fid);
                                ctx.store().declare(tx, fid, next);
                            },
                            (tx, cs) -> {
                                WorkIndex.add(
                                        tx,
                                        new Job(
                                                Job.Kind.RESYNC,
                                                fid,
                                                bad.device(),
                                                bad.key(),
                                                p.dataVersion(),
                                                c.get().bytes(),
                                                ctx.nowNanos(),
                                                0));
                                cs.move(c.get(), CopyState.IN_SYNC, CopyState.STALE);
                                ctx.store().store(tx, fid, next, times);
                            });
                    return true;
                }));
    }

    /** In-sync copies of the current version on durable readable devices, other than the copy keyed {@code except}. */
    private long durableInSync(PoolObject p, Fid except) {
        return p.inSync().stream()
                .filter(c -> !c.key().equals(except)
                        && c.version() == p.dataVersion()
                        && ctx.device(c.device()).durability() > 0
                        && ctx.device(c.device()).state().readable())
                .count();
    }

    // ---- cache devices ---------------------------------------------------------------------

    /**
     * At mount: every copy that a cache device no longer holds (an osd-mem cache after a restart,
     * a cache device that lost its content or is failed) leaves its layout, as garbage whose GC
     * finds it gone. Walks the cache devices' own indexes only — never the namespace — with one
     * stat per cached copy. A copy the cache still holds whole stays. A lost cache copy that is
     * the object's only in-sync copy left (its durable copies gone stale meanwhile) stays, for
     * fsck to report, rather than leave the layout with none. One object that cannot be handled is logged and skipped: it never blocks
     * the mount.
     *
     * @return the copies dropped
     */
    public int dropLostCacheCopies() throws OsdException {
        int dropped = 0;
        for (PoolDevice d : ctx.devices()) {
            if (!d.has(Role.CACHE)) {
                continue;
            }
            for (Fid[] e : DeviceIndex.list(md(), d.index())) {
                try {
                    if (dropIfLost(d, e[0], e[1])) {
                        dropped++;
                    }
                } catch (OsdException ex) {
                    LOG.log(
                            System.Logger.Level.WARNING,
                            "pool " + ctx.name() + ": cache copy " + e[1] + " of " + e[0] + " on " + d.name()
                                    + " left in its layout for now (" + ex.getMessage()
                                    + "); reads skip it if it is gone, fsck reports it");
                }
            }
        }
        return dropped;
    }

    private boolean dropIfLost(PoolDevice d, Fid fid, Fid key) throws OsdException {
        return slotted(
                MoveOptions.DEFAULT,
                () -> locked(fid, () -> {
                    Optional<PoolObject> now = loadIfExists(fid);
                    Optional<Copy> c = now.flatMap(p -> p.byKey(key));
                    if (c.isEmpty() || c.get().state() == CopyState.PENDING) {
                        return false;
                    }
                    PoolObject p = now.get();
                    if (d.state() != DeviceState.FAILED && holdsWhole(d, key, c.get(), p)) {
                        return false;
                    }
                    if (c.get().state() == CopyState.IN_SYNC && durableInSync(p, key) == 0) {
                        return false;
                    }
                    PoolObject next = p.remove(c.get().mirrorId()).preferring(mdIndex);
                    AttrChange times = ctx.store().times(fid);
                    meta(
                            fid,
                            false,
                            SpaceClass.FREEING,
                            (tx, cs) -> {
                                WorkIndex.declareAdd(tx, fid);
                                WorkIndex.declareRemove(tx, fid);
                                DeviceIndex.declareDelete(tx, d.index(), fid);
                                ctx.store().declare(tx, fid, next);
                            },
                            (tx, cs) -> {
                                ctx.store().store(tx, fid, next, times);
                                for (Job j : WorkIndex.of(md(), fid)) {
                                    if (j.kind() == Job.Kind.RESYNC && j.key().equals(key)) {
                                        WorkIndex.remove(tx, j);
                                    }
                                }
                                gcJob(tx, cs, fid, c.get());
                            });
                    return true;
                }));
    }

    /** Whether cache device {@code d} still holds copy {@code c} whole (its object there, at the copy's size). */
    private static boolean holdsWhole(PoolDevice d, Fid key, Copy c, PoolObject p) {
        try {
            long expected = c.version() == p.dataVersion() ? p.size() : -1;
            return expected < 0 || d.osd().getAttr(key).size() == expected;
        } catch (OsdException e) {
            // Gone (ENOENT) or unreadable: either way the cache does not have it.
            return false;
        }
    }

    // ---- garbage ---------------------------------------------------------------------------

    /**
     * What a garbage collection did.
     *
     * @param removed copies deleted
     * @param missing copies already gone (a replayed job, or a copy a crash never let reach its
     *     device)
     * @param deferred copies that could not be deleted now (the device failed the delete or its
     *     sync): their jobs stay in the work index for the daemon's next garbage pass
     */
    public record Collected(int removed, int missing, int deferred) {
        /** Jobs done (their copies are gone). */
        public int done() {
            return removed + missing;
        }
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
        md().sync();
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
            List<Job> gone = new ArrayList<>();
            for (Job job : e.getValue()) {
                try (Transaction tx = d.osd().newTransaction()) {
                    tx.declareDestroy(job.key());
                    tx.setSpaceClass(SpaceClass.FREEING);
                    tx.start();
                    tx.destroy(job.key());
                    removed++;
                    gone.add(job);
                } catch (OsdException ex) {
                    if (ex.is(Errno.ENOENT)) {
                        missing++;
                        gone.add(job);
                    } else {
                        LOG.log(
                                System.Logger.Level.WARNING,
                                "pool " + ctx.name() + ": garbage copy " + job.key() + " of " + job.fid() + " on "
                                        + d.name() + " not deleted now (" + ex.getMessage()
                                        + "); its job stays for the next garbage pass");
                        kept.add(job);
                    }
                }
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
            try (Transaction tx = md().newTransaction()) {
                for (Job job : some) {
                    WorkIndex.declareRemove(tx, job.fid());
                    Counters.declare(tx, job.fid());
                }
                tx.setSpaceClass(SpaceClass.FREEING);
                tx.start();
                for (Job job : some) {
                    if (WorkIndex.contains(md(), job)) {
                        WorkIndex.remove(tx, job);
                        counters.of(job.fid()).add(job.device(), CopyState.GARBAGE, job.bytes(), -1);
                    }
                }
                counters.flush(tx, md());
            }
        }
        return new Collected(removed, missing, deferred);
    }

    /** Rolls a COPY job back (recovery): the pending copy leaves the layout and is collected. */
    public void rollBack(Job job) throws OsdException {
        locked(job.fid(), () -> {
            Optional<PoolObject> p = loadIfExists(job.fid());
            discard(job, p.orElse(null));
            return null;
        });
    }

    /**
     * Reads every in-sync copy off the metadata device through its checksums ({@code verify} of the
     * admin API); a copy that fails is marked bad, so a good one is made from another.
     */
    public Result verify(Fid fid) throws OsdException {
        PoolObject p = load(fid);
        List<String> bad = new ArrayList<>();
        for (Copy c : p.inSync()) {
            if (c.device() == mdIndex) {
                continue;
            }
            try {
                CopyIo.verify(ctx::device, fid, c, p.size());
            } catch (OsdException e) {
                bad.add("mirror " + c.mirrorId() + ": " + e.getMessage());
                markBad(fid, c, e);
            }
        }
        return new Result(
                bad.isEmpty() ? Outcome.DONE : Outcome.REFUSED,
                0,
                bad.isEmpty() ? "every in-sync copy matches its checksums" : String.join("; ", bad));
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
        try (Transaction tx = md().newTransaction()) {
            WorkIndex.declareRemove(tx, job.fid());
            tx.setSpaceClass(SpaceClass.FREEING);
            tx.start();
            if (WorkIndex.contains(md(), job)) {
                WorkIndex.remove(tx, job);
            }
        }
    }

    /**
     * Rolls back many COPY jobs (recovery), a batch per metadata transaction: each pending copy
     * leaves its layout and becomes a GC job. Cheaper than {@link #rollBack} one by one, which is
     * what keeps a mount with a thousand jobs in flight quick.
     */
    public void rollBackAll(List<Job> jobs) throws OsdException {
        final int batch = 128;
        for (int from = 0; from < jobs.size(); from += batch) {
            List<Job> some = jobs.subList(from, Math.min(jobs.size(), from + batch));
            Set<Fid> fids = new LinkedHashSet<>();
            some.forEach(j -> fids.add(j.fid()));
            ObjectLocks.Held h = lockAll(fids, MoveOptions.DEFAULT);
            try {
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
                try (Transaction tx = md().newTransaction()) {
                    for (Job j : some) {
                        WorkIndex.declareAdd(tx, j.fid());
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
                        if (DeviceIndex.contains(md(), j.device(), j.fid(), j.key())) {
                            DeviceIndex.delete(tx, j.device(), j.fid(), j.key());
                        }
                    }
                    for (Job j : some) {
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
                    counters.flush(tx, md());
                }
            } finally {
                h.unlockAll();
            }
        }
    }

    /** Records a copy no layout names (found on a device) as garbage, to be deleted by a GC job. */
    public void orphan(PoolDevice d, Fid key, long bytes) throws OsdException {
        Job j = new Job(Job.Kind.GC, key, d.index(), key, 0, bytes, ctx.nowNanos(), 0);
        slotted(MoveOptions.DEFAULT, () -> {
            meta(key, false, SpaceClass.RESERVED, (tx, c) -> WorkIndex.declareAdd(tx, key), (tx, c) -> {
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
        List<Job> garbage = WorkIndex.all(md()).stream()
                .filter(j -> j.kind() == Job.Kind.GC)
                .toList();
        return collect(garbage);
    }
}
