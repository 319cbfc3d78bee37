package dev.spillway.migrate.heat;

import dev.spillway.osd.Fid;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.DoubleSupplier;

/**
 * Heat per extent of the pool's big objects (range-level placement, issue 20): objects of at least
 * {@link ExtentConfig#threshold()} bytes are cut into extents of {@link ExtentConfig#extentSize()}
 * bytes, and each extent has its own decayed access count, kept as {@link HeatTracker} keeps an
 * object's — {@code key = T + log2(count at T)} on the tracker's logical clock (so it halves with
 * the same half-life) — and one bit saying whether the daemon believes it spilled.
 *
 * <h2>What counts</h2>
 * The pool's rule ({@code PoolListener}), per extent: a read that starts a read access counts once
 * for every extent it touches; a read that continues a stream counts only for the extents it
 * reaches past the one where the stream's last read ended (so reading an extent in many small
 * reads of one stream is one access of it, and a stream through the whole body is one access of
 * each extent). A transaction counts once for every extent its changes touched, however many
 * writes it made there; one that continues an earlier access (a body staged in several
 * transactions) does not count again the extent where the previous one ended.
 *
 * <h2>Memory</h2>
 * {@value #BYTES_PER_EXTENT} bytes per extent (its key, a double) and one bit (its residency), plus
 * at most about {@value #BYTES_PER_OBJECT} bytes per tracked object (map entry, FID, record, array
 * headers). At most {@link ExtentConfig#cap()} extents are tracked, all objects together: an object
 * that would pass the cap is not tracked (it is placed whole, as before), and one that grows past
 * it is dropped. With the defaults (256 MiB threshold, 64 MiB extents, 262,144 extents) that is
 * 2 MiB of keys and at most 65,536 objects' overhead, about 12.6 MiB in all. Checkpointed with the
 * object heat ({@link HeatCheckpoint} version 5: {@link #saved()}, {@link #restore}): each tracked
 * object's keys and residency bits; the keys are on the tracker's logical clock, which resumes where
 * the checkpoint left it, so an extent's heat after a restart is what it was.
 *
 * <p>Thread-safe: one lock per object, held for a few array updates; no I/O.
 */
public final class ExtentHeat {
    /** Heap bytes per tracked extent: its key. */
    public static final int BYTES_PER_EXTENT = 8;

    /** An upper estimate of the heap bytes of a tracked object beyond its extents. */
    public static final int BYTES_PER_OBJECT = 160;

    private static final int[] NONE = new int[0];

    private final ExtentConfig cfg;
    private final DoubleSupplier clock;
    private final ConcurrentHashMap<Fid, Obj> objects = new ConcurrentHashMap<>();
    private final AtomicLong extents = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();

    /** One object's extents; guarded by itself. */
    private static final class Obj {
        long size;
        double[] key;
        long[] spilled;
        boolean dead;

        Obj(long size, int n) {
            this.size = size;
            this.key = new double[n];
            Arrays.fill(key, Double.NEGATIVE_INFINITY);
            this.spilled = new long[(n + 63) / 64];
        }

        boolean isSpilled(int e) {
            return (spilled[e >>> 6] & (1L << e)) != 0;
        }

        void setSpilled(int e, boolean s) {
            if (s) {
                spilled[e >>> 6] |= 1L << e;
            } else {
                spilled[e >>> 6] &= ~(1L << e);
            }
        }

        /**
         * How many extents are believed spilled: a population count of the bit words, so the
         * per-read checks below cost a few words, not a loop over every extent. Bits at or past
         * {@code key.length} are always clear (a resize and a reload clear them).
         */
        int spilledCount() {
            int c = 0;
            for (long w : spilled) {
                c += Long.bitCount(w);
            }
            return c;
        }
    }

    /** How a body's bytes are held, as the pool's record says (for {@link #sync}). */
    @FunctionalInterface
    public interface Held {
        /** True if the fast tier holds every byte of {@code [from, to)}. */
        boolean resident(long from, long to);
    }

    /**
     * @param cfg threshold, extent size, cap
     * @param clock the logical time now, in half-lives ({@link HeatTracker#logicalNow()})
     */
    public ExtentHeat(ExtentConfig cfg, DoubleSupplier clock) {
        this.cfg = cfg;
        this.clock = clock;
    }

    public ExtentConfig config() {
        return cfg;
    }

    /** Extents tracked now, all objects together (never above the cap). */
    public long trackedExtents() {
        return extents.get();
    }

