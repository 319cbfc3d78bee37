package dev.spillway.pool.ops;

import dev.spillway.pool.io.CopyIo;
import java.util.function.LongConsumer;

/**
 * How a move (spill, copy, migrate, resync, promotion, evacuation step) runs, passed by its
 * caller rather than set on the pool: whether it may wait for an object's lock and a reserve slot,
 * what paces its copy, and how many copies of a batch are written side by side.
 *
 * <ul>
 *   <li>{@link #DEFAULT}: waits, unpaced — an administrator's command, recovery, a test;
 *   <li>{@link #EMERGENCY}: never waits (EBUSY instead: it runs on a blocked writer's thread,
 *       which may hold other locks), unpaced;
 *   <li>{@link #paced}: waits, and charges each chunk it copies to a bandwidth cap — the
 *       daemon's background moves. Nobody else's move is charged to the daemon's cap.
 * </ul>
 */
public final class MoveOptions {
    /** Waits for locks and reserve slots; copies at full speed. */
    public static final MoveOptions DEFAULT = new MoveOptions(true, CopyIo.Pacer.NONE, 1);

    /** Takes a lock or reserve slot only if free (EBUSY otherwise); copies at full speed. */
    public static final MoveOptions EMERGENCY = new MoveOptions(false, CopyIo.Pacer.NONE, 1);

    private final boolean mayWait;
    private final CopyIo.Pacer pacer;
    private final int writers;

    private MoveOptions(boolean mayWait, CopyIo.Pacer pacer, int writers) {
        this.mayWait = mayWait;
        this.pacer = pacer;
        this.writers = writers;
    }

    /** Waits for locks; each chunk copied is first charged to {@code charge} (bytes), which may block. */
    public static MoveOptions paced(LongConsumer charge) {
        return new MoveOptions(true, charge::accept, 1);
    }

    /**
     * These options with the copies of a batch ({@link Migrator#spillAll}), and those {@code
     * replicas} asks of one range spill ({@link Migrator#spillRange}), written up to {@code n} side
     * by side (the daemon's {@code spill-writers}): a device whose writes and reads wait on I/O or
     * on a busy CPU gives several in flight more than one. 1 writes them in order on the caller's
     * thread.
     */
    public MoveOptions withWriters(int n) {
        return new MoveOptions(mayWait, pacer, Math.max(1, n));
    }

    /** How many copies of a batch (or of one range spill) are written side by side. */
    public int writers() {
        return writers;
    }

    /** Whether the move may wait for an object's lock or a reserve slot. */
    public boolean mayWait() {
        return mayWait;
    }

    CopyIo.Pacer pacer() {
        return pacer;
    }

    @Override
    public String toString() {
        String kind = !mayWait ? "emergency" : pacer == CopyIo.Pacer.NONE ? "default" : "paced";
        return writers == 1 ? kind : kind + ", " + writers + " writers";
    }
}
