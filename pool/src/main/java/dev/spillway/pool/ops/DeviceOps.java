package dev.spillway.pool.ops;

import dev.spillway.osd.Capability;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.SpaceClass;
import dev.spillway.osd.Transaction;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.config.Role;
import dev.spillway.pool.core.PoolContext;
import dev.spillway.pool.device.DeviceHealth;
import dev.spillway.pool.device.DeviceTable;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.Counters;
import dev.spillway.pool.meta.DeviceIndex;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.Span;
import dev.spillway.pool.meta.WorkIndex;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Device-level operations: state changes, evacuation and the replacement of copies lost with a
 * failed device. Each walks only the device's own index — never the whole pool — and moves one
 * object at a time through {@link Migrator}, so it can be interrupted (or crash) anywhere.
 */
public final class DeviceOps {
    private static final System.Logger LOG = System.getLogger(DeviceOps.class.getName());

    private final PoolContext ctx;
    // Serialises state changes and the lost-marking passes and verifications they run.
    private final Object stateLock = new Object();

    private final Migrator migrator;
    private final LostCopies lost;
    private volatile Consumer<StateChange> failed = c -> {};

    public DeviceOps(PoolContext ctx, Migrator migrator) {
        this.ctx = ctx;
        this.migrator = migrator;
        this.lost = new LostCopies(ctx, migrator);
    }

    /**
     * What a state change did besides the state.
     *
     * @param lost for a device set failed: its lost-marking pass
     * @param returned for a device back from failed: the verification of its lost copies
     * @param leftovers for a device back from failed: copies it held that no layout names any
     *     more, now garbage
     */
    public record StateChange(
            String device,
            DeviceState from,
            DeviceState to,
            LostCopies.Pass lost,
            LostCopies.Returned returned,
            int leftovers) {}

    /** Who is told when a device has failed (after its lost-marking pass). */
    public void onFailed(Consumer<StateChange> c) {
        this.failed = c;
    }

    /** The lost copies of failed devices: the pass, the listing, the verification on return. */
    public LostCopies lostCopies() {
        return lost;
    }

    /**
     * Sets and persists a device's state ({@code device set-state}). Failing a device persists
     * FAILED with the start of its lost-marking pass, then runs the pass ({@link LostCopies});
     * bringing one back from FAILED verifies its lost copies before they count again.
     */
    public StateChange setState(PoolDevice d, DeviceState s) throws OsdException {
        if (d == ctx.metadata() && s != DeviceState.RW && s != DeviceState.RO) {
            throw new OsdException(
                    Errno.EINVAL,
                    ctx.name(),
                    "the metadata device '" + d.name() + "' cannot be " + s.yamlName()
                            + ": it holds the namespace and every layout");
        }
        synchronized (stateLock) {
            DeviceState old = persistedState(d);
            if (s == DeviceState.FAILED) {
                if (old != DeviceState.FAILED) {
                    DeviceTable.fail(ctx.metadata().osd(), d);
                }
                d.state(DeviceState.FAILED);
                LostCopies.Pass pass = lost.markLost(d);
                StateChange c = new StateChange(d.name(), old, s, pass, null, 0);
                failed.accept(c);
                return c;
            }
            d.state(s);
            try {
                DeviceTable.setState(ctx.metadata().osd(), d);
            } catch (OsdException e) {
                d.state(old);
                throw e;
            }
            if (old == DeviceState.FAILED && d.osd() instanceof DeviceHealth h) {
                h.reset();
            }
            if (old == DeviceState.FAILED && s != DeviceState.SPARE) {
                LostCopies.Returned back = lost.verifyReturned(d);
                int left = collectLeftovers(d);
                return new StateChange(d.name(), old, s, null, back, left);
            }
            if (old == DeviceState.FAILED) {
                // Retired: what it still holds is garbage if it answers; a dead disk holds nothing.
                int left = 0;
                try {
                    left = collectLeftovers(d);
                } catch (OsdException dead) {
                    LOG.log(
                            System.Logger.Level.INFO,
                            "pool " + ctx.name() + ": spare device " + d.name() + " cannot be listed ("
                                    + dead.getMessage() + "); whatever it holds is not the pool's");
                }
                return new StateChange(d.name(), old, s, null, null, left);
            }
            return new StateChange(d.name(), old, s, null, null, 0);
        }
    }