    /** Objects tracked per extent now. */
    public int trackedObjects() {
        return objects.size();
    }

    /** Big objects not tracked because the cap was reached (since start). */
    public long refused() {
        return refused.get();
    }

    /** An upper estimate of the heap this takes: {@link #BYTES_PER_EXTENT} per extent and a bit, and {@link #BYTES_PER_OBJECT} per object. */
    public long footprintBytes() {
        long e = extents.get();
        return e * BYTES_PER_EXTENT + (e + 7) / 8 + (long) objects.size() * BYTES_PER_OBJECT;
    }

    /** True if {@code fid} is tracked per extent. */
    public boolean tracked(Fid fid) {
        return objects.containsKey(fid);
    }

    private boolean reserve(long n) {
        while (true) {
            long now = extents.get();
            if (now + n > cfg.cap()) {
                return false;
            }
            if (extents.compareAndSet(now, now + n)) {
                return true;
            }
        }
    }

    /**
     * The record of {@code fid} at {@code size} bytes, made or resized as needed; null if the
     * object is not tracked (too small, or past the cap). Returned locked-free: callers lock it and
     * check {@code dead}.
     */
    private Obj obtain(Fid fid, long size) {
        if (!cfg.covers(size)) {
            forget(fid);
            return null;
        }
        long n = cfg.extentsOf(size);
        Obj o = objects.get(fid);
        if (o == null) {
            if (!reserve(n)) {
                refused.incrementAndGet();
                return null;
            }
            Obj made = new Obj(size, (int) n);
            o = objects.putIfAbsent(fid, made);
            if (o != null) {
                extents.addAndGet(-n);
            } else {
                return made;
            }
        }
        synchronized (o) {
            if (o.dead) {
                return null;
            }
            if (o.key.length != n) {
                long delta = n - o.key.length;
                if (delta > 0 && !reserve(delta)) {
                    refused.incrementAndGet();
                    drop(fid, o);
                    return null;
                }
                if (delta < 0) {
                    extents.addAndGet(delta);
                }
                int old = o.key.length;
                o.key = Arrays.copyOf(o.key, (int) n);
                if (n > old) {
                    Arrays.fill(o.key, old, (int) n, Double.NEGATIVE_INFINITY);
                }
                o.spilled = Arrays.copyOf(o.spilled, (int) ((n + 63) / 64));
                for (int e = (int) n; e < o.spilled.length * 64; e++) {
                    o.setSpilled(e, false);
                }
            }
            if (o.size != size) {
                // The pool recalls a body whole before a change of its size: all resident.
                Arrays.fill(o.spilled, 0);
                o.size = size;
            }
        }
        return o;
    }

    /** Forgets {@code fid} (destroyed, or no longer big). */
    public void forget(Fid fid) {
        Obj o = objects.get(fid);
        if (o != null) {
            synchronized (o) {
                drop(fid, o);
            }
        }
    }

    // Holds o's lock.
    private void drop(Fid fid, Obj o) {
        if (!o.dead && objects.remove(fid, o)) {
            o.dead = true;
            extents.addAndGet(-o.key.length);
        }
    }

    private static double add(double key, double t) {
        double c = key == Double.NEGATIVE_INFINITY ? 0 : Math.pow(2, key - t);
        return t + Math.log(c + 1) / Math.log(2);
    }

    private static double count(double key, double t) {
        return key == Double.NEGATIVE_INFINITY ? 0 : Math.pow(2, key - t);
    }

    /**
     * A read call of {@code n} bytes at {@code offset} of a body of {@code size} bytes: counts the
     * extents it reaches (see the rule above); if {@code lastResident} is not null, it says whether
     * the fast tier served the read's last extent, which updates that extent's residency.
     *
     * @param promoteAt a spilled extent whose count reaches this is returned
     * @return the spilled extents this read made hot enough to promote (usually none)
     */
    public int[] read(Fid fid, long size, long offset, int n, boolean access, Boolean lastResident, double promoteAt) {
        if (n <= 0 || !cfg.covers(size)) {
            if (!cfg.covers(size)) {
                forget(fid);
            }
            return NONE;
        }
        Obj o = obtain(fid, size);
        if (o == null) {
            return NONE;
        }
        long es = cfg.extentSize();
        double t = clock.getAsDouble();
        synchronized (o) {
            if (o.dead) {
                return NONE;
            }
            int last = (int) Math.min(o.key.length - 1, (offset + n - 1) / es);
            int first = (int) (access || offset == 0 ? offset / es : (offset - 1) / es + 1);
            if (lastResident != null) {
                o.setSpilled(last, !lastResident);
            }
            int[] out = NONE;
            for (int e = first; e <= last; e++) {
                o.key[e] = add(o.key[e], t);
                if (o.isSpilled(e) && count(o.key[e], t) >= promoteAt) {
                    out = Arrays.copyOf(out, out.length + 1);
                    out[out.length - 1] = e;
                }
            }
            return out;
        }
    }

