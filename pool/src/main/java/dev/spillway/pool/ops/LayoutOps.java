package dev.spillway.pool.ops;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.SpaceClass;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.config.Role;
import dev.spillway.pool.core.PoolContext;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.io.CopyIo;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.DeviceIndex;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.WorkIndex;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Moves that change only an object's layout, never writing a new copy: release of the local body,
 * a promotion home (a recall into the metadata device), a mirror dropped, a copy marked bad
 * (STALE, with a RESYNC job), cache copies a cache device lost dropped at mount, and the check of
 * every copy against its checksums.
 */
final class LayoutOps {
    private static final System.Logger LOG = System.getLogger(LayoutOps.class.getName());
    private final MoveContext mc;
    private final PoolContext ctx;
    private final int mdIndex;

    LayoutOps(MoveContext mc) {
        this.mc = mc;
        this.ctx = mc.ctx;
        this.mdIndex = mc.mdIndex;
    }

    /** Drops the local body if enough durable in-sync copies exist elsewhere. */
    public MoveResult release(Fid fid) throws OsdException {
        return release(fid, MoveOptions.DEFAULT);
    }

    /**
     * Drops the local body if enough durable in-sync whole copies exist elsewhere. A split body
     * (issue 20) whose whole copies are enough — a body spilled whole whose hot range was promoted
     * alone — drops what it holds and the copies of its ranges with it (GC jobs): what a whole spill
     * of it onto a device already holding its whole copy does, no byte copied.
     */
    MoveResult release(Fid fid, MoveOptions o) throws OsdException {
        return mc.locked(fid, o, () -> {
            PoolObject p = mc.load(fid);
            boolean split = p.split(mdIndex);
            if (!p.resident(mdIndex) && !split) {
                return new MoveResult.NothingToDo("not resident");
            }
            long others = mc.durableInSyncElsewhere(p);
            if (others < ctx.replicas()) {
                return new MoveResult.Refused("only " + others + " durable in-sync cop" + (others == 1 ? "y" : "ies")
                        + " elsewhere; the pool keeps " + ctx.replicas());
            }
            List<Copy> ranges = split
                    ? p.ranges(mdIndex).stream()
                            .filter(c -> c.state() != CopyState.PENDING)
                            .toList()
                    : List.of();
            PoolObject dropped = p.remove(p.on(mdIndex).orElseThrow().mirrorId());
            for (Copy r : ranges) {
                dropped = dropped.remove(r.mirrorId());
            }
            PoolObject next = dropped.preferring(-1)
                    .withBlocks(split ? p.blocks() : mc.md().getAttr(fid).blocks());
            AttrChange times = ctx.store().times(fid);
            mc.meta(
                    fid,
                    false,
                    SpaceClass.FREEING,
                    (tx, c) -> {
                        tx.declareTruncate(fid, 0);
                        DeviceIndex.declareDelete(tx, mdIndex, fid);
                        for (Copy r : ranges) {
                            WorkIndex.declareAdd(tx, fid);
                            DeviceIndex.declareDelete(tx, fid, r);
                        }
                        ctx.store().declare(tx, fid, next);
                    },
                    (tx, c) -> {
                        tx.truncate(fid, 0);
                        DeviceIndex.delete(tx, mdIndex, fid, fid);
                        for (Copy r : ranges) {
                            mc.gcJob(tx, c, fid, r);
                        }
                        ctx.store().store(tx, fid, next, times);
                    });
            return new MoveResult.Done(p.size(), "released " + p.size() + " bytes of " + fid);
        });
    }

