package dev.spillway.pool.space;

import dev.spillway.osd.Fid;
import dev.spillway.pool.layout.HsmType;
import dev.spillway.pool.layout.LovFormat;
import dev.spillway.pool.meta.Checksums;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.Counters;
import dev.spillway.pool.meta.DeviceIndex;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.LayoutView;
import dev.spillway.pool.meta.PoolFids;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.PoolObjectCodec;
import dev.spillway.pool.meta.PoolObjectStore;
import dev.spillway.pool.meta.Span;
import dev.spillway.pool.meta.Stripe;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * How much of the metadata device the pool keeps for its own work, computed from the worst case
 * (docs/design.md, "Reserve"), never guessed. The pool's own work on a full device is of two
 * kinds:
 * <ul>
 * <li>{@link dev.spillway.osd.SpaceClass#FREEING} transactions (recovery's roll-back, garbage
 * collection, deletes, releases, dropped mirrors): each frees at least what it adds before it
 * adds it, so it needs no reserve — except the counter records it may create (a device and copy
 * state new to a stripe; any of the pool's work may create one, and there are only so many):
 * {@link #counters()};</li>
 * <li>{@link dev.spillway.osd.SpaceClass#RESERVED} transactions (beginning and finishing a
 * spill, marking a copy bad, recording an orphan): at most {@link #streams()} callers run such
 * work at once ({@link ReserveSlots}), each with at most {@link #batch()} objects begun and not
 * finished. Each holds the bytes its transaction declares ({@link #perObject()} per object, at
 * most a batch at a time) and leaves, until its copies are finished or rolled back, the growth of
 * its pending copies ({@link #pendingPerObject()} each).</li>
 * </ul>
 * So the reserve is {@code streams × batch × (perObject + pendingPerObject) + counters}.
 *
 * <p>A split body (issue 20, range-level placement) has a larger record and layout than an
 * ordinary object — a copy per spilled range with its span (record version 3), and each mirror
 * split into PFL components at the ranges' boundaries — with no bound of its own: its ranges are
 * as many as range spills make. But its RESERVED work (a range spill's begin, a copy of it marked
 * bad or lost) is done one object at a time, never in a batch (a whole-spill batch takes the
 * reserve only for resident bodies). So one split body may use what one stream's batch may: the
 * plan gives it a budget ({@link #splitBudget}, its record and layout together) and the pool
 * refuses a range spill that would take it past the budget. The reserve is then {@code streams ×
 * max(batch × (perObject + pendingPerObject), splitBudget + overhead + splitPendingPerObject) +
 * counters}, and the budget is chosen so that the second term never exceeds the first.
 *
 * @param streams callers that may run RESERVED work at once
 * @param batch objects one caller may have begun and not finished
 * @param chunks checksums per copy the bound assumes (a body no larger than the device)
 * @param maxCopies copies one object may have while a copy is being made
 * @param record the largest pool record ({@code trusted.spillway.obj}) of such an object
 * @param layout the largest layout xattr ({@code trusted.lov}) of such an object
 * @param perObject bytes one object's begin or finish declares
 * @param pendingPerObject bytes a pending copy adds until it is finished or rolled back
 * @param splitBudget the most a split body's record and layout may hold together (a range spill
 *     past it is refused)
 * @param splitPerObject bytes one split body's RESERVED transaction declares at most: its budget,
 *     the xattr names, jobs, an index entry and counters as for {@code perObject}
 * @param splitPendingPerObject bytes a pending copy of a range adds until it is finished or rolled
 *     back (its record entry and span, its mirror's up to three components, its job and index entry)
 * @param counters bytes of every counter record a FREEING transaction could create
 * @param total the reserve
 */
public record ReservePlan(
        int streams,
        int batch,
        int chunks,
        int maxCopies,
        long record,
        long layout,
        long perObject,
        long pendingPerObject,
        long splitBudget,
        long splitPerObject,
        long splitPendingPerObject,
        long counters,
        long total) {

    /** Callers that may run the pool's RESERVED work at once: the daemon's spill streams (3 at most), an emergency spill, the admin API, a reader marking a copy bad. */
    public static final int STREAMS = 6;
    /** Objects one caller may have begun and not finished (a spill batch). */
    public static final int BATCH = 8;

    /**
     * The plan for a pool.
     *
     * @param devices the pool's devices (indexes 0..devices-1)
     * @param mdIndex the metadata device's index
     * @param background the background devices' indexes
     * @param types each device's HSM foreign type
     * @param capacity the metadata device's capacity in bytes (bounds a resident body, so the
     *     checksums a copy of it carries)
     */
    public static ReservePlan of(
            int devices, int mdIndex, List<Integer> background, IntFunction<HsmType> types, long capacity) {
        return of(devices, mdIndex, background, types, capacity, 1);
    }

    /**
     * The plan for a pool whose widest striping tier stripes a copy over {@code maxStripes}
     * devices (1: no striping). A striped copy begins with a COPY job, a device index entry and a
     * counter per stripe, its GC jobs are per stripe, and its record carries each stripe's device,
     * key, length and checksums: the worst object's copies are all striped that wide.
     */
    public static ReservePlan of(
            int devices,
            int mdIndex,
            List<Integer> background,
            IntFunction<HsmType> types,
            long capacity,
            int maxStripes) {
        return of(devices, mdIndex, background, types, capacity, maxStripes, LovFormat.XATTR_SIZE_MAX);
    }

    /**
     * The plan for a pool whose metadata device stores xattr values of at most {@code maxXattr}
     * bytes: a split body's budget is no more than its record and layout can be.
     */
    public static ReservePlan of(
            int devices,
            int mdIndex,
            List<Integer> background,
            IntFunction<HsmType> types,
            long capacity,
            int maxStripes,
            int maxXattr) {
        int stripes = Math.max(1, maxStripes);
        long chunkSize = 1L << Checksums.MIN_SHIFT;
        long c = Math.max(1, (Math.max(1, capacity) + chunkSize - 1) / chunkSize);
        int chunks = (int) Math.min(Checksums.MAX_CHUNKS, c);
        // A copy being made while the object has its body on the metadata device, and on each
        // background device an in-sync or stale copy plus the pending one (a stale copy is replaced
        // only when the new one is finished).
        int bg = Math.max(1, background.size());
        int maxCopies = 1 + 2 * bg;
        // Without a background device no copy is ever made; the metadata device stands in for one
        // (an index the pool has: the layout encoder asks each copy's device for its type), which
        // only over-sizes the reserve.
        PoolObject worst =
                object(mdIndex, background.isEmpty() ? List.of(mdIndex) : background, maxCopies, chunks, stripes);
        PoolObject oneLess = new PoolObject(
                worst.size(),
                worst.dataVersion(),
                worst.layoutGen(),
                worst.blocks(),
                worst.copies().subList(0, worst.copies().size() - 1));
        Fid fid = new Fid(0x200000400L, 1, 0);
        long record = PoolObjectCodec.encode(worst).length;
        long layout = LayoutView.encode(fid, worst, mdIndex, types).length;
        long names = utf8(PoolObjectCodec.XATTR) + utf8(PoolObjectStore.LAYOUT_XATTR);
        long job = Job.KEY_BYTES + Job.VALUE_BYTES;
        // Begin: the record and layout, the COPY job, the device index entry, the counters. Finish:
        // the same, plus a GC job per stale copy it replaces (one per background device at most).
        // A striped copy has all of these per stripe.
        long perObject =
                record + layout + names + stripes * (job * (1 + bg) + DeviceIndex.KEY_BYTES + Counters.RECORD_BYTES);
        long pendingCopy = PoolObjectCodec.encode(worst).length
                - PoolObjectCodec.encode(oneLess).length
                - 4L * chunks; // a pending copy has no checksums yet
        long pendingMirror = layout - LayoutView.encode(fid, oneLess, mdIndex, types).length;
        long pendingPerObject = pendingCopy + pendingMirror + stripes * (job + DeviceIndex.KEY_BYTES);
        long counters = (long) PoolFids.STRIPES * devices * CopyState.values().length * Counters.RECORD_BYTES;

        // A split body takes, per stream, what a batch would: its pending copy of a range is
        // measured on a sample (a range's mirror has at most three components: the range and the
        // stale parts before and after it), the rest is its budget.
        long overhead = names + stripes * (job * (1 + bg) + DeviceIndex.KEY_BYTES + Counters.RECORD_BYTES);
        List<Integer> bgs = background.isEmpty() ? List.of(mdIndex) : background;
        PoolObject one = splitSample(mdIndex, bgs, stripes, true);
        PoolObject none = splitSample(mdIndex, bgs, stripes, false);
        long splitPending = PoolObjectCodec.encode(one).length
                - PoolObjectCodec.encode(none).length
                + LayoutView.encode(fid, one, mdIndex, types).length
                - LayoutView.encode(fid, none, mdIndex, types).length
                + stripes * (job + DeviceIndex.KEY_BYTES);
        long batchTerm = (long) BATCH * (perObject + pendingPerObject);
        long splitBudget = batchTerm - overhead - splitPending;
        splitBudget = Math.min(splitBudget, 2L * Math.min(maxXattr, LovFormat.XATTR_SIZE_MAX));
        long splitPerObject = splitBudget + overhead;
        long perStream = Math.max(batchTerm, splitPerObject + splitPending);
        long total = STREAMS * perStream + counters;
        return new ReservePlan(
                STREAMS,
                BATCH,
                chunks,
                maxCopies,
                record,
                layout,
                perObject,
                pendingPerObject,
                splitBudget,
                splitPerObject,
                splitPending,
                counters,
                total);
    }

    /**
     * A split body holding {@code [0, 64K)} and {@code [128K, EOF)}, with its copy of {@code [64K,
     * 128K)} pending on {@code background} if {@code withRange} — striped over {@code stripes} of them
     * if more than one (a copy of a range is striped as a whole copy is).
     */
    private static PoolObject splitSample(int mdIndex, List<Integer> background, int stripes, boolean withRange) {
        int device = background.get(0);
        long a = Span.ALIGN;
        Fid fid = new Fid(0x200000400L, 1, 0);
        List<Copy> cs = new ArrayList<>();
        cs.add(new Copy(1, mdIndex, fid, CopyState.IN_SYNC, 1, 1, true, Checksums.NONE)
                .withSpans(List.of(new Span(0, a), new Span(2 * a, Span.EOF))));
        if (withRange && stripes > 1) {
            List<Stripe> ss = new ArrayList<>();
            for (int k = 0; k < stripes; k++) {
                ss.add(new Stripe(background.get(k % background.size()), PoolFids.copy(1 + k), 1, Checksums.NONE));
            }
            cs.add(Copy.stripedRange(2, CopyState.PENDING, 1, 1 << 30, ss, new Span(a, 2 * a)));
        } else if (withRange) {
            cs.add(Copy.ranged(
                    2, device, PoolFids.copy(1), CopyState.PENDING, 1, a, Checksums.NONE, new Span(a, 2 * a)));
        }
        return new PoolObject(3 * a, 1, 1, 0, cs);
    }

    private static PoolObject object(int mdIndex, List<Integer> background, int copies, int chunks, int stripes) {
        List<Copy> cs = new ArrayList<>();
        Fid fid = new Fid(0x200000400L, 1, 0);
        cs.add(new Copy(1, mdIndex, fid, CopyState.IN_SYNC, 1, 1, true, Checksums.NONE));
        // A stripe holds at most one stripe unit more than its share of the body: its checksums
        // at most one chunk more than its share of the copy's.
        int perStripe = stripes == 1 ? chunks : (chunks + stripes - 1) / stripes + 1;
        for (int i = 1; i < copies; i++) {
            int dev = background.get((i - 1) % background.size());
            CopyState state = i == copies - 1 ? CopyState.PENDING : CopyState.IN_SYNC;
            if (stripes == 1) {
                cs.add(new Copy(
                        i + 1,
                        dev,
                        PoolFids.copy(i),
                        state,
                        1,
                        1,
                        false,
                        new Checksums(Checksums.MIN_SHIFT, new int[chunks])));
                continue;
            }
            List<Stripe> ss = new ArrayList<>();
            for (int k = 0; k < stripes; k++) {
                ss.add(new Stripe(
                        background.get((i - 1 + k) % background.size()),
                        PoolFids.copy(i * stripes + k),
                        1,
                        new Checksums(Checksums.MIN_SHIFT, new int[perStripe])));
            }
            cs.add(Copy.striped(i + 1, state, 1, false, 1 << 30, ss));
        }
        return new PoolObject(1, 1, 1, 0, cs);
    }

    private static long utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    /** One line for logs and {@code df}. */
    public String describe() {
        long batchTerm = (long) batch * (perObject + pendingPerObject);
        long splitTerm = splitPerObject + splitPendingPerObject;
        return total + " bytes = " + streams + " streams x "
                + (batchTerm >= splitTerm
                        ? batch + " objects x (" + perObject + " declared + " + pendingPerObject + " pending)"
                        : "1 split body (" + splitPerObject + " declared + " + splitPendingPerObject + " pending)")
                + ", a split body's record and layout at most " + splitBudget
                + " + " + counters + " of counters";
    }
}