    /**
     * A transaction changed {@code touched} (sorted byte ranges, {@code [start, end)} pairs flattened)
     * of the body, now {@code size} bytes: counts each extent they touch once (see the rule above,
     * {@code continued} for a transaction that continues an earlier access). The pool recalls what
     * a change of a split body touches (any other body whole, and any body whose size changed), so
     * those extents are resident now.
     */
    public void written(Fid fid, long size, long[] touched, boolean continued) {
        if (!cfg.covers(size)) {
            forget(fid);
            return;
        }
        Obj o = obtain(fid, size);
        if (o == null) {
            return;
        }
        long es = cfg.extentSize();
        double t = clock.getAsDouble();
        synchronized (o) {
            if (o.dead) {
                return;
            }
            if (!isSplit(o)) {
                // A body spilled whole is recalled whole before a change (only a split body
                // recalls just the ranges a change touches).
                Arrays.fill(o.spilled, 0);
            }
            int skipTo = -1;
            if (continued && touched.length > 0 && touched[0] > 0) {
                skipTo = (int) ((touched[0] - 1) / es);
            }
            boolean[] counted = new boolean[o.key.length];
            for (int i = 0; i + 1 < touched.length; i += 2) {
                if (touched[i] >= size && touched[i] > 0) {
                    continue;
                }
                int a = (int) Math.min(o.key.length - 1, touched[i] / es);
                int b = (int) Math.min(o.key.length - 1, (Math.max(touched[i], touched[i + 1] - 1)) / es);
                for (int e = a; e <= b; e++) {
                    o.setSpilled(e, false);
                    if (e > skipTo && !counted[e]) {
                        counted[e] = true;
                        o.key[e] = add(o.key[e], t);
                    }
                }
            }
        }
    }

    /** The size {@code fid} is tracked at (its whole body), or -1 if it is not tracked. */
    public long size(Fid fid) {
        Obj o = objects.get(fid);
        if (o == null) {
            return -1;
        }
        synchronized (o) {
            return o.dead ? -1 : o.size;
        }
    }

    /** Bytes of {@code fid} the daemon believes resident ({@code size} if it is not tracked). */
    public long residentBytes(Fid fid, long size) {
        Obj o = objects.get(fid);
        if (o == null) {
            return size;
        }
        synchronized (o) {
            if (o.dead || o.size != size) {
                return size;
            }
            int n = o.key.length;
            int c = o.spilledCount();
            if (c == 0) {
                return size;
            }
            // Every spilled extent is a whole extent long except the last one, which may be short.
            long spilledBytes = (long) c * cfg.extentSize();
            if (n > 0 && o.isSpilled(n - 1)) {
                spilledBytes -= cfg.extentSize() - length(o, n - 1);
            }
            return size - spilledBytes;
        }
    }

    private long length(Obj o, int e) {
        long es = cfg.extentSize();
        return Math.min(es, o.size - e * es);
    }

    /** True if some extents of {@code fid} are believed spilled and some resident. */
    public boolean split(Fid fid) {
        Obj o = objects.get(fid);
        if (o == null) {
            return false;
        }
        synchronized (o) {
            return isSplit(o);
        }
    }

    /** True if {@code fid} is tracked and every extent of it is believed spilled. */
    public boolean allSpilled(Fid fid) {
        Obj o = objects.get(fid);
        if (o == null) {
            return false;
        }
        synchronized (o) {
            return !o.dead && o.spilledCount() == o.key.length;
        }
    }

    // Holds o's lock.
    private static boolean isSplit(Obj o) {
        int s = o.spilledCount();
        return s > 0 && s < o.key.length;
    }

    /** Marks extent {@code e} of {@code fid} spilled or resident. */
    public void mark(Fid fid, int e, boolean spilled) {
        Obj o = objects.get(fid);
        if (o != null) {
            synchronized (o) {
                if (e >= 0 && e < o.key.length) {
                    o.setSpilled(e, spilled);
                }
            }
        }
    }

