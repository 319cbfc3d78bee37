package dev.spillway.osd.kv;

import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/**
 * Commit order and group commit.
 *
 * <p>A committing transaction writes its batch to RocksDB <em>unsynced</em> (concurrent writes
 * join RocksDB's own write groups) and, once the write returned, takes the next {@code seq} in
 * the pending queue: that is the commit order. Transactions that commit concurrently hold
 * disjoint object locks, so any order between them is a serial order; a transaction whose stop
 * returned is queued before any that starts later. Readers see a batch as soon as its write
 * returns. The sync thread then makes a whole run of commits durable with one
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

    /** Runs just before the batch is written: appends the counters, returns what to apply once written. */
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

    // Last sequence number handed out; written under "this", read by anyone. Every commit
    // with a seq up to it has finished its write.
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
        OsdException f = failure();
        if (f != null) {
            throw f;
        }
        try {
            Runnable applied = underLock == null ? null : underLock.beforeWrite(batch);
            kv.db.write(kv.noSync, batch);
            if (applied != null) {
                applied.run();
            }
        } catch (RocksDBException e) {
            throw new OsdException(Errno.EIO, device, null, "RocksDB write failed: " + e.getMessage(), e);
        }
        return enqueue(true, what);
    }

    /** Queues a transaction that wrote nothing: its callbacks fire in order with the others. */
    long commitEmpty(Durable what) throws OsdException {
        OsdException f = failure();
        if (f != null) {
            throw f;
        }
        return enqueue(false, what);
    }

    private long enqueue(boolean wrote, Durable what) {
        OsdException f;
        long seq;
        synchronized (this) {
            seq = wrote ? committed + 1 : committed;
            committed = seq;
            f = failure;
            if (f == null) {
                pending.addLast(new Pending(seq, what));
                notifyAll();
                return seq;
            }
        }
        // The sync thread has stopped on a failure: this commit will never be durable.
        what.failed(f);
        return seq;
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
