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

/**
 * The extra copies of a write under a {@code sync} write-commit policy ({@link WriteCommit}),
 * shaped as Lustre's LOD drives OSP sub-transactions (docs/design.md, "Write-commit"):
 * <ol>
 * <li>the client's transaction on the metadata device — the top transaction — carries the new
 * body, and the extra copies as PENDING mirrors with their COPY jobs ({@link #declare},
 * {@link #begin}); it is forced to disk;</li>
 * <li>each extra copy is written to its device under a fresh key and made durable there
 * ({@link #complete}; a device without transactions gets the spill protocol's copy → durable);</li>
 * <li>each copy is flipped IN_SYNC only once it is durable, and the flips are forced before the
 * write is acknowledged.</li>
 * </ol>
 * A crash before the end leaves the new version with its pending copies, which recovery rolls
 * back as it rolls back any copy (the write was not acknowledged); a layout never names a copy
 * IN_SYNC that is not durable. The caller holds the object's lock throughout, so nothing changes
 * the object between the steps.
 */
public final class SyncCommit {
    private static final System.Logger LOG = System.getLogger(SyncCommit.class.getName());

    // A key whose text is as long as any (an HSM copy's layout names its key as text): a bound.
    private static final Fid LONGEST_KEY = new Fid(-1L, -1, -1);

    private final PoolContext ctx;
    private final Migrator migrator;
    private final int mdIndex;

    public SyncCommit(PoolContext ctx, Migrator migrator) {
        this.ctx = ctx;
        this.migrator = migrator;
        this.mdIndex = ctx.metadata().index();
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

    /** Declares on the top transaction what {@link #begin} may do for {@code fid} on any of {@code candidates}. */
    public void declare(Transaction md, Fid fid, List<PoolDevice> candidates) throws OsdException {
        WorkIndex.declareAdd(md, fid);
        WorkIndex.declareRemove(md, fid);
        Counters.declare(md, fid);
        for (PoolDevice d : candidates) {
            DeviceIndex.declareInsert(md, d.index(), fid);
        }
    }

    private static Copy pending(PoolObject p, PoolDevice d, Fid key) {
        return new Copy(
                p.nextMirrorId(), d.index(), key, CopyState.PENDING, p.dataVersion(), p.size(), false, Checksums.NONE);
    }

    /**
     * Fresh keys for the extra copies, taken before the top transaction starts (taking a key may
     * persist the key sequence in a metadata transaction of its own).
     */
    public List<Fid> keys(int n) throws OsdException {
        List<Fid> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(migrator.nextKey());
        }
        return out;
    }

    /**
     * In the top transaction: a pending copy on each of {@code targets}, under {@code keys} (one
     * each, from {@link #keys}), enters the object's working state, its COPY job the work index
     * (appended to {@code jobs}).
     *
     * @return the object's new working state
     */
    public PoolObject begin(
            Transaction md,
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
            Job j = new Job(Job.Kind.COPY, fid, t.index(), key, p.dataVersion(), p.size(), ctx.nowNanos(), 0);
            p = p.add(pending(p, t, key));
            WorkIndex.add(md, j);
            DeviceIndex.insert(md, t.index(), fid, key);
            counters.add(t.index(), CopyState.PENDING, p.size(), +1);
            jobs.add(j);
        }
        return p;
    }

    /**
     * Steps 2 and 3, after the top transaction committed, the object's lock still held: writes
     * every begun copy, flips each IN_SYNC once durable, and forces the flips to disk. A copy whose
     * device fails is discarded (a GC job) and made on the next candidate instead; if the copies
     * still fall short of the policy the write is acknowledged degraded when the policy's
     * {@code min} allows it, else it fails with EIO saying what was made and what failed.
     *
     * @param jobs the copies {@link #begin} started
     * @param candidates every candidate device, best first (the spares come from here)
     * @return the durable copies the write has, the metadata device's included
     * @throws OsdException EIO when fewer than {@code min}; a failure to read the body back from
     *     the metadata device as it is
     */
    public int complete(Fid fid, WriteCommit wc, List<Job> jobs, List<PoolDevice> candidates) throws OsdException {
        Osd md = ctx.metadata().osd();
        Set<Integer> tried = new HashSet<>();
        List<Job> todo = new ArrayList<>(jobs);
        for (Job j : jobs) {
            tried.add(j.device());
        }
        int made = 0;
        List<String> failed = new ArrayList<>();
        while (!todo.isEmpty()) {
            Job job = todo.remove(0);
            PoolDevice target = ctx.device(job.device());
            try {
                Checksums sums = CopyIo.write(CopyIo.of(md, fid), fid, job.bytes(), target, job.key());
                long occupied = target.osd().getAttr(job.key()).blocks() * 512;
                MoveResult flipped = migrator.flipHeld(job, sums, occupied);
                if (flipped instanceof MoveResult.Done) {
                    made++;
                    continue;
                }
                // Not flipped (the target failed meanwhile: the copy was discarded): as a failed copy.
                failed.add(target.name() + " (" + flipped.detail() + ")");
            } catch (OsdException e) {
                migrator.discard(job, ctx.store().load(fid).orElse(null));
                if (e.device() != null && !e.device().equals(target.name())) {
                    // Not the target's failure (the body could not be read back): the write fails as it is.
                    throw e;
                }
                failed.add(target.name() + " (" + e.errno() + ": " + e.getMessage() + ")");
                LOG.log(
                        System.Logger.Level.WARNING,
                        ctx.name() + ": " + fid + ": sync copy to " + target.name() + " failed; trying another device: "
                                + e.getMessage());
            }
            // A spare: the next candidate not tried yet, begun in a durable metadata transaction of its own.
            for (PoolDevice spare : candidates) {
                if (tried.add(spare.index()) && spare.state().writable()) {
                    try {
                        Job next = migrator.beginHeld(fid, spare, false, migrator.nextKey());
                        if (next != null) {
                            todo.add(next);
                            break;
                        }
                    } catch (OsdException e) {
                        failed.add(spare.name() + " (" + e.errno() + ": " + e.getMessage() + ")");
                    }
                }
            }
        }
        // The flips were committed without a force: one force makes them all durable.
        md.sync(fid);
        int have = mdCopies() + made;
        if (have >= wc.copies()) {
            return have;
        }
        String what = fid + ": write-commit '" + wc + "' made " + have + " durable cop" + (have == 1 ? "y" : "ies")
                + " of " + wc.copies()
                + (failed.isEmpty() ? " (no other writable durable device)" : "; failed: " + String.join("; ", failed));
        if (have >= wc.min()) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    ctx.name() + ": " + what + ". Acknowledged degraded (min " + wc.min()
                            + "); the daemon restores replicas.");
            return have;
        }
        throw new OsdException(
                Errno.EIO,
                ctx.name(),
                fid,
                what + ". The new version is committed with fewer copies than the policy asks, as after a failed"
                        + " fsync: treat the write as failed and write it again once the device is back or replaced"
                        + " (spillway device list)");
    }
}
