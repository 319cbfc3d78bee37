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
import dev.spillway.pool.io.SplitBody;
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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

/**
 * Range-level placement (issue 20): a range of an object's body spilled to a background device
 * and released on the metadata device, and spilled ranges recalled.
 *
 * <p>A range spill is the spill protocol on part of the body: (1) the pending copy of the range
 * (one object on the target holding the range's bytes from offset 0) enters the layout with its
 * COPY job in one durable metadata transaction; (2) the range is copied from the metadata device,
 * without the object's lock, and made durable on the target (the copies {@code replicas} asks
 * for are written up to {@link MoveOptions#writers} side by side, each to its own devices); (3) in one metadata transaction, only
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
     * Spills {@code [start, end)} of the body ({@code end} at or past the size: to the end) and
     * releases it on the metadata device, keeping {@code replicas} durable copies of it: the durable
     * in-sync copies that hold the range already (whole copies, copies of ranges covering it) count,
     * and if they are enough the range is only released, no byte copied; else the missing copies of
     * the range are made, {@code target} first, each on its own background devices holding none of
     * the range's bytes (a copy striped over its tier takes each of its stripes' devices), and the
     * range is released in the flip that puts them in sync.
     *
     * @return Done; NothingToDo if the body does not hold the range or holds nothing else; Refused
     *     if the target takes no copies, the metadata device cannot punch, too few devices may take
     *     the missing copies, or the record would pass the split body's budget; Parked if a target
     *     failed the write; Changed if the object changed meanwhile (the new copies are garbage)
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
        return mc.slotted(o, () -> {
            // Keys for every copy the range may need, each striped as wide as the pool's widest
            // tier (those left unused are skipped: keys are never reused), each in flight (the
            // daemon leaves its COPY jobs alone) until its flip or roll-back has ended.
            int width = 1;
            for (PoolDevice d : ctx.devices()) {
                width = Math.max(
                        width,
                        ctx.config()
                                .stripeTier(d.name())
                                .map(t -> t.stripeCount())
                                .orElse(1));
            }
            List<Fid> ks = new ArrayList<>();
            for (int i = 0; i < Math.max(1, ctx.replicas()) * width; i++) {
                ks.add(keys.next());
            }
            ks.forEach(mc.inFlight::enter);
            try {
                return copyRange(fid, target, start, end, ks, width, o);
            } finally {
                ks.forEach(mc.inFlight::leave);
            }
        });
    }

    /**
     * The pending copy of {@code span} ({@code len} bytes) of {@code p} placed on {@code target}
     * under keys {@code ks}: striped RAID0 over the target's stripe set when its tier stripes a body
     * of the range's length (the rule whole copies follow, by the range's size; devices that already
     * hold bytes of the range are left out of the set), else one object.
     */
    Copy pendingRange(PoolObject p, PoolDevice target, Span span, long len, List<Fid> ks) {
        return pendingRange(p, target, span, len, ks, Integer.MAX_VALUE);
    }

    /**
     * {@link #pendingRange(PoolObject, PoolDevice, Span, long, List)} striped over at most {@code
     * cap} devices (the target and the next ones of its stripe set): the stripe count lowered so
     * that the other copies of the range keep devices of their own.
     */
    private Copy pendingRange(PoolObject p, PoolDevice target, Span span, long len, List<Fid> ks, int cap) {
        List<PoolDevice> set = ctx.stripeSet(target, len, d -> !holdsPartOf(p, d, span));
        if (set.size() > cap) {
            set = set.subList(0, Math.max(1, cap));
        }
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

    /**
     * What step 1 began: the pending copies, the COPY jobs of each (one per part), and what the
     * placement says of itself (a lowered stripe count; empty if nothing).
     */
    private record Begun(List<Copy> copies, List<List<Job>> jobs, String note) {}

    /** Steps 1 to 3 of a range's copies under keys {@code ks} ({@code width} per copy), or its release alone. */
    private MoveResult copyRange(
            Fid fid, PoolDevice target, long start, long end, List<Fid> ks, int width, MoveOptions o)
            throws OsdException {
        Object begun = mc.locked(fid, o, () -> begin(fid, target, start, end, ks, width));
        if (begun instanceof MoveResult r) {
            return r;
        }
        Begun b = (Begun) begun;
        // Step 2: every copy of the range written and made durable, up to the move's writers side
        // by side (the daemon's spill-writers: a range's copies count against the bound a spill
        // batch's copies do; 1 writes them one after another on this thread), each to its own
        // devices (they share none), on the pool's copy-writer threads as a spill batch's copies
        // are; a striped copy writes its stripes side by side within that. One failing makes every
        // new copy garbage, once all have ended (none is left writing to a key being collected).
        int n = b.copies().size();
        List<List<Stripe>> written = new ArrayList<>(Collections.nCopies(n, null));
        OsdException[] failed = new OsdException[n];
        AtomicInteger next = new AtomicInteger();
        mc.writers.run(Math.min(o.writers(), n), () -> {
            int i;
            while ((i = next.getAndIncrement()) < n) {
                Copy c = b.copies().get(i);
                try {
                    written.set(
                            i,
                            CopyIo.writeRangeDurably(
                                    CopyIo.of(mc.md(), fid), start, fid, c.bytes(), c, ctx::device, o.pacer()));
                } catch (OsdException e) {
                    failed[i] = e;
                }
            }
        });
        for (int i = 0; i < n; i++) {
            OsdException e = failed[i];
            if (e == null) {
                continue;
            }
            Copy c = b.copies().get(i);
            mc.locked(fid, () -> {
                for (List<Job> js : b.jobs()) {
                    garbage.discard(js.get(0), mc.loadIfExists(fid).orElse(null));
                }
                return null;
            });
            if (e.is(Errno.ENOSPC) || e.is(Errno.EDQUOT) || e.is(Errno.EIO)) {
                return new MoveResult.Parked(mc.where(c) + " could not take the range: " + e.getMessage(), e);
            }
            if (e.is(Errno.ENOENT) || e.is(Errno.ESTALE)) {
                return new MoveResult.Changed("the object changed during the copy: " + e.getMessage());
            }
            throw e;
        }
        return mc.locked(fid, o, () -> finish(fid, b, written));
    }

    /**
     * The durable in-sync copies off the metadata device that hold {@code span} of {@code p} (whole
     * copies, copies of ranges covering it) on readable devices: what counts toward {@code replicas}
     * for a range.
     */
    private List<Copy> durableHolders(PoolObject p, Span span) {
        List<Copy> out = p.holdersOf(span, null);
        out.removeIf(c -> c.device() == mdIndex || !ctx.durable(c) || !ctx.readable(c));
        return out;
    }

    /**
     * True if {@code d} may take a new copy of {@code span} of {@code p}: a writable durable
     * background device holding none of its bytes (in any copy, pending ones too).
     */
    private boolean mayTake(PoolDevice d, PoolObject p, Span span) {
        return mc.refusal(d) == null && d.durability() > 0 && !holdsPartOf(p, d, span);
    }

    /** True if {@code d} reports room for {@code bytes} more (a device that cannot say is passed over). */
    private static boolean hasRoom(PoolDevice d, long bytes) {
        try {
            return d.statfs().availableBytes() > bytes;
        } catch (OsdException e) {
            return false;
        }
    }

    /**
     * Places up to {@code need} pending copies of {@code span} ({@code len} bytes) of {@code p}, one
     * on each of {@code candidates} in turn that may take one (the first the named target), each
     * striped over at most {@code cap} devices and placed knowing the ones before it, so no two
     * share a device; copy {@code k} takes keys {@code [k * width, (k + 1) * width)} of {@code ks}.
     * Fewer than {@code need} if the devices run out.
     */
    private List<Copy> place(
            PoolObject p,
            List<PoolDevice> candidates,
            Span span,
            long len,
            int need,
            List<Fid> ks,
            int width,
            int cap) {
        PoolObject next = p;
        List<Copy> pending = new ArrayList<>();
        for (PoolDevice d : candidates) {
            if (pending.size() >= need) {
                break;
            }
            if (!mayTake(d, next, span)) {
                continue;
            }
            List<Fid> mine = ks.subList(pending.size() * width, (pending.size() + 1) * width);
            Copy c = pendingRange(next, d, span, len, mine, cap);
            pending.add(c);
            next = next.add(c);
        }
        return pending;
    }

    /**
     * Step 1, the object's lock held: the pending copies of the range and their COPY jobs in one
     * durable metadata transaction (a {@link Begun}); or, if the durable copies holding the range
     * already number {@code replicas}, the range released at once; or why nothing was done (a
     * {@link MoveResult} either way). Each copy after the first is placed knowing the ones before
     * it, so no two share a device.
     */
    private Object begin(Fid fid, PoolDevice target, long start, long end, List<Fid> ks, int width)
            throws OsdException {
        PoolObject p = mc.load(fid);
        Optional<Copy> local = p.on(mdIndex).filter(c -> c.state() == CopyState.IN_SYNC);
        MoveResult nothing = new MoveResult.NothingToDo(
                "range [" + start + ", " + end + ") of " + fid + " is not resident whole, or is all that is resident");
        if (local.isEmpty() || start >= p.size()) {
            return nothing;
        }
        Span span = Span.of(start, end, p.size());
        long to = Math.min(span.end(), p.size());
        List<Span> rest = Span.subtract(local.get().held(), span);
        if (!Span.covers(local.get().held(), start, to)
                || rest.isEmpty()
                || rest.get(0).start() >= p.size()) {
            return nothing;
        }
        List<Copy> holders = durableHolders(p, span);
        int need = ctx.replicas() - holders.size();
        if (need <= 0) {
            return releaseHeld(fid, p, local.get(), span, holders);
        }
        for (Copy c : p.copies()) {
            if (c.device() != mdIndex && c.state() == CopyState.PENDING && c.onDevice(target.index())) {
                throw new OsdException(
                        Errno.EBUSY, ctx.name(), fid, "a copy to " + target.name() + " is already being made");
            }
        }
        List<PoolDevice> candidates = new ArrayList<>();
        candidates.add(target);
        for (PoolDevice d : ctx.devices()) {
            if (d != target && hasRoom(d, to - start)) {
                candidates.add(d);
            }
        }
        // The copies at their tiers' stripe counts if they fit on devices of their own; else (a
        // tier striped across every spill device leaves none for a second copy) each copy is
        // striped over at most the devices that may take one divided by the copies missing — the
        // stripe count lowered as Lustre lowers it when OSTs are short — never sharing a device.
        List<Copy> placed = place(p, candidates, span, to - start, need, ks, width, Integer.MAX_VALUE);
        String narrowed = "";
        if (placed.size() < need && width > 1) {
            int eligible = 0;
            for (PoolDevice d : candidates) {
                if (mayTake(d, p, span)) {
                    eligible++;
                }
            }
            for (int cap = Math.min(width - 1, Math.max(1, eligible / need)); cap >= 1 && placed.size() < need; cap--) {
                placed = place(p, candidates, span, to - start, need, ks, width, cap);
                narrowed = "; stripe count lowered to " + cap + " so that the " + need + " copies of the range"
                        + " each have devices of their own (" + eligible + " background devices may take one)";
            }
        }
        List<Copy> pending = placed;
        if (pending.size() < need) {
            return new MoveResult.Refused("the pool keeps " + ctx.replicas() + " copies of the range " + span + " of "
                    + fid + ": " + holders.size() + " durable cop" + (holders.size() == 1 ? "y holds" : "ies hold")
                    + " it, and background devices holding none of its bytes can take " + pending.size() + " of the "
                    + need + " missing (each copy needs devices of its own: add background devices, or lower"
                    + " replicas)");
        }
        PoolObject next = p;
        for (Copy c : pending) {
            next = next.add(c);
        }
        Copy kept = local.get().withSpans(rest);
        PoolObject fin = next;
        for (Copy c : pending) {
            Copy f = flipped(c, p.dataVersion(), to - start);
            fin = fin.replace(c.mirrorId(), x -> f);
        }
        fin = fin.replace(kept.mirrorId(), x -> kept);
        if (ctx.reservePlan().isPresent()
                && ctx.store().storedBytes(fid, fin) > ctx.reservePlan().get().splitBudget()) {
            return new MoveResult.Refused(overBudget(fid).getMessage());
        }
        Optional<String> big = ctx.store().overBound(fid, fin);
        if (big.isEmpty()) {
            big = ctx.store().overBound(fid, next);
        }
        if (big.isPresent()) {
            return new MoveResult.Refused(tooLarge(fid, big.get()));
        }
        List<List<Job>> jobs = new ArrayList<>();
        for (Copy c : pending) {
            jobs.add(Job.perPart(Job.Kind.COPY, fid, c, p.dataVersion(), ctx.nowNanos()));
        }
        AttrChange times = ctx.store().times(fid);
        PoolObject stored = next;
        mc.meta(
                fid,
                true,
                SpaceClass.RESERVED,
                (tx, cs) -> {
                    for (Copy c : pending) {
                        for (int i = 0; i < c.parts().size(); i++) {
                            WorkIndex.declareAdd(tx, fid);
                        }
                        DeviceIndex.declareInsert(tx, fid, c);
                    }
                    ctx.store().declare(tx, fid, stored);
                },
                (tx, cs) -> {
                    for (List<Job> js : jobs) {
                        for (Job j : js) {
                            WorkIndex.add(tx, j);
                        }
                    }
                    for (Copy c : pending) {
                        DeviceIndex.insert(tx, fid, c);
                        cs.add(c, CopyState.PENDING, +1);
                    }
                    ctx.store().store(tx, fid, stored, times);
                });
        return new Begun(pending, jobs, narrowed);
    }

    /**
     * The range released on the metadata device with no copy made, the object's lock held: the
     * durable copies {@code holders} hold it, as many as the pool keeps. One metadata transaction.
     */
    private MoveResult releaseHeld(Fid fid, PoolObject p, Copy local, Span span, List<Copy> holders)
            throws OsdException {
        Copy kept = local.withSpans(Span.subtract(local.held(), span));
        if (ctx.reservePlan().isPresent()
                && ctx.store().storedBytes(fid, p.replace(kept.mirrorId(), c -> kept))
                        > ctx.reservePlan().get().splitBudget()) {
            return new MoveResult.Refused(overBudget(fid).getMessage());
        }
        Optional<String> big = ctx.store().overBound(fid, p.replace(kept.mirrorId(), c -> kept));
        if (big.isPresent()) {
            return new MoveResult.Refused(tooLarge(fid, big.get()));
        }
        long blocks = p.split(mdIndex) ? p.blocks() : mc.md().getAttr(fid).blocks();
        PoolObject next = p.replace(kept.mirrorId(), c -> kept).withBlocks(blocks);
        release(fid, p, span, next, List.of());
        long len = Math.min(span.end(), p.size()) - span.start();
        List<String> where = new ArrayList<>();
        holders.forEach(c -> where.add(mc.where(c)));
        return new MoveResult.Done(
                len,
                "released " + len + " bytes of " + fid + " " + span + ", held by " + holders.size()
                        + " durable cop" + (holders.size() == 1 ? "y" : "ies") + " already (" + String.join(", ", where)
                        + "): no copy made");
    }

    /**
     * One FREEING metadata transaction: {@code span} released on the metadata device (punched, or
     * truncated away when it runs to the end), the record {@code next} stored, and each copy of
     * {@code flipped} (PENDING before, IN_SYNC in {@code next}) counted, its COPY jobs (one per
     * part) removed.
     */
    private void release(Fid fid, PoolObject p, Span span, PoolObject next, List<Copy> flipped) throws OsdException {
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
                    for (Copy x : flipped) {
                        for (int i = 0; i < x.parts().size(); i++) {
                            WorkIndex.declareRemove(tx, fid);
                        }
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
                    for (Copy x : flipped) {
                        for (Job j : Job.perPart(Job.Kind.COPY, fid, x, x.version(), 0)) {
                            WorkIndex.remove(tx, j);
                        }
                        Copy now = next.byKey(x.key()).orElseThrow();
                        c.add(x, CopyState.PENDING, -1).add(now, CopyState.IN_SYNC, +1);
                    }
                    ctx.store().store(tx, fid, next, times);
                });
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

    /** The refusal of a range spill whose record or layout would not fit an xattr value ({@code why}). */
    private static String tooLarge(Fid fid, String why) {
        return "one more range of " + fid + " spilled would not fit the metadata device: " + why
                + "; spill a larger range, or the object whole";
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
     * Step 3: the copies of the range in sync ({@code written}: each one's parts as written, its
     * object or its stripes) and the range released locally, in one metadata transaction, if the
     * data version is unchanged and the body still holds the range; else every new copy garbage.
     */
    private MoveResult finish(Fid fid, Begun b, List<List<Stripe>> written) throws OsdException {
        Optional<PoolObject> now = mc.loadIfExists(fid);
        Optional<Copy> local = now.flatMap(p -> p.on(mdIndex)).filter(c -> c.state() == CopyState.IN_SYNC);
        List<Copy> pending = new ArrayList<>();
        for (Copy c : b.copies()) {
            now.flatMap(p -> p.byKey(c.key()))
                    .filter(x -> x.state() == CopyState.PENDING)
                    .ifPresent(pending::add);
        }
        Span span = b.copies().get(0).spans().get(0);
        if (now.isEmpty()
                || pending.size() != b.copies().size()
                || local.isEmpty()
                || now.get().dataVersion() != b.copies().get(0).version()
                || !Span.covers(
                        local.get().held(),
                        span.start(),
                        Math.min(span.end(), now.get().size()))) {
            for (List<Job> js : b.jobs()) {
                garbage.discard(js.get(0), mc.loadIfExists(fid).orElse(null));
            }
            return new MoveResult.Changed("object " + fid + " changed while the range was copied; the copy is garbage");
        }
        PoolObject p = now.get();
        PoolObject next = p;
        List<String> where = new ArrayList<>();
        for (int i = 0; i < pending.size(); i++) {
            Copy was = pending.get(i);
            List<Stripe> parts = written.get(i);
            Copy done = was.striped()
                    ? was.inSyncStripes(p.dataVersion(), parts)
                    : was.inSync(
                            p.dataVersion(), parts.get(0).bytes(), parts.get(0).checksums());
            next = next.replace(done.mirrorId(), c -> done);
            where.add(mc.where(done));
        }
        Copy kept = local.get().withSpans(Span.subtract(local.get().held(), span));
        long blocks = p.split(mdIndex) ? p.blocks() : mc.md().getAttr(fid).blocks();
        next = next.replace(kept.mirrorId(), c -> kept).withBlocks(blocks);
        release(fid, p, span, next, pending);
        long len = Math.min(span.end(), p.size()) - span.start();
        return new MoveResult.Done(
                len, "spilled " + len + " bytes of " + fid + " " + span + " to " + String.join(", ", where) + b.note());
    }

    /**
     * Brings every spilled range of a split body home (the body whole on the metadata device
     * again), in one metadata transaction; the copies of the ranges become garbage. Each byte is
     * read from an in-sync copy holding it ({@link SplitBody#recall}): a copy of its range, else a
     * whole copy; a copy whose read fails is handed to {@code failed} with its error (the caller
     * marks it bad once the object's lock is released, {@link Migrator#recallRanges}) and the next
     * copy holding those bytes serves them. An error of the metadata device's write or commit
     * blames no copy.
     *
     * @throws OsdException EIO naming the object, the bytes, the copies tried and what to do, if no
     *     copy holding some bytes could be read (nothing of the recall is committed)
     */
    MoveResult recall(Fid fid, MoveOptions o, BiConsumer<Copy, OsdException> failed) throws OsdException {
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
                        apply(tx, c, fid, p, r, failed);
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
            List<Span> gaps = Span.gaps(have, start, to, p.size());
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
                back = ctx.store().localCopy(p, fid).withSpans(spans);
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
                                    CopyIo.recallRange(
                                            tx, ctx::device, fid, src, p.size(), e -> new CopyReadFailed(src, e));
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
                } catch (CopyReadFailed e) {
                    // Only a read of a copy is blamed on it: an error of the metadata device's
                    // write or commit is not the copy's (it is thrown as it is, below).
                    OsdException cause = e.cause();
                    if (!cause.is(Errno.EIO) && !cause.is(Errno.ENOENT)) {
                        throw cause;
                    }
                    failed.accept(e.copy, cause);
                    if (e.copy != whole) {
                        // A copy of a range failed its read: it is marked bad (its bytes are then
                        // read from a whole copy, by the next promotion); this one fails.
                        throw new OsdException(
                                Errno.EIO,
                                ctx.name(),
                                fid,
                                "range [" + start + ", " + to + ") could not be read from its copy on "
                                        + mc.where(e.copy) + " (" + cause.errno() + ")",
                                cause);
                    }
                    tried.add(mc.where(whole) + " (" + cause.errno() + ")");
                    failedOn = cause;
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

    /**
     * A read of {@code copy} that failed (its cause), told apart from an error of the metadata
     * device's write or commit in the same transaction: only the former is the copy's fault.
     */
    private static final class CopyReadFailed extends OsdException {
        private static final long serialVersionUID = 1L;

        private final transient Copy copy;

        CopyReadFailed(Copy copy, OsdException cause) {
            super(cause.errno(), cause.device(), cause.fid(), cause.detail(), cause);
            this.copy = copy;
        }

        OsdException cause() {
            return (OsdException) getCause();
        }
    }

    /** Writes {@code span} of the body into it on the metadata device, read verified from whole copy {@code c}. */
    private void recallSpan(Transaction tx, Fid fid, Copy c, long size, Span span) throws OsdException {
        long from = span.start();
        long to = Math.min(span.end(), size);
        ByteBuffer b = ByteBuffer.allocate((int) Math.min(Math.max(to - from, 1), 1 << 20));
        long off = from;
        while (off < to) {
            b.clear().limit((int) Math.min(b.capacity(), to - off));
            int n;
            try {
                n = CopyIo.readVerified(ctx::device, fid, c, size, off, b);
            } catch (OsdException e) {
                throw new CopyReadFailed(c, e);
            }
            if (n <= 0) {
                throw new CopyReadFailed(
                        c,
                        new OsdException(
                                Errno.EIO,
                                mc.where(c),
                                fid,
                                "copy " + c.key() + " ends at " + off + " of " + size + " (recalling " + span + ")"));
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
     * What a recall of a split body makes of it: the body whole again ({@code next}), the copies of
     * its ranges gone ({@code collected}); {@code missing} the bytes the metadata device does not
     * hold, {@code bytes} long.
     */
    record Recalled(PoolObject next, List<Copy> collected, long bytes, List<Span> missing) {}

    /**
     * Plans the recall of every range the body on the metadata device does not hold (read by
     * {@link #apply} from the copies holding them, copies of ranges first); every copy of a range
     * not still being copied is collected.
     */
    Recalled plan(PoolObject p) {
        Copy local = p.on(mdIndex).orElseThrow();
        List<Span> missing = Span.gaps(local.held(), 0, p.size(), p.size());
        long bytes = 0;
        for (Span g : missing) {
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
        return new Recalled(next, collected, bytes, missing);
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

    /**
     * Writes the spilled ranges back into the body and makes their copies garbage, in {@code tx};
     * a copy whose read fails goes to {@code failed} and the next copy holding its bytes serves.
     */
    void apply(Transaction tx, Counters c, Fid fid, PoolObject p, Recalled r, BiConsumer<Copy, OsdException> failed)
            throws OsdException {
        SplitBody.recall(
                tx, mdIndex, ctx::device, ctx::readable, fid, p, r.missing(), failed, ctx.name(), "the recall");
        for (Copy g : r.collected()) {
            mc.gcJob(tx, c, fid, g);
        }
    }
}
