package dev.spillway.pool.ops;

import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.core.PoolContext;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.meta.Checksums;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.Span;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;

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
 *
 * <p>The operations are three classes behind this one entry: {@link CopyProtocol} (spill, copy,
 * migrate, resync, promotion to a cache device), {@link LayoutOps} (release, promotion home, mirror
 * drop, mark bad, verify) and {@link Garbage} (roll-back and collection), sharing a {@link
 * MoveContext}. Each move runs as its caller's {@link MoveOptions} say (whether it may wait for
 * locks, what paces its copy) and ends in a {@link MoveResult}.
 */
public final class Migrator {
    private final MoveContext mc;
    private final CopyProtocol copies;
    private final LayoutOps layout;
    private final RangeMoves ranges;
    private final RangeRepair repair;
    private final Garbage garbage;

    private Migrator(MoveContext mc, CopyKeys keys) {
        this.mc = mc;
        this.layout = new LayoutOps(mc);
        this.garbage = new Garbage(mc);
        this.copies = new CopyProtocol(mc, keys, layout, garbage);
        this.ranges = new RangeMoves(mc, keys, garbage);
        this.repair = new RangeRepair(mc, keys, garbage);
    }

    /** The movers of a pool; reads the copy-key sequence from its metadata device. */
    public static Migrator open(PoolContext ctx) throws OsdException {
        return new Migrator(new MoveContext(ctx), new CopyKeys(ctx.metadata().osd()));
    }

    /**
     * Ends the pool's copy-writer threads (idle ones now, busy ones when their copy returns); a
     * move started afterwards writes its copies on its caller's thread. The pool calls this as it
     * closes.
     */
    public void close() {
        mc.writers.close();
    }

    @FunctionalInterface
    public interface Locked<T> {
        T run() throws OsdException;
    }

    /** Runs {@code body} holding the object's pool lock (the one client transactions take). */
    public <T> T locked(Fid fid, Locked<T> body) throws OsdException {
        return mc.locked(fid, MoveOptions.DEFAULT, body);
    }

    /**
     * What {@link #beginAll} did: a job per object it began, empty for an object already in sync on
     * the target, and the reason for each object it left alone (gone, not a pool DATA object, or a
     * copy to the target already under way).
     */
    public record Begun(Map<Fid, Optional<Job>> jobs, Map<Fid, OsdException> refused) {}

    /** One object's part of {@link #spillAll}: its result ({@link MoveResult.Failed} if its move threw). */
    public record Spilled(Fid fid, MoveResult result) {}

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

    // ---- the copy protocol ------------------------------------------------------------------

    /** Spills: copies the body to {@code target} and releases the local body. */
    public MoveResult spill(Fid fid, PoolDevice target) throws OsdException {
        return copies.spill(fid, target, MoveOptions.DEFAULT);
    }

    /** {@link #spill(Fid, PoolDevice)} run as {@code o} says. */
    public MoveResult spill(Fid fid, PoolDevice target, MoveOptions o) throws OsdException {
        return copies.spill(fid, target, o);
    }

    /** See {@link CopyProtocol#copy}. */
    public MoveResult copy(Fid fid, PoolDevice target, boolean release) throws OsdException {
        return copies.copy(fid, target, release, MoveOptions.DEFAULT);
    }

    /** {@link #copy(Fid, PoolDevice, boolean)} run as {@code o} says. */
    public MoveResult copy(Fid fid, PoolDevice target, boolean release, MoveOptions o) throws OsdException {
        return copies.copy(fid, target, release, o);
    }

    /** See {@link CopyProtocol#begin}. */
    public Optional<Job> begin(Fid fid, PoolDevice target) throws OsdException {
        return copies.begin(fid, target);
    }

    /** See {@link CopyProtocol#beginAll}. */
    public Begun beginAll(List<Fid> fids, PoolDevice target) throws OsdException {
        return copies.beginAll(fids, target);
    }

