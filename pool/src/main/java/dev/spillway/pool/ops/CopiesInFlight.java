package dev.spillway.pool.ops;

import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.ops.Migrator.Locked;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The copies a move of this mounted pool is making now, by copy key: a copy enters before its
 * COPY job is recorded and leaves once its flip or its roll-back has finished — or failed, leaving
 * the job behind. A COPY job whose copy is not here has no writer any more (its copy failed
 * half-way and the roll-back did not finish: the device errored, the roll-back's own transaction
 * failed): the daemon rolls it back, under the object's lock, after checking again that the copy
 * has not entered meanwhile ({@link Garbage#rollBackStuck}). Without this, a roll-back by age alone
 * could make garbage of a slow copy still being written, whose flip would then find it gone.
 *
 * <p>In memory only: at mount nothing is in flight, and recovery rolls back every COPY job. A sync
 * write's spare copy ({@link SyncCommit}) has no entry: it is begun, written and flipped (or
 * discarded) with the object's lock held throughout, and the daemon's roll-back takes that lock.
 */
final class CopiesInFlight {
    private final Set<Fid> copies = ConcurrentHashMap.newKeySet();

    /** The key naming the copy of {@code j}: its own for a whole copy, its striped copy's for a stripe. */
    static Fid copyOf(Job j) {
        return j.copy().equals(Job.NO_KEY) ? j.key() : j.copy();
    }

    void enter(Fid copy) {
        copies.add(copy);
    }

    void leave(Fid copy) {
        copies.remove(copy);
    }

    /** True if a move of this pool is making the copy of {@code j} now. */
    boolean owns(Job j) {
        return copies.contains(copyOf(j));
    }

    /** Runs {@code body}, the copy keyed {@code copy} in flight meanwhile. */
    <T> T during(Fid copy, Locked<T> body) throws OsdException {
        enter(copy);
        try {
            return body.run();
        } finally {
            leave(copy);
        }
    }
}
