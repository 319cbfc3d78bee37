package dev.spillway.pool.ops;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads of one pool that write a batch's copies and run its flips side by side
 * ({@link MoveOptions#writers}), shared by every batch of that pool and ended when the pool closes.
 *
 * <p>Why kept threads: a thread made per copy writer of every batch also made its own 1 MiB
 * temporary direct buffer for file I/O (the JDK caches one per thread), allocated and faulted in
 * afresh each time. Why platform threads: a copy reads its body from the metadata device, which
 * may be a JNI call that would pin a virtual thread's carrier. Idle threads end after 30 s.
 *
 * <p>{@link #run} never leaves work half done: it waits for every loop it started, even when
 * interrupted (the interrupt is kept), and only then rethrows what a loop died of — an
 * {@link Error} or a {@link RuntimeException} as it is, never turned into a device's error. After
 * {@link #close} (or if a thread cannot be had), the loops run on the caller's thread.
 */
final class CopyWriters implements AutoCloseable {
    private final ExecutorService threads;

    CopyWriters(String pool) {
        AtomicInteger n = new AtomicInteger();
        this.threads = new ThreadPoolExecutor(
                0,
                Integer.MAX_VALUE,
                30,
                TimeUnit.SECONDS,
                new SynchronousQueue<>(),
                r -> Thread.ofPlatform()
                        .daemon()
                        .name("spillway-copy-" + pool + "-" + n.getAndIncrement())
                        .unstarted(r));
    }

    /**
     * Runs {@code loop} {@code n} times side by side and waits for all of them; with {@code n} of 1
     * (or less) once, on this thread. Each loop takes its own work items until none is left, so a
     * loop that dies leaves its remaining items to the others; what it died of is rethrown once
     * all have ended (the first such failure, the others suppressed on it).
     */
    void run(int n, Runnable loop) {
        if (n <= 1) {
            loop.run();
            return;
        }
        List<Future<?>> fs = new ArrayList<>();
        boolean inline = false;
        for (int k = 0; k < n; k++) {
            try {
                fs.add(threads.submit(loop));
            } catch (RejectedExecutionException e) {
                // Closed (the pool is closing): the caller's thread takes the work.
                inline = true;
                break;
            }
        }
        Throwable first = null;
        if (inline) {
            try {
                loop.run();
            } catch (RuntimeException | Error e) {
                first = e;
            }
        }
        boolean interrupted = false;
        for (Future<?> f : fs) {
            while (true) {
                try {
                    f.get();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    if (first == null) {
                        first = e.getCause();
                    } else {
                        first.addSuppressed(e.getCause());
                    }
                    break;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (first instanceof Error err) {
            throw err;
        }
        if (first instanceof RuntimeException re) {
            throw re;
        }
        if (first != null) {
            // A Runnable throws nothing checked; kept for completeness.
            throw new IllegalStateException("a copy writer failed", first);
        }
    }

    /** Ends the idle threads now and the busy ones when their loop returns; later runs use the caller's thread. */
    @Override
    public void close() {
        threads.shutdown();
    }

    /** True once every thread has ended after {@link #close} (tests). */
    boolean awaitEnded(long timeout, TimeUnit unit) throws InterruptedException {
        return threads.awaitTermination(timeout, unit);
    }
}
