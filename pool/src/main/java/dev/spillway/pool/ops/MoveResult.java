package dev.spillway.pool.ops;

import dev.spillway.osd.OsdException;

/**
 * How a move (spill, copy, migrate, resync, promotion, release, mirror drop, verify) ended: one
 * of a closed set of outcomes, each carrying what it needs — the bytes moved of a move done, the
 * device's error of a move parked because its target failed, the error of one object of a batch.
 */
public sealed interface MoveResult {
    /** A sentence for humans. */
    String detail();

    /** Bytes moved (0 unless {@link Done}). */
    default long bytes() {
        return 0;
    }

    /**
     * The outcome's name as the admin API and the daemon's counters spell it. One switch over the
     * sealed set, so a new outcome does not compile until it has its name.
     */
    default String outcome() {
        return switch (this) {
            case Done d -> "DONE";
            case NothingToDo n -> "NOTHING_TO_DO";
            case Changed c -> "CHANGED";
            case Parked p -> "PARKED";
            case Refused r -> "REFUSED";
            case Failed f -> "FAILED";
        };
    }

    /** Whether the object ends as asked: done now, or nothing was left to do. */
    default boolean settled() {
        return this instanceof Done || this instanceof NothingToDo;
    }

    /** Done as asked. */
    record Done(long bytes, String detail) implements MoveResult {}

    /** Nothing to do (already so). */
    record NothingToDo(String detail) implements MoveResult {}

    /** The object changed while its copy was made; the copy was discarded. Try again. */
    record Changed(String detail) implements MoveResult {}

    /**
     * The target had no room, or failed the copy: the move is parked in the work index.
     *
     * @param failure the target's error if it failed the copy (the daemon backs the device off);
     *     null if it was full
     */
    record Parked(String detail, OsdException failure) implements MoveResult {}

    /** The operation is not possible in the object's or the device's state (see detail). */
    record Refused(String detail) implements MoveResult {}

    /**
     * One object of a batch ({@link Migrator#spillAll}) whose move threw: gone meanwhile, locked by
     * a writer (EBUSY), or a device error. A move of one object throws instead.
     */
    record Failed(OsdException error) implements MoveResult {
        @Override
        public String detail() {
            return error.getMessage();
        }
    }
}
