package dev.spillway.pool.ops;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.SpaceClass;
import dev.spillway.osd.Transaction;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.core.PoolContext;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.io.CopyIo;
import dev.spillway.pool.meta.Checksums;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.WorkIndex;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * What a crash leaves of sync writes, settled at mount (docs/design.md, "Write-commit"):
 * <ul>
 * <li>a {@link Job.Kind#SYNC_COPY} job — the top transaction is durable, the copy may be: rolled
 * forward (the copy becomes IN_SYNC) if it is on its device whole and byte for byte the body the
 * metadata device holds for the job's version, else rolled back as any pending copy. A write was
 * acknowledged only once its copy was durable, so every acknowledged write rolls forward (unless
 * its device failed since);</li>
 * <li>a lease ({@link SyncKeys}) whose key no SYNC_COPY job names — no durable top transaction
 * used the key, so whatever was written under it is an orphan: deleted, made durable, then the
 * lease goes.</li>
 * </ul>
 * Both cost what the work in flight costs (a body read twice per copy in flight, a lookup per
 * leased key), never a scan.
 */
public final class SyncRecovery {
    private static final System.Logger LOG = System.getLogger(SyncRecovery.class.getName());

    private final PoolContext ctx;
    private final Migrator migrator;

    public SyncRecovery(PoolContext ctx, Migrator migrator) {
        this.ctx = ctx;
        this.migrator = migrator;
    }

    private Osd md() {
        return ctx.metadata().osd();
    }

    /**
     * Rolls each SYNC_COPY job forward or back.
     *
     * @return the copies rolled forward (the others were rolled back)
     */
    public int settleCopies(List<Job> jobs) throws OsdException {
        int forward = 0;
        for (Job j : jobs) {
            try {
                if (settle(j)) {
                    forward++;
                }
            } catch (OsdException e) {
                // One damaged object never blocks a mount: its job stays (fsck names it).
                LOG.log(
                        System.Logger.Level.WARNING,
                        "pool " + ctx.name() + ": sync copy " + j.key() + " of " + j.fid() + " not settled at mount ("
                                + e.getMessage() + "); its job stays, see spillway fsck");
            }
        }
        return forward;
    }

    /**
     * Ends each {@link Job.Kind#WRITE_AROUND} job a crash or a failed end left, with its key's lease
     * (call before {@link #settleLeases}): nothing else. The top transaction that made the job named
     * the copy in sync, durable before it; whatever the object went through since (a rewrite, a
     * delete, a move) settled that copy as any spilled copy's, so the job is never rolled back.
     *
     * @return the jobs ended (one that cannot be now stays, with its lease, for the next mount)
     */
    public int settleWriteArounds(List<Job> jobs) {
        int ended = 0;
        for (Job j : jobs) {
            try {
                migrator.locked(j.fid(), () -> {
                    WriteAround.endNow(md(), j);
                    return null;
                });
                ended++;
            } catch (OsdException e) {
                LOG.log(
                        System.Logger.Level.WARNING,
                        "pool " + ctx.name() + ": write-around job for " + j.key() + " of " + j.fid()
                                + " not ended at mount (" + e.getMessage() + "); it stays for the next mount");
            }
        }
        return ended;
    }

    /** Rolls one SYNC_COPY job forward (true) or back (false). */
    private boolean settle(Job j) throws OsdException {
        return migrator.locked(j.fid(), () -> {
            Optional<PoolObject> p = loadIfExists(j.fid());
            Checksums sums = p.isPresent() ? verified(j, p.get()) : null;
            if (sums != null) {
                PoolDevice target = ctx.device(j.device());
                try {
                    long occupied = target.osd().getAttr(j.key()).blocks() * 512;
                    if (migrator.flipRecovered(j, sums, occupied) instanceof MoveResult.Done) {
                        return true;
                    }
                } catch (OsdException e) {
                    // Even the reserve is full, or the device failed just now: the copy is
                    // rolled back; the metadata device's copy stays and the daemon restores replicas.
                    LOG.log(
                            System.Logger.Level.WARNING,
                            "pool " + ctx.name() + ": sync copy " + j.key() + " of " + j.fid() + " on "
                                    + target.name() + " not rolled forward (" + e.getMessage()
                                    + "); rolled back, the daemon restores replicas");
                }
            }
            migrator.discard(j, loadIfExists(j.fid()).orElse(null));
            return false;
        });
    }

    /**
     * The copy's checksums if it may be named in sync: the job's version is the object's, its body
     * is on the metadata device in sync, and the copy on a working device has the same bytes; else
     * null (a torn, missing or unreadable copy — a write not acknowledged).
     */
    private Checksums verified(Job j, PoolObject p) {
        int mdIndex = ctx.metadata().index();
        Optional<Copy> pending = p.byKey(j.key()).filter(c -> c.state() == CopyState.PENDING && !c.striped());
        Optional<Copy> local = p.on(mdIndex);
        PoolDevice target = ctx.device(j.device());
        if (pending.isEmpty()
                || p.dataVersion() != j.version()
                || local.isEmpty()
                || local.get().state() != CopyState.IN_SYNC
                || local.get().version() != p.dataVersion()
                || target.state() == DeviceState.FAILED) {
            return null;
        }
        try {
            return CopyIo.sameBody(CopyIo.of(md(), j.fid()), j.fid(), p.size(), target, j.key());
        } catch (OsdException e) {
            return null;
        }
    }

    private Optional<PoolObject> loadIfExists(Fid fid) throws OsdException {
        try {
            return ctx.store().load(fid);
        } catch (OsdException e) {
            if (!e.is(Errno.ENOENT)) {
                throw e;
            }
            return Optional.empty();
        }
    }

    /**
     * True unless {@code key} is surely absent on {@code d}: an object that cannot even be read
     * (a record a crash tore) counts as there, for {@code destroyIfExists} to remove.
     */
    private static boolean mayExist(PoolDevice d, Fid key) {
        try {
            d.osd().getAttr(key);
            return true;
        } catch (OsdException e) {
            return !e.is(Errno.ENOENT);
        }
    }

    /**
     * Deletes {@code keys} on {@code d} in one freeing transaction, unforced (nothing if empty); at
     * mount, and for {@link SyncKeys} what a failed precreation left.
     */
    static void destroyAll(PoolDevice d, List<Fid> keys) throws OsdException {
        if (keys.isEmpty()) {
            return;
        }
        try (Transaction tx = d.osd().newTransaction()) {
            for (Fid k : keys) {
                tx.declareDestroy(k);
            }
            tx.setSpaceClass(SpaceClass.FREEING);
            tx.start();
            for (Fid k : keys) {
                // Also what a crash left of one (a body whose record is torn).
                tx.destroyIfExists(k);
            }
        }
    }

    /**
     * Ends every lease left at mount whose key no SYNC_COPY or WRITE_AROUND job names (call after
     * {@link #settleCopies}, whose flips and roll-backs end their own): no durable top transaction
     * used the key, so what it holds on its device is deleted and made durable first. A lease whose
     * device cannot answer now (failed, or an error) stays for the next mount.
     *
     * @return the orphan copies deleted
     */
    public int settleLeases() throws OsdException {
        Set<String> named = new HashSet<>();
        for (Job j : WorkIndex.all(md())) {
            if (j.kind() == Job.Kind.SYNC_COPY || j.kind() == Job.Kind.WRITE_AROUND) {
                // (A write-around's key is its object's copy: never an orphan.)
                named.add(j.device() + "/" + j.key());
            }
        }
        Map<Integer, List<SyncKeys.Lease>> byDevice = new TreeMap<>();
        for (SyncKeys.Lease l : SyncKeys.all(md())) {
            if (!named.contains(l.device() + "/" + l.key())) {
                byDevice.computeIfAbsent(l.device(), k -> new ArrayList<>()).add(l);
            }
        }
        int deleted = 0;
        List<SyncKeys.Lease> done = new ArrayList<>();
        for (Map.Entry<Integer, List<SyncKeys.Lease>> e : byDevice.entrySet()) {
            PoolDevice d = ctx.device(e.getKey());
            if (d.state() == DeviceState.FAILED) {
                continue;
            }
            try {
                // A precreated empty object, or a copy whose top transaction was lost: deleted,
                // a device's all in one transaction and one sync. If that transaction fails (one
                // damaged object), each key is tried alone, so the damaged one alone keeps its
                // lease (and is retried at the next mount) and the others end now.
                List<Fid> held = new ArrayList<>();
                for (SyncKeys.Lease l : e.getValue()) {
                    if (mayExist(d, l.key())) {
                        held.add(l.key());
                    }
                }
                List<SyncKeys.Lease> cleared = new ArrayList<>(e.getValue());
                try {
                    destroyAll(d, held);
                } catch (OsdException batch) {
                    for (SyncKeys.Lease l : e.getValue()) {
                        if (!held.contains(l.key())) {
                            continue;
                        }
                        try {
                            destroyAll(d, List.of(l.key()));
                        } catch (OsdException one) {
                            cleared.remove(l);
                            held.remove(l.key());
                            LOG.log(
                                    System.Logger.Level.WARNING,
                                    "pool " + ctx.name() + ": object " + l.key() + " under a leased sync-copy key on "
                                            + d.name() + " not deleted (" + one.getMessage()
                                            + "); its lease stays and the delete is tried again at the next mount");
                        }
                    }
                }
                if (!held.isEmpty()) {
                    // The whole device: a sync of a deleted object's key finds no such object.
                    d.osd().sync();
                }
                deleted += held.size();
                done.addAll(cleared);
            } catch (OsdException ex) {
                LOG.log(
                        System.Logger.Level.WARNING,
                        "pool " + ctx.name() + ": leased sync-copy keys on " + d.name() + " not cleared now ("
                                + ex.getMessage() + "); their leases stay for the next mount");
            }
        }
        SyncKeys.endAll(md(), done);
        if (deleted > 0) {
            LOG.log(
                    System.Logger.Level.INFO,
                    "pool " + ctx.name() + ": deleted " + deleted
                            + " object(s) under leased sync-copy keys (precreated and unused, or a copy whose"
                            + " top transaction a crash lost: never acknowledged)");
        }
        return deleted;
    }
}
