package dev.spillway.pool.ops;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Capability;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.SpaceClass;
import dev.spillway.osd.Transaction;
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
import dev.spillway.pool.meta.Span;
import dev.spillway.pool.meta.Stripe;
import dev.spillway.pool.meta.WorkIndex;
import dev.spillway.pool.space.ReservePlan;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.BiConsumer;

/**
 * Range-level placement (issue 20): a range of an object's body spilled to a background device
 * and released on the metadata device, and spilled ranges recalled.
 *
 * <p>A range spill is the spill protocol on part of the body: (1) the pending copy of the range
 * (one object on the target holding the range's bytes from offset 0) enters the layout with its
 * COPY job in one durable metadata transaction; (2) the range is copied from the metadata device,
 * without the object's lock, and made durable on the target; (3) in one metadata transaction, only
 * if the data version is unchanged and the body still holds the range, the copy becomes IN_SYNC,
 * the job goes, and the range is released locally: punched out of the body on the metadata device
 * ({@link Transaction#punch}, so the device frees its blocks), or truncated away when it runs to
 * the end of the body. The body's copy on the metadata device then holds the rest ({@link
 * Copy#spans()}); it is never released whole this way (that is a spill of the object). A crash
 * before step 3 is durable leaves the job: recovery rolls the pending copy back as any other.
 *
 * <p>A recall brings every spilled range back into the body, in one metadata transaction: the
 * ranges are written at their offsets, the body's copy holds the whole body again, and the copies
 * of the ranges become garbage.
 */
final class RangeMoves {
    private final MoveContext mc;
    private final PoolContext ctx;
    private final int mdIndex;
    private final CopyKeys keys;
    private final Garbage garbage;

    RangeMoves(MoveContext mc, CopyKeys keys, Garbage garbage) {
        this.mc = mc;
        this.ctx = mc.ctx;
        this.mdIndex = mc.mdIndex;
        this.keys = keys;
        this.garbage = garbage;
    }

    /**
     * Spills {@code [start, end)} of the body ({@code end} at or past the size: to the end) to
     * {@code target} and releases it on the metadata device.
     *
     * @throws OsdException EINVAL for a range not on 64 KiB boundaries, or empty
     */
    MoveResult spillRange(Fid fid, PoolDevice target, long start, long end, MoveOptions o) throws OsdException {
        String why = mc.refusal(target);
        if (why != null) {
            return new MoveResult.Refused(why);
        }
        if (start < 0 || start % Span.ALIGN != 0 || end <= start || (end != Span.EOF && end % Span.ALIGN != 0)) {
            throw new OsdException(
                    Errno.EINVAL,
                    ctx.name(),
                    fid,
                    "range [" + start + ", " + end
                            + ") is not on 64 KiB boundaries (lcme_extent's LOV_MIN_STRIPE_SIZE)");
        }
        if (!ctx.metadata().osd().capabilities().has(Capability.PUNCH)) {
            return new MoveResult.Refused(
                    ctx.metadata().name() + " cannot punch a range out of a body: no range can be released there");
        }
        Optional<PoolObject> now = mc.loadIfExists(fid);
        if (now.isPresent() && overBudget(fid, now.get(), target, start, end)) {
            return new MoveResult.Refused(overBudget(fid).getMessage());
        }
        return mc.slotted(o, () -> {
            List<Fid> ks = takeKeys(target);
            // In flight (the daemon leaves its COPY jobs alone) until its flip or roll-back has ended.
            return mc.inFlight.during(ks.get(0), () -> copyRange(fid, target, start, end, ks, o));
        });
    }

