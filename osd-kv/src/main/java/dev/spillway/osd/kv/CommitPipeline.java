package dev.spillway.osd.kv;

import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/**
 * Commit order and group commit.
 *
 * <p>A committing transaction writes its batch to RocksDB <em>unsynced</em>, under
 * {@link #commitLock}, which is what defines the commit order: the order of the WAL, of
 * {@code seq}, and of the pending queue are one and the same. Readers see the batch as soon as
 * the write returns. The sync thread then makes a whole run of commits durable with one
 * {@code SyncWAL}, fires their commit callbacks in commit order, deletes the extent files they
 * freed, and wakes whoever waits for them (sync-flagged transactions, {@link #sync()}). Many
 * concurrent transactions therefore share one WAL sync, and a callback never fires before the
 * sync that made its transaction durable.
 *
 * <p>With point-in-time WAL recovery a crash keeps a prefix of the commit order, so "durable up
 * to seq N" is a sound statement, and a transaction that read another's published updates is
 * never durable without it.
 */
final class CommitPipeline implements AutoCloseable {
    /** What the sync thread does once a committed transaction is durable. */
    interface Durable {
        /** Fires the callbacks (no error) of a durable transaction. */
        void durable();

        /** The transaction will never be durable: the WAL sync failed. */
        void failed(OsdException error);

        /** Extent files the transaction freed (id to bytes): deleted once it is durable. */
        Map<Long, Long> freedFiles();
    }

    /**
     * Runs under the commit lock just before the batch is written: appends the counters, and
     * returns what to apply once the write succeeded.
     */
    interface UnderLock {
        Runnable beforeWrite(WriteBatch batch) throws RocksDBException;
    }

    private record Pending(long seq, Durable what) {
    }

    /** Deletes freed extent files after their transaction is durable. */
    interface Reclaimer {
        void reclaim(Map<Long, Long> files) throws OsdException;
    }

    private final String device;
    private final KvDatabase kv;
    private final Reclaimer reclaimer;
    private final long delayNanos;

    // Serialises the unsynced writes: defines the commit order. Held only for the memtable/WAL
    // append of one batch (the body data of large writes is already in extent files).
    private final ReentrantLock commitLock = new ReentrantLock();
    // Last sequence number written; written under commitLock, read by anyone.
    private volatile long committed;

    // Guarded by "this": the queue of committed-not-yet-durable transactions, in commit order,
    // and the progress of the sync thread.
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private long wanted;      // highest seq a waiter asked to be made durable
    private long done;        // highest seq durable, with callbacks fired and files reclaimed
    private OsdException failure;
    private boolean stopping;
    private final Thread syncer;

    CommitPipeline(String device, KvDatabase kv, Reclaimer reclaimer, Duration delay) {
        this.device = device;
        this.kv = kv;
        this.reclaimer = reclaimer;
        this.delayNanos = delay.toNanos();
        this.syncer = Thread.ofPlatform().daemon().name("osd-kv-sync-" + device).unstarted(this::run);
        syncer.start();
    }

    /**
     * Writes {@code batch} unsynced, in commit order, and queues {@code what} for the next sync.
     *
     * @return the commit's sequence number, to {@link #await} it
     */
    long commit(WriteBatch batch, UnderLock underLock, Durable what) throws OsdException {
        commitLock.lock();
        try {
            OsdException f = failure();
            if (f != null) {
                throw f;
            }
            long seq = committed + 1;
            try {
                Runnable applied = underLock == null ? null : underLock.beforeWrite(batch);
                kv.db.write(kv.noSync, batch);
                if (applied != null) {
                    applied.run();
                }
            } catch (RocksDBException e) {
                throw new OsdException(Errno.EIO, device, null, "RocksDB write failed: " + e.getMessage(), e);
            }
            committed = seq;
            enqueue(seq, what);
            return seq;
        } finally {
            commitLock.unlock();
        }
    }

