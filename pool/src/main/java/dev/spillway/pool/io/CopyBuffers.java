package dev.spillway.pool.io;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The chunk buffers of copies, reused from one copy to the next. A copy of a 1 MiB body used to
 * allocate its 1 MiB buffer afresh: zeroing it and faulting its pages in cost about a fifth of the
 * spill drain's CPU in the overload benchmark (perf: {@code memset} in the JVM's array allocation
 * and the page faults under it), more than the copy's own reads and writes.
 *
 * <p>Buffers are powers of two from 64 KiB to 4 MiB (the chunk sizes copies use), kept per size,
 * {@link #BUDGET} bytes in all at most (32 buffers of 1 MiB: more than the copies the daemon has
 * in flight at once, 3 streams of 4 writers). A buffer may be longer than asked for: every user
 * reads and writes {@code buf[0, len)} only. A buffer is given back only after the last write that
 * used it has returned: {@code Transaction.write} takes its bytes before it returns (its contract,
 * checked for every backend and the pool by the conformance suite's {@code
 * BodyContract.aWritesBytesAreTakenBeforeItReturns}), as a copy's chunk after chunk in one buffer
 * also relies on.
 */
public final class CopyBuffers {
    /** Bytes kept between copies at most, all sizes together. */
    static final long BUDGET = 32L << 20;

    private static final int MIN_SHIFT = 16;
    private static final int MAX_SHIFT = 22;
    private static final int MAX = 1 << MAX_SHIFT;

    @SuppressWarnings("unchecked")
    private static final ConcurrentLinkedQueue<byte[]>[] FREE = new ConcurrentLinkedQueue[MAX_SHIFT - MIN_SHIFT + 1];

    private static final AtomicLong KEPT = new AtomicLong();

    static {
        for (int i = 0; i < FREE.length; i++) {
            FREE[i] = new ConcurrentLinkedQueue<>();
        }
    }

    private CopyBuffers() {}

    /** A buffer of at least {@code len} bytes (its content is whatever the last user left). */
    public static byte[] take(int len) {
        if (len > MAX) {
            return new byte[len];
        }
        int size = size(len);
        byte[] b = FREE[Integer.numberOfTrailingZeros(size) - MIN_SHIFT].poll();
        if (b == null) {
            return new byte[size];
        }
        KEPT.addAndGet(-size);
        return b;
    }

    /** Gives {@code b} back once nothing uses it any more; kept if it is of a kept size and within the budget. */
    public static void give(byte[] b) {
        if (b == null || b.length < (1 << MIN_SHIFT) || b.length > MAX || Integer.bitCount(b.length) != 1) {
            return;
        }
        if (KEPT.addAndGet(b.length) > BUDGET) {
            KEPT.addAndGet(-b.length);
            return;
        }
        FREE[Integer.numberOfTrailingZeros(b.length) - MIN_SHIFT].offer(b);
    }

    /** The buffer size for {@code len} bytes: the power of two at or above it, at least 64 KiB. */
    static int size(int len) {
        return Math.max(1 << MIN_SHIFT, Integer.highestOneBit(Math.max(1, len - 1)) << 1);
    }

    /** Forgets every kept buffer (tests). */
    static void clear() {
        for (ConcurrentLinkedQueue<byte[]> q : FREE) {
            byte[] b;
            while ((b = q.poll()) != null) {
                KEPT.addAndGet(-b.length);
            }
        }
    }
}
