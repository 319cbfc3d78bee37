package dev.spillway.pool.device;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.XattrFlag;
import dev.spillway.osd.filter.FilterOsd;
import dev.spillway.osd.filter.FilterTransaction;
import dev.spillway.pool.meta.ChangeStamps;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.BitSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The pool's metadata device, with a gate that lets an online check see one consistent state:
 * every metadata transaction holds the gate shared from {@code start} to its end, and
 * {@link #quiesced} holds it exclusively, so while it runs no metadata transaction is in flight
 * and none starts (reads go on). Every state a transaction leaves is crash-consistent by design
 * (the work index names whatever is half done), so the state seen between two transactions is one
 * the check understands.
 *
 * <p>A thread may start a metadata transaction while it holds one, or while it holds the gate
 * exclusively (the check's own repairs). The holder of the exclusive gate must not wait for pool
 * object locks: a client transaction may hold them while it waits at the gate.
 *
 * <p>The gate also keeps the {@link ChangeStamps} of the metadata device: since every change of it
 * passes here, a transaction marks an object's stamp stripe begun before its first update of the
 * object reaches the device, and ended once its stop (or close) returned — the device published or
 * discarded it by then. A reader that saw a stripe with as many ends as begins, and sees the same
 * begin count later, knows no update of the object was published or pending in between. Every
 * update method of {@link Transaction} that names an object marks it; a new one must too.
 */
public final class MetadataGate extends FilterOsd implements ChangeStamps {
    /** Stripes of change stamps: a power of two; a collision only costs a reader a record load. */
    static final int STAMP_STRIPES = 1024;

    private final ReentrantReadWriteLock gate = new ReentrantReadWriteLock();
    // Per stripe i: [2i] transactions begun on an object of it, [2i+1] those ended. Monotonic.
    private final AtomicLongArray stamps = new AtomicLongArray(2 * STAMP_STRIPES);

    public MetadataGate(Osd in) {
        super(in);
    }

    // The gate intercepts transactions only: the device's own per-object sync and existence
    // check are what the pool asks for.
    @Override
    public void sync(Fid fid) throws OsdException {
        in.sync(fid);
    }

    @Override
    public boolean exists(Fid fid) throws OsdException {
        return in.exists(fid);
    }

    @Override
    public long stamp(Fid fid) {
        int i = stripe(fid);
        // Begins first: an update that begins and ends between the two reads shows as unstable.
        long begun = stamps.get(2 * i);
        long ended = stamps.get(2 * i + 1);
        return begun == ended ? begun : UNSTABLE;
    }

    @Override
    public boolean unchanged(Fid fid, long stamp) {
        return stamp != UNSTABLE && stamps.get(2 * stripe(fid)) == stamp;
    }

    static int stripe(Fid fid) {
        long h = fid.seq() * 0x9E3779B97F4A7C15L + fid.oid() * 0xC2B2AE3D27D4EB4FL + fid.ver();
        return (int) (h ^ (h >>> 32)) & (STAMP_STRIPES - 1);
    }

    /** A body run while the gate is held exclusively. */
    @FunctionalInterface
    public interface Quiet<T> {
        T run() throws OsdException;
    }

    /**
     * Runs {@code body} with no metadata transaction in flight, waiting up to {@code wait} for those
     * in flight to end (new ones wait meanwhile).
     *
     * @throws OsdException EBUSY if the transactions in flight did not end in time
     */
    public <T> T quiesced(Duration wait, Quiet<T> body) throws OsdException {
        boolean held;
        try {
            held = gate.writeLock().tryLock(wait.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new OsdException(
                    Errno.ECANCELED, name(), null, "interrupted waiting for metadata transactions to end");
        }
        if (!held) {
            throw new OsdException(
                    Errno.EBUSY,
                    name(),
                    null,
                    "metadata transactions still in flight after " + wait.toSeconds()
                            + " s; the pool is too busy to be checked now");
        }
        try {
            return body.run();
        } finally {
            gate.writeLock().unlock();
        }
    }

    @Override
    protected Transaction wrap(Transaction tx) {
        return new Gated(tx);
    }

    /**
     * Holds the gate shared from start to stop, abort or close, on the thread that started it, and
     * keeps the change stamps of the objects it updates open until its stop or close returned.
     */
    private final class Gated extends FilterTransaction {
        private boolean holding;
        // Stamp stripes this transaction began (null until its first update). One thread only.
        private BitSet begun;

        Gated(Transaction in) {
            super(in);
        }

        /** Before an update of {@code fid} reaches the device: readers of it must not trust a cache. */
        private void touch(Fid fid) {
            int i = stripe(fid);
            if (begun == null) {
                begun = new BitSet(STAMP_STRIPES);
            }
            if (!begun.get(i)) {
                begun.set(i);
                stamps.incrementAndGet(2 * i);
            }
        }

        /** After stop or close returned (or threw): whatever the device published, it is published. */
        private void endStamps() {
            if (begun != null) {
                for (int i = begun.nextSetBit(0); i >= 0; i = begun.nextSetBit(i + 1)) {
                    stamps.incrementAndGet(2 * i + 1);
                }
                begun = null;
            }
        }

        @Override
        public void create(Fid fid, ObjectKind kind, AttrChange attrs) throws OsdException {
            touch(fid);
            in.create(fid, kind, attrs);
        }

        @Override
        public void destroy(Fid fid) throws OsdException {
            touch(fid);
            in.destroy(fid);
        }

        @Override
        public boolean destroyIfExists(Fid fid) throws OsdException {
            touch(fid);
            return in.destroyIfExists(fid);
        }

        @Override
        public void setAttr(Fid fid, AttrChange change) throws OsdException {
            touch(fid);
            in.setAttr(fid, change);
        }

        @Override
        public void write(Fid fid, long offset, ByteBuffer src) throws OsdException {
            touch(fid);
            in.write(fid, offset, src);
        }

        @Override
        public void punch(Fid fid, long offset, long length) throws OsdException {
            touch(fid);
            in.punch(fid, offset, length);
        }

        @Override
        public void truncate(Fid fid, long size) throws OsdException {
            touch(fid);
            in.truncate(fid, size);
        }

        @Override
        public void setXattr(Fid fid, String name, byte[] value, XattrFlag flag) throws OsdException {
            touch(fid);
            in.setXattr(fid, name, value, flag);
        }

        @Override
        public void deleteXattr(Fid fid, String name) throws OsdException {
            touch(fid);
            in.deleteXattr(fid, name);
        }

        @Override
        public void insert(Fid index, byte[] key, byte[] value) throws OsdException {
            touch(index);
            in.insert(index, key, value);
        }

        @Override
        public void upsert(Fid index, byte[] key, byte[] value) throws OsdException {
            touch(index);
            in.upsert(index, key, value);
        }

        @Override
        public void delete(Fid index, byte[] key) throws OsdException {
            touch(index);
            in.delete(index, key);
        }

        @Override
        public void start() throws OsdException {
            gate.readLock().lock();
            holding = true;
            try {
                in.start();
            } catch (OsdException | RuntimeException e) {
                release();
                throw e;
            }
        }

        @Override
        public void stop() throws OsdException {
            try {
                in.stop();
            } finally {
                endStamps();
                release();
            }
        }

        @Override
        public void abort() {
            try {
                in.abort();
            } finally {
                release();
            }
        }

        @Override
        public void close() throws OsdException {
            try {
                in.close();
            } finally {
                endStamps();
                release();
            }
        }

        private void release() {
            if (holding) {
                holding = false;
                gate.readLock().unlock();
            }
        }
    }
}
