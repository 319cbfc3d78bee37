package dev.spillway.pool.space;

import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * Where client transactions wait for room on a full fast tier: in arrival order, each for at most
 * the configured time, then ENOSPC. Only the writer at the head tries to start (and, if there is
 * still no room, runs an emergency spill on its own thread, which is how writers are slowed
 * rather than failed); the others wait for their turn. So a writer of small objects is not
 * starved by one of large multipart parts, nor the other way round: each transaction — a gateway
 * writes a body a chunk per transaction — takes its turn, and every writer gets an answer within
 * the bound, room or ENOSPC.
 *
 * <p>A writer that arrives while nobody waits tries at once (no cost when there is room); one
 * that arrives while others wait queues behind them, even if its own transaction would fit.
 */
public final class RoomQueue {
    /** One attempt to start; throws ENOSPC or EDQUOT when there is no room. */
    @FunctionalInterface
    public interface Attempt {
        void run() throws OsdException;
    }

    /** Makes room for {@code bytes} before {@code deadlineNanos}; true if it freed something. */
    @FunctionalInterface
    public interface Reclaim {
        boolean run(long bytes, long deadlineNanos);
    }

    // How often the head retries when nothing it did freed space (room may come from the daemon,
    // a delete, or a transaction that gave back its reservation).
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    private final String pool;
    private final LongSupplier nanos;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition turn = lock.newCondition();
    // Guarded by lock: the waiting writers, head first.
    private final ArrayDeque<Object> queue = new ArrayDeque<>();
    private final AtomicInteger waiting = new AtomicInteger();
    // What the waiting writers' transactions need, in all.
    private final AtomicLong waitingBytes = new AtomicLong();
    private final AtomicLong waited = new AtomicLong();
    private final AtomicLong timedOut = new AtomicLong();
    private final AtomicLong maxWaitNanos = new AtomicLong();
    private final AtomicLong totalWaitNanos = new AtomicLong();
    // Told when a writer starts to wait (the daemon starts a pass at once).
    private volatile Runnable onWait = () -> {};

    public RoomQueue(String pool, LongSupplier nanos) {
        this.pool = pool;
        this.nanos = nanos;
    }

    private static boolean full(OsdException e) {
        return e.is(Errno.ENOSPC) || e.is(Errno.EDQUOT);
    }

    /**
     * Starts a transaction: {@code attempt} at once if nobody waits, else (and after an ENOSPC) in
     * turn, for at most {@code waitNanos}. The head runs {@code reclaim} (may be null) when there
     * is still no room.
     *
     * @param bytes what the transaction needs (for the reclaim and the message)
     * @param what names the transaction in the ENOSPC message
     * @throws OsdException the attempt's own errors; ENOSPC after waiting {@code waitNanos}
     */
    public void start(Attempt attempt, Reclaim reclaim, long bytes, long waitNanos, String what) throws OsdException {
        OsdException last;
        // A transaction that does not wait (the pool's own work, a delete) never queues behind
        // client writers: it is what makes their room.
        if (waiting.get() == 0 || waitNanos <= 0) {
            try {
                attempt.run();
                return;
            } catch (OsdException e) {
                if (!full(e)) {
                    throw e;
                }
                last = e;
            }
        } else {
            last = null;
        }
        if (waitNanos <= 0) {
            // No waiting: one emergency spill on this thread, one more try, then the answer.
            if (last != null && reclaim != null && reclaim.run(bytes, nanos.getAsLong())) {
                try {
                    attempt.run();
                    return;
                } catch (OsdException e) {
                    if (!full(e)) {
                        throw e;
                    }
                    last = e;
                }
            }
            throw noRoom(last, what, bytes, 0);
        }
        Object me = new Object();
        long t0 = nanos.getAsLong();
        long deadline = t0 + waitNanos;
        lock.lock();
        try {
            queue.addLast(me);
            // Bytes first: whoever sees the writer counted (stats().waiting()) sees its bytes too.
            waitingBytes.addAndGet(bytes);
            waiting.incrementAndGet();
        } finally {
            lock.unlock();
        }
        onWait.run();
        try {
            while (true) {
                if (!awaitTurn(me, deadline)) {
                    break;
                }
                try {
                    attempt.run();
                    return;
                } catch (OsdException e) {
                    if (!full(e)) {
                        throw e;
                    }
                    last = e;
                }
                if (nanos.getAsLong() >= deadline) {
                    break;
                }
                boolean freed = reclaim != null && reclaim.run(bytes, deadline);
                if (!freed) {
                    pause(deadline);
                }
            }
            timedOut.incrementAndGet();
            throw noRoom(last, what, bytes, nanos.getAsLong() - t0);
        } finally {
            long w = nanos.getAsLong() - t0;
            waited.incrementAndGet();
            totalWaitNanos.addAndGet(w);
            maxWaitNanos.accumulateAndGet(w, Math::max);
            lock.lock();
            try {
                queue.remove(me);
                waiting.decrementAndGet();
                waitingBytes.addAndGet(-bytes);
                turn.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    /** Waits until {@code me} heads the queue; false if the deadline passed first. */
    private boolean awaitTurn(Object me, long deadline) throws OsdException {
        lock.lock();
        try {
            while (queue.peekFirst() != me) {
                long left = deadline - nanos.getAsLong();
                if (left <= 0) {
                    return false;
                }
                turn.awaitNanos(left);
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new OsdException(Errno.ECANCELED, pool, null, "interrupted waiting for room on the fast tier");
        } finally {
            lock.unlock();
        }
    }

    private void pause(long deadline) throws OsdException {
        lock.lock();
        try {
            long left = Math.min(POLL_NANOS, deadline - nanos.getAsLong());
            if (left > 0) {
                turn.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new OsdException(Errno.ECANCELED, pool, null, "interrupted waiting for room on the fast tier");
        } finally {
            lock.unlock();
        }
    }

    /** Sets what is told when a writer starts to wait for room (null: nothing). */
    public void onWait(Runnable r) {
        this.onWait = r == null ? () -> {} : r;
    }

    /** Wakes the waiting writers (space was given back). */
    public void roomMade() {
        if (waiting.get() == 0) {
            return;
        }
        lock.lock();
        try {
            turn.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private OsdException noRoom(OsdException last, String what, long bytes, long waitedNanos) {
        String cause = last == null ? "" : " (" + last.getMessage() + ")";
        return new OsdException(
                Errno.ENOSPC,
                pool,
                null,
                what + " found no room for " + bytes + " bytes on the fast tier after waiting "
                        + String.format(Locale.ROOT, "%.1f", waitedNanos / 1e9) + " s with "
                        + Math.max(0, waiting.get() - 1) + " other writer(s) waiting" + cause
                        + "; the pool is spilling to make room: retry later",
                last);
    }

    /**
     * The bytes the writers waiting now need, in all: the daemon's spill pass plans as if they
     * were written already, so the room it makes is room they can take.
     */
    public long waitingBytes() {
        return Math.max(0, waitingBytes.get());
    }

    /** What the queue has seen, for status and metrics. */
    public record Stats(int waiting, long waited, long timedOut, long maxWaitNanos, long totalWaitNanos) {}

    public Stats stats() {
        return new Stats(waiting.get(), waited.get(), timedOut.get(), maxWaitNanos.get(), totalWaitNanos.get());
    }
}
