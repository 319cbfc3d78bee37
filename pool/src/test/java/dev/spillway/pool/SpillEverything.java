package dev.spillway.pool;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.filter.FilterOsd;
import dev.spillway.osd.filter.FilterTransaction;
import dev.spillway.pool.config.Role;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.ops.MoveResult;
import java.nio.ByteBuffer;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A test wrapper that spills every DATA object a transaction touched as soon as the transaction
 * stops (to every background device, enough for the pool's replicas), so that every later read
 * goes through spill copies and every later write recalls: the conformance suite then checks that
 * a spilled object behaves exactly like a resident one.
 */
final class SpillEverything extends FilterOsd {
    private final PoolOsd pool;
    private final boolean ranges;

    SpillEverything(PoolOsd pool) {
        this(pool, false);
    }

    private SpillEverything(PoolOsd pool, boolean ranges) {
        super(pool);
        this.pool = pool;
        this.ranges = ranges;
    }

    /**
     * Range-level placement instead (issue 20): every other 64 KiB extent of each body touched, from
     * the second on, is spilled as a range (alternating between the background devices) and
     * released locally, so that reads and writes cross many extents of split bodies.
     */
    static SpillEverything splitting(PoolOsd pool) {
        return new SpillEverything(pool, true);
    }

    PoolOsd pool() {
        return pool;
    }

    @Override
    protected Transaction wrap(Transaction tx) {
        return new FilterTransaction(tx) {
            private final Set<Fid> touched = new LinkedHashSet<>();
            private boolean stopped;

            @Override
            public void create(Fid fid, ObjectKind kind, AttrChange attrs) throws OsdException {
                super.create(fid, kind, attrs);
                if (kind == ObjectKind.DATA) {
                    touched.add(fid);
                }
            }

            @Override
            public void write(Fid fid, long offset, ByteBuffer src) throws OsdException {
                super.write(fid, offset, src);
                touched.add(fid);
            }

            @Override
            public void punch(Fid fid, long offset, long length) throws OsdException {
                super.punch(fid, offset, length);
                touched.add(fid);
            }

            @Override
            public void truncate(Fid fid, long size) throws OsdException {
                super.truncate(fid, size);
                touched.add(fid);
            }

            @Override
            public void stop() throws OsdException {
                stopped = true;
                super.stop();
                spill(touched);
            }

            @Override
            public void close() throws OsdException {
                if (!stopped) {
                    stop();
                }
            }
        };
    }

    void spill(Set<Fid> fids) throws OsdException {
        List<PoolDevice> bg =
                pool.devices().stream().filter(d -> d.has(Role.BACKGROUND)).toList();
        if (ranges) {
            split(fids, bg);
            return;
        }
        for (Fid f : fids) {
            if (!pool.exists(f) || pool.getAttr(f).kind() != ObjectKind.DATA) {
                continue;
            }
            try {
                long before = pool.getAttr(f).dataVersion();
                for (int i = 0; i < pool.replicas() - 1 && i < bg.size(); i++) {
                    pool.migrator().copy(f, bg.get(i), false);
                }
                MoveResult r = pool.migrator().spill(f, bg.get(Math.min(pool.replicas() - 1, bg.size() - 1)));
                // Concurrent writers may change the object under the copies: then it may stay
                // resident; if nothing changed, the spill must have worked.
                boolean changed = !pool.exists(f) || pool.getAttr(f).dataVersion() != before;
                // CHANGED means exactly that: another thread changed or spilled it meanwhile.
                if (!changed && r instanceof MoveResult.Refused) {
                    throw new AssertionError("spill of " + f + " did not complete: " + r);
                }
            } catch (OsdException e) {
                if (!e.is(Errno.EBUSY)) {
                    throw e;
                }
            }
        }
        pool.migrator().collectGarbage();
    }

    private void split(Set<Fid> fids, List<PoolDevice> bg) throws OsdException {
        long unit = dev.spillway.pool.meta.Span.ALIGN;
        for (Fid f : fids) {
            if (!pool.exists(f) || pool.getAttr(f).kind() != ObjectKind.DATA) {
                continue;
            }
            long size = pool.getAttr(f).size();
            int n = 0;
            for (long at = unit; at < size; at += 2 * unit) {
                try {
                    MoveResult r = pool.migrator().spillRange(f, bg.get(n++ % bg.size()), at, at + unit);
                    if (r instanceof MoveResult.Refused || r instanceof MoveResult.Parked) {
                        throw new AssertionError("range spill of " + f + " at " + at + " did not complete: " + r);
                    }
                } catch (OsdException e) {
                    if (!e.is(Errno.EBUSY)) {
                        throw e;
                    }
                }
            }
        }
        pool.migrator().collectGarbage();
    }
}