    /**
     * Fresh keys for a copy of a range placed on {@code target}: one, or one per stripe of its
     * striping tier (those a copy does not use are skipped: keys are never reused).
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
     * The pending copy of {@code span} ({@code len} bytes) of {@code p} placed on {@code target}
     * under keys {@code ks}: striped RAID0 over the target's stripe set when its tier stripes a body
     * of the range's length (the rule whole copies follow, by the range's size; devices that already
     * hold bytes of the range are left out of the set), else one object.
     */
    Copy pendingRange(PoolObject p, PoolDevice target, Span span, long len, List<Fid> ks) {
        List<PoolDevice> set = ctx.stripeSet(target, len, d -> !holdsPartOf(p, d, span));
        if (set.size() < 2 || ks.size() < set.size()) {
            return Copy.ranged(
                    p.nextMirrorId(),
                    target.index(),
                    ks.get(0),
                    CopyState.PENDING,
                    p.dataVersion(),
                    len,
                    Checksums.NONE,
                    span);
        }
        int unit = ctx.stripeSize(target);
        List<Stripe> stripes = new ArrayList<>(set.size());
        for (int i = 0; i < set.size(); i++) {
            stripes.add(
                    new Stripe(set.get(i).index(), ks.get(i), Stripe.length(len, set.size(), unit, i), Checksums.NONE));
        }
        return Copy.stripedRange(p.nextMirrorId(), CopyState.PENDING, p.dataVersion(), unit, stripes, span);
    }

    /** True if a copy of {@code p} other than the metadata device's holds bytes of {@code span} on {@code d}. */
    private boolean holdsPartOf(PoolObject p, PoolDevice d, Span span) {
        for (Copy c : p.copies()) {
            if (c.device() != mdIndex
                    && c.onDevice(d.index())
                    && c.held().stream().anyMatch(h -> h.overlaps(span))) {
                return true;
            }
        }
        return false;
    }

    /** Steps 1 to 3 of a range's copy under keys {@code ks}. */
    private MoveResult copyRange(Fid fid, PoolDevice target, long start, long end, List<Fid> ks, MoveOptions o)
            throws OsdException {
        Copy[] began = new Copy[1];
        Job job = mc.locked(fid, o, () -> begin(fid, target, start, end, ks, began));
        if (job == null) {
            return new MoveResult.NothingToDo("range [" + start + ", " + end + ") of " + fid
                    + " is not resident whole, or is all that is resident");
        }
        List<Stripe> written;
        try {
            written = CopyIo.writeRangeDurably(
                    CopyIo.of(mc.md(), fid), start, fid, began[0].bytes(), began[0], ctx::device, o.pacer());
        } catch (OsdException e) {
            mc.locked(fid, () -> {
                garbage.discard(job, mc.loadIfExists(fid).orElse(null));
                return null;
            });
            if (e.is(Errno.ENOSPC) || e.is(Errno.EDQUOT) || e.is(Errno.EIO)) {
                return new MoveResult.Parked(target.name() + " could not take the range: " + e.getMessage(), e);
            }
            if (e.is(Errno.ENOENT) || e.is(Errno.ESTALE)) {
                return new MoveResult.Changed("the object changed during the copy: " + e.getMessage());
            }
            throw e;
        }
        return mc.locked(fid, o, () -> finish(job, written));
    }

