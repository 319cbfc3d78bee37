package dev.spillway.osd.spi;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import java.util.BitSet;
import java.util.Collection;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Per-object write exclusion for transactions: a fixed table of lock stripes, each FID hashing
 * to one. A transaction takes its declared objects' stripes at start in stripe order, so
 * declared transactions never deadlock; a late (undeclared) lock waits a bounded time and then
 * fails with EDEADLK rather than hang. There is no global lock: transactions on different
 * objects run in parallel (up to stripe collisions).
 */
public final class ObjectLocks {
    private static final long LATE_LOCK_WAIT_MS = 2_000;

    private final String device;
    // Each stripe serialises the transactions touching any FID that hashes to it.
    private final ReentrantLock[] stripes;

    public ObjectLocks(String device, int stripeCount) {
        this.device = device;
        this.stripes = new ReentrantLock[stripeCount];
        for (int i = 0; i < stripeCount; i++) {
            stripes[i] = new ReentrantLock();
        }
    }

    public ObjectLocks(String device) {
        this(device, 1024);
    }

    int stripe(Fid fid) {
        int h = Long.hashCode(fid.seq()) * 31 + fid.oid();
        h ^= (h >>> 16);
        return Math.floorMod(h * 0x9E3779B1, stripes.length);
    }

    /** The stripes one transaction holds; used by one thread. */
    public final class Held {
        private final BitSet held = new BitSet(stripes.length);

        /** Takes every stripe of {@code fids} in stripe order, waiting as long as needed. */
        public void lockAll(Collection<Fid> fids) {
            BitSet want = new BitSet(stripes.length);
            for (Fid f : fids) {
                want.set(stripe(f));
            }
            want.andNot(held);
            for (int i = want.nextSetBit(0); i >= 0; i = want.nextSetBit(i + 1)) {
                stripes[i].lock();
                held.set(i);
            }
        }

        /**
         * Takes every stripe of {@code fids} only if none is held by another thread right now;
         * otherwise takes nothing and returns false. For work that must never wait behind a
         * transaction (the emergency spill a blocked writer runs for itself).
         */
        public boolean tryLockAll(Collection<Fid> fids) {
            BitSet want = new BitSet(stripes.length);
            for (Fid f : fids) {
                want.set(stripe(f));
            }
            want.andNot(held);
            BitSet got = new BitSet(stripes.length);
            for (int i = want.nextSetBit(0); i >= 0; i = want.nextSetBit(i + 1)) {
                if (!stripes[i].tryLock()) {
                    for (int j = got.nextSetBit(0); j >= 0; j = got.nextSetBit(j + 1)) {
                        stripes[j].unlock();
                    }
                    return false;
                }
                got.set(i);
            }
            held.or(got);
            return true;
        }

        /** Takes {@code fid}'s stripe for an undeclared update, or fails with EDEADLK. */
        public void lockLate(Fid fid) throws OsdException {
            int s = stripe(fid);
            if (held.get(s)) {
                return;
            }
            try {
                if (!stripes[s].tryLock(LATE_LOCK_WAIT_MS, TimeUnit.MILLISECONDS)) {
                    throw new OsdException(
                            Errno.EDEADLK,
                            device,
                            fid,
                            "undeclared update could not lock the object within " + LATE_LOCK_WAIT_MS
                                    + " ms; declare it");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new OsdException(Errno.EINVAL, device, fid, "interrupted waiting for the object lock", e);
            }
            held.set(s);
        }

        /** True if {@code fid}'s stripe is held. */
        public boolean holds(Fid fid) {
            return held.get(stripe(fid));
        }

        /** Releases every stripe. */
        public void unlockAll() {
            for (int i = held.nextSetBit(0); i >= 0; i = held.nextSetBit(i + 1)) {
                stripes[i].unlock();
            }
            held.clear();
        }
    }

    public Held newHolder() {
        return new Held();
    }

    /** Runs {@code action} holding {@code fid}'s stripe: for single updates outside transactions. */
    public String device() {
        return device;
    }
}
