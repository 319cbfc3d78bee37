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
 * returns.
 *
 * <p>A <em>sync round</em> makes every commit queued so far durable with one {@code SyncWAL},
 * fires their callbacks in commit order, deletes the extent files they freed, and wakes the
 * waiters. One round runs at a time. Whoever needs durability first leads it: a sync-flagged
 * transaction or a {@link #sync()} caller runs the round on its own thread (as RocksDB's write
 * group leader does, without a hand-off to another thread), and commits that arrive meanwhile
 * wait for the next round, which one of their own leads. Commits nobody waits for (callbacks
 * only) are synced by the pipeline's thread. Many concurrent transactions therefore share one
 * WAL sync, and a callback never fires before the sync that made its transaction durable.
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
    interface BeforeWrite {
        Runnable beforeWrite(WriteBatch batch) throws RocksDBException;
    }

    private record Pending(long seq, Durable what) {}

    /** Deletes freed extent files after their transaction is durable. */
    interface Reclaimer {
        void reclaim(Map<Long, Long> files) throws OsdException;
    }

    private final String device;
    private final KvDatabase kv;
    private final Reclaimer reclaimer;
    private final long delayNanos;

    // Guarded by "this": the commits not yet durable, in commit order, and the rounds' progress.
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private volatile long committed; // last seq handed out; written under "this"
    private long wanted; // highest seq a waiter will lead or wait for
    private long done; // highest seq durable, callbacks fired, files reclaimed
    private boolean syncing; // a round is running
    private OsdException failure;
    private boolean stopping;
    // Owned by the thread running the round.
    private long synced;
    private final java.util.concurrent.atomic.AtomicLong walSyncs = new java.util.concurrent.atomic.AtomicLong();
    // Tests only: runs at the start of every round, before it picks what it covers.
    volatile Runnable beforeRound;
    private final Thread syncer;

    CommitPipeline(String device, KvDatabase kv, Reclaimer reclaimer, Duration delay) {
        this.device = device;
        this.kv = kv;
        this.reclaimer = reclaimer;
        this.delayNanos = delay.toNanos();
        this.syncer = Thread.ofPlatform().daemon().name("osd-kv-sync-" + device).unstarted(this::background);
        syncer.start();
    }

    /**
     * Writes {@code batch} unsynced and queues {@code what} for the next sync round.
     *
     * @param willWait the caller will {@link #await} the returned seq (it leads that round)
     * @return the commit's sequence number
     */
    long commit(WriteBatch batch, BeforeWrite beforeWrite, Durable what, boolean willWait) throws OsdException {
        failIfFailed();
        try {
            Runnable applied = beforeWrite == null ? null : beforeWrite.beforeWrite(batch);
            kv.db.write(kv.noSync, batch);
            if (applied != null) {
                applied.run();
            }
        } catch (RocksDBException e) {
            throw new OsdException(Errno.EIO, device, null, "RocksDB write failed: " + e.getMessage(), e);
        }
        return enqueue(true, what, willWait);
    }

    /** Queues a transaction that wrote nothing: its callbacks fire in order with the others. */
    long commitEmpty(Durable what, boolean willWait) throws OsdException {
        failIfFailed();
        return enqueue(false, what, willWait);
    }

    private synchronized void failIfFailed() throws OsdException {
        if (failure != null) {
            throw failure;
        }
    }

    private long enqueue(boolean wrote, Durable what, boolean willWait) {
        OsdException f;
        long seq;
        synchronized (this) {
            seq = wrote ? committed + 1 : committed;
            committed = seq;
            f = failure;
            if (f == null) {
                pending.addLast(new Pending(seq, what));
                if (willWait) {
                    wanted = Math.max(wanted, seq);
                } else {
                    notifyAll();
                }
                return seq;
            }
        }
        // A round failed: this commit will never be durable.
        what.failed(f);
        return seq;
    }

    /** Waits until {@code seq} is durable and its callbacks have fired, leading a round if none runs. */
    void await(long seq) throws OsdException {
        boolean interrupted = false;
        try {
            while (true) {
                synchronized (this) {
                    if (seq > wanted) {
                        wanted = seq;
                    }
                    while (true) {
                        // A commit that wrote nothing shares the seq of the last one that did, so
                        // "done" may cover it while its callbacks still wait in the queue.
                        if (done >= seq
                                && (pending.isEmpty() || pending.peekFirst().seq() > seq)) {
                            return;
                        }
                        if (failure != null) {
                            throw failure;
                        }
                        if (!syncing) {
                            syncing = true;
                            break;
                        }
                        try {
                            wait();
                        } catch (InterruptedException e) {
                            interrupted = true;
                        }
                    }
                }
                round();
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** WAL syncs so far (for tests and metrics). */
    long walSyncs() {
        return walSyncs.get();
    }

    /** Commits not yet durable. */
    synchronized int pendingCount() {
        return pending.size();
    }

    /** Makes everything committed so far durable (firing callbacks, reclaiming files). */
    void sync() throws OsdException {
        await(committed);
    }

    /** One sync round; the caller has set {@link #syncing}. */
    private void round() {
        Runnable hook = beforeRound;
        if (hook != null) {
            hook.run();
        }
        long target = committed;
        OsdException error = null;
        if (target > synced) {
            try {
                kv.db.syncWal();
                walSyncs.incrementAndGet();
                synced = target;
            } catch (RocksDBException e) {
                error = new OsdException(
                        Errno.EIO,
                        device,
                        null,
                        "WAL sync failed; transactions after seq " + synced + " are not durable: " + e.getMessage(),
                        e);
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
        OsdException reclaimError = null;
        if (!freed.isEmpty()) {
            try {
                reclaimer.reclaim(freed);
            } catch (OsdException e) {
                // The 'G' records stay, so the next mount deletes those files; the device stops
                // taking commits rather than leaking space silently.
                reclaimError = e;
            }
        }
        synchronized (this) {
            if (error == null && target > done) {
                done = target;
            }
            if (failure == null && reclaimError != null) {
                failure = reclaimError;
            }
            syncing = false;
            notifyAll();
        }
    }

    /** The pipeline's thread: syncs commits that nobody waits for. */
    private void background() {
        while (true) {
            synchronized (this) {
                while (!stopping && failure == null && (syncing || !unwaited())) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        // only close() ends this thread
                    }
                }
                if (stopping || failure != null) {
                    return;
                }
                if (delayNanos > 0) {
                    // Let more commits join this round.
                    try {
                        wait(delayNanos / 1_000_000, (int) (delayNanos % 1_000_000));
                    } catch (InterruptedException e) {
                        // sync now
                    }
                    if (syncing || !unwaited()) {
                        continue;
                    }
                }
                syncing = true;
            }
            round();
        }
    }

    /** Under "this": commits are queued that no waiter will sync (once done reaches wanted, nobody waits). */
    private boolean unwaited() {
        return !pending.isEmpty() && (pending.peekLast().seq() > wanted || wanted <= done);
    }

    /** Syncs what is committed, fires the last callbacks and stops the pipeline's thread. */
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
