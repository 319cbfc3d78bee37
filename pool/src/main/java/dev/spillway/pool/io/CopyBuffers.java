package dev.spillway.pool.io;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The chunk buffers of copies, reused from one copy to the next. A copy of a 1 MiB body used to
 * allocate its 1 MiB buffer afresh: zeroing it and faulting its pages in cost about a fifth of the
 * spill drain's CPU in the overload benchmark (perf: {@code memset} in the JVM's array allocation
 * and the page faults under it), more than the copy's own reads and writes.
 *
 * <p>Buffers are powers of two from 64 KiB to 4 MiB (the chunk sizes copies use); at most
 * {@link #KEEP} are kept, 4 MiB at most each (64 MiB in all at worst, 16 MiB with 1 MiB chunks).
 * A buffer may be longer than asked for: every user reads and writes {@code buf[0, len)} only. A
 * buffer is given back only after the last write that used it has returned (an {@code Osd}
 * consumes a write's bytes before it returns, as a copy's chunk after chunk in one buffer already
 * relies on).
 */
public final class CopyBuffers {
    /** Buffers kept between copies at most. */
    static final int KEEP = 16;

    private static final int MIN = 64 << 10;
    private static final int MAX = 4 << 20;

    private static final ConcurrentLinkedQueue<byte[]> FREE = new ConcurrentLinkedQueue<>();
    private static final AtomicInteger KEPT = new AtomicInteger();

    private CopyBuffers() {}

    /** A buffer of at least {@code len} bytes (its content is whatever the last user left). */
    public static byte[] take(int len) {
        if (len <= MAX) {
            int size = size(len);
            // Buffers of other sizes are passed over, not dropped (a pool of mixed copies).
            for (int tries = 0; tries < KEEP; tries++) {
                byte[] b = FREE.poll();
                if (b == null) {
                    break;
                }
                KEPT.decrementAndGet();
                if (b.length == size) {
                    return b;
                }
                give(b);
            }
            return new byte[size];
        }
        return new byte[len];
    }

    /** Gives {@code b} back once nothing uses it any more. */
    public static void give(byte[] b) {
        if (b == null || b.length < MIN || b.length > MAX || Integer.bitCount(b.length) != 1) {
            return;
        }
        if (KEPT.incrementAndGet() > KEEP) {
            KEPT.decrementAndGet();
            return;
        }
        FREE.offer(b);
    }

    /** The buffer size for {@code len} bytes: the power of two at or above it, at least 64 KiB. */
    static int size(int len) {
        return Math.max(MIN, Integer.highestOneBit(Math.max(1, len - 1)) << 1);
    }
}