    /**
     * Brings the body back to the metadata (promote) device, keeping the other copies; what an
     * evacuation does with a body that has nowhere else to go (never to a cache device).
     */
    public MoveResult promoteHome(Fid fid) throws OsdException {
        return mc.locked(fid, () -> {
            PoolObject p = mc.load(fid);
            if (p.resident(mdIndex)) {
                return new MoveResult.NothingToDo("already resident");
            }
            List<Copy> sources = new ArrayList<>(p.inSync());
            sources.removeIf(c -> !ctx.readable(c));
            sources.sort(Comparator.comparing((Copy c) -> !c.preferred()).thenComparingInt(Copy::device));
            OsdException last = null;
            AttrChange times = ctx.store().times(fid);
            for (Copy src : sources) {
                PoolObject next = p.add(ctx.store().localCopy(p, fid)).preferring(mdIndex);
                try {
                    mc.meta(
                            fid,
                            false,
                            SpaceClass.CLIENT,
                            (tx, c) -> {
                                tx.declareWrite(fid, 0, p.size());
                                DeviceIndex.declareInsert(tx, mdIndex, fid);
                                ctx.store().declare(tx, fid, next);
                            },
                            (tx, c) -> {
                                CopyIo.recall(tx, ctx::device, fid, src, p.size());
                                DeviceIndex.insert(tx, mdIndex, fid, fid);
                                ctx.store().store(tx, fid, next, times);
                            });
                    return new MoveResult.Done(
                            p.size(), "promoted " + p.size() + " bytes of " + fid + " from " + mc.where(src));
                } catch (OsdException e) {
                    if (!e.is(Errno.EIO) && !e.is(Errno.ENOENT)) {
                        throw e;
                    }
                    last = e;
                }
            }
            if (last != null) {
                markBad(fid, sources.get(0), last);
            }
            throw new OsdException(Errno.EIO, ctx.name(), fid, "no copy could be read to promote", last);
        });
    }

    /** Removes one mirror (lfs mirror split -d); never the last in-sync copy. */
    public MoveResult dropMirror(Fid fid, int mirrorId) throws OsdException {
        return mc.locked(fid, () -> {
            PoolObject p = mc.load(fid);
            Copy c = p.mirror(mirrorId)
                    .orElseThrow(() -> new OsdException(Errno.ENOENT, ctx.name(), fid, "no mirror " + mirrorId));
            if (c.device() == mdIndex) {
                return release(fid);
            }
            if (c.state() == CopyState.PENDING) {
                return new MoveResult.Refused("mirror " + mirrorId + " is being written; retry when its copy ends");
            }
            // A copy of a range (issue 20) is the last if no other in-sync copy holds its range.
            long goodAfter = !c.whole()
                    ? p.holdersOf(c.spans().get(0), c.key()).size()
                    : p.inSync().stream().filter(x -> x.mirrorId() != mirrorId).count();
            if (c.state() == CopyState.IN_SYNC && goodAfter == 0) {
                return new MoveResult.Refused("mirror " + mirrorId + " is the last in-sync copy of " + fid);
            }
            removeCopy(fid, p.remove(mirrorId).preferring(mdIndex), c);
            return new MoveResult.Done(0, "dropped mirror " + mirrorId + " (" + mc.where(c) + ")");
        });
    }

    /**
     * Reads every in-sync copy off the metadata device through its checksums ({@code verify} of the
     * admin API); a copy that fails is marked bad, so a good one is made from another.
     */
    public MoveResult verify(Fid fid) throws OsdException {
        PoolObject p = mc.load(fid);
        List<String> bad = new ArrayList<>();
        for (Copy c : p.inSync()) {
            if (c.device() == mdIndex) {
                continue;
            }
            try {
                CopyIo.verify(ctx::device, fid, c, p.size());
            } catch (OsdException e) {
                bad.add("mirror " + c.mirrorId() + ": " + e.getMessage());
                markBad(fid, c, e);
            }
        }
        return bad.isEmpty()
                ? new MoveResult.Done(0, "every in-sync copy matches its checksums")
                : new MoveResult.Refused(String.join("; ", bad));
    }