    /**
     * Resumes the lost-marking passes a crash interrupted (mount, after recovery), under the same
     * lock as state changes: a device tripping meanwhile waits for its pass to end.
     */
    public List<LostCopies.Pass> resumeLostPasses() throws OsdException {
        synchronized (stateLock) {
            return lost.resumeAll();
        }
    }

    private DeviceState persistedState(PoolDevice d) throws OsdException {
        List<DeviceTable.Entry> table = DeviceTable.read(ctx.metadata().osd());
        return d.index() < table.size() ? table.get(d.index()).state() : d.state();
    }

    /**
     * A device back from FAILED still holds the copies the pool gave up on when it failed: every
     * object on it that its device index no longer names becomes a GC job. Walks that device only.
     */
    public int collectLeftovers(PoolDevice d) throws OsdException {
        if (d == ctx.metadata() || !d.osd().capabilities().has(Capability.LIST_OBJECTS)) {
            return 0;
        }
        Set<Fid> named = new HashSet<>();
        DeviceIndex.forEach(ctx.metadata().osd(), d.index(), (o, k) -> named.add(k));
        // A leased sync-copy key may hold its precreated empty object: the lease's (SyncKeys).
        for (SyncKeys.Lease l : SyncKeys.all(ctx.metadata().osd())) {
            if (l.device() == d.index()) {
                named.add(l.key());
            }
        }
        List<Fid> leftovers = new ArrayList<>();
        try (var c = d.osd().listObjects()) {
            while (c.next()) {
                if (!named.contains(c.fid())) {
                    leftovers.add(c.fid());
                }
            }
        }
        for (Fid k : leftovers) {
            long bytes = d.osd().getAttr(k).blocks() * 512;
            migrator.orphan(d, k, bytes);
        }
        return leftovers.size();
    }

    /** Progress of an evacuation step. */
    /**
     * Progress of an evacuation or replacement step.
     *
     * @param unrecoverable objects whose lost copy cannot be rebuilt: no in-sync copy is left
     */
    public record Progress(int moved, int failed, int remaining, boolean done, List<String> errors, int unrecoverable) {
        public Progress(int moved, int failed, int remaining, boolean done, List<String> errors) {
            this(moved, failed, remaining, done, errors, 0);
        }
    }

