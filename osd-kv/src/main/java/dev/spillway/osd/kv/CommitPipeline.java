package dev.spillway.osd.kv;

import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
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
 * <p>One lock guards the queue and the rounds' progress, with two conditions: waiters wait for a
 * round to end ({@code progress}); the pipeline's thread waits for commits nobody waits for
 * ({@code work}). A commit that nobody waits for wakes the pipeline's thread alone, not every
 * thread blocked in {@link #await} as one monitor's {@code notifyAll} did; the failure check
 * before a batch is written reads a volatile field. (The object's monitor, entered up to three
 * times per commit, was the top self-time frame of a 16-client 4 KiB PUT profile.)
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

    // Guarded by "lock": the commits not yet durable, in commit order, and the rounds' progress.
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition progress = lock.newCondition(); // a round ended
    private final Condition work = lock.newCondition(); // for the pipeline's thread
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private volatile long committed; // last seq handed out; written under "lock"
    private long wanted; // highest seq a waiter will lead or wait for
    private long done; // highest seq durable, callbacks fired, files reclaimed
    private boolean syncing; // a round is running
    private volatile OsdException failure; // written under "lock"; read without it before a write
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

    private void failIfFailed() throws OsdException {
        // Unlocked: a failure set right after this check is caught by enqueue, as before.
        OsdException f = failure;
        if (f != null) {
            throw f;
        }
    }

    private long enqueue(boolean wrote, Durable what, boolean willWait) {
        OsdException f;
        long seq;
        lock.lock();
        try {
            seq = wrote ? committed + 1 : committed;
            committed = seq;
            f = failure;
            if (f == null) {
                pending.addLast(new Pending(seq, what));
                if (willWait) {
                    wanted = Math.max(wanted, seq);
                } else {
                    work.signal();
                }
                return seq;
            }
        } finally {
            lock.unlock();
        }
        // A round failed: this commit will never be durable.
        what.failed(f);
        return seq;
    }

    /** Waits until {@code seq} is durable and its callbacks have fired, leading a round if none runs. */
    void await(long seq) throws OsdException {
        while (true) {
            lock.lock();
            try {
                if (seq > wanted) {
                    wanted = seq;
                }
                while (true) {
                    // A commit that wrote nothing shares the seq of the last one that did, so
                    // "done" may cover it while its callbacks still wait in the queue.
                    if (done >= seq && (pending.isEmpty() || pending.peekFirst().seq() > seq)) {
                        return;
                    }
                    if (failure != null) {
                        throw failure;
                    }
                    if (!syncing) {
                        syncing = true;
                        break;
                    }
                    // Keeps the interrupt status, as the wait() it replaces did.
                    progress.awaitUninterruptibly();
                }
            } finally {
                lock.unlock();
            }
            round();
        }
    }

    /** WAL syncs so far (for tests and metrics). */
    long walSyncs() {
        return walSyncs.get();
    }

    /** Commits not yet durable. */
    int pendingCount() {
        lock.lock();
        try {
            return pending.size();
        } finally {
            lock.unlock();
        }
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
        lock.lock();
        try {
            if (error != null) {
                failure = error;
                ready.addAll(pending);
                pending.clear();
            } else {
                while (!pending.isEmpty() && pending.peekFirst().seq() <= target) {
                    ready.add(pending.pollFirst());
                }
            }
        } finally {
            lock.unlock();
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
        lock.lock();
        try {
            if (error == null && target > done) {
                done = target;
            }
            if (failure == null && reclaimError != null) {
                failure = reclaimError;
            }
            syncing = false;
            progress.signalAll();
            work.signal();
        } finally {
            lock.unlock();
        }
    }

    /** The pipeline's thread: syncs commits that nobody waits for. */
    private void background() {
        while (true) {
            lock.lock();
            try {
                while (!stopping && failure == null && (syncing || !unwaited())) {
                    // Only close() ends this thread: an interrupt is not a reason to stop.
                    work.awaitUninterruptibly();
                }
                if (stopping || failure != null) {
                    return;
                }
                if (delayNanos > 0) {
                    // Let more commits join this round.
                    try {
                        work.await(delayNanos, TimeUnit.NANOSECONDS);
                    } catch (InterruptedException e) {
                        // sync now
                    }
                    if (syncing || !unwaited()) {
                        continue;
                    }
                }
                syncing = true;
            } finally {
                lock.unlock();
            }
            round();
        }
    }

    /** Under "lock": commits are queued that no waiter will sync (once done reaches wanted, nobody waits). */
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
        lock.lock();
        try {
            stopping = true;
            work.signalAll();
            progress.signalAll();
        } finally {
            lock.unlock();
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
