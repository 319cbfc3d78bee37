package dev.spillway.pool.ops;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.SpaceClass;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.core.PoolContext;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.io.CopyIo;
import dev.spillway.pool.io.SplitBody;
import dev.spillway.pool.meta.Checksums;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.DeviceIndex;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.Span;
import dev.spillway.pool.meta.WorkIndex;
import java.util.List;
import java.util.Optional;

/**
 * Rebuilds a copy of a range of a split body (issue 20) from another in-sync copy holding that
 * range: a copy of a range lost with its device ({@code replaceLost}) or marked stale by a read
 * error (its RESYNC job). A new copy of the same range is made on a device by the copy protocol —
 * (1) the pending copy and its COPY job in one durable metadata transaction; (2) the range read
 * from the other copies holding it (never from the one it replaces), verified, written and made
 * durable on the target without the object's lock; (3) only if the data version is unchanged and
 * the copy it replaces is still in the layout, the new copy IN_SYNC, its job gone and the old copy
 * garbage, in one metadata transaction. A crash before (3) is durable leaves the COPY job, and
 * recovery rolls the pending copy back as any other. The rebuild never copies the whole body: only
 * the range's bytes move.
 */
final class RangeRepair {
    private final MoveContext mc;
    private final PoolContext ctx;
    private final int mdIndex;
    private final CopyKeys keys;
    private final Garbage garbage;

    RangeRepair(MoveContext mc, CopyKeys keys, Garbage garbage) {
        this.mc = mc;
        this.ctx = mc.ctx;
        this.mdIndex = mc.mdIndex;
        this.keys = keys;
        this.garbage = garbage;
    }

    /**
     * Makes a new copy of {@code span} of the body on {@code target}, replacing the copy of a range
     * keyed {@code replaces} (null: an extra copy of the range, replacing nothing).
     *
     * @return Done; NothingToDo if the copy to replace is gone or in sync again, or the body is no
     *     longer split; Refused if no other in-sync copy holds the range (nothing to rebuild from)
     *     or the target takes no copies; Parked if the target failed the write; Changed if the
     *     object changed meanwhile (the new copy is garbage)
     */
    MoveResult rebuild(Fid fid, Span span, Fid replaces, PoolDevice target, MoveOptions o) throws OsdException {
        String why = mc.refusal(target);
        if (why != null) {
            return new MoveResult.Refused(why);
        }
        return mc.slotted(o, () -> {
            Fid key = keys.next();
            return mc.inFlight.during(key, () -> copy(fid, span, replaces, target, key, o));
        });
    }

    private MoveResult copy(Fid fid, Span span, Fid replaces, PoolDevice target, Fid key, MoveOptions o)
            throws OsdException {
        Object begun = mc.locked(fid, o, () -> begin(fid, span, replaces, target, key));
        if (begun instanceof MoveResult r) {
            return r;
        }
        Job job = (Job) begun;
        PoolObject p = mc.load(fid);
        CopyIo.Durable written;
        try {
            // The other copies holding the range, never the one replaced (bad, or on a failed device).
            CopyIo.Source body = SplitBody.source(
                    mc.md(),
                    mdIndex,
                    ctx::device,
                    c -> ctx.readable(c) && (replaces == null || !c.hasKey(replaces)) && !c.hasKey(key),
                    fid,
                    p);
            written = CopyIo.writeDurably(body, span.start(), fid, job.bytes(), target, job.key(), o.pacer());
        } catch (OsdException e) {
            mc.locked(fid, () -> {
                garbage.discard(job, mc.loadIfExists(fid).orElse(null));
                return null;
            });
            if (e.is(Errno.ENOSPC)
                    || e.is(Errno.EDQUOT)
                    || (e.is(Errno.EIO) && target.name().equals(e.device()))) {
                return new MoveResult.Parked(
                        target.name() + " could not take the copy of the range: " + e.getMessage(), e);
            }
            if (e.is(Errno.ENOENT) || e.is(Errno.ESTALE) || e.is(Errno.EIO)) {
                return new MoveResult.Changed(
                        "the range " + span + " of " + fid + " could not be copied: " + e.getMessage());
            }
            throw e;
        }
        return mc.locked(fid, o, () -> finish(job, replaces, written.sums(), written.occupied()));
    }