    /** Marks every extent of {@code fid} spilled or resident (a whole spill or promotion). */
    public void markAll(Fid fid, boolean spilled) {
        Obj o = objects.get(fid);
        if (o != null) {
            synchronized (o) {
                for (int e = 0; e < o.key.length; e++) {
                    o.setSpilled(e, spilled);
                }
            }
        }
    }

    /**
     * Learns residency from the pool's record: extent {@code e} is resident if {@code held} says
     * the fast tier holds all of it. Tracks {@code fid} if it is big and not yet tracked.
     */
    public void sync(Fid fid, long size, Held held) {
        Obj o = obtain(fid, size);
        if (o == null) {
            return;
        }
        synchronized (o) {
            if (o.dead) {
                return;
            }
            for (int e = 0; e < o.key.length; e++) {
                long from = e * cfg.extentSize();
                o.setSpilled(e, !held.resident(from, from + length(o, e)));
            }
        }
    }

    /**
     * One tracked object's extents as a checkpoint keeps them.
     *
     * @param fid the object
     * @param size its size when saved
     * @param keys one key per extent ({@code T + log2(count)} on the tracker's logical clock;
     *     negative infinity: never counted)
     * @param spilled the residency bits, 64 extents a word (bit {@code e % 64} of word {@code e / 64}
     *     set: extent {@code e} believed spilled)
     */
    public record Saved(Fid fid, long size, double[] keys, long[] spilled) {}

    /** Every tracked object's extents, by FID (a checkpoint's content); at most {@code limit} extents in all. */
    public List<Saved> saved(long limit) {
        List<Fid> fids = new ArrayList<>(objects.keySet());
        fids.sort(null);
        List<Saved> out = new ArrayList<>();
        long total = 0;
        for (Fid f : fids) {
            Obj o = objects.get(f);
            if (o == null) {
                continue;
            }
            synchronized (o) {
                if (o.dead || total + o.key.length > limit) {
                    continue;
                }
                total += o.key.length;
                out.add(new Saved(f, o.size, o.key.clone(), o.spilled.clone()));
            }
        }
        return out;
    }

    /**
     * Takes back what a checkpoint saved with extents of {@code extentSize} bytes: nothing if that is
     * not this configuration's extent size (the extents would not be the same), else each object
     * still big under this configuration, within the cap (the rest start cold, as untracked objects
     * do). Objects tracked already are kept as they are. Returns the objects restored.
     */
    public int restore(long extentSize, List<Saved> saved) {
        if (extentSize != cfg.extentSize()) {
            return 0;
        }
        int n = 0;
        for (Saved x : saved) {
            long want = cfg.extentsOf(x.size());
            if (!cfg.covers(x.size())
                    || x.keys().length != want
                    || x.spilled().length != (want + 63) / 64
                    || objects.containsKey(x.fid())) {
                continue;
            }
            if (!reserve(want)) {
                refused.incrementAndGet();
                continue;
            }
            Obj o = new Obj(x.size(), (int) want);
            System.arraycopy(x.keys(), 0, o.key, 0, (int) want);
            System.arraycopy(x.spilled(), 0, o.spilled, 0, o.spilled.length);
            for (int e = (int) want; e < o.spilled.length * 64; e++) {
                o.setSpilled(e, false);
            }
            if (objects.putIfAbsent(x.fid(), o) != null) {
                extents.addAndGet(-want);
                continue;
            }
            n++;
        }
        return n;
    }

    /** One extent as a pass sees it. */
    public record Extent(int index, long start, long end, boolean last, double count, boolean spilled) {}

    /**
     * The extents of {@code fid} now (an empty list if it is not tracked at {@code size}): their
     * byte ranges, decayed counts and believed residency.
     */
    public List<Extent> extents(Fid fid, long size) {
        Obj o = objects.get(fid);
        if (o == null) {
            return List.of();
        }
        double t = clock.getAsDouble();
        synchronized (o) {
            if (o.dead || o.size != size) {
                return List.of();
            }
            List<Extent> out = new ArrayList<>(o.key.length);
            long es = cfg.extentSize();
            for (int e = 0; e < o.key.length; e++) {
                out.add(new Extent(
                        e,
                        e * es,
                        Math.min(size, (e + 1) * es),
                        e == o.key.length - 1,
                        count(o.key[e], t),
                        o.isSpilled(e)));
            }
            return out;
        }
    }
}
