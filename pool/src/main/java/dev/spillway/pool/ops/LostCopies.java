package dev.spillway.pool.ops;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.IndexCursor;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.SpaceClass;
import dev.spillway.osd.Transaction;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.config.Role;
import dev.spillway.pool.core.PoolContext;
import dev.spillway.pool.device.DeviceTable;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.io.CopyIo;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.Counters;
import dev.spillway.pool.meta.DeviceIndex;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.PoolFids;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.WorkIndex;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The copies of a failed device: the one pass that marks them {@link CopyState#LOST}, the
 * listing of what is at risk, and the verification of a device that comes back. Everything walks
 * the device's own index ({@link DeviceIndex}), never the namespace.
 *
 * <p><b>The pass</b> ({@link #markLost}) visits every entry of the failed device's index, stripe
 * by stripe in key order, and turns each in-sync or stale copy LOST in a metadata transaction of
 * its own (the layout generation bumped, a RESYNC job of the copy dropped, the counters moved),
 * which also moves the pass's cursor in the superblock ({@link DeviceTable#moveLostCursor}). A
 * crash anywhere leaves the cursor at an entry whose marking is committed or not: mount resumes
 * from it, and marking an entry twice finds it LOST already. The cursor goes only after the
 * metadata device is synced. Each transaction changes a state byte and a flag (the record and the
 * layout keep their sizes), may create one counter record and rewrites the cursor: RESERVED work
 * within the reserve's per-object bound, and the pass holds one reserve slot.
 *
 * <p>A pending copy (a COPY job under way to the device) is left to its job: its write fails, or
 * its flip finds the device failed and discards it.
 */
public final class LostCopies {
    private static final System.Logger LOG = System.getLogger(LostCopies.class.getName());

    private final PoolContext ctx;
    private final Migrator migrator;

    public LostCopies(PoolContext ctx, Migrator migrator) {
        this.ctx = ctx;
        this.migrator = migrator;
    }

    private Osd md() {
        return ctx.metadata().osd();
    }

    /**
     * What a lost-marking pass did.
     *
     * @param device the failed device
     * @param lost copies it marked LOST (this run; a resumed pass counts only its own); for a read
     *     cache, the copies it dropped from their layouts instead
     * @param noCopyLeft of those, objects left without any in-sync copy (reads fail with EIO)
     * @param errors objects it could not mark (a damaged record), each naming the object and why
     */
    public record Pass(String device, int lost, int noCopyLeft, List<String> errors) {}

    /** Resumes every pass a crash interrupted (mount, after recovery). */
    public List<Pass> resumeAll() throws OsdException {
        List<Pass> out = new ArrayList<>();
        for (PoolDevice d : ctx.devices()) {
            if (DeviceTable.lostCursor(md(), d.index()).isPresent()) {
                d.state(DeviceState.FAILED);
                Pass p = markLost(d);
                LOG.log(
                        System.Logger.Level.WARNING,
                        "pool " + ctx.name() + ": resumed the lost-marking pass of failed device " + d.name() + ": "
                                + p.lost() + " copies marked lost, " + p.noCopyLeft() + " objects with no copy left");
                out.add(p);
            }
        }
        return out;
    }

    /**
     * Runs (or resumes) the lost-marking pass of {@code d}, whose FAILED state and cursor are
     * persisted already ({@link DeviceTable#fail}). Nothing to do if no cursor is there.
     */
    public Pass markLost(PoolDevice d) throws OsdException {
        Optional<byte[]> cur = DeviceTable.lostCursor(md(), d.index());
        if (cur.isEmpty()) {
            return new Pass(d.name(), 0, 0, List.of());
        }
        if (d.has(Role.CACHE)) {
            // A cache's copies are extra copies, never replicas: they leave their layouts (as at a
            // mount after the cache lost them) instead of staying there LOST; nothing is at risk.
            int dropped = migrator.dropCacheCopies(d);
            md().sync();
            DeviceTable.endLostPass(md(), d.index());
            return new Pass(d.name(), dropped, 0, List.of());
        }
        int firstStripe = 0;
        byte[] after = null;
        if (cur.get().length == DeviceTable.LOST_CURSOR_BYTES) {
            firstStripe = cur.get()[0];
            after = Arrays.copyOfRange(cur.get(), 1, DeviceTable.LOST_CURSOR_BYTES);
        }
        int lost = 0;
        int noCopy = 0;
        List<String> errors = new ArrayList<>();
        try (var slot = ctx.reserveSlots().take(true)) {
            for (int s = firstStripe; s < PoolFids.STRIPES; s++) {
                for (byte[] k : keys(d.index(), s, s == firstStripe ? after : null)) {
                    Fid fid = Fid.fromBytes(k, 0);
                    Fid key = Fid.fromBytes(k, Fid.BYTES);
                    try {
                        int r = markOne(d, s, fid, key);
                        if (r > 0) {
                            lost++;
                        }
                        if (r > 1) {
                            noCopy++;
                        }
                    } catch (OsdException e) {
                        // One damaged object never stops the pass: reads skip the failed device
                        // anyway; fsck names the object.
                        errors.add(fid + ": " + e.getMessage());
                    }
                }
            }
        }
        // Every marking durable before the cursor that says the pass is under way goes.
        md().sync();
        DeviceTable.endLostPass(md(), d.index());
        return new Pass(d.name(), lost, noCopy, List.copyOf(errors));
    }

    /** The index keys of one stripe of a device's index after {@code after} (exclusive; null: all). */
    private List<byte[]> keys(int device, int stripe, byte[] after) throws OsdException {
        List<byte[]> out = new ArrayList<>();
        try (IndexCursor c = md().cursor(PoolFids.deviceIndex(device, stripe), after)) {
            while (c.next()) {
                byte[] k = c.key();
                if (after == null || Arrays.compareUnsigned(k, after) > 0) {
                    out.add(k);
                }
            }
        }
        return out;
    }

    /** Marks one copy lost: 0 if nothing to do, 1 if marked, 2 if marked and no in-sync copy is left. */
    private int markOne(PoolDevice d, int stripe, Fid fid, Fid key) throws OsdException {
        return migrator.locked(fid, () -> {
            Optional<PoolObject> now = load(fid);
            Optional<Copy> c = now.flatMap(p -> p.byKey(key));
            if (c.isEmpty()
                    || !c.get().onDevice(d.index())
                    || (c.get().state() != CopyState.IN_SYNC && c.get().state() != CopyState.STALE)) {
                return 0;
            }
            PoolObject p = now.get();
            Copy was = c.get();
            PoolObject next = p.replace(was.mirrorId(), x -> x.withState(CopyState.LOST))
                    .preferring(ctx.metadata().index());
            byte[] cursor = new byte[DeviceTable.LOST_CURSOR_BYTES];
            cursor[0] = (byte) stripe;
            System.arraycopy(fid.toBytes(), 0, cursor, 1, Fid.BYTES);
            System.arraycopy(key.toBytes(), 0, cursor, 1 + Fid.BYTES, Fid.BYTES);
            AttrChange times = ctx.store().times(fid);
            Counters counters = new Counters(fid);
            try (Transaction tx = md().newTransaction()) {
                ctx.store().declare(tx, fid, next);
                WorkIndex.declareRemove(tx, fid);
                Counters.declare(tx, fid);
                DeviceTable.declareLostCursor(tx);
                tx.setSpaceClass(SpaceClass.RESERVED);
                tx.start();
                for (Job j : WorkIndex.of(md(), fid)) {
                    if (j.kind() == Job.Kind.RESYNC && was.hasKey(j.key())) {
                        WorkIndex.remove(tx, j);
                    }
                }
                ctx.store().store(tx, fid, next, times);
                // A striped copy is lost whole with any one of its devices: every stripe moves.
                counters.move(was, was.state(), CopyState.LOST);
                counters.flush(tx, md());
                DeviceTable.moveLostCursor(tx, d.index(), cursor);
            }
            return survivors(next) == 0 ? 2 : 1;
        });
    }

    private Optional<PoolObject> load(Fid fid) throws OsdException {
        try {
            return ctx.store().load(fid);
        } catch (OsdException e) {
            if (e.is(Errno.ENOENT)) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /** In-sync copies of the current version on readable devices: what reads and repairs can use. */
    public int survivors(PoolObject p) {
        return (int) p.inSync().stream()
                .filter(c -> c.version() == p.dataVersion() && ctx.readable(c))
                .count();
    }

    // ---- what is at risk --------------------------------------------------------------------

    /**
     * An object with a lost copy.
     *
     * @param fid the object
     * @param device the device its lost copy is on
     * @param mirrorId the lost copy's mirror
     * @param survivors in-sync copies left on readable devices (0: reads fail with EIO)
     * @param size the object's size
     */
    public record LostObject(Fid fid, String device, int mirrorId, int survivors, long size) {}

    /** Every object with a LOST copy on {@code d} (walks that device's index only). */
    public List<LostObject> lostOn(PoolDevice d) throws OsdException {
        List<LostObject> out = new ArrayList<>();
        for (Fid[] e : DeviceIndex.list(md(), d.index())) {
            Optional<PoolObject> p = load(e[0]);
            Optional<Copy> c = p.flatMap(x -> x.byKey(e[1]));
            if (c.isPresent() && c.get().state() == CopyState.LOST) {
                out.add(new LostObject(
                        e[0],
                        d.name(),
                        c.get().mirrorId(),
                        survivors(p.get()),
                        p.get().size()));
            }
        }
        return out;
    }

    /**
     * The pool's degradation: failed durable devices, objects with a lost copy and fewer than
     * {@code replicas} in-sync copies left (at risk), objects with none left. A failed read cache
     * is listed apart: it held no data the pool counts on (durability 0, never a replica), so it
     * does not make the pool degraded, as a faulted ZFS cache device leaves its pool ONLINE.
     */
    public record Health(
            List<String> failedDevices, List<String> failedCaches, long lostCopies, long atRisk, long noCopyLeft) {
        public boolean degraded() {
            return !failedDevices.isEmpty() || lostCopies > 0;
        }
    }

    /** Walks the indexes of failed devices and of devices holding LOST copies (the counters say which). */
    public Health health() throws OsdException {
        var totals = ctx.copyTotals();
        List<String> failed = new ArrayList<>();
        List<String> failedCaches = new ArrayList<>();
        long lost = 0;
        Set<Fid> atRisk = new HashSet<>();
        Set<Fid> none = new HashSet<>();
        for (PoolDevice d : ctx.devices()) {
            if (d.state() == DeviceState.FAILED) {
                (d.has(Role.CACHE) ? failedCaches : failed).add(d.name());
            }
            long[] l = totals.getOrDefault(d.index(), Map.of()).get(CopyState.LOST);
            if (l == null || l[1] == 0) {
                continue;
            }
            for (LostObject o : lostOn(d)) {
                lost++;
                if (o.survivors() == 0) {
                    none.add(o.fid());
                } else if (o.survivors() < ctx.replicas()) {
                    atRisk.add(o.fid());
                }
            }
        }
        atRisk.removeAll(none);
        return new Health(List.copyOf(failed), List.copyOf(failedCaches), lost, atRisk.size(), none.size());
    }

    // ---- a device that comes back -------------------------------------------------------------

    /**
     * What the verification of a returned device found.
     *
     * @param device the device
     * @param restored lost copies that passed their checksums and are in sync again
     * @param dropped lost copies of an older version (stale when the device failed): collected,
     *     since a resync would replace them whole anyway
     * @param mismatched copies that failed verification: they stay LOST, each named with why, and
     *     the daemon replaces them like any lost copy
     */
    public record Returned(String device, int restored, int dropped, List<String> mismatched) {}

    /**
     * Verifies every LOST copy of the current version on {@code d} (back in service: rw or ro)
     * against the checksums the pool took when it wrote it ({@code CopyIo.verify}, chunk by
     * chunk). A copy that passes is in sync again; one that fails stays LOST and is reported. A
     * lost copy of an older version is dropped. Reads happen without the object's lock; the flip
     * re-checks under it that nothing changed.
     */
    public Returned verifyReturned(PoolDevice d) throws OsdException {
        int restored = 0;
        int dropped = 0;
        List<String> bad = new ArrayList<>();
        for (Fid[] e : DeviceIndex.list(md(), d.index())) {
            Fid fid = e[0];
            Optional<PoolObject> p = load(fid);
            Optional<Copy> c = p.flatMap(x -> x.byKey(e[1]));
            if (c.isEmpty() || c.get().state() != CopyState.LOST) {
                continue;
            }
            if (c.get().version() != p.get().dataVersion()) {
                if (migrator.dropMirror(fid, c.get().mirrorId()) instanceof MoveResult.Done) {
                    dropped++;
                }
                continue;
            }
            try {
                CopyIo.verify(ctx::device, fid, c.get(), p.get().size());
            } catch (OsdException ex) {
                if (!ex.is(Errno.EIO) && !ex.is(Errno.ENOENT) && !ex.is(Errno.EPROTO)) {
                    throw ex;
                }
                bad.add(fid + " mirror " + c.get().mirrorId() + ": " + ex.getMessage());
                continue;
            }
            if (restore(d, fid, c.get())) {
                restored++;
            }
        }
        return new Returned(d.name(), restored, dropped, List.copyOf(bad));
    }

    private boolean restore(PoolDevice d, Fid fid, Copy verified) throws OsdException {
        try (var slot = ctx.reserveSlots().take(true)) {
            return migrator.locked(fid, () -> {
                Optional<PoolObject> now = load(fid);
                Optional<Copy> c = now.flatMap(p -> p.byKey(verified.key()));
                if (c.isEmpty()
                        || c.get().state() != CopyState.LOST
                        || c.get().version() != now.get().dataVersion()) {
                    return false;
                }
                PoolObject p = now.get();
                PoolObject next = p.replace(c.get().mirrorId(), x -> x.withState(CopyState.IN_SYNC))
                        .preferring(ctx.metadata().index());
                AttrChange times = ctx.store().times(fid);
                Counters counters = new Counters(fid);
                try (Transaction tx = md().newTransaction()) {
                    ctx.store().declare(tx, fid, next);
                    Counters.declare(tx, fid);
                    tx.setSpaceClass(SpaceClass.RESERVED);
                    tx.start();
                    ctx.store().store(tx, fid, next, times);
                    counters.move(c.get(), CopyState.LOST, CopyState.IN_SYNC);
                    counters.flush(tx, md());
                }
                return true;
            });
        }
    }
}
