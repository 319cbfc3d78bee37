package dev.spillway.pool.space;

import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import java.util.concurrent.Semaphore;

/**
 * Bounds how many callers run the pool's {@link dev.spillway.osd.SpaceClass#RESERVED} work at
 * once: the {@code streams} of {@link ReservePlan}, which is what makes the reserve enough. A
 * caller holds a slot from before it takes any object lock until its copies are finished or
 * rolled back (never the other way round, so a slot holder waiting for a lock never blocks the
 * lock's holder); the same thread may take its slot again (a spill inside a migration).
 *
 * <p>Slots are granted in arrival order (a fair semaphore). A caller that must not wait (an
 * emergency spill on a writer's thread, which holds the writer's locks) gets EBUSY instead.
 */
public final class ReserveSlots {
    private final String pool;
    private final Semaphore slots;
    // Per pool, per thread: how deep the thread is in slot-holding calls (0: holds none).
    private final ThreadLocal<int[]> depth = ThreadLocal.withInitial(() -> new int[1]);

    public ReserveSlots(String pool, int streams) {
        this.pool = pool;
        this.slots = new Semaphore(streams, true);
    }

    /** A held slot; closing it gives it back (to the thread's outermost hold). */
    public interface Held extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Takes a slot, waiting for one unless {@code mayWait} is false.
     *
     * @throws OsdException EBUSY if none is free and the caller may not wait; ECANCELED if
     *     interrupted
     */
    public Held take(boolean mayWait) throws OsdException {
        int[] d = depth.get();
        if (d[0] == 0) {
            if (mayWait) {
                try {
                    slots.acquire();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new OsdException(Errno.ECANCELED, pool, null, "interrupted waiting for a reserve slot");
                }
            } else if (!slots.tryAcquire()) {
                throw new OsdException(
                        Errno.EBUSY, pool, null, "every reserve slot is taken by the pool's own work; not waiting");
            }
        }
        d[0]++;
        return () -> {
            if (--d[0] == 0) {
                slots.release();
            }
        };
    }

    /** Slots free now (tests, status). */
    public int free() {
        return slots.availablePermits();
    }
}
