package dev.spillway.pool.ops;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.SpaceClass;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.spi.ObjectLocks;
import dev.spillway.pool.config.Role;
import dev.spillway.pool.core.PoolContext;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.Counters;
import dev.spillway.pool.meta.DeviceIndex;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.WorkIndex;
import dev.spillway.pool.ops.Migrator.Locked;
import dev.spillway.pool.space.ReserveSlots;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What every move of {@link Migrator} shares: the pool's context, its object locks and reserve
 * slots taken as a {@link MoveOptions} says, the one question whether a device takes new copies,
 * and one metadata transaction of a space class that changes an object's layout and the pool's
 * records together.
 */
final class MoveContext {
    final PoolContext ctx;
    final int mdIndex;
    /** The copies being made now: the daemon rolls back only COPY jobs of others. */
    final CopiesInFlight inFlight = new CopiesInFlight();
    /** The pool's copy-writer threads, ended with the pool ({@link Migrator#close}). */
    final CopyWriters writers;

    MoveContext(PoolContext ctx) {
        this.ctx = ctx;
        this.mdIndex = ctx.metadata().index();
        this.writers = new CopyWriters(ctx.name());
    }

    Osd md() {
        return ctx.metadata().osd();
    }

    /**
     * Runs {@code body} holding one of the pool's reserve slots ({@link ReserveSlots}): every
     * caller of RESERVED work does, taken before any object lock. An emergency spill does not
     * wait for one (EBUSY).
     */
    <T> T slotted(MoveOptions o, Locked<T> body) throws OsdException {
        try (ReserveSlots.Held h = ctx.reserveSlots().take(o.mayWait())) {
            return body.run();
        }
    }

    /** Runs {@code body} holding the object's pool lock (the one client transactions take). */
    <T> T locked(Fid fid, Locked<T> body) throws OsdException {
        return locked(fid, MoveOptions.DEFAULT, body);
    }

    <T> T locked(Fid fid, MoveOptions o, Locked<T> body) throws OsdException {
        ObjectLocks.Held h = lockAll(Set.of(fid), o);
        try {
            return body.run();
        } finally {
            h.unlockAll();
        }
    }

    /**
     * The pool locks of {@code fids} (the ones client transactions take), all together; a move
     * that may not wait takes them only if all are free, and is refused with EBUSY otherwise.
     */
    ObjectLocks.Held lockAll(Set<Fid> fids, MoveOptions o) throws OsdException {
        ObjectLocks.Held h = ctx.transactions().locks().newHolder();
        if (o.mayWait()) {
            h.lockAll(fids);
        } else if (!h.tryLockAll(fids)) {
            throw new OsdException(
                    Errno.EBUSY,
                    ctx.name(),
                    fids.size() == 1 ? fids.iterator().next() : null,
                    (fids.size() == 1 ? "object is" : "objects are")
                            + " locked by a transaction (emergency spill skips "
                            + (fids.size() == 1 ? "it)" : "them)"));
        }
        return h;
    }

    /**
     * Why {@code target} takes no new copy (it is the metadata device, not a background device, or
     * not writable), or null if it does. Every move onto a device asks this one question.
     */
    String refusal(PoolDevice target) {
        if (target.index() == mdIndex || !target.has(Role.BACKGROUND)) {
            return target.name() + " is not a background device";
        }
        if (!target.state().writable()) {
            return target.name() + " is " + target.state().yamlName() + ": nothing new is placed there";
        }
        return null;
    }

    /** {@link #refusal} as an error, for the steps that cannot answer with a result. */
    void requireWritable(Fid fid, PoolDevice target) throws OsdException {
        String why = refusal(target);
        if (why != null) {
            throw new OsdException(Errno.EINVAL, ctx.name(), fid, why + " (it takes no new copies)");
        }
    }

    /** A metadata transaction that changes an object's layout and the pool's records. */
    @FunctionalInterface
    interface MetaUpdate {
        void apply(Transaction tx, Counters counters) throws OsdException;
    }

    /**
     * One metadata transaction of class {@code space}: the pool's own bookkeeping is RESERVED
     * (it may use the metadata device's reserve) or FREEING (it gives space back, and must make
     * its frees before its additions); work that grows the pool for good (a recall, a copy that
     * releases nothing) is CLIENT.
     */
    void meta(Fid fid, boolean sync, SpaceClass space, MetaUpdate declare, MetaUpdate update) throws OsdException {
        Counters counters = new Counters(fid);
        try (Transaction tx = md().newTransaction()) {
            declare.apply(tx, counters);
            Counters.declare(tx, fid);
            tx.setSync(sync);
            tx.setSpaceClass(space);
            tx.start();
            try {
                update.apply(tx, counters);
                counters.flush(tx, md());
            } catch (OsdException | RuntimeException e) {
                // An update that failed part way (a copy's read, say) commits none of it: closing
                // the transaction would otherwise commit what it wrote so far (bytes, GC jobs)
                // without the layout that goes with them. A failing abort must not hide why.
                try {
                    tx.abort();
                } catch (RuntimeException a) {
                    e.addSuppressed(a);
                }
                throw e;
            }
        } finally {
            if (space == SpaceClass.FREEING) {
                ctx.roomQueue().roomMade();
            }
        }
    }

    PoolObject load(Fid fid) throws OsdException {
        return ctx.store().require(fid);
    }

    /** The object's state, or empty if it is gone (destroyed meanwhile) or not a DATA object. */
    Optional<PoolObject> loadIfExists(Fid fid) throws OsdException {
        try {
            return ctx.store().load(fid);
        } catch (OsdException e) {
            if (!e.is(Errno.ENOENT)) {
                throw e;
            }
            return Optional.empty();
        }
    }

    long durableInSyncElsewhere(PoolObject p) {
        return p.copies().stream()
                .filter(c -> c.device() != mdIndex
                        && c.whole()
                        && c.state() == CopyState.IN_SYNC
                        && c.version() == p.dataVersion()
                        && ctx.durable(c)
                        && ctx.readable(c))
                .count();
    }

    /** The copy leaves the layout and a GC job will delete it. */
    void gcJob(Transaction tx, Counters c, Fid fid, Copy copy) throws OsdException {
        for (Job j : Job.perPart(Job.Kind.GC, fid, copy, copy.version(), ctx.nowNanos())) {
            WorkIndex.add(tx, j);
        }
        c.move(copy, copy.state(), CopyState.GARBAGE);
        DeviceIndex.delete(tx, fid, copy);
    }

    /** Where a copy is, for messages: its device's name, or a striped copy's devices. */
    String where(Copy c) {
        if (!c.striped()) {
            return ctx.device(c.device()).name();
        }
        List<String> names = new ArrayList<>();
        c.parts().forEach(s -> names.add(ctx.device(s.device()).name()));
        return c.parts().size() + " stripes on " + String.join(", ", names);
    }
}