    /** See {@link CopyProtocol#spillAll}. */
    public List<Spilled> spillAll(List<Fid> list, PoolDevice target) throws OsdException {
        return copies.spillAll(list, target, MoveOptions.DEFAULT);
    }

    /** {@link #spillAll(List, PoolDevice)} run as {@code o} says. */
    public List<Spilled> spillAll(List<Fid> list, PoolDevice target, MoveOptions o) throws OsdException {
        return copies.spillAll(list, target, o);
    }

    /** See {@link CopyProtocol#complete}. */
    public MoveResult complete(Job job, boolean release) throws OsdException {
        return copies.complete(job, release);
    }

    /** See {@link CopyProtocol#migrate}. */
    public MoveResult migrate(Fid fid, PoolDevice from, PoolDevice to) throws OsdException {
        return copies.migrate(fid, from, to, MoveOptions.DEFAULT);
    }

    /** {@link #migrate(Fid, PoolDevice, PoolDevice)} run as {@code o} says. */
    public MoveResult migrate(Fid fid, PoolDevice from, PoolDevice to, MoveOptions o) throws OsdException {
        return copies.migrate(fid, from, to, o);
    }

    /** Rewrites a stale copy from a good one. */
    public MoveResult resync(Fid fid, int device) throws OsdException {
        return resync(fid, device, MoveOptions.DEFAULT);
    }

    /**
     * {@link #resync(Fid, int)} run as {@code o} says. A stale copy of a range (issue 20) is rebuilt
     * as a copy of that range from another copy holding it ({@link RangeRepair}), never as a whole
     * copy.
     */
    public MoveResult resync(Fid fid, int device, MoveOptions o) throws OsdException {
        Optional<Copy> range = mc.loadIfExists(fid)
                .flatMap(p -> p.copies().stream()
                        .filter(c -> c.device() == device
                                && device != mc.mdIndex
                                && !c.whole()
                                && c.state() == CopyState.STALE)
                        .findFirst());
        if (range.isPresent()) {
            Copy c = range.get();
            return repair.rebuild(fid, c.spans().get(0), c.key(), mc.ctx.device(device), o);
        }
        return copies.resync(fid, device, o);
    }

    /**
     * A new copy of {@code span} of a split body on {@code target}, from another in-sync copy
     * holding it, replacing the copy of that range keyed {@code replaces} (null: none) — see
     * {@link RangeRepair}.
     */
    MoveResult rebuildRange(Fid fid, Span span, Fid replaces, PoolDevice target, MoveOptions o) throws OsdException {
        return repair.rebuild(fid, span, replaces, target, o);
    }

    /**
     * Spills the range {@code [start, end)} of the body and releases it on the metadata device
     * (range-level placement, {@link RangeMoves}); {@code end} at or past the size means to the end.
     * Boundaries are multiples of 64 KiB. The range keeps {@code replicas} durable copies: those
     * that hold it already (whole copies, copies of ranges covering it) count — enough, and it is
     * only released — and the missing copies of the range are made, on {@code target} first, each
     * on its own background device holding none of the range's bytes.
     */
    public MoveResult spillRange(Fid fid, PoolDevice target, long start, long end) throws OsdException {
        return ranges.spillRange(fid, target, start, end, MoveOptions.DEFAULT);
    }

    public MoveResult spillRange(Fid fid, PoolDevice target, long start, long end, MoveOptions o) throws OsdException {
        return ranges.spillRange(fid, target, start, end, o);
    }

    /**
     * Brings every spilled range of a split body home ({@link RangeMoves#recall}). A copy the
     * recall could not read (EIO, ENOENT, a checksum mismatch) is marked bad as a failed read of it
     * is ({@link #markBad}: STALE with a RESYNC job, never the last in-sync copy holding its bytes),
     * after the object's lock is released; the next copy holding its bytes served them, or the
     * recall failed with EIO.
     */
    public MoveResult recallRanges(Fid fid) throws OsdException {
        return recallRanges(fid, MoveOptions.DEFAULT);
    }

