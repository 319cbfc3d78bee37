package dev.spillway.pool.device;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.filter.FilterOsd;
import dev.spillway.osd.filter.FilterTransaction;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
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
 */
public final class MetadataGate extends FilterOsd {
    private final ReentrantReadWriteLock gate = new ReentrantReadWriteLock();

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

    /** Holds the gate shared from start to stop, abort or close, on the thread that started it. */
    private final class Gated extends FilterTransaction {
        private boolean holding;

        Gated(Transaction in) {
            super(in);
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