    /** Step 1: the pending copy and its job, or why not (a {@link MoveResult}). */
    private Object begin(Fid fid, Span span, Fid replaces, PoolDevice target, Fid key) throws OsdException {
        Optional<PoolObject> now = mc.loadIfExists(fid);
        if (now.isEmpty()) {
            return new MoveResult.NothingToDo("object " + fid + " is gone");
        }
        PoolObject p = now.get();
        if (!p.split(mdIndex)) {
            return new MoveResult.NothingToDo("the body of " + fid + " is not split: no copy of a range to rebuild");
        }
        if (replaces != null) {
            Optional<Copy> old = p.byKey(replaces);
            if (old.isEmpty() || old.get().whole() || old.get().state() == CopyState.PENDING) {
                return new MoveResult.NothingToDo("the copy of the range " + span + " of " + fid + " is gone");
            }
            if (old.get().state() == CopyState.IN_SYNC
                    && ctx.device(old.get().device()).state() != DeviceState.FAILED) {
                return new MoveResult.NothingToDo("the copy of the range " + span + " of " + fid + " is in sync");
            }
        }
        List<Copy> sources = p.holdersOf(span, replaces);
        sources.removeIf(c -> !ctx.readable(c));
        if (sources.isEmpty()) {
            return new MoveResult.Refused("no other in-sync copy of " + fid + " holds the range " + span
                    + " on a readable device: nothing to rebuild it from");
        }
        for (Copy c : p.copies()) {
            if (c.device() == target.index() && c.state() == CopyState.PENDING) {
                throw new OsdException(
                        Errno.EBUSY, ctx.name(), fid, "a copy to " + target.name() + " is already being made");
            }
        }
        // An extra copy grows the record and layout for good: within the split body's budget only
        // (a replacement takes the place of the copy it replaces).
        if (replaces == null
                && ctx.reservePlan().isPresent()
                && ctx.store().storedBytes(fid, p.add(RangeMoves.inSyncCopy(p, span, target, key)))
                        > ctx.reservePlan().get().splitBudget()) {
            return new MoveResult.Refused("one more copy of the range " + span + " would take the record and layout"
                    + " of " + fid + " past what the reserve for the pool's own work covers");
        }
        long to = Math.min(span.end(), p.size());
        Copy pending = Copy.ranged(
                p.nextMirrorId(),
                target.index(),
                key,
                CopyState.PENDING,
                p.dataVersion(),
                to - span.start(),
                Checksums.NONE,
                Span.of(span.start(), span.end(), p.size()));
        List<Job> js = Job.perPart(Job.Kind.COPY, fid, pending, p.dataVersion(), ctx.nowNanos());
        AttrChange times = ctx.store().times(fid);
        PoolObject next = p.add(pending);
        // It adds a copy and frees nothing: the clients' space, as a copy without a release.
        mc.meta(
                fid,
                true,
                SpaceClass.CLIENT,
                (tx, c) -> {
                    WorkIndex.declareAdd(tx, fid);
                    DeviceIndex.declareInsert(tx, fid, pending);
                    ctx.store().declare(tx, fid, next);
                },
                (tx, c) -> {
                    for (Job j : js) {
                        WorkIndex.add(tx, j);
                    }
                    DeviceIndex.insert(tx, fid, pending);
                    c.add(pending, CopyState.PENDING, +1);
                    ctx.store().store(tx, fid, next, times);
                });
        return js.get(0);
    }

    /** Step 3: the new copy in sync and the one it replaces garbage, or the new copy garbage. */
    private MoveResult finish(Job job, Fid replaces, Checksums sums, long occupied) throws OsdException {
        Fid fid = job.fid();
        Optional<PoolObject> now = mc.loadIfExists(fid);
        Optional<Copy> pending = now.flatMap(p -> p.byKey(job.key())).filter(c -> c.state() == CopyState.PENDING);
        Optional<Copy> old = replaces == null ? Optional.empty() : now.flatMap(p -> p.byKey(replaces));
        Span span = pending.map(c -> c.spans().get(0)).orElse(null);
        if (now.isEmpty()
                || pending.isEmpty()
                || now.get().dataVersion() != job.version()
                || !now.get().split(mdIndex)
                || (replaces != null && old.isEmpty())
                || ctx.device(job.device()).state() == DeviceState.FAILED
                || Span.covers(
                        now.get().on(mdIndex).orElseThrow().held(),
                        span.start(),
                        Math.min(span.end(), now.get().size()))) {
            garbage.discard(job, now.orElse(null));
            return new MoveResult.Changed(
                    "object " + fid + " changed while its range was copied; the new copy is garbage");
        }
        PoolObject p = now.get();
        Copy was = pending.get();
        Copy done = was.inSync(p.dataVersion(), occupied, sums);
        PoolObject next = p.replace(done.mirrorId(), c -> done);
        if (old.isPresent()) {
            next = next.remove(old.get().mirrorId());
        }
        PoolObject fin = next.preferring(mdIndex);
        AttrChange times = ctx.store().times(fid);
        mc.meta(
                fid,
                false,
                SpaceClass.CLIENT,
                (tx, c) -> {
                    WorkIndex.declareRemove(tx, fid);
                    if (old.isPresent()) {
                        WorkIndex.declareAdd(tx, fid);
                        WorkIndex.declareRemove(tx, fid);
                        DeviceIndex.declareDelete(tx, fid, old.get());
                    }
                    ctx.store().declare(tx, fid, fin);
                },
                (tx, c) -> {
                    WorkIndex.remove(tx, job);
                    c.add(was, CopyState.PENDING, -1).add(done, CopyState.IN_SYNC, +1);
                    if (old.isPresent()) {
                        for (Job j : WorkIndex.of(mc.md(), fid)) {
                            if (j.kind() == Job.Kind.RESYNC && old.get().hasKey(j.key())) {
                                WorkIndex.remove(tx, j);
                            }
                        }
                        mc.gcJob(tx, c, fid, old.get());
                    }
                    ctx.store().store(tx, fid, fin, times);
                });
        long len = Math.min(span.end(), p.size()) - span.start();
        return new MoveResult.Done(
                len,
                "rebuilt the range " + span + " of " + fid + " (" + len + " bytes) on "
                        + ctx.device(job.device()).name()
                        + (old.isPresent() ? ", replacing the copy on " + mc.where(old.get()) : ""));
    }
}
