package dev.spillway.pool.space;

import dev.spillway.osd.Fid;
import dev.spillway.pool.layout.HsmType;
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
 * @param streams callers that may run RESERVED work at once
 * @param batch objects one caller may have begun and not finished
 * @param chunks checksums per copy the bound assumes (a body no larger than the device)
 * @param maxCopies copies one object may have while a copy is being made
 * @param record the largest pool record ({@code trusted.spillway.obj}) of such an object
 * @param layout the largest layout xattr ({@code trusted.lov}) of such an object
 * @param perObject bytes one object's begin or finish declares
 * @param pendingPerObject bytes a pending copy adds until it is finished or rolled back
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
        long total = (long) STREAMS * BATCH * (perObject + pendingPerObject) + counters;
        return new ReservePlan(
                STREAMS, BATCH, chunks, maxCopies, record, layout, perObject, pendingPerObject, counters, total);
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
        return total + " bytes = " + streams + " streams x " + batch + " objects x (" + perObject + " declared + "
                + pendingPerObject + " pending) + " + counters + " of counters";
    }
}