    /** A copy failed a read (checksum, I/O, missing): it becomes STALE and a RESYNC job is queued. */
    public boolean markBad(Fid fid, Copy bad, OsdException cause) throws OsdException {
        return mc.slotted(
                MoveOptions.DEFAULT,
                () -> mc.locked(fid, () -> {
                    PoolObject p = ctx.store().load(fid).orElse(null);
                    if (p == null) {
                        return false;
                    }
                    Optional<Copy> c = p.byKey(bad.key());
                    if (c.isEmpty()
                            || c.get().state() != CopyState.IN_SYNC
                            || ctx.device(c.get().device()).state() == DeviceState.FAILED) {
                        // A failed device's copies are the lost-marking pass's.
                        return false;
                    }
                    boolean durable = ctx.device(bad.device()).durability() > 0;
                    if (!c.get().whole() && c.get().device() != mdIndex) {
                        // A copy of a range (issue 20): the same two rules, over the copies that hold
                        // its range (copies of it, whole copies, the body if it holds it again).
                        List<Copy> others =
                                p.holdersOf(c.get().spans().get(0), c.get().key());
                        if (others.isEmpty()
                                || (durable && others.stream().noneMatch(x -> ctx.durable(x) && ctx.readable(x)))) {
                            return false;
                        }
                    } else {
                        // The last in-sync copy is never demoted: there is nothing to resync it from, and
                        // a read error may be its device's passing failure (an object store that stopped
                        // answering), after which the copy is as good as before. A corrupt last copy
                        // stays in the layout, every read of it fails with EIO, and fsck reports it.
                        if (p.inSync().size() <= 1) {
                            return false;
                        }
                        // Nor is the last durable one (cache copies beside it are no substitute: they go
                        // with the next restart of an osd-mem cache).
                        if (durable && durableInSync(p, c.get().key()) == 0) {
                            return false;
                        }
                    }
                    AttrChange times = ctx.store().times(fid);
                    if (ctx.device(bad.device()).has(Role.CACHE)) {
                        // A cache copy is not resynced: it leaves the layout (garbage), reads go to the
                        // durable copies, and the next promotion may cache the object again.
                        PoolObject dropped = p.remove(c.get().mirrorId()).preferring(mdIndex);
                        mc.meta(
                                fid,
                                true,
                                SpaceClass.FREEING,
                                (tx, cs) -> {
                                    WorkIndex.declareAdd(tx, fid);
                                    DeviceIndex.declareDelete(tx, bad.device(), fid);
                                    ctx.store().declare(tx, fid, dropped);
                                },
                                (tx, cs) -> {
                                    ctx.store().store(tx, fid, dropped, times);
                                    mc.gcJob(tx, cs, fid, c.get());
                                });
                        return true;
                    }
                    PoolObject next = p.replace(c.get().mirrorId(), x -> x.withState(CopyState.STALE))
                            .preferring(mdIndex);
                    mc.meta(
                            fid,
                            true,
                            SpaceClass.RESERVED,
                            (tx, cs) -> {
                                WorkIndex.declareAdd(tx, fid);
                                ctx.store().declare(tx, fid, next);
                            },
                            (tx, cs) -> {
                                WorkIndex.add(
                                        tx,
                                        new Job(
                                                Job.Kind.RESYNC,
                                                fid,
                                                bad.device(),
                                                bad.key(),
                                                p.dataVersion(),
                                                c.get().bytes(),
                                                ctx.nowNanos(),
                                                0));
                                cs.move(c.get(), CopyState.IN_SYNC, CopyState.STALE);
                                ctx.store().store(tx, fid, next, times);
                            });
                    return true;
                }));
    }

    /** In-sync copies of the current version on durable readable devices, other than the copy keyed {@code except}. */
    private long durableInSync(PoolObject p, Fid except) {
        return p.inSync().stream()
                .filter(c -> !c.key().equals(except)
                        && c.version() == p.dataVersion()
                        && ctx.device(c.device()).durability() > 0
                        && ctx.device(c.device()).state().readable())
                .count();
    }

