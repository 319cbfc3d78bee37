package dev.spillway.pool.ops;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Capability;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.SpaceClass;
import dev.spillway.osd.Transaction;
import dev.spillway.pool.core.PoolContext;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.io.CopyIo;
import dev.spillway.pool.meta.Checksums;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.WorkIndex;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;

/**
 * Write-around (docs/design.md, "Write-around"): a new body written straight to a background
 * device, its only copy there, with only its metadata on the fast tier — what bcachefs does when
 * its foreground target is full. Built from the sync-commit machinery:
 * <ol>
 * <li>the copy's key is leased durably on the background device before the client's transaction
 * starts ({@link SyncKeys}), and the copy is written under it while the client writes;</li>
 * <li>before the top (metadata) transaction commits, the copy is closed, checksummed and made
 * durable on its device (file and folder);</li>
 * <li>the top transaction names the copy IN_SYNC — the state of a spilled object — together with a
 * {@link Job.Kind#WRITE_AROUND} job naming its key, so that no mount mistakes the leased key for an
 * orphan;</li>
 * <li>once it committed, the job and the lease end in a short FREEING metadata transaction
 * ({@link #end}), unforced: a mount that finds the job left ends them
 * ({@link SyncRecovery}).</li>
 * </ol>
 * Crash argument: the copy is durable before any metadata naming it can be, and at every moment
 * its key is named by a durable lease or job; so a crash leaves the old version (top transaction
 * lost: the lease's key is an orphan, deleted at mount) or the new one (its only copy whole).
 */
public final class WriteAround {
    private static final System.Logger LOG = System.getLogger(WriteAround.class.getName());

    private final PoolContext ctx;
    private final SyncCommit sync;

    public WriteAround(PoolContext ctx, SyncCommit sync) {
        this.ctx = ctx;
        this.sync = sync;
    }

    /**
     * The device a new body goes around to: the first writable durable background device that takes
     * writes at any offset ({@link Capability#PARTIAL_WRITE}); null if none. A client may write a
     * body in any order and leave holes, which a device taking writes only in order from offset 0
     * (osd-s3) refuses with EOPNOTSUPP: such a device gets bodies only by spills, which copy them
     * whole and in order.
     */
    public PoolDevice target() {
        for (PoolDevice d : sync.candidates(Optional.empty())) {
            if (d.osd().capabilities().has(Capability.PARTIAL_WRITE)) {
                return d;
            }
        }
        return null;
    }

    /**
     * A body written around: its copy's device transaction, open from the client's start to its
     * commit (declared for exactly the client's writes), and where the writes ended.
     */
    public final class Body {
        private final Fid fid;
        private final PoolDevice device;
        private final Fid key;
        private Transaction tx;
        private long end;
        private boolean written;

        private Body(Fid fid, PoolDevice device, Fid key, Transaction tx) {
            this.fid = fid;
            this.device = device;
            this.key = key;
            this.tx = tx;
        }

        public PoolDevice device() {
            return device;
        }

        public Fid key() {
            return key;
        }

        /** True once a byte range was written (a body that got no write stays on the fast tier). */
        public boolean written() {
            return written;
        }

        /** Where the body ends: the end of its furthest write. */
        public long size() {
            return end;
        }

        public void write(long offset, ByteBuffer src) throws OsdException {
            long to = offset + src.remaining();
            tx.write(key, offset, src);
            written = true;
            end = Math.max(end, to);
        }

        /**
         * Closes the copy's transaction and makes the copy durable on its device (file and folder),
         * before any metadata names it; returns the copy as the top transaction names it, in sync.
         */
        public Copy seal(int mirrorId, long version) throws OsdException {
            Transaction t = tx;
            tx = null;
            t.close();
            Checksums sums = CopyIo.checksums(device, fid, key, end);
            device.osd().sync(key);
            long occupied = device.osd().getAttr(key).blocks() * 512;
            return new Copy(mirrorId, device.index(), key, CopyState.IN_SYNC, version, occupied, true, sums);
        }

