package dev.spillway.migrate.daemon;

import dev.spillway.migrate.heat.Candidate;
import dev.spillway.migrate.heat.ExtentHeat;
import dev.spillway.migrate.heat.HeatCheckpoint;
import dev.spillway.migrate.heat.HeatTracker;
import dev.spillway.migrate.heat.ObjectHeat;
import dev.spillway.migrate.policy.Placement;
import dev.spillway.migrate.policy.PlacementPolicy;
import dev.spillway.migrate.policy.Promotion;
import dev.spillway.migrate.policy.SpillPlan;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.PlacementHint;
import dev.spillway.osd.StatFs;
import dev.spillway.pool.LocalFile;
import dev.spillway.pool.PoolListener;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.SpaceReclaimer;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.config.Role;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.Span;
import dev.spillway.pool.ops.Migrator;
import dev.spillway.pool.ops.MoveOptions;
import dev.spillway.pool.ops.MoveResult;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The migration daemon (docs/design.md, "Placement policy"): it runs while the pool
 * is mounted and decides from the pool's local access heat — never from a scan of the pool.
 *
 * <p>It listens to every access ({@link PoolListener}: no I/O on the data path, only the
 * in-memory {@link HeatTracker}), and each pass ({@link #runOnce()}, driven by the injected clock
 * so tests are deterministic) does, in order: garbage collection; replacement of copies lost with
 * failed devices; evacuation of evacuating devices; resync of stale copies (replicas); parked
 * moves whose target has room again; the spill pass of the {@link PlacementPolicy} (watermarks
 * with hysteresis, coldest first, to the first background tier with room); the promotions the
 * policy admitted on reads (the nhit rule, no ping-pong); and a periodic heat checkpoint on the
 * metadata device. Moves respect a bandwidth cap (token bucket) and wait while foreground I/O is
 * busy; a device that fails a move backs off exponentially. When a writer finds the fast tier
 * full, the daemon spills on the writer's own thread ({@link SpaceReclaimer}): the writer is
 * slowed, not failed, while anything can still move.
 *
 * <p>Failures surface: each pass reports what failed, the last error is in {@link #status()}, and
 * a device's failures raise its back-off instead of being retried in a hot loop.
 */
public final class MigrationDaemon implements PoolListener, SpaceReclaimer, AutoCloseable {
    /** Objects begun together in one durable metadata transaction by a spill pass. */
    public static final int SPILL_BATCH = 8;

    private static final System.Logger LOG = System.getLogger(MigrationDaemon.class.getName());

    private final PoolOsd pool;
    private final DaemonConfig cfg;
    private final InstantSource clock;
    private final HeatTracker heat;
    /** Heat per extent of big objects (range-level placement). */
    private final ExtentHeat extents;

    private final PlacementPolicy policy;
    /** The code path shared with the simulator: heat, decisions and the spill pass's plans. */
    private final Placement placement;

    private final TokenBucket bucket;
    // How the daemon's own moves run: charged to its bandwidth cap (nobody else's are), a spill
    // batch's copies written spill-writers side by side.
    private final MoveOptions paced;
    private final int mdIndex;
    // The pool's cache devices (role cache), by index: promotions go there, reads there count as promoted.
    private final Set<Integer> cache;

    private final ConcurrentLinkedQueue<Fid> promotions = new ConcurrentLinkedQueue<>();
    private final Set<Fid> promotionQueued = ConcurrentHashMap.newKeySet();
    private final Map<Fid, Boolean> trial = new ConcurrentHashMap<>();
    /** Bytes of the queued promotions: the spill pass makes room for them as if they were there. */
    private final Map<Fid, Long> queuedBytes = new ConcurrentHashMap<>();

    private final AtomicLong pendingPromotionBytes = new AtomicLong();

    /** A spilled extent of a big object to bring home alone ({@code Migrator.promoteRange}). */
    private record ExtentMove(Fid fid, int extent, long start, long end, long bytes) {}

    /**
     * The most spilled extents the daemon gives one object, however many copies {@code replicas}
     * makes of each: it bounds the work per object per pass and the heat it keeps. Past it, the
     * coldest extents go first and the rest stay resident. What the record and layout can hold is
     * the pool's to say: each copy of a range is a copy in the pool record (about 70 bytes plus 4
     * per checksum chunk of 1 MiB or more: about 320 bytes for a 64 MiB extent) and a mirror of up
     * to three PFL components in the layout (about 310 bytes), each an xattr of the metadata device
     * (at most 64 KiB on kv). 64 extents of 64 MiB under {@code replicas: 2} take about 41 and
     * 40 KiB. A range spill that would take either past the device's bound, or the two past the
     * reserve's budget for a split body, is refused (larger extents, with more checksums per copy,
     * reach that before 64; {@code replicas: 3} at 64 MiB fits, just), and the object's other
     * extents are then left for the pass.
     */
    static final int MAX_SPILLED_EXTENTS = 64;

    /** At most this many extent promotions wait at once (more hot extents ask again on their next read). */
    static final int MAX_QUEUED_EXTENTS = 1024;

    private final ConcurrentLinkedQueue<ExtentMove> extentPromotions = new ConcurrentLinkedQueue<>();
    private final Set<ExtentMove> extentQueued = ConcurrentHashMap.newKeySet();
    private final Backoff backoff;
    private final Map<String, AtomicLong> bytesMoved = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> moves = new ConcurrentHashMap<>();
    private final AtomicLong foregroundOps = new AtomicLong();
    private final AtomicLong deferredCheckpoints = new AtomicLong();
    private final AtomicLong stuckRolledBack = new AtomicLong();
    private final AtomicLong emergencyErrors = new AtomicLong();
    // The stuck copies the last pass found and could not roll back (for status()).
    private volatile List<Job> stuck = List.of();
    // The objects being moved now, by the spill pass or an emergency spill: each claims an object
    // with one add (false: the other has it, take the next) and removes it when its move ends, so
    // the two drain the tier side by side instead of starting the same object's move twice.
    private final Set<Fid> inFlight = ConcurrentHashMap.newKeySet();
    // The threads of a multi-stream spill round; made on first use, stopped by close().
    private ExecutorService spillers;
    private final Map<String, Chore> chores = new ConcurrentSkipListMap<>();
    private final Map<String, AtomicLong> choresDone = new ConcurrentHashMap<>();

    // Read by the data path (promotion decisions) between passes.
    private volatile long fastUsed;
    private volatile long fastCapacity = 1;
    private volatile Map<String, Integer> queued = Map.of();
    private volatile String activity = "idle";
    private volatile String lastError;
    private volatile double rate;
    private volatile boolean closed;
    private Thread thread;

    // Unregisters the daemon from the pool's device failures (set once, at attach).
    private Runnable unlistenFailures = () -> {};

    // Pass state, touched only by the pass (one at a time: runOnce is synchronized).
    private long lastPassNanos;
    private long lastOps;
    private long lastCheckpointNanos;
    private int adoptStripe;

    private MigrationDaemon(PoolOsd pool, DaemonConfig cfg, InstantSource clock, HeatTracker heat) {
        this.pool = pool;
        this.cfg = cfg;
        this.clock = clock;
        this.heat = heat;
        this.extents = new ExtentHeat(cfg.extents(), heat::logicalNow);
        this.policy = new PlacementPolicy(cfg.policy(), heat);
        this.placement = new Placement(policy);
        this.bucket = new TokenBucket(cfg.bandwidth(), clock);
        this.backoff = new Backoff(cfg.backoffBase(), cfg.backoffMax());
        // Copies are charged chunk by chunk as they go, so the cap holds within a large object too.
        // A spill batch's copies are written spill-writers side by side.
        this.paced = (cfg.bandwidth() > 0 ? MoveOptions.paced(bucket::await) : MoveOptions.DEFAULT)
                .withWriters(cfg.spillWriters());
        this.mdIndex = pool.metadataIndex();
        this.cache = Set.copyOf(pool.devices().stream()
                .filter(d -> d.has(Role.CACHE))
                .map(PoolDevice::index)
                .toList());
        this.lastPassNanos = nanos();
        this.lastCheckpointNanos = lastPassNanos;
    }

    /**
     * Attaches a daemon to a mounted pool: loads the last heat checkpoint (a lost one costs
     * placement quality, never correctness), listens to the pool's accesses and serves its
     * emergency spills. Does not start the background thread ({@link #start()}).
     */
    public static MigrationDaemon attach(PoolOsd pool, DaemonConfig cfg, InstantSource clock) throws OsdException {
        HeatCheckpoint.Loaded loaded = loadHeat(pool, cfg, clock);
        MigrationDaemon d = new MigrationDaemon(pool, cfg, clock, loaded.heat());
        d.extents.restore(loaded.extentSize(), loaded.extents());
        d.refreshFast();
        pool.spaceReclaimer(d);
        pool.roomQueue().onWait(d::wake);
        // A device that fails wakes the daemon: its lost copies are to be replaced now.
        d.unlistenFailures = pool.deviceFailures().onFailure(c -> d.wake());
        return d;
    }

    private static HeatCheckpoint.Loaded loadHeat(PoolOsd pool, DaemonConfig cfg, InstantSource clock)
            throws OsdException {
        LocalFile file = pool.localFile(LocalFile.Name.HEAT);
        Optional<byte[]> b = file.read();
        if (b.isEmpty()) {
            return new HeatCheckpoint.Loaded(new HeatTracker(cfg.heat(), clock), 0, List.of());
        }
        try {
            return HeatCheckpoint.load(new ByteArrayInputStream(b.get()), cfg.heat(), clock, file.device(), file.fid());
        } catch (OsdException e) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "pool " + pool.name() + ": heat checkpoint unreadable, starting cold: " + e.getMessage());
            return new HeatCheckpoint.Loaded(new HeatTracker(cfg.heat(), clock), 0, List.of());
        }
    }

    public HeatTracker heat() {
        return heat;
    }

    public PlacementPolicy policy() {
        return policy;
    }

    /** Heat per extent of the big objects. */
    public ExtentHeat extents() {
        return extents;
    }

    private long nanos() {
        var i = clock.instant();
        return i.getEpochSecond() * 1_000_000_000L + i.getNano();
    }

    // ---- the data path: heat only -----------------------------------------------------------

    @Override
    public void read(Fid fid, long size, long bytes, int device) {
        foregroundOps.incrementAndGet();
    }

    /** One read access (the pool's rule: the first read of a read stream). */
    @Override
    public void readAccess(Fid fid, long size, int device) {
        boolean resident = device == mdIndex;
        // A read served by a cache device is a read of a promoted copy: counted, not promoted again
        // (a return within its ghost still moves the trial share: the fast tier missed it).
        if (resident || cache.contains(device) || !cfg.enabled() || promotionQueued.contains(fid)) {
            placement.count(fid, size, resident, Math.max(1, fastCapacity));
            return;
        }
        Promotion p = placement.read(fid, size, false, fastUsed, Math.max(1, fastCapacity));
        if (p.admitted() && promotionQueued.add(fid)) {
            trial.put(fid, p == Promotion.PROMOTE_ON_TRIAL);
            queuedBytes.put(fid, size);
            pendingPromotionBytes.addAndGet(size);
            promotions.add(fid);
        }
    }

    /**
     * A read call with its offset: the extents of a big object it reaches are counted (once per
     * read stream each, see {@link ExtentHeat}); a spilled extent read often enough is queued to
     * come home alone. A read access of a split body counts as a resident read of what is
     * resident (its spilled extents come home one at a time, never the whole body).
     */
    @Override
    public void readAt(Fid fid, long size, long offset, int n, boolean access, int device) {
        if (!cfg.enabled() || !cfg.extents().covers(size)) {
            foregroundOps.incrementAndGet();
            if (access) {
                readAccess(fid, size, device);
            }
            return;
        }
        foregroundOps.incrementAndGet();
        Boolean lastResident = device == mdIndex ? Boolean.TRUE : cache.contains(device) ? null : Boolean.FALSE;
        boolean fresh = !extents.tracked(fid);
        int[] hot = extents.read(
                fid, size, offset, n, access, lastResident, cfg.policy().promoteHits() - 0.5);
        if (fresh && lastResident == Boolean.FALSE) {
            // First seen through a read served off the fast tier: believed spilled whole until a
            // pass or a promotion learns its record (a split body's resident extents then too).
            extents.markAll(fid, true);
        }
        // A hot spilled extent comes home alone, of a split body or of one spilled whole (then
        // the body becomes split: its hot extents home, the rest in its whole copy). A pool with
        // a cache device promotes a body spilled whole to it, whole, as before.
        boolean byExtent = extents.split(fid) || (cache.isEmpty() && spilledWhole(fid, device));
        if (hot.length > 0 && byExtent) {
            for (int e : hot) {
                queueExtent(fid, e, size);
            }
        }
        if (!access) {
            return;
        }
        if (extents.split(fid)) {
            placement.count(fid, extents.residentBytes(fid, size), true, Math.max(1, fastCapacity));
        } else if (byExtent) {
            // Spilled whole and tracked per extent: counted, never promoted whole.
            placement.count(fid, size, false, Math.max(1, fastCapacity));
        } else {
            readAccess(fid, size, device);
        }
    }

    /** True if {@code fid} is tracked per extent and the daemon believes every extent spilled (this read served elsewhere). */
    private boolean spilledWhole(Fid fid, int device) {
        return device != mdIndex && extents.allSpilled(fid);
    }

    /** Queues extent {@code e} of {@code fid} to come home if the fast tier has room for it below the high watermark. */
    private void queueExtent(Fid fid, int e, long size) {
        long es = cfg.extents().extentSize();
        long start = e * es;
        long end = Math.min(size, start + es);
        ExtentMove m = new ExtentMove(fid, e, start, end >= size ? Span.EOF : end, end - start);
        if (extentQueued.size() >= MAX_QUEUED_EXTENTS
                || fastUsed + pendingPromotionBytes.get() + m.bytes()
                        > cfg.policy().highWatermark() * Math.max(1, fastCapacity)) {
            return;
        }
        if (extentQueued.add(m)) {
            pendingPromotionBytes.addAndGet(m.bytes());
            extentPromotions.add(m);
        }
    }

    @Override
    public void written(Fid fid, long size) {
        foregroundOps.incrementAndGet();
        placement.written(fid, size);
    }

    @Override
    public void resized(Fid fid, long size) {
        foregroundOps.incrementAndGet();
        placement.resized(fid, size);
    }

    /**
     * A write brought spilled bytes of {@code fid} home before it changed them: the daemon's belief
     * of which extents are resident becomes what the metadata device holds now, at once — a body
     * promoted by range from its whole copy is recalled whole by a write, its untouched extents
     * too, which the ranges the write changed do not say — rather than at the next pass's read of
     * the record. The pool tells this before {@link #written(Fid, long, List)}, which then sizes
     * the object in the heat tracker by its resident bytes.
     */
    @Override
    public void recalled(Fid fid, long size, List<Span> resident) {
        if (!cfg.extents().covers(size)) {
            return;
        }
        extents.sync(fid, size, (a, b) -> Span.covers(resident, a, b));
    }

    /** A write access with the ranges it changed: counted per extent for a big object (see {@link ExtentHeat}). */
    @Override
    public void written(Fid fid, long size, List<Span> touched) {
        if (!cfg.extents().covers(size)) {
            extents.forget(fid);
            written(fid, size);
            return;
        }
        extents.written(fid, size, flat(touched), false);
        written(fid, extents.residentBytes(fid, size));
    }

    @Override
    public void resized(Fid fid, long size, List<Span> touched) {
        if (!cfg.extents().covers(size)) {
            extents.forget(fid);
            resized(fid, size);
            return;
        }
        extents.written(fid, size, flat(touched), true);
        resized(fid, extents.residentBytes(fid, size));
    }

    private static long[] flat(List<Span> spans) {
        long[] out = new long[spans.size() * 2];
        for (int i = 0; i < spans.size(); i++) {
            out[2 * i] = spans.get(i).start();
            out[2 * i + 1] = spans.get(i).end();
        }
        return out;
    }

    @Override
    public void destroyed(Fid fid) {
        heat.forget(fid);
        extents.forget(fid);
    }

    /**
     * Placement advice: a cold object (a non-current S3 version) becomes the coldest of its
     * tier, so the next spill takes it first. Advice to live on a tier keeps the object from
     * being promoted (checked when a promotion runs, off the data path).
     */
    @Override
    public void advised(Fid fid, String advice) {
        if (PlacementHint.COLD.equals(advice)) {
            heat.chill(fid);
        }
    }

    /** The tier an object is advised to live on, or null (one metadata read, in a pass). */
    private String advisedTier(Fid f) {
        try {
            return PlacementHint.tierOf(new String(pool.getXattr(f, PlacementHint.XATTR), StandardCharsets.US_ASCII));
        } catch (OsdException e) {
            return null;
        }
    }

    // ---- passes -------------------------------------------------------------------------------

    /** What one pass did. */
    public record PassReport(
            int collected,
            int spilled,
            long spilledBytes,
            int promoted,
            int resynced,
            int unparked,
            int evacuated,
            int stuckCopiesRolledBack,
            int failed,
            boolean busy,
            List<String> errors,
            int extentsSpilled,
            int extentsPromoted) {}

    private void refreshFast() throws OsdException {
        StatFs s = pool.metadataStatfs();
        // A fast tier being shrunk is planned for at its target size: that is what the spill pass
        // must get it under.
        long t = pool.capacity().target().orElse(Long.MAX_VALUE);
        fastCapacity = Math.max(1, Math.min(s.totalBytes(), t));
        fastUsed = s.usedBytes();
    }

    private boolean backingOff(int device) {
        return backoff.active(device, nanos());
    }

    private void failed(int device, String what, OsdException e, List<String> errors) {
        Duration delay = backoff.failed(device, nanos());
        String msg = what + ": " + e.getMessage() + " (device "
                + pool.device(device).name() + " backs off " + delay.toMillis() + " ms)";
        errors.add(msg);
        lastError = msg;
    }

    /**
     * A failed spill backs its target off only if the target failed it: an error of another
     * device (the metadata device's ENOSPC, say) says nothing about the target's room, and
     * backing it off made the next passes report "no background device has room" with the target
     * nearly empty.
     */
    private void blame(PoolDevice target, String what, OsdException e, List<String> errors) {
        if (e.device() == null || e.device().equals(target.name())) {
            failed(target.index(), what, e, errors);
        } else {
            String msg = what + " to " + target.name() + ": " + e.getMessage();
            errors.add(msg);
            lastError = msg;
        }
    }

    private void succeeded(int device) {
        backoff.succeeded(device);
    }

    private void moved(String kind, MoveResult r) {
        moves.computeIfAbsent(kind + "/" + r.outcome(), k -> new AtomicLong()).incrementAndGet();
        if (r instanceof MoveResult.Done && r.bytes() > 0) {
            bytesMoved.computeIfAbsent(kind, k -> new AtomicLong()).addAndGet(r.bytes());
        }
    }

    /** The first background device in tier order that takes new copies and has room for {@code bytes}. */
    private PoolDevice spillTarget(long bytes, Set<Integer> skip) throws OsdException {
        for (PoolDevice d : pool.devices()) {
            if (!d.has(Role.BACKGROUND) || !d.state().writable() || backingOff(d.index()) || skip.contains(d.index())) {
                continue;
            }
            if (d.statfs().availableBytes() > bytes + (1 << 20)) {
                return d;
            }
        }
        return null;
    }

    /**
     * What one pass does, phase by phase: each phase adds to it, and it becomes the pass's
     * {@link PassReport}.
     */
    private static final class Pass {
        final boolean busy;
        final List<Job> jobs;
        final List<String> errors = new ArrayList<>();
        int collected;
        int spilled;
        long spilledBytes;
        int promoted;
        int resynced;
        int unparked;
        int evacuated;
        int stuckCopiesRolledBack;
        int extentsSpilled;
        int extentsPromoted;

        Pass(boolean busy, List<Job> jobs) {
            this.busy = busy;
            this.jobs = jobs;
        }

        PassReport report() {
            return new PassReport(
                    collected,
                    spilled,
                    spilledBytes,
                    promoted,
                    resynced,
                    unparked,
                    evacuated,
                    stuckCopiesRolledBack,
                    errors.size(),
                    busy,
                    List.copyOf(errors),
                    extentsSpilled,
                    extentsPromoted);
        }
    }

    /**
     * One pass of everything, in order — garbage and chores, devices (lost copies, evacuation),
     * resyncs, parked moves, the spill pass, a capacity change settling, promotions, then the heat
     * checkpoint; each phase stops at its own limits. Returns what it did. Synchronized: passes
     * never overlap (the background thread and a test or admin call).
     */
    public synchronized PassReport runOnce() throws OsdException {
        long now = nanos();
        double secs = Math.max(1e-3, (now - lastPassNanos) / 1e9);
        long ops = foregroundOps.get();
        boolean busy = cfg.busyOps() > 0 && (ops - lastOps) / secs > cfg.busyOps();
        lastOps = ops;
        lastPassNanos = now;
        long movedBefore =
                bytesMoved.values().stream().mapToLong(AtomicLong::get).sum();
        if (!cfg.enabled()) {
            return new PassReport(0, 0, 0, 0, 0, 0, 0, 0, 0, busy, List.of(), 0, 0);
        }
        refreshFast();
        Pass pass = new Pass(busy, pool.jobs());
        Map<String, Integer> byKind = new TreeMap<>();
        for (Job j : pass.jobs) {
            byKind.merge(j.kind().name(), 1, Integer::sum);
        }
        queued = byKind;

        collectGarbage(pass);
        runChores(pass);
        replaceAndEvacuate(pass);
        if (!busy) {
            resync(pass);
            retryParked(pass);
        }
        // The spill pass runs even when busy once the tier is past the middle of the high band.
        boolean urgent =
                fastUsed > (cfg.policy().highWatermark() + (1 - cfg.policy().highWatermark()) / 2) * fastCapacity;
        if (!busy || urgent) {
            spill(pass);
        }
        settleCapacity();
        if (!busy) {
            promote(pass);
            promoteExtents(pass);
        }

        // Promotions added bytes: the data path's next decisions see the occupancy they left.
        refreshFast();
        adoptResidents();
        if (nanos() - lastCheckpointNanos >= cfg.checkpoint().toNanos()) {
            checkpoint();
        }
        long movedNow = bytesMoved.values().stream().mapToLong(AtomicLong::get).sum();
        rate = (movedNow - movedBefore) / Math.max(1e-3, (nanos() - now) / 1e9);
        activity = "idle";
        return pass.report();
    }

    /**
     * Rolls back what emergency spills left and the copies left behind at run time, and collects
     * garbage if the work index has any (or the roll-backs made some).
     */
    private void collectGarbage(Pass pass) throws OsdException {
        activity = "rolling back unfinished emergency copies";
        pool.migrator().settleLeftovers();
        rollBackStuck(pass);
        activity = "collecting garbage";
        if (queued.containsKey("GC") || pass.stuckCopiesRolledBack > 0) {
            pass.collected = pool.migrator().collectGarbage();
        }
    }

    /**
     * Rolls back the COPY jobs that no copy in flight owns and that are older than {@code
     * stuck-copy-age}: a copy that failed half-way and whose roll-back did not finish (its device
     * errored, the roll-back's own transaction failed). The pool re-checks each under the object's
     * lock and rolls it back as mount-time recovery does, so it no longer waits for a remount.
     */
    private void rollBackStuck(Pass pass) {
        List<Job> found = pool.migrator().stuckCopies(pass.jobs, cfg.stuckCopyAge());
        if (found.isEmpty()) {
            stuck = List.of();
            return;
        }
        activity = "rolling back " + found.size() + " stuck copies";
        try {
            int n = pool.migrator().rollBackStuck(found);
            pass.stuckCopiesRolledBack += n;
            stuckRolledBack.addAndGet(n);
            stuck = List.of();
        } catch (OsdException | RuntimeException e) {
            // Left for the next pass (or the next mount); status() lists them meanwhile.
            stuck = found;
            String msg = "roll-back of " + found.size() + " stuck copies: " + e.getMessage();
            pass.errors.add(msg);
            lastError = msg;
        }
    }

    /** The chores of the layers above the pool; one that fails is reported, the others run. */
    private void runChores(Pass pass) {
        for (Map.Entry<String, Chore> c : chores.entrySet()) {
            activity = c.getKey();
            try {
                int n = c.getValue().run();
                choresDone.computeIfAbsent(c.getKey(), k -> new AtomicLong()).addAndGet(n);
            } catch (OsdException | RuntimeException e) {
                String msg = c.getKey() + ": " + e.getMessage();
                pass.errors.add(msg);
                lastError = msg;
            }
        }
    }

    /** Replaces the copies lost with failed devices, and moves a step off evacuating ones. */
    private void replaceAndEvacuate(Pass pass) throws OsdException {
        Map<Integer, Map<CopyState, long[]>> totals = pool.copyTotals();
        for (PoolDevice d : pool.devices()) {
            long[] lost = totals.getOrDefault(d.index(), Map.of()).get(CopyState.LOST);
            // A failed device's copies, and lost copies a returned device failed to verify.
            boolean lostThere = lost != null && lost[1] > 0;
            if ((d.state() == DeviceState.FAILED && pool.holdsCopies(d)) || lostThere) {
                activity = "replacing copies lost with " + d.name();
                var p = pool.deviceOps().replaceLost(d, null, cfg.evacuateBatch(), paced);
                pass.evacuated += p.moved();
                pass.errors.addAll(p.errors());
            } else if (d.state() == DeviceState.EVACUATING && !backingOff(d.index())) {
                activity = "evacuating " + d.name();
                var p = pool.deviceOps().evacuateStep(d, cfg.evacuateBatch(), paced);
                pass.evacuated += p.moved();
                pass.errors.addAll(p.errors());
                moves.computeIfAbsent("evacuate/DONE", k -> new AtomicLong()).addAndGet(p.moved());
            }
        }
    }

    /** Rewrites stale copies from good ones (RESYNC jobs), within the bandwidth cap. */
    private void resync(Pass pass) {
        activity = "resyncing stale copies";
        for (Job j : pass.jobs) {
            if (j.kind() != Job.Kind.RESYNC
                    || backingOff(j.device())
                    || !pool.device(j.device()).state().writable()) {
                continue;
            }
            if (!bucket.hasTokens()) {
                break;
            }
            try {
                MoveResult r = pool.migrator().resync(j.fid(), j.device(), paced);
                moved("resync", r);
                if (r instanceof MoveResult.Done) {
                    pass.resynced++;
                    succeeded(j.device());
                }
            } catch (OsdException e) {
                if (!e.is(Errno.ENOENT) && !e.is(Errno.EBUSY)) {
                    failed(j.device(), "resync of " + j.fid(), e, pass.errors);
                }
            }
        }
    }

    /** Retries the moves parked on a full or failing target once it has room and is not backed off. */
    private void retryParked(Pass pass) throws OsdException {
        activity = "retrying parked moves";
        for (Job j : pass.jobs) {
            if (j.kind() != Job.Kind.PARKED) {
                continue;
            }
            PoolDevice target = pool.device(j.device());
            if (!target.state().writable()
                    || backingOff(j.device())
                    || target.statfs().availableBytes() <= j.bytes() + (1 << 20)
                    || !bucket.hasTokens()) {
                continue;
            }
            try {
                MoveResult r = pool.migrator().spill(j.fid(), target, paced);
                moved("parked", r);
                if (r instanceof MoveResult.Done) {
                    pass.unparked++;
                    heat.markSpilled(j.fid());
                    extents.markAll(j.fid(), true);
                    succeeded(j.device());
                } else if (r instanceof MoveResult.Parked parked && parked.failure() != null) {
                    failed(j.device(), "parked spill of " + j.fid(), parked.failure(), pass.errors);
                }
            } catch (OsdException e) {
                if (e.is(Errno.ENOENT)) {
                    pool.migrator().dropParked(j);
                } else if (!e.is(Errno.EBUSY)) {
                    failed(j.device(), "parked spill of " + j.fid(), e, pass.errors);
                }
            }
        }
    }

    /** The policy's spill pass (watermarks, coldest first), carried out by a {@link SpillMover}. */
    private void spill(Pass pass) throws OsdException {
        activity = "spilling";
        SpillMover mover = new SpillMover(pass.errors);
        placement.spillPass(
                () -> {
                    try {
                        refreshFast();
                    } catch (OsdException e) {
                        pass.errors.add("statfs of the fast tier: " + e.getMessage());
                    }
                    // Writers waiting for room count as written: the pass makes their room too.
                    return fastUsed
                            + pendingPromotionBytes.get()
                            + pool.roomQueue().waitingBytes();
                },
                fastCapacity,
                16,
                mover);
        pass.spilled += mover.spilled;
        pass.spilledBytes += mover.spilledBytes;
        pass.extentsSpilled += mover.extentsSpilled;
        refreshFast();
    }

    /** A resize of the fast tier that the spill pass has made room for takes effect. */
    private void settleCapacity() throws OsdException {
        var settled = pool.capacity().settle();
        if (settled.isPresent()) {
            LOG.log(
                    System.Logger.Level.INFO,
                    "pool " + pool.name() + ": " + settled.get().device() + " resized to "
                            + settled.get().to() + " bytes (" + settled.get().detail() + ")");
            refreshFast();
        }
    }

    /** The promotions the policy admitted on reads, while nobody waits for room. */
    private void promote(Pass pass) {
        activity = "promoting";
        Fid f;
        while ((f = promotions.peek()) != null) {
            // No promotion while writers wait for room or the tier is past its high watermark:
            // it would take the room the spills just made (they wait in the queue meanwhile).
            if (!bucket.hasTokens() || pressed()) {
                break;
            }
            promotions.poll();
            promotionQueued.remove(f);
            Long queuedFor = queuedBytes.remove(f);
            if (queuedFor != null) {
                pendingPromotionBytes.addAndGet(-queuedFor);
            }
            boolean onTrial = Boolean.TRUE.equals(trial.remove(f));
            if (advisedTier(f) != null) {
                // Its storage class places it on a background tier: reads are served there.
                continue;
            }
            try {
                MoveResult r = pool.migrator().promote(f, paced);
                moved("promote", r);
                // A promotion to a cache device leaves the fast tier as it was: the heat
                // tracker keeps the object spilled (its cached reads do not promote it again).
                boolean home = cache.isEmpty()
                        || pool.object(f).map(o -> o.resident(mdIndex)).orElse(false);
                if (r.settled() && home) {
                    placement.promoted(f, onTrial ? Promotion.PROMOTE_ON_TRIAL : Promotion.PROMOTE);
                    extents.markAll(f, false);
                }
                pass.promoted += r instanceof MoveResult.Done ? 1 : 0;
            } catch (OsdException e) {
                if (!e.is(Errno.ENOENT) && !e.is(Errno.EBUSY) && !e.is(Errno.EISDIR)) {
                    pass.errors.add("promote of " + f + ": " + e.getMessage());
                    lastError = e.getMessage();
                }
            }
        }
    }

    /**
     * The extent promotions queued by reads: each brings one spilled extent of a split body home
     * alone ({@code Migrator.promoteRange}), the object's other extents staying where they are;
     * not while writers wait for room or the tier is past its high watermark. The daemon's belief
     * of the object's residency is then set from its record.
     */
    private void promoteExtents(Pass pass) {
        activity = "promoting extents";
        ExtentMove m;
        while ((m = extentPromotions.peek()) != null) {
            if (!bucket.hasTokens() || pressed()) {
                break;
            }
            extentPromotions.poll();
            extentQueued.remove(m);
            pendingPromotionBytes.addAndGet(-m.bytes());
            try {
                boolean wasHome = heat.lookup(m.fid()).map(ObjectHeat::resident).orElse(true);
                MoveResult r = pool.migrator().promoteRange(m.fid(), m.start(), m.end(), paced);
                moved("promote-extent", r);
                if (r instanceof MoveResult.Done) {
                    pass.extentsPromoted++;
                    if (!wasHome) {
                        // A body spilled whole, its first extent home: resident again to the
                        // tracker, sized by what is resident (below), so it can spill again.
                        placement.promoted(m.fid(), Promotion.PROMOTE);
                    }
                }
                learnResidency(m.fid());
            } catch (OsdException e) {
                if (e.is(Errno.ENOENT)) {
                    extents.forget(m.fid());
                } else if (!e.is(Errno.EBUSY)) {
                    String msg = "promotion of " + m.fid() + " [" + m.start() + ", "
                            + (m.end() == Span.EOF ? "EOF" : m.end()) + "): " + e.getMessage();
                    pass.errors.add(msg);
                    lastError = msg;
                }
            }
        }
    }

    /**
     * Sets the daemon's belief of which extents of big object {@code fid} are resident from its
     * pool record, and the heat tracker's size of it to its resident bytes; returns the record.
     */
    private Optional<PoolObject> learnResidency(Fid fid) throws OsdException {
        Optional<PoolObject> o = pool.object(fid);
        if (o.isEmpty()) {
            extents.forget(fid);
            return o;
        }
        PoolObject p = o.get();
        if (p.resident(mdIndex)) {
            extents.sync(fid, p.size(), (a, b) -> true);
        } else if (p.split(mdIndex)) {
            List<Span> held = p.on(mdIndex).orElseThrow().held();
            extents.sync(fid, p.size(), (a, b) -> Span.covers(held, a, b));
        } else {
            extents.sync(fid, p.size(), (a, b) -> false);
        }
        if (p.resident(mdIndex) || p.split(mdIndex)) {
            heat.setSize(fid, extents.residentBytes(fid, p.size()));
        }
        return o;
    }

    /**
     * What {@code fid} counts for in a plan's line. A big object some of whose extents are
     * spilled is sized by its resident bytes in the heat tracker (so the spill order ranks it by
     * what stays), which would make its line its hot extents' own heat per byte: a hot head left
     * alone would rate at or below itself and the body would go out whole. It counts instead at
     * its heat per its whole body's size, the line its extents were measured against while it was
     * whole, so spilling its cold extents changes no other extent's verdict.
     */
    private double lineValue(Fid fid) {
        long size = extents.split(fid) ? extents.size(fid) : -1;
        if (size < 0) {
            return heat.value(fid);
        }
        return heat.heat(fid)
                / Math.pow(Math.max(1, size / 4096.0), heat.config().sizeWeight());
    }

    /**
     * The resident extents of big object {@code fid} (its record {@code o}) that are cold against a
     * plan's {@code line}: each valued as the object's heat shared by their access counts, per
     * extent size ({@code heat x share / (extent / 4 KiB)^sizeWeight}, the spill order's scale),
     * the share taken over all its extents (spilled ones too, so spilling the cold ones changes no
     * other's value); at or below the line, cold. At most as many as the object may still take
     * spilled extents ({@link #MAX_SPILLED_EXTENTS}, counted as extents; the least read kept), by index. Null if the
     * object is not placed by extent now: nothing of it resident, or every resident extent cold
     * (it goes whole as any other); empty if every resident extent is hot.
     */
    private List<ExtentHeat.Extent> coldExtents(Fid fid, PoolObject o, double line) {
        long size = o.size();
        List<ExtentHeat.Extent> xs = extents.extents(fid, size);
        if (xs.isEmpty()) {
            return null;
        }
        double sum = 0;
        for (ExtentHeat.Extent x : xs) {
            sum += x.count();
        }
        double h = heat.heat(fid);
        double per = Math.pow(
                Math.max(1, cfg.extents().extentSize() / 4096.0), heat.config().sizeWeight());
        List<ExtentHeat.Extent> resident = new ArrayList<>();
        List<ExtentHeat.Extent> cold = new ArrayList<>();
        for (ExtentHeat.Extent x : xs) {
            if (x.spilled()) {
                continue;
            }
            resident.add(x);
            double share = sum > 0 ? x.count() / sum : 1.0 / xs.size();
            // Ties (an object read evenly) are cold; the relative slack absorbs rounding.
            if (h * share / per <= line * (1 + 1e-9)) {
                cold.add(x);
            }
        }
        if (resident.isEmpty() || cold.size() == resident.size()) {
            return null;
        }
        // Extents, not copies: under replicas: 2 each spilled extent has two copies of its range.
        long spilledExtents =
                o.ranges(mdIndex).stream().map(c -> c.spans().get(0)).distinct().count();
        int room = (int) Math.max(0, MAX_SPILLED_EXTENTS - spilledExtents);
        if (cold.size() > room) {
            cold.sort((a, b) -> Double.compare(a.count(), b.count()));
            cold = new ArrayList<>(cold.subList(0, Math.max(0, room)));
            cold.sort((a, b) -> Integer.compare(a.index(), b.index()));
        }
        return cold;
    }

    /**
     * Carries out the spill pass's plans: candidates go to the first background tier with room in
     * batches, a batch's copies begun in one durable metadata transaction (one log force for
     * all), then written one by one; a batch plans no more bytes than the bandwidth bucket holds
     * (at least one object). Up to {@code spill-streams} batches run side by side, out of step: a
     * stream that finishes settles its batch and takes the next at once, its target chosen
     * knowing how the batches settled so far went (a device that failed backs off). Stops the pass
     * when the bucket is empty or no target has room; a round always settles the batches it
     * started before it returns or throws.
     */
    private final class SpillMover implements Placement.Mover {
        private final List<String> errors;
        int spilled;
        long spilledBytes;
        int extentsSpilled;
        private boolean throttled;

        SpillMover(List<String> errors) {
            this.errors = errors;
        }

        @Override
        public boolean stopped() {
            return throttled;
        }

        @Override
        public int partsMoved() {
            return extentsSpilled;
        }

        @Override
        public List<Fid> spill(SpillPlan plan) {
            List<Fid> gone = new ArrayList<>();
            try {
                spill(plan, gone);
            } catch (OsdException e) {
                errors.add("spill pass: " + e.getMessage());
                lastError = e.getMessage();
                throttled = true;
            }
            // Streams finish in any order; the tracker marks what left in the plan's order (each
            // spilled object's ghost mark is where its part's spill stream stood), as the
            // simulator does, so that the placement's decisions do not depend on which stream
            // finished first (OneCodePathTest).
            if (gone.size() > 1) {
                Map<Fid, Integer> order = new HashMap<>();
                List<Candidate> cands = plan.candidates();
                for (int k = 0; k < cands.size(); k++) {
                    order.putIfAbsent(cands.get(k).fid(), k);
                }
                gone.sort(java.util.Comparator.comparingInt(f -> order.getOrDefault(f, Integer.MAX_VALUE)));
            }
            return gone;
        }

        /**
         * A big object the plan takes: its extents are valued as the object's heat shared by their
         * access counts, per extent size ({@code heat x share / (extent / 4 KiB)^sizeWeight}, the
         * spill order's scale), the share taken over all its extents (spilled ones too, so spilling
         * the cold ones changes no other's value), and those at or below the plan's line are cold
         * (a split object counts in the line at its whole body's size: {@link #lineValue}). All resident
         * extents cold: false, the object is spilled whole as any other. Else each cold extent is
         * spilled alone ({@code Migrator.spillRange}, one copy per extent, so each can come home
         * alone) and the hot ones stay; true. Its size in the heat tracker becomes its resident
         * bytes, so its heat per byte is that of what stays.
         */
        private boolean spillColdExtents(Fid fid, double line) throws OsdException {
            // One atomic claim for the object's extent spills: an emergency spill moving it now
            // keeps it, and this pass leaves it (true: not spilled whole either).
            if (!inFlight.add(fid)) {
                return true;
            }
            try {
                return spillClaimedColdExtents(fid, line);
            } finally {
                inFlight.remove(fid);
            }
        }

        private boolean spillClaimedColdExtents(Fid fid, double line) throws OsdException {
            Optional<PoolObject> o;
            try {
                o = learnResidency(fid);
            } catch (OsdException e) {
                return false;
            }
            if (o.isEmpty() || !cfg.extents().covers(o.get().size())) {
                return false;
            }
            List<ExtentHeat.Extent> cold = coldExtents(fid, o.get(), line);
            if (cold == null) {
                return false;
            }
            for (ExtentHeat.Extent x : cold) {
                if (!bucket.hasTokens()) {
                    throttled = true;
                    break;
                }
                long len = x.end() - x.start();
                PoolDevice target = spillTarget(len, Set.of());
                if (target == null) {
                    errors.add("no background device has room for " + len + " bytes of " + fid);
                    throttled = true;
                    break;
                }
                try {
                    MoveResult r =
                            pool.migrator().spillRange(fid, target, x.start(), x.last() ? Span.EOF : x.end(), paced);
                    moved("spill-extent", r);
                    if (r instanceof MoveResult.Done) {
                        extents.mark(fid, x.index(), true);
                        extentsSpilled++;
                        spilledBytes += r.bytes();
                        succeeded(target.index());
                    } else if (r instanceof MoveResult.Parked parked && parked.failure() != null) {
                        failed(target.index(), "spill of " + fid + " " + x.start(), parked.failure(), errors);
                        break;
                    } else if (r instanceof MoveResult.Refused) {
                        // The pool refuses this object's next ranges for the same reason (its record
                        // or layout full, too few devices for the copies): the rest stay resident.
                        break;
                    }
                } catch (OsdException e) {
                    if (e.is(Errno.ENOENT)) {
                        heat.forget(fid);
                        extents.forget(fid);
                        return true;
                    }
                    if (!e.is(Errno.EBUSY)) {
                        blame(target, "spill of " + fid + " [" + x.start() + ", " + x.end() + ")", e, errors);
                    }
                    break;
                }
            }
            try {
                learnResidency(fid);
            } catch (OsdException | RuntimeException e) {
                // The spills above are done: a failed read-back (a device error, the pool closing)
                // is this object's error, not the end of the pass's other candidates.
                String msg = "reading back the record of " + fid + " after its extent spills: " + e.getMessage();
                errors.add(msg);
                lastError = msg;
            }
            return true;
        }

        private void spill(SpillPlan plan, List<Fid> gone) throws OsdException {
            // The line this plan cuts at: the hottest value (heat per size) among its candidates —
            // a split big object's at its whole body's size (lineValue).
            double line = 0;
            for (Candidate c : plan.candidates()) {
                line = Math.max(line, lineValue(c.fid()));
            }
            List<Candidate> cands = new ArrayList<>();
            for (Candidate c : plan.candidates()) {
                if (throttled) {
                    break;
                }
                if ((extents.tracked(c.fid()) || cfg.extents().covers(c.sizeBytes()))
                        && spillColdExtents(c.fid(), line)) {
                    continue;
                }
                cands.add(c);
            }
            int streams = cfg.spillStreams();
            // Batches in flight, each on its own stream. A stream that finishes takes the next
            // batch at once: no stream waits for the slowest batch of a round (the streams run
            // begin, copies, sync and flips out of step, so the spill device is never idle while
            // the others do metadata work). One stream runs its batches on this thread.
            CompletionService<SpillOutcome> done = streams > 1 ? new ExecutorCompletionService<>(spillers()) : null;
            Map<Future<SpillOutcome>, SpillBatch> running = new HashMap<>();
            int i = 0;
            boolean stop = false;
            try {
                while (true) {
                    stop |= Thread.currentThread().isInterrupted();
                    while (!stop && i < cands.size() && running.size() < Math.max(1, streams)) {
                        if (!bucket.hasTokens()) {
                            throttled = true;
                            stop = true;
                            break;
                        }
                        PoolDevice target = spillTarget(cands.get(i).sizeBytes(), Set.of());
                        if (target == null) {
                            errors.add("no background device has room for "
                                    + cands.get(i).fid() + " (" + cands.get(i).sizeBytes() + " bytes)");
                            throttled = true;
                            stop = true;
                            break;
                        }
                        long room = Math.min(target.statfs().availableBytes() - (1 << 20), bucket.available());
                        // The plan's candidates shared out over the streams that are free: a short
                        // plan keeps every stream busy rather than one full batch and idle streams.
                        int free = Math.max(1, streams) - running.size();
                        int share = Math.min(SPILL_BATCH, Math.max(1, ceilDiv(cands.size() - i, free)));
                        List<Fid> batch = new ArrayList<>();
                        long planned = 0;
                        do {
                            Candidate c = cands.get(i++);
                            // One atomic claim per object, released when its batch ends (runBatch):
                            // an object an emergency spill is moving now is left to it.
                            if (inFlight.add(c.fid())) {
                                planned += c.sizeBytes();
                                batch.add(c.fid());
                            }
                        } while (i < cands.size()
                                && batch.size() < share
                                && planned + cands.get(i).sizeBytes() <= room);
                        if (batch.isEmpty()) {
                            continue;
                        }
                        SpillBatch b = new SpillBatch(target, batch);
                        if (done == null) {
                            stop |= settle(b, runBatch(b), gone);
                        } else {
                            running.put(done.submit(() -> runBatch(b)), b);
                        }
                    }
                    if (running.isEmpty()) {
                        return;
                    }
                    Future<SpillOutcome> f = take(done);
                    SpillBatch b = running.remove(f);
                    stop |= settle(b, outcome(f), gone);
                }
            } catch (OsdException | RuntimeException e) {
                // Planning the next batch failed (the target's statfs, say): the round ends, but
                // not before the batches already running have finished and been settled, so their
                // objects' placement is learned and no batch outlives the pass.
                while (!running.isEmpty()) {
                    Future<SpillOutcome> f = take(done);
                    settle(running.remove(f), outcome(f), gone);
                }
                throw e;
            }
        }

        /** What a finished batch did, counted and reported; true if the round should start no more batches. */
        private boolean settle(SpillBatch b, SpillOutcome out, List<Fid> gone) {
            PoolDevice target = b.target();
            if (out.error() != null) {
                if (!out.error().is(Errno.EBUSY)) {
                    blame(target, "spill of " + b.fids().size() + " objects", out.error(), errors);
                }
                return true;
            }
            for (Migrator.Spilled sp : out.results()) {
                Fid f = sp.fid();
                if (sp.result() instanceof MoveResult.Failed threw) {
                    OsdException e = threw.error();
                    if (e.is(Errno.ENOENT) || e.is(Errno.EISDIR)) {
                        heat.forget(f);
                    } else if (!e.is(Errno.EBUSY)) {
                        blame(target, "spill of " + f, e, errors);
                    }
                    continue;
                }
                MoveResult r = sp.result();
                moved("spill", r);
                if (r instanceof MoveResult.Done) {
                    gone.add(f);
                    extents.markAll(f, true);
                    spilled++;
                    spilledBytes += r.bytes();
                    succeeded(target.index());
                } else if (r instanceof MoveResult.NothingToDo) {
                    gone.add(f);
                    extents.markAll(f, true);
                } else if (r instanceof MoveResult.Parked parked) {
                    if (parked.failure() != null) {
                        failed(target.index(), "spill of " + f, parked.failure(), errors);
                    } else {
                        errors.add(r.detail());
                    }
                }
            }
            return false;
        }
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /**
     * The next batch of a round to finish (its stream is free again). Interrupted, it still waits:
     * the batches in flight finish (a copy is never left half-tracked) and the interrupt stays set,
     * so the round starts no more.
     */
    private static Future<SpillOutcome> take(CompletionService<SpillOutcome> done) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return done.take();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private SpillOutcome outcome(Future<SpillOutcome> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new SpillOutcome(List.of(), new OsdException(Errno.ECANCELED, pool.name(), null, "interrupted"));
        } catch (ExecutionException e) {
            return new SpillOutcome(
                    List.of(),
                    new OsdException(Errno.EIO, pool.name(), null, "spill batch failed: " + e.getCause(), e));
        }
    }

    /** A batch of a spill round: objects to one target. */
    private record SpillBatch(PoolDevice target, List<Fid> fids) {}

    /** What a batch's spillAll returned, or the error it threw. */
    private record SpillOutcome(List<Migrator.Spilled> results, OsdException error) {}

    private SpillOutcome runBatch(SpillBatch b) {
        try {
            return new SpillOutcome(pool.migrator().spillAll(b.fids(), b.target(), paced), null);
        } catch (OsdException e) {
            return new SpillOutcome(List.of(), e);
        } finally {
            b.fids().forEach(inFlight::remove);
        }
    }

    private synchronized ExecutorService spillers() {
        if (spillers == null) {
            AtomicLong n = new AtomicLong();
            spillers = Executors.newFixedThreadPool(
                    cfg.spillStreams(),
                    r -> Thread.ofPlatform()
                            .daemon()
                            .name("spillway-spill-" + n.incrementAndGet())
                            .unstarted(r));
        }
        return spillers;
    }

    /**
     * After a crash, objects written since the last heat checkpoint and not touched since are
     * unknown to the tracker, so they could never be spilled. The metadata device's index of
     * resident objects names them: one stripe of it per pass is read and the unknown ones are
     * adopted (as if written now). It reads the fast tier's index, never the pool's objects.
     */
    private void adoptResidents() throws OsdException {
        if (adoptStripe >= pool.residentParts()) {
            return;
        }
        for (Fid f : pool.residents(adoptStripe++)) {
            if (heat.lookup(f).isEmpty()) {
                try {
                    // The pool's record holds the size: getattr also reads and decodes the device's
                    // own record (after a crash a whole tier may be adopted, as the server starts).
                    var o = pool.object(f);
                    if (o.isPresent()) {
                        heat.recordWrite(f, ObjectKind.DATA, o.get().size());
                    }
                } catch (OsdException e) {
                    if (!e.is(Errno.ENOENT)) {
                        throw e;
                    }
                }
            }
        }
    }

    /** Writes the heat tracker to the metadata device (periodically, and at close). */
    public void checkpoint() throws OsdException {
        LocalFile file = pool.localFile(LocalFile.Name.HEAT);
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        try {
            HeatCheckpoint.write(heat, extents, bo);
        } catch (IOException e) {
            throw new OsdException(Errno.EIO, pool.name(), file.fid(), "heat checkpoint: " + e.getMessage(), e);
        }
        byte[] b = bo.toByteArray();
        // The pool replaces the file without needing space (the old body goes first); what it
        // grows by may come only from clients' room, so on a full tier it waits for the next one
        // (a late checkpoint costs placement quality after a crash, never correctness).
        if (!file.replace(b)) {
            deferredCheckpoints.incrementAndGet();
            lastError = "heat checkpoint of " + b.length + " bytes deferred: the fast tier has no room for its growth";
            return;
        }
        lastCheckpointNanos = nanos();
    }

    // ---- emergency ----------------------------------------------------------------------------

    /**
     * Room for a writer waiting on a full fast tier (the emergency plan): the coldest objects, as a
     * pass would choose them but ignoring the watermarks and the minimum resident age, until
     * {@code bytes} are freed. A big object placed by extent gives its cold extents first, each
     * spilled alone by range, the least read first, as few as the room needs (a pass's line: the
     * plan's hottest candidate's value, a split object's at its whole body's size); its hot
     * extents stay. Only if the whole plan still frees too little does every big object it placed
     * by extent go out whole, in the plan's order — its hot extents are what it has resident then,
     * whether all were hot from the start (a hot head left alone) or its cold ones went by range
     * above (or were refused) — so a writer gets room rather than ENOSPC while the tier holds
     * anything a spill device can take (a read of the head then promotes it again, by extent).
     */
    @Override
    public boolean reclaim(long bytes, List<Fid> busy, long deadlineNanos) {
        long freed = 0;
        try {
            refreshFast();
            // Ask for more than is needed: objects locked by writers or in the pass's flight are
            // skipped, and the ones after them must still free enough.
            SpillPlan plan = policy.planEmergency(4 * bytes, fastCapacity);
            Set<Fid> skip = new HashSet<>(busy);
            double line = 0;
            for (Candidate c : plan.candidates()) {
                line = Math.max(line, lineValue(c.fid()));
            }
            // Every big object placed by extent here (its hot extents stayed): the last resort, below.
            List<Candidate> hot = new ArrayList<>();
            boolean tried = false;
            for (Candidate c : plan.candidates()) {
                // Past the writer's deadline nothing new starts (but a writer that may not wait
                // at all still gets one object's spill).
                if (freed >= bytes || (tried && System.nanoTime() >= deadlineNanos)) {
                    break;
                }
                // One atomic claim, held until this object's moves end: the pass claims its batches'
                // and extents' objects the same way, so one of the two starts the object's move and
                // the other takes the next object.
                if (skip.contains(c.fid()) || !inFlight.add(c.fid())) {
                    continue;
                }
                try {
                    if (extents.tracked(c.fid()) || cfg.extents().covers(c.sizeBytes())) {
                        long[] got = emergencyExtents(c.fid(), line, bytes - freed);
                        if (got != null) {
                            freed += got[0];
                            tried |= got[1] > 0;
                            hot.add(c);
                            continue;
                        }
                    }
                    long got = emergencyWhole(c);
                    if (got < 0) {
                        return freed > 0;
                    }
                    tried = true;
                    freed += got;
                } finally {
                    inFlight.remove(c.fid());
                }
            }
            for (Candidate c : hot) {
                if (freed >= bytes || (tried && System.nanoTime() >= deadlineNanos)) {
                    break;
                }
                if (!inFlight.add(c.fid())) {
                    continue;
                }
                long got;
                try {
                    got = emergencyWhole(c);
                } finally {
                    inFlight.remove(c.fid());
                }
                if (got < 0) {
                    break;
                }
                tried = true;
                freed += got;
            }
        } catch (OsdException | RuntimeException e) {
            emergencyFailed("emergency spill for a writer waiting for " + bytes + " bytes", e);
        }
        return freed > 0;
    }

    /**
     * An emergency's whole spill of {@code c} (the caller holds its claim in {@link #inFlight}): the
     * bytes freed, or -1 if no device has room for it.
     */
    private long emergencyWhole(Candidate c) throws OsdException {
        PoolDevice target = spillTarget(c.sizeBytes(), Set.of());
        if (target == null) {
            return -1;
        }
        try {
            MoveResult r = pool.migrator().spill(c.fid(), target, MoveOptions.EMERGENCY);
            moved("emergency", r);
            if (r instanceof MoveResult.Done) {
                heat.markSpilled(c.fid());
                extents.markAll(c.fid(), true);
                return r.bytes();
            } else if (r instanceof MoveResult.NothingToDo) {
                // Spilled meanwhile (by the daemon's pass): not a candidate any more.
                heat.markSpilled(c.fid());
            }
        } catch (OsdException e) {
            if (e.is(Errno.ENOENT)) {
                heat.forget(c.fid());
            }
            // EBUSY and the rest: try the next candidate; the writer fails only if nothing moves.
        }
        return 0;
    }

    /**
     * An emergency's spill of the cold extents of big object {@code fid} (against {@code line}),
     * the least read first, until {@code need} bytes are freed; its hot extents stay. Returns the
     * bytes freed and the spills tried, or null if the object is not placed by extent now (it goes
     * whole as any other). The caller holds the object's claim in {@link #inFlight}.
     */
    private long[] emergencyExtents(Fid fid, double line, long need) throws OsdException {
        Optional<PoolObject> o;
        try {
            o = learnResidency(fid);
        } catch (OsdException e) {
            return null;
        }
        if (o.isEmpty() || !cfg.extents().covers(o.get().size())) {
            return null;
        }
        List<ExtentHeat.Extent> cold = coldExtents(fid, o.get(), line);
        if (cold == null) {
            return null;
        }
        cold.sort((a, b) ->
                a.count() != b.count() ? Double.compare(a.count(), b.count()) : Integer.compare(a.index(), b.index()));
        long freed = 0;
        int tried = 0;
        for (ExtentHeat.Extent x : cold) {
            if (freed >= need) {
                break;
            }
            long len = x.end() - x.start();
            PoolDevice target = spillTarget(len, Set.of());
            if (target == null) {
                break;
            }
            tried++;
            try {
                MoveResult r = pool.migrator()
                        .spillRange(fid, target, x.start(), x.last() ? Span.EOF : x.end(), MoveOptions.EMERGENCY);
                moved("emergency-extent", r);
                if (r instanceof MoveResult.Done) {
                    extents.mark(fid, x.index(), true);
                    freed += r.bytes();
                } else if (!(r instanceof MoveResult.NothingToDo)) {
                    // Refused (too few devices for its copies) or parked: so would the next be.
                    break;
                }
            } catch (OsdException e) {
                if (e.is(Errno.ENOENT)) {
                    heat.forget(fid);
                    extents.forget(fid);
                    return new long[] {freed, tried};
                }
                // EBUSY and the rest: the next candidate.
                break;
            }
        }
        try {
            learnResidency(fid);
        } catch (OsdException | RuntimeException e) {
            // The spills above are done whatever the record read back says (a device error, the
            // pool closing): the writer's room and the rest of the plan must not be lost to it.
            // The belief stays as the spills marked it; the next pass reads the record again.
            emergencyFailed("emergency spill: reading back the record of " + fid + " after its extent spills", e);
        }
        return new long[] {freed, tried};
    }

    /**
     * A failure of the emergency plan that is not a move's own answer (those are its counters): it
     * is logged naming the object or step and the cause, counted ({@link #emergencyErrors()}) and
     * kept as the last error; the plan goes on where it can.
     */
    private void emergencyFailed(String what, Exception e) {
        emergencyErrors.incrementAndGet();
        String msg = what + ": " + e.getMessage();
        lastError = msg;
        LOG.log(System.Logger.Level.WARNING, "pool " + pool.name() + ": " + msg, e);
    }

    /** Failures of the emergency plan (a writer waiting for room) since start, other than a move's own answer. */
    public long emergencyErrors() {
        return emergencyErrors.get();
    }

    // ---- chores -------------------------------------------------------------------------------

    /** Work of the layers above the pool that the daemon runs every pass (multipart expiry). */
    @FunctionalInterface
    public interface Chore {
        /** One round; returns how many things it did (uploads aborted, ...). */
        int run() throws OsdException;
    }

    /** Adds a chore run every pass, after garbage collection; failures are reported like the pass's own. */
    public void addChore(String name, Chore chore) {
        chores.put(name, chore);
    }

    /** What each chore has done since the daemon started. */
    public Map<String, Long> choresDone() {
        Map<String, Long> out = new TreeMap<>();
        chores.keySet()
                .forEach(k ->
                        out.put(k, choresDone.getOrDefault(k, new AtomicLong()).get()));
        return out;
    }

    /** Heat checkpoints put off because the fast tier had no room for their growth. */
    public long deferredCheckpoints() {
        return deferredCheckpoints.get();
    }

    // ---- observability and control --------------------------------------------------------------

    public DaemonStatus status() {
        Map<String, Long> bm = new TreeMap<>();
        bytesMoved.forEach((k, v) -> bm.put(k, v.get()));
        Map<String, Long> mv = new TreeMap<>();
        moves.forEach((k, v) -> mv.put(k, v.get()));
        Map<String, Double> bo = new LinkedHashMap<>();
        backoff.active(nanos()).forEach((d, left) -> bo.put(pool.device(d).name(), left.toNanos() / 1e9));
        return new DaemonStatus(
                thread != null && thread.isAlive(),
                activity,
                queued,
                promotions.size(),
                bm,
                mv,
                rate,
                fastUsed,
                fastCapacity,
                policy.spilling(),
                bo,
                heat.tracked(),
                policy.stats(),
                lastError,
                stuckCopies(stuck),
                stuckRolledBack.get());
    }

    /** {@code jobs} as the status shows stuck copies, their ages by the pool's clock now. */
    private List<DaemonStatus.StuckCopy> stuckCopies(List<Job> jobs) {
        long now = pool.nowNanos();
        return jobs.stream()
                .map(j -> new DaemonStatus.StuckCopy(
                        j.fid().toString(),
                        pool.device(j.device()).name(),
                        j.key().toString(),
                        Math.max(0, now - j.createdNs()) / 1e9))
                .toList();
    }

    /**
     * An operator moved {@code fid}'s body (an admin spill, release or promote): the heat tracker
     * learns where it is now, so the next spill pass and the status page do not take it for
     * resident (or spilled) any more.
     */
    public void operatorMoved(Fid fid, boolean resident) {
        if (resident) {
            heat.markPromoted(fid, false);
        } else {
            heat.markSpilled(fid);
        }
        extents.markAll(fid, !resident);
    }

    /** The configuration the daemon runs with (watermarks, bandwidth cap). */
    public DaemonConfig config() {
        return cfg;
    }

    /**
     * The heat distribution and the next objects a spill pass would take ({@code top} of them),
     * for the status page. Costs the heat tracker's bucket count plus {@code top} records.
     */
    public HeatReport heatReport(int top) {
        long cap = Math.max(1, fastCapacity);
        long used = fastUsed;
        long above = used > cfg.policy().highWatermark() * cap
                ? (long) Math.max(0, used - cfg.policy().lowWatermark() * cap)
                : 0;
        return new HeatReport(
                heat.distribution(),
                heat.coldest(Math.max(0, top), Long.MAX_VALUE, cfg.policy().minResidentAge()),
                heat.spillableBytes(),
                above);
    }

    /** Objects not accessed for {@code age}, coldest first: the list for an external manager. */
    public List<Candidate> inactive(Duration age, int limit) {
        return heat.inactive(age, limit, true);
    }

    /** Starts the background thread: a pass every {@code interval} of wall time. */
    public synchronized void start() {
        if (thread != null || !cfg.enabled()) {
            return;
        }
        thread = Thread.ofPlatform().daemon().name("spillway-migrate").start(() -> {
            while (!closed) {
                boolean progressed = false;
                try {
                    PassReport r = runOnce();
                    progressed = r.spilled() > 0;
                    warnOnce(r.errors());
                } catch (OsdException | RuntimeException e) {
                    lastError = e.getMessage();
                    LOG.log(
                            System.Logger.Level.ERROR,
                            "pool " + pool.name() + ": migration pass failed: " + e.getMessage(),
                            e);
                }
                // Writers waiting for room, or a tier still past its high watermark: the next pass
                // starts at once, so the pool drains at the spill device's speed, not a pass a second.
                if (progressed && pressed()) {
                    continue;
                }
                if (Thread.interrupted()) {
                    return;
                }
                // A writer that starts waiting for room wakes the daemon (see wake()).
                LockSupport.parkNanos(Math.max(10_000_000L, cfg.interval().toNanos()));
                if (closed) {
                    return;
                }
            }
        });
    }

    // The last warning logged and when: a pass that fails the same way every second (a stuck
    // evacuation, a full device) is logged when it starts and then once a minute, not each pass.
    private List<String> lastWarned = List.of();
    private long lastWarnedNanos;
    private int warnRepeats;

    private void warnOnce(List<String> errors) {
        if (errors.isEmpty()) {
            lastWarned = List.of();
            return;
        }
        long now = nanos();
        // Compared without their numbers: back-off delays and byte counts change every pass.
        List<String> shape =
                errors.stream().map(e -> e.replaceAll("[0-9]+", "#")).toList();
        if (shape.equals(lastWarned) && now - lastWarnedNanos < 60_000_000_000L) {
            warnRepeats++;
            return;
        }
        String again = shape.equals(lastWarned) ? " (again; " + warnRepeats + " passes since the last warning)" : "";
        LOG.log(System.Logger.Level.WARNING, "pool " + pool.name() + ": migration pass: " + errors + again);
        lastWarned = shape;
        lastWarnedNanos = now;
        warnRepeats = 0;
    }

    /** True if writers wait for room or the fast tier is past its high watermark. */
    private boolean pressed() {
        return pool.roomQueue().stats().waiting() > 0 || fastUsed > cfg.policy().highWatermark() * fastCapacity;
    }

    /** Starts the next pass now (a writer began to wait for room). */
    public void wake() {
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    /**
     * Stops: the background thread finishes its pass (a copy in flight completes or leaves its
     * job for the next mount), heat is checkpointed, the pool no longer calls in.
     */
    @Override
    public void close() throws OsdException {
        closed = true;
        pool.spaceReclaimer(null);
        pool.roomQueue().onWait(null);
        unlistenFailures.run();
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t != null) {
            t.interrupt();
            try {
                t.join(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (this) {
            if (spillers != null) {
                spillers.shutdown();
            }
            pool.migrator().settleLeftovers();
            checkpoint();
        }
    }
}