    /** A device copies can move to, other than {@code from}: writable, durable, in tier order. */
    public Optional<PoolDevice> target(PoolObject p, PoolDevice from) {
        for (PoolDevice d : ctx.devices()) {
            if (d != from
                    && d.has(Role.BACKGROUND)
                    && d.state().writable()
                    && d.durability() > 0
                    && p.on(d.index()).isEmpty()) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }

    /**
     * Refuses, before anything moves, an evacuation that cannot finish: the in-sync copies on
     * {@code from} must fit on the other writable durable spill devices, plus the promote device
     * for bodies that have nowhere else to go (what {@link #evacuateStep} does with them). Copies
     * already held elsewhere need no room; they are counted anyway. The bytes are the copies' allocated
     * bytes (the pool's counters): a sparse copy may need more room where it goes, which ends as a
     * stuck evacuation (the CLI says how to get out), never as lost data.
     *
     * @throws OsdException ENOSPC naming what the device holds, what the others can take and what
     *     to do
     */
    public void checkRoomFor(PoolDevice from) throws OsdException {
        long[] held = ctx.copyTotals().getOrDefault(from.index(), Map.of()).get(CopyState.IN_SYNC);
        long bytes = held == null ? 0 : held[0];
        if (bytes == 0 || from.has(Role.CACHE)) {
            return;
        }
        var statfs = ctx.statfs();
        long room = 0;
        List<String> others = new ArrayList<>();
        for (PoolDevice d : ctx.devices()) {
            boolean spill = d.has(Role.BACKGROUND) && d.durability() > 0;
            boolean home = d == ctx.metadata() && d.has(Role.PROMOTE);
            if (d == from || !(spill || home) || !d.state().writable()) {
                continue;
            }
            long avail = statfs.devices().get(d.index()).availableBytes();
            room += avail;
            others.add(d.name() + " " + human(avail) + " free");
        }
        if (bytes > room) {
            throw new OsdException(
                    Errno.ENOSPC,
                    ctx.name(),
                    "cannot evacuate '" + from.name() + "': it holds " + human(bytes)
                            + " and the other devices can take "
                            + human(room)
                            + (others.isEmpty() ? " (none can take copies)" : " (" + String.join(", ", others) + ")")
                            + "; nothing was moved. Add a spill device to the pool's configuration (devices may be appended)"
                            + " and restart, or free space, then evacuate again");
        }
    }

    private static String human(long b) {
        String[] u = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = b;
        int i = 0;
        while (v >= 1024 && i < u.length - 1) {
            v /= 1024;
            i++;
        }
        return i == 0 ? b + " B" : String.format(Locale.ROOT, "%.1f %s", v, u[i]);
    }

    /**
     * Moves up to {@code max} copies off {@code from} (state EVACUATING), honouring replicas;
     * when none is left, the device becomes SPARE.
     */
    public Progress evacuateStep(PoolDevice from, int max) throws OsdException {
        return evacuateStep(from, max, MoveOptions.DEFAULT);
    }

    /** {@link #evacuateStep(PoolDevice, int)} with its copies run as {@code o} says. */
    public Progress evacuateStep(PoolDevice from, int max, MoveOptions o) throws OsdException {
        if (from == ctx.metadata()) {
            throw new OsdException(
                    Errno.EINVAL, ctx.name(), "the metadata device '" + from.name() + "' cannot be evacuated");
        }
        if (from.state() != DeviceState.EVACUATING) {
            checkRoomFor(from);
            setState(from, DeviceState.EVACUATING);
        }
        List<Fid[]> entries = DeviceIndex.list(ctx.metadata().osd(), from.index());
        int moved = 0;
        int failed = 0;
        List<String> errors = new ArrayList<>();
        for (Fid[] e : entries) {
            if (moved + failed >= max) {
                break;
            }
            Fid fid = e[0];
            try {
                Optional<PoolObject> p = ctx.store().load(fid);
                if (p.isEmpty()) {
                    continue;
                }
                Optional<Copy> c = p.get().byKey(e[1]);
                if (c.isEmpty() || c.get().state() == CopyState.PENDING) {
                    continue;
                }
                MoveResult r;
                if (c.get().state() != CopyState.IN_SYNC || from.has(Role.CACHE)) {
                    // A cache copy is never the only one worth keeping: it just goes.
                    r = migrator.dropMirror(fid, c.get().mirrorId());
                } else {
                    Optional<PoolDevice> to = target(p.get(), from);
                    if (to.isEmpty()) {
                        // No other spill device: the body comes home.
                        r = p.get().resident(ctx.metadata().index())
                                ? migrator.dropMirror(fid, c.get().mirrorId())
                                : migrator.promoteHome(fid);
                        if (r instanceof MoveResult.Done
                                && !p.get().resident(ctx.metadata().index())) {
                            r = migrator.dropMirror(fid, c.get().mirrorId());
                        }
                    } else {
                        r = migrator.migrate(fid, from, to.get(), o);
                    }
                }
                if (r instanceof MoveResult.Done) {
                    moved++;
                } else {
                    failed++;
                    errors.add(fid + ": " + r.detail());
                }
            } catch (OsdException ex) {
                failed++;
                errors.add(fid + ": " + ex.getMessage());
            }
        }
        migrator.collectGarbage();
        int remaining = DeviceIndex.list(ctx.metadata().osd(), from.index()).size();
        boolean done = remaining == 0;
        if (done) {
            setState(from, DeviceState.SPARE);
        }
        return new Progress(moved, failed, remaining, done, errors);
    }

    /**
     * For every object with a lost copy on {@code dead} (every copy there, if it is FAILED):
     * makes new copies from the in-sync ones left until {@code replicas} durable copies exist
     * again — on {@code preferred} first if it can take one ({@code device replace}), else on the
     * first writable spill device in tier order — then drops the lost copy (a GC job deletes it
     * if the device ever comes back). An object with no in-sync copy left keeps its lost copy
     * (listed by {@link LostCopies#lostOn}, counted in {@link Progress#unrecoverable}): there is
     * nothing to rebuild it from. Walks the device's own index.
     */
    public Progress replaceLost(PoolDevice dead, PoolDevice preferred, int max) throws OsdException {
        return replaceLost(dead, preferred, max, MoveOptions.DEFAULT);
    }

    /** {@link #replaceLost(PoolDevice, PoolDevice, int)} with its copies run as {@code o} says. */
    public Progress replaceLost(PoolDevice dead, PoolDevice preferred, int max, MoveOptions o) throws OsdException {
        int moved = 0;
        int failed = 0;
        int unrecoverable = 0;
        List<String> errors = new ArrayList<>();
        boolean failedDevice = dead.state() == DeviceState.FAILED;
        for (Fid[] e : DeviceIndex.list(ctx.metadata().osd(), dead.index())) {
            if (moved + failed >= max) {
                break;
            }
            Fid fid = e[0];
            try {
                Optional<PoolObject> p = ctx.store().load(fid);
                if (p.isEmpty()) {
                    continue;
                }
                Optional<Copy> c = p.get().byKey(e[1]);
                if (c.isEmpty()
                        || c.get().state() == CopyState.PENDING
                        || !(c.get().state() == CopyState.LOST || failedDevice)) {
                    continue;
                }
                if (!c.get().whole() && c.get().device() != ctx.metadata().index()) {
                    Boolean r = replaceLostRange(fid, p.get(), c.get(), dead, preferred, o);
                    if (r == null) {
                        unrecoverable++;
                    } else if (r) {
                        moved++;
                    }
                    continue;
                }
                long good = durableSurvivors(p.get(), dead);
                if (good == 0) {
                    unrecoverable++;
                    continue;
                }
                PoolObject now = p.get();
                for (long n = good; n < ctx.replicas(); n++) {
                    Optional<PoolDevice> to = preferred != null && eligible(preferred, now, dead)
                            ? Optional.of(preferred)
                            : target(now, dead);
                    if (to.isEmpty()) {
                        break;
                    }
                    MoveResult r = migrator.copy(fid, to.get(), false, o);
                    if (!r.settled()) {
                        throw new OsdException(
                                Errno.EIO,
                                ctx.name(),
                                fid,
                                "new copy on " + to.get().name() + " not made: " + r.detail(),
                                r instanceof MoveResult.Parked pk ? pk.failure() : null);
                    }
                    now = ctx.store().require(fid);
                }
                Optional<Copy> stillThere = now.byKey(e[1]);
                if (stillThere.isPresent()) {
                    migrator.dropMirror(fid, stillThere.get().mirrorId());
                }
                moved++;
            } catch (OsdException ex) {
                failed++;
                errors.add(fid + ": " + ex.getMessage());
            }
        }
        migrator.collectGarbage();
        int remaining = DeviceIndex.list(ctx.metadata().osd(), dead.index()).size();
        return new Progress(moved, failed, remaining, remaining == 0, errors, unrecoverable);
    }

    /**
     * A lost copy of a range of a split body (issue 20), by the whole-copy rules applied to its
     * range: the durable in-sync copies holding the range elsewhere are counted; none left, it stays
     * (null: unrecoverable); fewer than {@code replicas}, new copies of the range are made from them
     * ({@link RangeRepair}: the range's bytes only, the first replacing the lost copy); enough, the
     * lost copy is dropped. True once the lost copy has left the layout.
     */
    private Boolean replaceLostRange(
            Fid f, PoolObject p, Copy lostCopy, PoolDevice dead, PoolDevice preferred, MoveOptions o)
            throws OsdException {
        Span span = lostCopy.spans().get(0);
        long good = rangeSurvivors(p, span, lostCopy, dead);
        if (good == 0) {
            return null;
        }
        Fid replaces = lostCopy.key();
        PoolObject now = p;
        for (long n = good; n < ctx.replicas(); n++) {
            Optional<PoolDevice> to = preferred != null && rangeEligible(preferred, now, span, dead)
                    ? Optional.of(preferred)
                    : rangeTarget(now, span, dead);
            if (to.isEmpty()) {
                break;
            }
            MoveResult r = migrator.rebuildRange(f, span, replaces, to.get(), o);
            if (!r.settled()) {
                throw new OsdException(
                        Errno.EIO,
                        ctx.name(),
                        f,
                        "new copy of the range " + span + " on " + to.get().name() + " not made: " + r.detail(),
                        r instanceof MoveResult.Parked pk ? pk.failure() : null);
            }
            replaces = null;
            now = ctx.store().require(f);
        }
        Optional<Copy> stillThere = now.byKey(lostCopy.key());
        if (stillThere.isPresent()) {
            migrator.dropMirror(f, stillThere.get().mirrorId());
        }
        return ctx.store().require(f).byKey(lostCopy.key()).isEmpty();
    }

    /** As {@link #replaceLost(PoolDevice, PoolDevice, int)} with no preferred device. */
    public Progress replaceLost(PoolDevice dead, int max) throws OsdException {
        return replaceLost(dead, null, max, MoveOptions.DEFAULT);
    }

    /**
     * In-sync copies of the current version on readable durable devices other than {@code dead}; a
     * split body (issue 20) counts as one if its resident ranges and the copies of the others there
     * hold every byte (a whole copy is made from it as reads are).
     */
    private long durableSurvivors(PoolObject p, PoolDevice dead) {
        long whole = p.inSync().stream()
                .filter(x -> !x.onDevice(dead.index())
                        && x.version() == p.dataVersion()
                        && ctx.durable(x)
                        && ctx.readable(x))
                .count();
        int md = ctx.metadata().index();
        if (!p.split(md)) {
            return whole;
        }
        List<Span> held = new ArrayList<>();
        for (Copy c : p.copies()) {
            if (!c.whole()
                    && c.state() == CopyState.IN_SYNC
                    && c.version() == p.dataVersion()
                    && !c.onDevice(dead.index())
                    && ctx.durable(c)
                    && ctx.readable(c)) {
                held.addAll(c.spans());
            }
        }
        return whole + (Span.covers(held, 0, p.size()) ? 1 : 0);
    }

    /** In-sync copies holding {@code span}, of the current version, on readable durable devices other than {@code dead}. */
    private long rangeSurvivors(PoolObject p, Span span, Copy lostCopy, PoolDevice dead) {
        return p.holdersOf(span, lostCopy.key()).stream()
                .filter(x -> !x.onDevice(dead.index()) && ctx.durable(x) && ctx.readable(x))
                .count();
    }

    /** A device that may take a new copy of {@code span}: as {@link #eligible}, holding no copy with a byte of it. */
    private boolean rangeEligible(PoolDevice d, PoolObject p, Span span, PoolDevice from) {
        return d != from
                && d.index() != ctx.metadata().index()
                && d.has(Role.BACKGROUND)
                && d.state().writable()
                && d.durability() > 0
                && p.copies().stream()
                        .noneMatch(
                                c -> c.onDevice(d.index()) && c.held().stream().anyMatch(h -> h.overlaps(span)));
    }

    /** The first device in tier order that may take a new copy of {@code span}. */
    private Optional<PoolDevice> rangeTarget(PoolObject p, Span span, PoolDevice from) {
        for (PoolDevice d : ctx.devices()) {
            if (rangeEligible(d, p, span, from)) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }

    private boolean eligible(PoolDevice d, PoolObject p, PoolDevice from) {
        return d != from
                && d.has(Role.BACKGROUND)
                && d.state().writable()
                && d.durability() > 0
                && p.on(d.index()).isEmpty();
    }

    /**
     * One step of {@code device replace OLD NEW}: rebuilds the copies lost with {@code old} from
     * the surviving ones, on {@code replacement} first; once {@code old} holds nothing but the
     * lost copies of objects with no copy left (or nothing), it is retired: SPARE when empty,
     * else it stays FAILED so that {@code device lost} keeps naming what was only there.
     */
    public Progress replaceStep(PoolDevice old, PoolDevice replacement, int max) throws OsdException {
        if (old == replacement) {
            throw new OsdException(Errno.EINVAL, ctx.name(), "cannot replace '" + old.name() + "' by itself");
        }
        if (old.state() != DeviceState.FAILED) {
            throw new OsdException(
                    Errno.EINVAL,
                    ctx.name(),
                    "device '" + old.name() + "' is " + old.state().yamlName()
                            + ", not failed: to move its copies elsewhere use `spillway device evacuate "
                            + old.name() + "`; if it is broken, `spillway device set-state " + old.name()
                            + " failed` first");
        }
        if (!replacement.has(Role.BACKGROUND) || replacement.durability() == 0) {
            throw new OsdException(
                    Errno.EINVAL,
                    ctx.name(),
                    "device '" + replacement.name() + "' cannot take spilled copies (it needs the background role"
                            + " and a durability above 0); add it to the pool's configuration as a background device"
                            + " and restart");
        }
        if (replacement.state() == DeviceState.SPARE) {
            setState(replacement, DeviceState.RW);
        }
        if (!replacement.state().writable()) {
            throw new OsdException(
                    Errno.EINVAL,
                    ctx.name(),
                    "device '" + replacement.name() + "' is "
                            + replacement.state().yamlName() + "; `spillway device set-state " + replacement.name()
                            + " rw` first");
        }
        Progress p = replaceLost(old, replacement, max);
        if (p.remaining() == 0) {
            retire(old);
        }
        return p;
    }

    /**
     * A failed device nothing names any more becomes SPARE: its garbage is deleted where the
     * device still answers, and the garbage jobs left for it go either way (a dead disk's copies
     * are gone with it; wipe a disk that comes back before using it again).
     */
    private void retire(PoolDevice old) throws OsdException {
        synchronized (stateLock) {
            List<Job> garbage = WorkIndex.all(ctx.metadata().osd()).stream()
                    .filter(j -> j.kind() == Job.Kind.GC && j.device() == old.index())
                    .toList();
            // The transactions that made them garbage are durable before a copy goes.
            ctx.metadata().osd().sync();
            for (Job j : garbage) {
                try (Transaction tx = old.osd().newTransaction()) {
                    tx.declareDestroy(j.key());
                    tx.setSpaceClass(SpaceClass.FREEING);
                    tx.start();
                    tx.destroy(j.key());
                } catch (OsdException deadOrGone) {
                    // A dead disk's copies are gone with it; one deleted already needs nothing.
                    LOG.log(
                            System.Logger.Level.INFO,
                            "pool " + ctx.name() + ": copy " + j.key() + " of " + j.fid() + " on retired device "
                                    + old.name() + " not deleted: " + deadOrGone.getMessage());
                }
            }
            try {
                old.osd().sync();
            } catch (OsdException dead) {
                // As above: nothing on it is the pool's any more.
            }
            for (Job j : garbage) {
                Counters counters = new Counters(j.fid());
                try (Transaction tx = ctx.metadata().osd().newTransaction()) {
                    WorkIndex.declareRemove(tx, j.fid());
                    Counters.declare(tx, j.fid());
                    tx.setSpaceClass(SpaceClass.FREEING);
                    tx.start();
                    WorkIndex.remove(tx, j);
                    counters.add(j.device(), CopyState.GARBAGE, j.bytes(), -1);
                    counters.flush(tx, ctx.metadata().osd());
                }
            }
            // Leftovers (copies whose jobs a garbage pass dropped while it was failed) become
            // garbage if it can still be listed, and go now.
            setState(old, DeviceState.SPARE);
            migrator.collectGarbage();
        }
    }
}
