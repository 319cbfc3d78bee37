package dev.spillway.pool.ops;

import dev.spillway.osd.Capability;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.config.Role;
import dev.spillway.pool.core.PoolContext;
import dev.spillway.pool.device.DeviceTable;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.DeviceIndex;
import dev.spillway.pool.meta.PoolObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Device-level operations: state changes, evacuation and the replacement of copies lost with a
 * failed device. Each walks only the device's own index — never the whole pool — and moves one
 * object at a time through {@link Migrator}, so it can be interrupted (or crash) anywhere.
 */
public final class DeviceOps {
    private final PoolContext ctx;
    private final Object stateLock = new Object();

    private final Migrator migrator;

    public DeviceOps(PoolContext ctx, Migrator migrator) {
        this.ctx = ctx;
        this.migrator = migrator;
    }

    /** Sets and persists a device's state ({@code device set-state}). */
    public void setState(PoolDevice d, DeviceState s) throws OsdException {
        if (d == ctx.metadata() && s != DeviceState.RW && s != DeviceState.RO) {
            throw new OsdException(
                    Errno.EINVAL,
                    ctx.name(),
                    "the metadata device '" + d.name() + "' cannot be " + s.yamlName()
                            + ": it holds the namespace and every layout");
        }
        synchronized (stateLock) {
            DeviceState old = d.state();
            d.state(s);
            try {
                DeviceTable.setState(ctx.metadata().osd(), d);
            } catch (OsdException e) {
                d.state(old);
                throw e;
            }
            if (old == DeviceState.FAILED && s != DeviceState.FAILED) {
                collectLeftovers(d);
            }
        }
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
    public record Progress(int moved, int failed, int remaining, boolean done, List<String> errors) {}

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
        if (bytes == 0) {
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
                Migrator.Result r;
                if (c.get().state() != CopyState.IN_SYNC) {
                    r = migrator.dropMirror(fid, c.get().mirrorId());
                } else {
                    Optional<PoolDevice> to = target(p.get(), from);
                    if (to.isEmpty()) {
                        // No other spill device: the body comes home.
                        r = p.get().resident(ctx.metadata().index())
                                ? migrator.dropMirror(fid, c.get().mirrorId())
                                : migrator.promote(fid);
                        if (r.outcome() == Migrator.Outcome.DONE
                                && !p.get().resident(ctx.metadata().index())) {
                            r = migrator.dropMirror(fid, c.get().mirrorId());
                        }
                    } else {
                        r = migrator.migrate(fid, from, to.get());
                    }
                }
                if (r.outcome() == Migrator.Outcome.DONE) {
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
     * For every object with a copy on the failed device {@code dead}: drop that copy (its space
     * is lost with the device) and, if fewer than {@code replicas} durable in-sync copies remain,
     * make a new one elsewhere. Returns how many objects were repaired; those it could not repair
     * (no readable copy left) are listed in the errors.
     */
    public Progress replaceLost(PoolDevice dead, int max) throws OsdException {
        if (dead.state() != DeviceState.FAILED) {
            throw new OsdException(
                    Errno.EINVAL,
                    ctx.name(),
                    "device '" + dead.name() + "' is " + dead.state().yamlName() + ", not failed");
        }
        int moved = 0;
        int failed = 0;
        List<String> errors = new ArrayList<>();
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
                if (c.isEmpty()) {
                    continue;
                }
                long good = p.get().inSync().stream()
                        .filter(x -> !x.onDevice(dead.index()) && ctx.durable(x) && ctx.readable(x))
                        .count();
                if (good == 0) {
                    failed++;
                    errors.add(fid + ": its only in-sync copy was on " + dead.name());
                    continue;
                }
                migrator.forceDrop(fid, c.get().mirrorId());
                PoolObject now = ctx.store().require(fid);
                for (long n = good; n < ctx.replicas(); n++) {
                    Optional<PoolDevice> to = target(now, dead);
                    if (to.isEmpty()) {
                        break;
                    }
                    migrator.copy(fid, to.get(), false);
                    now = ctx.store().require(fid);
                }
                moved++;
            } catch (OsdException ex) {
                failed++;
                errors.add(fid + ": " + ex.getMessage());
            }
        }
        migrator.collectGarbage();
        int remaining = DeviceIndex.list(ctx.metadata().osd(), dead.index()).size();
        return new Progress(moved, failed, remaining, remaining == 0, errors);
    }
}