    private MoveResult recallRanges(Fid fid, MoveOptions o) throws OsdException {
        FailedReads bad = new FailedReads();
        try {
            return ranges.recall(fid, o, bad);
        } finally {
            bad.markBad(fid);
        }
    }

    /**
     * Brings home only the spilled ranges of a split body that overlap {@code [start, end)}
     * (range-level promotion, {@link RangeMoves#recallRange}); the other ranges stay spilled.
     * Boundaries are multiples of 64 KiB; {@code end} at or past the size means to the end.
     */
    public MoveResult promoteRange(Fid fid, long start, long end) throws OsdException {
        return promoteRange(fid, start, end, MoveOptions.DEFAULT);
    }

    /**
     * {@link #promoteRange(Fid, long, long)} run as {@code o} says. A whole copy the promotion could
     * not read (EIO, ENOENT, a checksum mismatch) is marked bad as a failed read of it is ({@link
     * #markBad}: STALE with a RESYNC job, never the last in-sync copy), after the object's lock is
     * released; the promotion was served by the next copy, or failed with EIO.
     */
    public MoveResult promoteRange(Fid fid, long start, long end, MoveOptions o) throws OsdException {
        FailedReads bad = new FailedReads();
        try {
            return ranges.recallRange(fid, start, end, o, bad);
        } finally {
            bad.markBad(fid);
        }
    }

    /** The copies a move failed to read, and why: marked bad once the object's lock is released. */
    private final class FailedReads implements BiConsumer<Copy, OsdException> {
        private final List<Copy> copies = new ArrayList<>();
        private final List<OsdException> why = new ArrayList<>();

        @Override
        public void accept(Copy c, OsdException e) {
            copies.add(c);
            why.add(e);
        }

        void markBad(Fid fid) {
            for (int i = 0; i < copies.size(); i++) {
                if (mc.ctx.device(copies.get(i).device()).state() == DeviceState.FAILED) {
                    // A failed device's copies are the lost-marking pass's.
                    continue;
                }
                try {
                    layout.markBad(fid, copies.get(i), why.get(i));
                } catch (OsdException notNow) {
                    // Scrub (or the next read of it) finds it.
                    why.get(i).addSuppressed(notNow);
                }
            }
        }
    }

    /** The range moves, for the pool's client transactions (a write recalls what it touches). */
    RangeMoves rangeMoves() {
        return ranges;
    }

    /** See {@link CopyProtocol#promote}. */
    public MoveResult promote(Fid fid) throws OsdException {
        return promote(fid, MoveOptions.DEFAULT);
    }

    /** {@link #promote(Fid)} run as {@code o} says (the copy to a cache device; a promotion home is not paced). */
    public MoveResult promote(Fid fid, MoveOptions o) throws OsdException {
        if (mc.load(fid).split(mc.mdIndex)) {
            // A split body's ranges come home: the resident part is the fast tier's already.
            return recallRanges(fid, o);
        }
        return copies.promote(fid, o);
    }

    /** See {@link CopyProtocol#settleLeftovers}. */
    public int settleLeftovers() throws OsdException {
        return copies.settleLeftovers();
    }

    /** See {@link CopyProtocol#dropParked}. */
    public void dropParked(Job job) throws OsdException {
        copies.dropParked(job);
    }

    /** A fresh copy key (a sync write's extra copies take theirs as a spill does). */
    Fid nextKey() throws OsdException {
        return copies.nextKey();
    }

    /** Step 1 of a copy, the object's lock held by the caller: null if the target already holds an in-sync copy. */
    Job beginHeld(Fid fid, PoolDevice target, boolean release, Fid key) throws OsdException {
        return copies.beginHeld(fid, target, release, key);
    }

    /** Step 3 of a copy without a release, the object's lock held by the caller (not forced to disk). */
    MoveResult flipHeld(Job job, Checksums sums, long occupied) throws OsdException {
        return copies.flipHeld(job, sums, occupied);
    }

