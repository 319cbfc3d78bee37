package dev.spillway.pool.ops;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.pool.config.Role;
import dev.spillway.pool.config.WriteCommit;
import dev.spillway.pool.core.PoolContext;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.io.CopyIo;
import dev.spillway.pool.meta.Checksums;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.Counters;
import dev.spillway.pool.meta.DeviceIndex;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.WorkIndex;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The extra copies of a write under a {@code sync} write-commit policy ({@link WriteCommit}),
 * shaped as Lustre's LOD drives OSP sub-transactions, with one round of forced writes side by side
 * (docs/design.md, "Write-commit"):
 * <ol>
 * <li>each extra copy's key is leased durably beforehand, a batch at a time ({@link SyncKeys});</li>
 * <li>the client's transaction on the metadata device — the top transaction — carries the new
 * body and the extra copies as PENDING mirrors with their {@link Job.Kind#SYNC_COPY} jobs
 * ({@link #declare}, {@link #begin}); it commits without a force;</li>
 * <li>the metadata device is forced while each extra copy is written to its device under its key
 * and made durable there ({@link #complete}), side by side;</li>
 * <li>once both are durable each copy is flipped IN_SYNC — committed, not forced — and the write
 * is acknowledged. The flip (which ends the key's lease) becomes durable with the metadata
 * device's next force.</li>
 * </ol>
 * A crash before the top transaction is durable leaves the old version and a lease whose key
 * recovery clears; after it, the SYNC_COPY job, which recovery rolls forward if the copy is whole
 * and equal to the body (always so for an acknowledged write), else back ({@link SyncRecovery}).
 * A layout never names a copy IN_SYNC that is not durable. The caller holds the object's lock
 * throughout, so nothing changes the object between the steps.
 */
public final class SyncCommit {
    private static final System.Logger LOG = System.getLogger(SyncCommit.class.getName());

    // A key whose text is as long as any (an HSM copy's layout names its key as text): a bound.
    private static final Fid LONGEST_KEY = new Fid(-1L, -1, -1);

    private final PoolContext ctx;
    private final Migrator migrator;
    private final SyncKeys leases;
    private final int mdIndex;
    // Starts the thread that forces the top transaction; tests hold it back (a machine too busy
    // to schedule it).
    private volatile Executor forcing =
            r -> Thread.ofVirtual().name("spillway-sync-force").start(r);

    /**
     * An object's write under a sync policy: its extra copies begun in the top transaction, and
     * the object's state as that transaction stores it ({@code stored}), which the first flip
     * starts from instead of reading it back.
     */
    public record Write(Fid fid, WriteCommit policy, List<Job> jobs, List<PoolDevice> candidates, PoolObject stored) {}

    public SyncCommit(PoolContext ctx, Migrator migrator) {
        this.ctx = ctx;
        this.migrator = migrator;
        this.leases = new SyncKeys(ctx.metadata().osd(), migrator, ctx::nowNanos);
        this.mdIndex = ctx.metadata().index();
    }

    /** Tests only: what starts the thread that forces a sync write's top transaction. */
    public void forcingThreads(Executor e) {
        this.forcing = e;
    }

    private int mdCopies() {
        return ctx.metadata().durability() > 0 ? 1 : 0;
    }

    /** Copies a write under {@code wc} needs beyond the metadata device's own (which counts if durable). */
    public int extraCopies(WriteCommit wc) {
        return Math.max(0, wc.copies() - mdCopies());
    }

    /** The fewest extra copies a write under {@code wc} may be acknowledged with. */
    public int extraMin(WriteCommit wc) {
        return Math.max(0, wc.min() - mdCopies());
    }

    /**
     * The devices that may take an extra copy of a write to an object whose committed state is
     * {@code committed}, best first: writable, durable background devices, those that held a copy
     * of it first (the fresh copy replaces the one made stale there), then in tier order; a device
     * with a copy of it still being made by the daemon last.
     */
    public List<PoolDevice> candidates(Optional<PoolObject> committed) {
        List<PoolDevice> held = new ArrayList<>();
        List<PoolDevice> other = new ArrayList<>();
        List<PoolDevice> busy = new ArrayList<>();
        for (PoolDevice d : ctx.devices()) {
            if (d.index() == mdIndex
                    || !d.has(Role.BACKGROUND)
                    || d.durability() <= 0
                    || !d.state().writable()) {
                continue;
            }
            Optional<Copy> c = committed.flatMap(p -> p.on(d.index()));
            if (c.isEmpty()) {
                other.add(d);
            } else if (c.get().state() == CopyState.PENDING) {
                busy.add(d);
            } else {
                held.add(d);
            }
        }
        held.addAll(other);
        held.addAll(busy);
        return held;
    }

    /** What the object's record may grow to: {@code bound} with a pending copy on every candidate. */
    public PoolObject bound(PoolObject bound, List<PoolDevice> candidates) {
        PoolObject b = bound;
        for (PoolDevice d : candidates) {
            b = b.add(pending(b, d, LONGEST_KEY));
        }
        return b;
    }

    /**
     * Declares on the top transaction what {@link #begin} may do for {@code fid} on any of {@code
     * candidates}, under {@code keys} (one each, from {@link #keys}).
     */
    public void declare(Transaction mdTx, Fid fid, List<PoolDevice> candidates, List<Fid> keys) throws OsdException {
        WorkIndex.declareAdd(mdTx, fid);
        WorkIndex.declareRemove(mdTx, fid);
        Counters.declare(mdTx, fid);
        for (int i = 0; i < candidates.size(); i++) {
            DeviceIndex.declareInsert(mdTx, candidates.get(i).index(), fid);
        }
    }

    private static Copy pending(PoolObject p, PoolDevice d, Fid key) {
        return new Copy(
                p.nextMirrorId(), d.index(), key, CopyState.PENDING, p.dataVersion(), p.size(), false, Checksums.NONE);
    }

    /**
     * A leased key on each of {@code candidates} (in order), taken before the top transaction
     * starts (a new batch of leases is a forced metadata transaction of its own).
     */
    public List<Fid> keys(List<PoolDevice> candidates) throws OsdException {
        List<Fid> out = new ArrayList<>(candidates.size());
        try {
            for (PoolDevice d : candidates) {
                out.add(leases.take(d));
            }
        } catch (OsdException | RuntimeException e) {
            giveBack(candidates.subList(0, out.size()), out, Set.of());
            throw e;
        }
        return out;
    }

    /**
     * Whether {@code key}, leased on {@code d} ({@link #keys}), holds its precreated empty object
     * ({@link SyncKeys}); with {@code claim} the caller writes into it (or deletes it) from now on.
     */
    public boolean precreated(PoolDevice d, Fid key, boolean claim) {
        return claim ? leases.claimPrecreated(d, key) : leases.precreated(d, key);
    }

    /** Keys from {@link #keys} that no committed top transaction used ({@code used} excepted): leased still. */
    public void giveBack(List<PoolDevice> candidates, List<Fid> keys, Set<Fid> used) {
        for (int i = 0; i < keys.size(); i++) {
            if (!used.contains(keys.get(i))) {
                leases.giveBack(candidates.get(i), keys.get(i));
            }
        }
    }

    /**
     * In the top transaction: a pending copy on each of {@code targets}, under {@code keys} (one
     * each, from {@link #keys}), enters the object's working state, its SYNC_COPY job the work
     * index (appended to {@code jobs}); the job now names the key, whose lease ends with the flip.
     *
     * @return the object's new working state
     */
    public PoolObject begin(
            Transaction mdTx,
            Counters counters,
            Fid fid,
            PoolObject working,
            List<PoolDevice> targets,
            List<Fid> keys,
            List<Job> jobs)
            throws OsdException {
        PoolObject p = working;
        for (int i = 0; i < targets.size(); i++) {
            PoolDevice t = targets.get(i);
            Fid key = keys.get(i);
            Job j = new Job(Job.Kind.SYNC_COPY, fid, t.index(), key, p.dataVersion(), p.size(), ctx.nowNanos(), 0);
            p = p.add(pending(p, t, key));
            WorkIndex.add(mdTx, j);
            DeviceIndex.insert(mdTx, t.index(), fid, key);
            counters.add(t.index(), CopyState.PENDING, p.size(), +1);
            jobs.add(j);
        }
        return p;
    }

    /** One extra copy of a write: its job, and once written and durable, its checksums and size there. */
    private static final class Made {
        final Job job;
        Checksums sums;
        long occupied;
        String failure;

        Made(Job job) {
            this.job = job;
        }
    }

    /**
     * Steps 3 and 4, after the top transaction committed (not forced), the objects' locks still
     * held: forces the metadata device while it writes every begun copy and makes it durable on
     * its device, then flips each durable copy IN_SYNC (committed, not forced: recovery rolls a
     * whole copy forward). A copy whose device fails is discarded (a GC job) and made on the next
     * candidate instead, by the spill protocol (begun in a forced transaction, flipped and forced);
     * if the copies still fall short of a write's policy it is acknowledged degraded when the
     * policy's {@code min} allows it, else it fails with EIO saying what was made and what failed.
     * Every write is finished before the first failure is thrown.
     *
     * @throws OsdException the metadata device's force failed (nothing is acknowledged); EIO when a
     *     write has fewer copies than its {@code min}; a failure to read a body back from the
     *     metadata device
     */
    public void complete(List<Write> writes) throws OsdException {
        Osd md = ctx.metadata().osd();
        List<Fid> fids = writes.stream().map(Write::fid).toList();
        // The top transaction's force, side by side with the copies (one round of forced writes),
        // on a thread of its own — or on this one, if that thread has not begun it by the time
        // the copies are durable: on a busy machine a new thread may wait milliseconds to be
        // scheduled, and the acknowledgement must not wait for that (the force is run once,
        // by whichever thread claims it first; the order of the two forces does not matter to
        // the crash argument).
        TopForce force = new TopForce(md, fids);
        forcing.execute(force::claimAndRun);
        List<List<Made>> made = new ArrayList<>();
        try {
            for (Write w : writes) {
                List<Made> ms = new ArrayList<>();
                for (Job j : w.jobs()) {
                    ms.add(write(w.fid(), j));
                }
                made.add(ms);
            }
        } finally {
            force.claimAndRun();
            awaitForce(force.done, fids);
        }
        OsdException first = null;
        for (int i = 0; i < writes.size(); i++) {
            try {
                finishWrite(writes.get(i), made.get(i));
            } catch (OsdException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** The top transaction's force: run once, by the first thread that claims it; its outcome in {@link #done}. */
    private static final class TopForce {
        private final Osd md;
        private final List<Fid> fids;
        private final AtomicBoolean claimed = new AtomicBoolean();
        final CompletableFuture<Void> done = new CompletableFuture<>();

        TopForce(Osd md, List<Fid> fids) {
            this.md = md;
            this.fids = fids;
        }

        void claimAndRun() {
            if (!claimed.compareAndSet(false, true)) {
                return;
            }
            try {
                md.sync(fids);
                done.complete(null);
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        }
    }

    /**
     * Waits for the top transaction's force; its failure is the write's (nothing acknowledged).
     * The forcing thread is not joined: once the force is done it has nothing left to do, and if
     * this thread ran the force, it may not have been scheduled yet at all.
     */
    private void awaitForce(CompletableFuture<Void> forced, List<Fid> fids) throws OsdException {
        try {
            forced.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new OsdException(
                    Errno.EIO, ctx.name(), fids.get(0), "interrupted while the sync write's metadata was forced");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof OsdException oe) {
                throw oe;
            }
            if (c instanceof RuntimeException re) {
                throw re;
            }
            if (c instanceof Error er) {
                throw er;
            }
            throw new OsdException(Errno.EIO, ctx.name(), fids.get(0), "forcing the top transaction failed: " + c, c);
        }
    }

    /** Writes one begun copy and makes it durable on its device; a failure is recorded, the copy discarded. */
    private Made write(Fid fid, Job job) throws OsdException {
        Made m = new Made(job);
        PoolDevice target = ctx.device(job.device());
        try {
            boolean precreated = leases.claimPrecreated(target, job.key());
            m.sums =
                    CopyIo.write(CopyIo.of(ctx.metadata().osd(), fid), fid, job.bytes(), target, job.key(), precreated);
            m.occupied = target.osd().getAttr(job.key()).blocks() * 512;
        } catch (OsdException e) {
            migrator.discard(job, ctx.store().load(fid).orElse(null));
            if (e.device() != null && !e.device().equals(target.name())) {
                // Not the target's failure (the body could not be read back): the write fails as it is.
                throw e;
            }
            m.failure = target.name() + " (" + e.errno() + ": " + e.getMessage() + ")";
            LOG.log(
                    System.Logger.Level.WARNING,
                    ctx.name() + ": " + fid + ": sync copy to " + target.name() + " failed; trying another device: "
                            + e.getMessage());
        }
        return m;
    }

    /**
     * Flips a write's durable copies, replaces failed ones with spares, and checks its policy.
     *
     * @throws OsdException EIO when fewer copies than the policy's {@code min}
     */
    private void finishWrite(Write w, List<Made> made) throws OsdException {
        Fid fid = w.fid();
        Set<Integer> tried = new HashSet<>();
        for (Job j : w.jobs()) {
            tried.add(j.device());
        }
        int have = mdCopies();
        int spares = 0;
        List<String> failed = new ArrayList<>();
        // The object's record as the top transaction stored it, while nothing else changed it
        // (a failed copy's discard does; so does each flip).
        PoolObject known = made.stream().allMatch(m -> m.failure == null) ? w.stored() : null;
        for (Made m : made) {
            if (m.failure == null) {
                MoveResult flipped = migrator.flipHeld(m.job, m.sums, m.occupied, known);
                known = null;
                if (flipped instanceof MoveResult.Done) {
                    have++;
                    continue;
                }
                // Not flipped (the target failed meanwhile: the copy was discarded): as a failed copy.
                failed.add(ctx.device(m.job.device()).name() + " (" + flipped.detail() + ")");
            } else {
                failed.add(m.failure);
            }
            // A spare: the next candidate not tried yet, by the spill protocol (its COPY job is
            // rolled back by a crash, so its flip is forced below).
            Made spare = null;
            while (spare == null || spare.failure != null) {
                Job next = nextSpare(fid, w.candidates(), tried, failed);
                if (next == null) {
                    break;
                }
                spare = write(fid, next);
                if (spare.failure != null) {
                    failed.add(spare.failure);
                    continue;
                }
                MoveResult flipped = migrator.flipHeld(next, spare.sums, spare.occupied);
                if (flipped instanceof MoveResult.Done) {
                    have++;
                    spares++;
                } else {
                    spare.failure = ctx.device(next.device()).name() + " (" + flipped.detail() + ")";
                    failed.add(spare.failure);
                }
            }
        }
        if (spares > 0) {
            ctx.metadata().osd().sync(fid);
        }
        if (have >= w.policy().copies()) {
            return;
        }
        WriteCommit wc = w.policy();
        String what = fid + ": write-commit '" + wc + "' made " + have + " durable cop" + (have == 1 ? "y" : "ies")
                + " of " + wc.copies()
                + (failed.isEmpty() ? " (no other writable durable device)" : "; failed: " + String.join("; ", failed));
        if (have >= wc.min()) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    ctx.name() + ": " + what + ". Acknowledged degraded (min " + wc.min()
                            + "); the daemon restores replicas.");
            return;
        }
        throw new OsdException(
                Errno.EIO,
                ctx.name(),
                fid,
                what + ". The new version is committed with fewer copies than the policy asks, as after a failed"
                        + " fsync: treat the write as failed and write it again once the device is back or replaced"
                        + " (spillway device list)");
    }

    /** The next spare for a failed copy, begun in a durable metadata transaction of its own; null if none. */
    private Job nextSpare(Fid fid, List<PoolDevice> candidates, Set<Integer> tried, List<String> failed) {
        for (PoolDevice spare : candidates) {
            if (tried.add(spare.index()) && spare.state().writable()) {
                try {
                    Job next = migrator.beginHeld(fid, spare, false, migrator.nextKey());
                    if (next != null) {
                        return next;
                    }
                } catch (OsdException e) {
                    failed.add(spare.name() + " (" + e.errno() + ": " + e.getMessage() + ")");
                }
            }
        }
        return null;
    }
}
