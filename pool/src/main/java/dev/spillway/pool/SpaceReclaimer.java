package dev.spillway.pool;

import dev.spillway.osd.Fid;
import java.util.List;

/**
 * Makes room on the fast tier for a writer whose transaction could not start for lack of space
 * (the migration daemon's emergency spill). It runs on the writer's thread, which is how writers
 * are slowed down (backpressure) instead of failed while anything can still be moved.
 */
@FunctionalInterface
public interface SpaceReclaimer {
    /**
     * Frees about {@code bytes} on the fast tier, never touching {@code busy} (the objects the
     * waiting writer has locked), starting nothing new after {@code deadlineNanos}
     * ({@link System#nanoTime()}: the writer must get its answer by then). Must not wait for any
     * object lock.
     *
     * @return true if it freed something (the writer then retries), false if nothing could move
     */
    boolean reclaim(long bytes, List<Fid> busy, long deadlineNanos);
}