    /** See {@link CopyProtocol#flipHeld(Job, Checksums, long, PoolObject)}. */
    MoveResult flipHeld(Job job, Checksums sums, long occupied, PoolObject committed) throws OsdException {
        return copies.flipHeld(job, sums, occupied, committed);
    }

    /** See {@link CopyProtocol#flipRecovered}. */
    MoveResult flipRecovered(Job job, Checksums sums, long occupied) throws OsdException {
        return copies.flipRecovered(job, sums, occupied);
    }

    // ---- layout-only operations ----------------------------------------------------------------

    /** Drops the local body if enough durable in-sync copies exist elsewhere. */
    public MoveResult release(Fid fid) throws OsdException {
        return layout.release(fid);
    }

    /** See {@link LayoutOps#promoteHome}. */
    public MoveResult promoteHome(Fid fid) throws OsdException {
        if (mc.load(fid).split(mc.mdIndex)) {
            return recallRanges(fid, MoveOptions.DEFAULT);
        }
        return layout.promoteHome(fid);
    }

    /** Removes one mirror (lfs mirror split -d); never the last in-sync copy. */
    public MoveResult dropMirror(Fid fid, int mirrorId) throws OsdException {
        return layout.dropMirror(fid, mirrorId);
    }

    /** A copy failed a read (checksum, I/O, missing): it becomes STALE and a RESYNC job is queued. */
    public boolean markBad(Fid fid, Copy bad, OsdException cause) throws OsdException {
        return layout.markBad(fid, bad, cause);
    }

    /** See {@link LayoutOps#verify}. */
    public MoveResult verify(Fid fid) throws OsdException {
        return layout.verify(fid);
    }

    /** See {@link LayoutOps#dropLostCacheCopies}. */
    public int dropLostCacheCopies() throws OsdException {
        return layout.dropLostCacheCopies();
    }

    /** See {@link LayoutOps#dropCacheCopies}. */
    public int dropCacheCopies(PoolDevice d) throws OsdException {
        return layout.dropCacheCopies(d);
    }

    // ---- garbage and roll-back -----------------------------------------------------------------

    /** A COPY job whose copy must not become part of the layout: it becomes garbage. */
    void discard(Job job, PoolObject p) throws OsdException {
        garbage.discard(job, p);
    }

    /** See {@link Garbage#collect}. */
    public Collected collect(List<Job> jobs) throws OsdException {
        return garbage.collect(jobs);
    }

    /** Rolls a COPY job back (recovery): the pending copy leaves the layout and is collected. */
    public void rollBack(Job job) throws OsdException {
        garbage.rollBack(job);
    }

    /** See {@link Garbage#rollBackAll}. */
    public void rollBackAll(List<Job> jobs) throws OsdException {
        garbage.rollBackAll(jobs);
    }

    /** See {@link Garbage#rollBackDeleting}. */
    public Collected rollBackDeleting(List<Job> jobs) throws OsdException {
        return garbage.rollBackDeleting(jobs);
    }

    /** See {@link Garbage#stuckCopies}. */
    public List<Job> stuckCopies(Collection<Job> jobs, Duration age) {
        return garbage.stuckCopies(jobs, age);
    }

    /** See {@link Garbage#rollBackStuck}. */
    public int rollBackStuck(List<Job> stuck) throws OsdException {
        return garbage.rollBackStuck(stuck);
    }

    /** Records a copy no layout names (found on a device) as garbage, to be deleted by a GC job. */
    public void orphan(PoolDevice d, Fid key, long bytes) throws OsdException {
        garbage.orphan(d, key, bytes);
    }

    /** Runs every GC job now (tests, recovery, and the daemon's garbage pass); returns the jobs done. */
    public int collectGarbage() throws OsdException {
        return garbage.collectGarbage();
    }

    /** Runs every GC job now, saying what became of each copy. */
    public Collected collectAll() throws OsdException {
        return garbage.collectAll();
    }
}