    /**
     * At mount: every copy that a cache device no longer holds (an osd-mem cache after a restart,
     * a cache device that lost its content or is failed) leaves its layout, as garbage whose GC
     * finds it gone. Walks the cache devices' own indexes only — never the namespace — with one
     * stat per cached copy. A copy the cache still holds whole stays. A lost cache copy that is
     * the object's only in-sync copy left (its durable copies gone stale meanwhile) stays, for
     * fsck to report, rather than leave the layout with none. One object that cannot be handled is logged and skipped: it never blocks
     * the mount.
     *
     * @return the copies dropped
     */
    public int dropLostCacheCopies() throws OsdException {
        int dropped = 0;
        for (PoolDevice d : ctx.devices()) {
            if (d.has(Role.CACHE)) {
                dropped += dropCacheCopies(d);
            }
        }
        return dropped;
    }

    /**
     * Drops from their layouts the copies cache device {@code d} no longer holds whole — every
     * copy when {@code d} is FAILED — through its own index; returns how many. Idempotent: a pass
     * cut short by a crash is simply run again.
     */
    public int dropCacheCopies(PoolDevice d) throws OsdException {
        int dropped = 0;
        for (Fid[] e : DeviceIndex.list(mc.md(), d.index())) {
            try {
                if (dropIfLost(d, e[0], e[1])) {
                    dropped++;
                }
            } catch (OsdException ex) {
                LOG.log(
                        System.Logger.Level.WARNING,
                        "pool " + ctx.name() + ": cache copy " + e[1] + " of " + e[0] + " on " + d.name()
                                + " left in its layout for now (" + ex.getMessage()
                                + "); reads skip it if it is gone, fsck reports it");
            }
        }
        return dropped;
    }

    private boolean dropIfLost(PoolDevice d, Fid fid, Fid key) throws OsdException {
        return mc.slotted(
                MoveOptions.DEFAULT,
                () -> mc.locked(fid, () -> {
                    Optional<PoolObject> now = mc.loadIfExists(fid);
                    Optional<Copy> c = now.flatMap(p -> p.byKey(key));
                    if (c.isEmpty() || c.get().state() == CopyState.PENDING) {
                        return false;
                    }
                    PoolObject p = now.get();
                    if (d.state() != DeviceState.FAILED && holdsWhole(d, key, c.get(), p)) {
                        return false;
                    }
                    if (c.get().state() == CopyState.IN_SYNC && durableInSync(p, key) == 0) {
                        return false;
                    }
                    removeCopy(fid, p.remove(c.get().mirrorId()).preferring(mdIndex), c.get());
                    return true;
                }));
    }

    /**
     * Copy {@code c} leaves the layout of {@code fid} ({@code next} is the object without it), its
     * RESYNC jobs go and a GC job per part is recorded, in one FREEING metadata transaction (the
     * removals before the additions). The caller holds the object's lock.
     */
    private void removeCopy(Fid fid, PoolObject next, Copy c) throws OsdException {
        AttrChange times = ctx.store().times(fid);
        mc.meta(
                fid,
                false,
                SpaceClass.FREEING,
                (tx, cs) -> {
                    for (int i = 0; i < c.parts().size(); i++) {
                        WorkIndex.declareAdd(tx, fid);
                    }
                    WorkIndex.declareRemove(tx, fid);
                    DeviceIndex.declareDelete(tx, fid, c);
                    ctx.store().declare(tx, fid, next);
                },
                (tx, cs) -> {
                    ctx.store().store(tx, fid, next, times);
                    for (Job j : WorkIndex.of(mc.md(), fid)) {
                        if (j.kind() == Job.Kind.RESYNC && c.hasKey(j.key())) {
                            WorkIndex.remove(tx, j);
                        }
                    }
                    mc.gcJob(tx, cs, fid, c);
                });
    }

    /** Whether cache device {@code d} still holds copy {@code c} whole (its object there, at the copy's size). */
    private static boolean holdsWhole(PoolDevice d, Fid key, Copy c, PoolObject p) {
        try {
            long expected = c.version() == p.dataVersion() ? p.size() : -1;
            return expected < 0 || d.osd().getAttr(key).size() == expected;
        } catch (OsdException e) {
            // Gone (ENOENT) or unreadable: either way the cache does not have it.
            return false;
        }
    }
}