    /**
     * Step 1: null if the body on the metadata device does not hold the range, or holds nothing
     * else; the pending copy is left in {@code began[0]}.
     */
    private Job begin(Fid fid, PoolDevice target, long start, long end, List<Fid> ks, Copy[] began)
            throws OsdException {
        PoolObject p = mc.load(fid);
        Optional<Copy> local = p.on(mdIndex).filter(c -> c.state() == CopyState.IN_SYNC);
        if (local.isEmpty() || start >= p.size()) {
            return null;
        }
        Span span = Span.of(start, end, p.size());
        long to = Math.min(span.end(), p.size());
        List<Span> rest = Span.subtract(local.get().held(), span);
        if (!Span.covers(local.get().held(), start, to)
                || rest.isEmpty()
                || rest.get(0).start() >= p.size()) {
            return null;
        }
        for (Copy c : p.copies()) {
            if (c.device() == target.index() && c.state() == CopyState.PENDING) {
                throw new OsdException(
                        Errno.EBUSY, ctx.name(), fid, "a copy to " + target.name() + " is already being made");
            }
        }
        if (overBudget(fid, p, target, start, end)) {
            throw overBudget(fid);
        }
        Copy pending = pendingRange(p, target, span, to - start, ks);
        began[0] = pending;
        List<Job> js = Job.perPart(Job.Kind.COPY, fid, pending, p.dataVersion(), ctx.nowNanos());
        AttrChange times = ctx.store().times(fid);
        PoolObject next = p.add(pending);
        mc.meta(
                fid,
                true,
                SpaceClass.RESERVED,
                (tx, c) -> {
                    for (int i = 0; i < js.size(); i++) {
                        WorkIndex.declareAdd(tx, fid);
                    }
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

    /**
     * True if spilling {@code [start, end)} of {@code p} to {@code target} would take its record
     * and layout past the reserve plan's budget for a split body ({@code ReservePlan.splitBudget}):
     * measured on the object as the spill's flip would leave it (the copy of the range in sync with
     * its checksums, the range released locally).
     */
    boolean overBudget(Fid fid, PoolObject p, PoolDevice target, long start, long end) {
        Optional<ReservePlan> plan = ctx.reservePlan();
        Optional<Copy> local = p.on(mdIndex);
        if (plan.isEmpty() || local.isEmpty() || start < 0 || start >= p.size()) {
            return false;
        }
        Span span = Span.of(start, end, p.size());
        long len = Math.min(span.end(), p.size()) - start;
        List<Span> rest = Span.subtract(local.get().held(), span);
        if (rest.isEmpty()) {
            return false;
        }
        Copy kept = local.get().withSpans(rest);
        List<Fid> ks = new ArrayList<>();
        for (int i = 0,
                        n =
                                ctx.config()
                                        .stripeTier(target.name())
                                        .map(t -> t.stripeCount())
                                        .orElse(1);
                i < n;
                i++) {
            ks.add(fid);
        }
        PoolObject fin = p.add(flipped(pendingRange(p, target, span, len, ks), p.dataVersion(), len))
                .replace(kept.mirrorId(), c -> kept);
        return ctx.store().storedBytes(fid, fin) > plan.get().splitBudget();
    }

    /** A copy of {@code span} of {@code p} on {@code target}, in sync with its checksums: what a flip records. */
    static Copy inSyncCopy(PoolObject p, Span span, PoolDevice target, Fid key) {
        long len = Math.min(span.end(), p.size()) - span.start();
        int shift = Checksums.shiftFor(len);
        return Copy.ranged(
                p.nextMirrorId(),
                target.index(),
                key,
                CopyState.IN_SYNC,
                p.dataVersion(),
                len,
                new Checksums(shift, new int[(int) ((len + (1L << shift) - 1) >>> shift)]),
                span);
    }

    /**
     * Pending copy {@code c} of a range of {@code len} bytes as its flip would record it at version
     * {@code v}: in sync, each part with as many checksums as its length takes.
     */
    static Copy flipped(Copy c, long v, long len) {
        if (!c.striped()) {
            int shift = Checksums.shiftFor(len);
            return c.inSync(v, len, new Checksums(shift, new int[(int) ((len + (1L << shift) - 1) >>> shift)]));
        }
        int n = c.stripes().size();
        List<Stripe> parts = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long sl = Stripe.length(len, n, c.stripeSize(), i);
            int shift = Checksums.shiftFor(sl, Integer.numberOfTrailingZeros(c.stripeSize()));
            parts.add(c.stripes()
                    .get(i)
                    .withBytes(sl, new Checksums(shift, new int[(int) ((sl + (1L << shift) - 1) >>> shift)])));
        }
        return c.inSyncStripes(v, parts);
    }

    /** The refusal of a range spill past the split body's budget. */
    OsdException overBudget(Fid fid) {
        return new OsdException(
                Errno.E2BIG,
                ctx.name(),
                fid,
                "one more copy of a range would take the object's record and layout past what the reserve for"
                        + " the pool's own work covers ("
                        + ctx.reservePlan().map(ReservePlan::splitBudget).orElse(0L)
                        + " bytes): spill a larger range, or the object whole");
    }

    /**
     * Step 3: the copy of the range in sync ({@code parts} as written: its object, or its stripes)
     * and the range released locally, or the copy garbage.
     */
    private MoveResult finish(Job job, List<Stripe> parts) throws OsdException {
        Fid fid = job.fid();
        Optional<PoolObject> now = mc.loadIfExists(fid);
        Optional<Copy> pending = now.flatMap(p -> p.byKey(job.key())).filter(c -> c.state() == CopyState.PENDING);
        Optional<Copy> local = now.flatMap(p -> p.on(mdIndex)).filter(c -> c.state() == CopyState.IN_SYNC);
        Span span = pending.map(c -> c.spans().get(0)).orElse(null);
        if (now.isEmpty()
                || pending.isEmpty()
                || local.isEmpty()
                || now.get().dataVersion() != job.version()
                || !Span.covers(
                        local.get().held(),
                        span.start(),
                        Math.min(span.end(), now.get().size()))) {
            garbage.discard(job, now.orElse(null));
            return new MoveResult.Changed("object " + fid + " changed while the range was copied; the copy is garbage");
        }
        PoolObject p = now.get();
        Copy was = pending.get();
        Copy done = was.striped()
                ? was.inSyncStripes(p.dataVersion(), parts)
                : was.inSync(p.dataVersion(), parts.get(0).bytes(), parts.get(0).checksums());
        Copy kept = local.get().withSpans(Span.subtract(local.get().held(), span));
        long blocks = p.split(mdIndex) ? p.blocks() : mc.md().getAttr(fid).blocks();
        PoolObject next = p.replace(done.mirrorId(), c -> done)
                .replace(kept.mirrorId(), c -> kept)
                .withBlocks(blocks);
        AttrChange times = ctx.store().times(fid);
        long len = Math.min(span.end(), p.size()) - span.start();
        mc.meta(
                fid,
                false,
                SpaceClass.FREEING,
                (tx, c) -> {
                    if (span.toEof()) {
                        tx.declareTruncate(fid, span.start());
                    } else {
                        tx.declarePunch(fid, span.start(), len);
                    }
                    for (int i = 0; i < was.parts().size(); i++) {
                        WorkIndex.declareRemove(tx, fid);
                    }
                    ctx.store().declare(tx, fid, next);
                },
                (tx, c) -> {
                    // The release frees first, then the record grows by the span.
                    if (span.toEof()) {
                        tx.truncate(fid, span.start());
                    } else {
                        tx.punch(fid, span.start(), len);
                    }
                    // A COPY job per part (a striped copy's stripes each have one).
                    for (Job j : Job.perPart(Job.Kind.COPY, fid, was, job.version(), 0)) {
                        WorkIndex.remove(tx, j);
                    }
                    c.add(was, CopyState.PENDING, -1).add(done, CopyState.IN_SYNC, +1);
                    ctx.store().store(tx, fid, next, times);
                });
        return new MoveResult.Done(len, "spilled " + len + " bytes of " + fid + " " + span + " to " + mc.where(done));
    }

    /**
     * Brings every spilled range of a split body home (the body whole on the metadata device
     * again), in one metadata transaction; the copies of the ranges become garbage.
     */
    MoveResult recall(Fid fid, MoveOptions o) throws OsdException {
        return mc.locked(fid, o, () -> {
            PoolObject p = mc.load(fid);
            if (!p.split(mdIndex)) {
                return new MoveResult.NothingToDo("the body is not split");
            }
            AttrChange times = ctx.store().times(fid);
            Recalled r = plan(p);
            mc.meta(
                    fid,
                    false,
                    SpaceClass.CLIENT,
                    (tx, c) -> {
                        declare(tx, fid, p);
                        ctx.store().declare(tx, fid, r.next());
                    },
                    (tx, c) -> {
                        apply(tx, c, fid, p, r);
                        ctx.store().store(tx, fid, r.next(), times);
                    });
            return new MoveResult.Done(r.bytes(), "recalled " + r.bytes() + " bytes of " + fid);
        });
    }

    /**
     * Brings home the bytes {@code [start, end)} of a body not resident whole ({@code end} at or past
     * the size: to the end), in one metadata transaction as {@link #recall} does. A split body's
     * copies of ranges that overlap it come home whole (their bytes written into the body at their
     * offsets, the body's copy holding them from then on, their copies garbage: GC jobs in the work
     * index, device-index entries gone, in the same transaction); the daemon spills one copy per
     * extent, so an extent's promotion moves that extent. Bytes of the range no copy of a range
     * holds — all of them for a body spilled whole — are read from an in-sync whole copy, verified,
     * and written into the body: the body on the metadata device then holds them (a new copy there,
     * holding only those spans, for a body spilled whole), and the whole copy stays as it is,
     * holding the rest. The copies of the other ranges stay as they are. Atomic as the metadata
     * device's transactions are: a crash leaves the body as before (the GC jobs not written either)
     * or the range home.
     *
     * <p>A whole copy whose read fails (EIO, ENOENT, a checksum mismatch) is handed to {@code failed}
     * with its error and the next one is tried; the caller marks it bad once the object's lock is
     * released ({@link Migrator#promoteRange}), as a failed read of a whole copy is.
     *
     * @throws OsdException EINVAL for a range not on 64 KiB boundaries or empty; EIO if a byte of the
     *     range has no readable in-sync copy (or every whole copy holding it failed its read)
     */
    MoveResult recallRange(Fid fid, long start, long end, MoveOptions o, BiConsumer<Copy, OsdException> failed)
            throws OsdException {
        if (start < 0 || start % Span.ALIGN != 0 || end <= start || (end != Span.EOF && end % Span.ALIGN != 0)) {
            throw new OsdException(
                    Errno.EINVAL,
                    ctx.name(),
                    fid,
                    "range [" + start + ", " + end
                            + ") is not on 64 KiB boundaries (lcme_extent's LOV_MIN_STRIPE_SIZE)");
        }
        return mc.locked(fid, o, () -> {
            PoolObject p = mc.load(fid);
            if (p.resident(mdIndex)) {
                return new MoveResult.NothingToDo("the body of " + fid + " is resident");
            }
            // A body spilled whole has no copy on the metadata device (its object there is a stub).
            Copy local =
                    p.on(mdIndex).filter(c -> c.state() == CopyState.IN_SYNC).orElse(null);
            List<Span> held = local == null ? List.of() : local.held();
            long to = Math.min(end, p.size());
            if (start >= to || Span.covers(held, start, to)) {
                return new MoveResult.NothingToDo(
                        "range [" + start + ", " + to + ") of " + fid + " is resident already");
            }
            List<Span> have = new ArrayList<>(held);
            List<Copy> sources = new ArrayList<>();
            long bytes = 0;
            for (Copy c : p.ranges(mdIndex)) {
                Span sp = c.spans().get(0);
                long spEnd = Math.min(sp.end(), p.size());
                if (c.state() != CopyState.IN_SYNC
                        || !ctx.readable(c)
                        || sp.start() >= to
                        || spEnd <= start
                        || Span.covers(have, sp.start(), spEnd)) {
                    continue;
                }
                sources.add(c);
                have.add(sp);
                have = new ArrayList<>(Span.normalize(have));
                bytes += sp.length(p.size());
            }
            List<Span> gaps = gaps(have, start, to, p.size());
            List<Copy> wholes = gaps.isEmpty() ? Collections.singletonList(null) : wholeSources(p);
            if (wholes.isEmpty()) {
                throw new OsdException(
                        Errno.EIO,
                        ctx.name(),
                        fid,
                        "range [" + start + ", " + to + ") has no readable in-sync copy to recall it from (held: "
                                + Span.normalize(have) + ")");
            }
            for (Span g : gaps) {
                bytes += g.length(p.size());
            }
            List<Span> now = new ArrayList<>(have);
            now.addAll(gaps);
            List<Span> spans = Span.covers(now, 0, p.size()) ? List.of() : Span.normalize(now);
            PoolObject next = p;
            Copy back;
            if (local != null) {
                back = local.withSpans(spans);
            } else {
                back = new Copy(
                                p.nextMirrorId(),
                                mdIndex,
                                fid,
                                CopyState.IN_SYNC,
                                p.dataVersion(),
                                p.size(),
                                true,
                                Checksums.NONE)
                        .withSpans(spans);
                next = next.add(back);
            }
            for (Copy c : sources) {
                next = next.remove(c.mirrorId());
            }
            PoolObject after = next.replace(back.mirrorId(), c -> back).preferring(mdIndex);
            boolean added = local == null;
            AttrChange times = ctx.store().times(fid);
            OsdException failedOn = null;
            List<String> tried = new ArrayList<>();
            for (Copy whole : wholes) {
                try {
                    mc.meta(
                            fid,
                            false,
                            SpaceClass.CLIENT,
                            (tx, c) -> {
                                for (Copy src : sources) {
                                    Span sp = src.spans().get(0);
                                    tx.declareWrite(fid, sp.start(), sp.length(p.size()));
                                    for (int i = 0; i < src.parts().size(); i++) {
                                        WorkIndex.declareAdd(tx, fid);
                                    }
                                    DeviceIndex.declareDelete(tx, fid, src);
                                }
                                for (Span g : gaps) {
                                    tx.declareWrite(fid, g.start(), g.length(p.size()));
                                }
                                if (added) {
                                    DeviceIndex.declareInsert(tx, mdIndex, fid);
                                }
                                ctx.store().declare(tx, fid, after);
                            },
                            (tx, c) -> {
                                for (Copy src : sources) {
                                    CopyIo.recallRange(tx, ctx::device, fid, src, p.size());
                                    mc.gcJob(tx, c, fid, src);
                                }
                                for (Span g : gaps) {
                                    recallSpan(tx, fid, whole, p.size(), g);
                                }
                                if (added) {
                                    DeviceIndex.insert(tx, mdIndex, fid, fid);
                                }
                                ctx.store().store(tx, fid, after, times);
                            });
                } catch (OsdException e) {
                    if (whole == null || (!e.is(Errno.EIO) && !e.is(Errno.ENOENT))) {
                        throw e;
                    }
                    tried.add(mc.where(whole) + " (" + e.errno() + ")");
                    failedOn = e;
                    failed.accept(whole, e);
                    continue;
                }
                List<Span> moved = new ArrayList<>(spansOf(sources));
                moved.addAll(gaps);
                return new MoveResult.Done(
                        bytes,
                        "recalled " + bytes + " bytes of " + fid + " " + Span.normalize(moved)
                                + (whole == null ? "" : " (from " + mc.where(whole) + ")"));
            }
            throw new OsdException(
                    Errno.EIO,
                    ctx.name(),
                    fid,
                    "range [" + start + ", " + to + ") could not be read from a whole copy; tried " + tried,
                    failedOn);
        });
    }

    /** The parts of {@code [from, to)} that {@code have} does not hold, as spans ({@code to} the size: EOF). */
    private static List<Span> gaps(List<Span> have, long from, long to, long size) {
        List<Span> out = new ArrayList<>();
        long pos = from;
        for (Span x : Span.normalize(have)) {
            if (pos >= to) {
                break;
            }
            if (x.end() <= pos) {
                continue;
            }
            if (x.start() > pos) {
                long stop = Math.min(x.start(), to);
                out.add(Span.of(pos, stop, size));
            }
            pos = Math.max(pos, x.end());
        }
        if (pos < to) {
            out.add(Span.of(pos, to, size));
        }
        return out;
    }

    /**
     * The in-sync whole copies at the current version off the metadata device, on readable devices:
     * what a range no copy of a range holds is recalled from. The preferred first.
     */
    private List<Copy> wholeSources(PoolObject p) {
        List<Copy> out = new ArrayList<>();
        for (Copy c : p.inSync()) {
            if (c.device() != mdIndex && c.version() == p.dataVersion() && ctx.readable(c)) {
                out.add(c);
            }
        }
        out.sort(Comparator.comparing((Copy c) -> !c.preferred()).thenComparingInt(Copy::device));
        return out;
    }

    /** Writes {@code span} of the body into it on the metadata device, read verified from whole copy {@code c}. */
    private void recallSpan(Transaction tx, Fid fid, Copy c, long size, Span span) throws OsdException {
        long from = span.start();
        long to = Math.min(span.end(), size);
        ByteBuffer b = ByteBuffer.allocate((int) Math.min(Math.max(to - from, 1), 1 << 20));
        long off = from;
        while (off < to) {
            b.clear().limit((int) Math.min(b.capacity(), to - off));
            int n = CopyIo.readVerified(ctx::device, fid, c, size, off, b);
            if (n <= 0) {
                throw new OsdException(
                        Errno.EIO,
                        mc.where(c),
                        fid,
                        "copy " + c.key() + " ends at " + off + " of " + size + " (recalling " + span + ")");
            }
            b.flip();
            tx.write(fid, off, b);
            off += n;
        }
    }

    private static List<Span> spansOf(List<Copy> copies) {
        List<Span> out = new ArrayList<>();
        for (Copy c : copies) {
            out.addAll(c.spans());
        }
        return out;
    }

    /**
     * What a recall of a split body makes of it: the body whole again, the ranges' copies gone;
     * {@code gaps} the bytes no copy of a range holds, read from the whole copy {@code whole} (null
     * if there are none).
     */
    record Recalled(
            PoolObject next, List<Copy> sources, List<Copy> collected, long bytes, Copy whole, List<Span> gaps) {}

    /**
     * Plans the recall of every range the body on the metadata device does not hold: for each, an
     * in-sync copy of it to read, and for what no copy of a range holds (a body promoted by range
     * from a whole copy) an in-sync whole copy; every copy of a range is collected.
     */
    Recalled plan(PoolObject p) throws OsdException {
        Copy local = p.on(mdIndex).orElseThrow();
        List<Copy> sources = new ArrayList<>();
        List<Span> have = new ArrayList<>(local.held());
        long bytes = 0;
        for (Copy c : p.ranges(mdIndex)) {
            if (c.state() == CopyState.IN_SYNC
                    && ctx.readable(c)
                    && !Span.covers(
                            have,
                            c.spans().get(0).start(),
                            Math.min(c.spans().get(0).end(), p.size()))) {
                sources.add(c);
                have = new ArrayList<>(Span.normalize(concat(have, c.spans())));
                bytes += c.spans().get(0).length(p.size());
            }
        }
        List<Span> gaps = gaps(have, 0, p.size(), p.size());
        List<Copy> wholes = gaps.isEmpty() ? List.of() : wholeSources(p);
        if (!gaps.isEmpty() && wholes.isEmpty()) {
            throw new OsdException(
                    Errno.EIO,
                    ctx.name(),
                    null,
                    "a spilled range of the body has no readable in-sync copy to recall it from (held: " + have + ")");
        }
        for (Span g : gaps) {
            bytes += g.length(p.size());
        }
        PoolObject next = p;
        // A range still being copied stays: its flip finds the range resident and releases it again.
        List<Copy> collected = p.ranges(mdIndex).stream()
                .filter(c -> c.state() != CopyState.PENDING)
                .toList();
        for (Copy c : collected) {
            next = next.remove(c.mirrorId());
        }
        Copy whole = local.withSpans(List.of());
        next = next.replace(whole.mirrorId(), c -> whole).preferring(mdIndex);
        return new Recalled(next, sources, collected, bytes, wholes.isEmpty() ? null : wholes.get(0), gaps);
    }

    private static List<Span> concat(List<Span> a, List<Span> b) {
        List<Span> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    /** Declares a recall of {@code p}'s spilled ranges and the collection of their copies. */
    void declare(Transaction tx, Fid fid, PoolObject p) throws OsdException {
        tx.declareWrite(fid, 0, p.size());
        for (Copy c : p.ranges(mdIndex)) {
            if (c.state() != CopyState.PENDING) {
                for (int i = 0; i < c.parts().size(); i++) {
                    WorkIndex.declareAdd(tx, fid);
                }
                DeviceIndex.declareDelete(tx, fid, c);
            }
        }
    }

    /** Writes the spilled ranges back into the body and makes their copies garbage, in {@code tx}. */
    void apply(Transaction tx, Counters c, Fid fid, PoolObject p, Recalled r) throws OsdException {
        for (Copy src : r.sources()) {
            CopyIo.recallRange(tx, ctx::device, fid, src, p.size());
        }
        for (Span g : r.gaps()) {
            recallSpan(tx, fid, r.whole(), p.size(), g);
        }
        for (Copy g : r.collected()) {
            mc.gcJob(tx, c, fid, g);
        }
    }
}
