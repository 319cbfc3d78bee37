package dev.spillway.pool.recovery;

import dev.spillway.osd.Capability;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectCursor;
import dev.spillway.osd.OsdException;
import dev.spillway.pool.core.PoolContext;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.PoolFids;
import dev.spillway.pool.meta.WorkIndex;
import dev.spillway.pool.ops.Migrator;
import dev.spillway.pool.ops.SyncRecovery;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Mount-time recovery. The normal mount reads the work index and nothing else: it rolls back
 * every pending copy (its bytes may be partial), rolls a sync write's copy forward if it is whole
 * ({@link SyncRecovery}), clears leased sync-copy keys and deletes garbage; resync and parked jobs stay
 * for the daemon. Its cost grows with the work in flight, never with the number of objects (the
 * dm-cache lesson). {@link #fullScan} walks everything too, for debugging and as the baseline the
 * recovery benchmark compares against.
 */
public final class Recovery {
    private static final System.Logger LOG = System.getLogger(Recovery.class.getName());

    private Recovery() {}

    public static RecoveryReport recover(PoolContext ctx, Migrator migrator) throws OsdException {
        long t0 = System.nanoTime();
        List<Job> jobs = WorkIndex.all(ctx.metadata().osd());
        Map<String, Integer> byKind = new TreeMap<>();
        int rolled = 0;
        int collected = 0;
        List<Job> copies = new ArrayList<>();
        List<Job> syncCopies = new ArrayList<>();
        List<Job> writeArounds = new ArrayList<>();
        for (Job j : jobs) {
            byKind.merge(j.kind().name(), 1, Integer::sum);
            switch (j.kind()) {
                case COPY -> copies.add(j);
                case SYNC_COPY -> syncCopies.add(j);
                case WRITE_AROUND -> writeArounds.add(j);
                default -> {}
            }
        }
        // Each pending copy is deleted first and its job, layout entry and device-index entry go in
        // one metadata transaction per batch; one its device cannot delete becomes a GC job.
        Migrator.Collected direct = migrator.rollBackDeleting(copies);
        // A sync write's copy is rolled forward when it is whole (an acknowledged write's always
        // is), back otherwise; a leased key no durable top transaction names holds an orphan.
        SyncRecovery sync = new SyncRecovery(ctx, migrator);
        int forward = sync.settleCopies(syncCopies);
        // A body written around the fast tier is whole where its layout says: its job only ends.
        sync.settleWriteArounds(writeArounds);
        sync.settleLeases();
        rolled = copies.size() + syncCopies.size() - forward;
        // A cache device's copies may be gone (osd-mem forgets everything at a restart): its own
        // index names them, so they leave their layouts without a scan of the namespace.
        int uncached = migrator.dropLostCacheCopies();
        // Copies never committed may be missing, empty, torn or unreadable: collecting removes
        // what is there, and what cannot be removed now waits for the daemon, not the mount.
        Migrator.Collected c = migrator.collectAll();
        collected = direct.removed() + c.removed();
        RecoveryReport r = new RecoveryReport(
                "recover",
                System.nanoTime() - t0,
                byKind,
                rolled,
                collected,
                direct.missing() + c.missing(),
                c.deferred(),
                0,
                uncached);
        LOG.log(System.Logger.Level.INFO, "pool " + ctx.name() + ": " + r);
        return r;
    }

    /**
     * No recovery: the work index is read (for the report) and left as it is, so a read-only
     * check sees what the crash left and the mount writes nothing.
     */
    public static RecoveryReport none(PoolContext ctx) throws OsdException {
        long t0 = System.nanoTime();
        Map<String, Integer> byKind = new TreeMap<>();
        for (Job j : WorkIndex.all(ctx.metadata().osd())) {
            byKind.merge(j.kind().name(), 1, Integer::sum);
        }
        return new RecoveryReport("check (no recovery)", System.nanoTime() - t0, byKind, 0, 0, 0, 0, 0, 0);
    }

    /** Walks every object of the metadata device and every copy on every listable device, then recovers. */
    public static RecoveryReport fullScan(PoolContext ctx, Migrator migrator) throws OsdException {
        long t0 = System.nanoTime();
        long scanned = 0;
        try (ObjectCursor c = ctx.metadata().osd().listObjects()) {
            while (c.next()) {
                Fid f = c.fid();
                if (!PoolFids.reserved(f)) {
                    ctx.metadata().osd().getAttr(f);
                    ctx.store().load(f);
                    scanned++;
                }
            }
        }
        for (PoolDevice d : ctx.devices()) {
            if (d == ctx.metadata() || !d.osd().capabilities().has(Capability.LIST_OBJECTS)) {
                continue;
            }
            try (ObjectCursor c = d.osd().listObjects()) {
                while (c.next()) {
                    d.osd().getAttr(c.fid());
                    scanned++;
                }
            }
        }
        RecoveryReport r = recover(ctx, migrator);
        return new RecoveryReport(
                "full-scan",
                System.nanoTime() - t0,
                r.jobs(),
                r.rolledBack(),
                r.collected(),
                r.missing(),
                r.deferred(),
                scanned,
                r.cacheCopiesDropped());
    }
}