    /** Queues a transaction that wrote nothing: its callbacks fire in order with the others. */
    long commitEmpty(Durable what) throws OsdException {
        commitLock.lock();
        try {
            OsdException f = failure();
            if (f != null) {
                throw f;
            }
            long seq = committed;
            enqueue(seq, what);
            return seq;
        } finally {
            commitLock.unlock();
        }
    }

    /** Runs {@code action} with the commit lock held: nothing commits meanwhile. */
    void exclusive(Runnable action) {
        commitLock.lock();
        try {
            action.run();
        } finally {
            commitLock.unlock();
        }
    }

    private void enqueue(long seq, Durable what) {
        OsdException f;
        synchronized (this) {
            f = failure;
            if (f == null) {
                pending.addLast(new Pending(seq, what));
                notifyAll();
                return;
            }
        }
        // The sync thread has stopped on a failure: this commit will never be durable.
        what.failed(f);
    }

    private synchronized OsdException failure() {
        return failure;
    }

    /** Waits until {@code seq} is durable and its callbacks have fired. */
    void await(long seq) throws OsdException {
        synchronized (this) {
            if (seq > wanted) {
                wanted = seq;
                notifyAll();
            }
            boolean interrupted = false;
            while (done < seq && failure == null) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            if (done < seq) {
                throw failure;
            }
        }
    }

    /** Makes everything committed so far durable (firing callbacks, reclaiming files). */
    void sync() throws OsdException {
        await(committed);
    }

    private void run() {
        long synced = 0;
        while (true) {
            long target;
            synchronized (this) {
                while (!stopping && pending.isEmpty() && wanted <= done) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        // only stop() ends this thread
                    }
                }
                if (stopping && pending.isEmpty() && wanted <= done) {
                    return;
                }
                if (delayNanos > 0 && wanted <= done && !stopping) {
                    // Nobody waits: let more commits join this sync.
                    try {
                        wait(delayNanos / 1_000_000, (int) (delayNanos % 1_000_000));
                    } catch (InterruptedException e) {
                        // fall through and sync
                    }
                }
            }
            target = committed;
            OsdException error = null;
            if (target > synced) {
                try {
                    kv.db.syncWal();
                    synced = target;
                } catch (RocksDBException e) {
                    error = new OsdException(Errno.EIO, device, null,
                            "WAL sync failed; transactions after seq " + synced + " are not durable: " + e.getMessage(), e);
                }
            }
            List<Pending> ready = new ArrayList<>();
            synchronized (this) {
                if (error != null) {
                    failure = error;
                    ready.addAll(pending);
                    pending.clear();
                } else {
                    while (!pending.isEmpty() && pending.peekFirst().seq() <= target) {
                        ready.add(pending.pollFirst());
                    }
                }
            }
            Map<Long, Long> freed = new LinkedHashMap<>();
            for (Pending p : ready) {
                if (error != null) {
                    p.what().failed(error);
                } else {
                    p.what().durable();
                    freed.putAll(p.what().freedFiles());
                }
            }
            if (!freed.isEmpty()) {
                try {
                    reclaimer.reclaim(freed);
                } catch (OsdException e) {
                    // The 'G' records stay, so the next mount deletes them; the device goes on.
                    synchronized (this) {
                        if (failure == null) {
                            failure = e;
                        }
                    }
                }
            }
            synchronized (this) {
                if (error == null && target > done) {
                    done = target;
                }
                notifyAll();
            }
            if (error != null) {
                return;
            }
        }
    }

    /** Syncs what is committed, fires the last callbacks and stops the sync thread. */
    @Override
    public void close() throws OsdException {
        OsdException err = null;
        try {
            sync();
        } catch (OsdException e) {
            err = e;
        }
        synchronized (this) {
            stopping = true;
            notifyAll();
        }
        boolean interrupted = false;
        while (syncer.isAlive()) {
            try {
                syncer.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (err != null) {
            throw err;
        }
    }
}