        /**
         * The client's transaction did not commit (or wrote nothing): the copy is aborted and
         * deleted as far as the device lets it now. The key stays leased — whatever is left under it
         * is deleted by the next mount ({@link SyncRecovery#settleLeases}).
         */
        public void abandon() {
            try {
                if (tx != null) {
                    Transaction t = tx;
                    tx = null;
                    try {
                        t.abort();
                    } finally {
                        t.close();
                    }
                }
                if (exists(device, key)) {
                    try (Transaction d = device.osd().newTransaction()) {
                        d.declareDestroy(key);
                        d.setSpaceClass(SpaceClass.FREEING);
                        d.start();
                        d.destroy(key);
                    }
                }
            } catch (OsdException | RuntimeException e) {
                LOG.log(
                        System.Logger.Level.WARNING,
                        ctx.name() + ": " + fid + ": write-around copy " + key + " on " + device.name()
                                + " not deleted now (" + e.getMessage() + "); the next mount deletes it");
            }
        }
    }

    private static boolean exists(PoolDevice d, Fid key) throws OsdException {
        try {
            d.osd().getAttr(key);
            return true;
        } catch (OsdException e) {
            if (e.is(Errno.ENOENT)) {
                return false;
            }
            throw e;
        }
    }

    /**
     * Opens a body of {@code fid} around the fast tier on {@code device}, for writes of the ranges
     * {@code ranges} ({offset, length} each): a leased key, its device transaction started and the
     * copy created. Null if the device refuses (full, failing): the body then lands on the fast tier.
     */
    public Body open(Fid fid, PoolDevice device, List<long[]> ranges) throws OsdException {
        Fid key;
        try {
            key = sync.keys(List.of(device)).get(0);
        } catch (OsdException | RuntimeException e) {
            // A new batch of leases is a CLIENT metadata transaction: on a tier full to its reserve
            // boundary it is refused, and the body takes the room queue (and its bounded wait).
            LOG.log(
                    System.Logger.Level.DEBUG,
                    ctx.name() + ": " + fid + ": no key leased for a write-around (" + e.getMessage() + ")");
            return null;
        }
        // A key precreated with its lease batch already holds its empty object, durable with its
        // name: written into, not created (claimed once the transaction started).
        boolean precreated = sync.precreated(device, key, false);
        Transaction tx = device.osd().newTransaction();
        try {
            if (!precreated) {
                tx.declareCreate(key, ObjectKind.DATA);
            }
            for (long[] r : ranges) {
                tx.declareWrite(key, r[0], r[1]);
            }
            tx.start();
        } catch (OsdException | RuntimeException e) {
            // Nothing was written under the key: it is handed out again.
            try {
                tx.close();
            } catch (OsdException | RuntimeException ignored) {
                e.addSuppressed(ignored);
            }
            sync.giveBack(List.of(device), List.of(key), java.util.Set.of());
            LOG.log(
                    System.Logger.Level.DEBUG,
                    ctx.name() + ": " + fid + ": no write-around to " + device.name() + " (" + e.getMessage() + ")");
            return null;
        }
        Body b = new Body(fid, device, key, tx);
        try {
            if (precreated) {
                sync.precreated(device, key, true);
            } else {
                tx.create(key, ObjectKind.DATA, AttrChange.none());
            }
        } catch (OsdException | RuntimeException e) {
            b.abandon();
            return null;
        }
        return b;
    }

    /** The job the top transaction records beside a body written around (it names the leased key). */
    public Job job(Fid fid, Copy c) {
        return new Job(Job.Kind.WRITE_AROUND, fid, c.device(), c.key(), c.version(), c.bytes(), ctx.nowNanos(), 0);
    }

    /**
     * After the top transaction committed, under the object's lock: the job and the key's lease end
     * (freeing, unforced). A failure leaves them for the next mount, which ends them the same way.
     */
    public void end(Job j) {
        try {
            endNow(ctx.metadata().osd(), j);
        } catch (OsdException | RuntimeException e) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    ctx.name() + ": " + j.fid() + ": write-around job for " + j.key() + " not ended now ("
                            + e.getMessage() + "); the next mount ends it");
        }
    }

    /**
     * Ends a write-around's job and lease in one freeing metadata transaction: at once after its top
     * transaction, or at mount for one a crash (or a failed end) left ({@link SyncRecovery}).
     */
    static void endNow(Osd md, Job j) throws OsdException {
        try (Transaction tx = md.newTransaction()) {
            WorkIndex.declareRemove(tx, j.fid());
            SyncKeys.declareEnd(tx);
            tx.setSpaceClass(SpaceClass.FREEING);
            tx.start();
            WorkIndex.remove(tx, j);
            SyncKeys.end(tx, md, j.device(), j.key());
        }
    }
}
