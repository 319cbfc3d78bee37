package dev.spillway.osd.vfs;

import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import java.util.BitSet;
import java.util.Collection;
import java.util.concurrent.locks.StampedLock;

/**
 * Journal mode's publication guard: a committed transaction is applied to the files while
 * holding the write side of its objects' stripes, and a read runs optimistically and retries if
 * an application overlapped it, so each single read sees all or none of a transaction's updates
 * to what it reads. Reads never wait for a running transaction; after two overlapped tries a
 * read waits for the (short) application in progress instead of spinning.
 *
 * <p>Off mode promises no such atomicity and does not use it ({@link #NONE}).
 */
final class ReadGuard {
    static final ReadGuard NONE = new ReadGuard(0);

    @FunctionalInterface
    interface Read<T> {
        T run() throws OsdException;
    }

    // Each stripe guards the files of every FID that hashes to it.
    private final StampedLock[] stripes;

    ReadGuard(int stripeCount) {
        stripes = new StampedLock[stripeCount];
        for (int i = 0; i < stripeCount; i++) {
            stripes[i] = new StampedLock();
        }
    }

    private int stripe(Fid f) {
        return Math.floorMod(ObjectIndex.hash(f) * 31 + f.ver(), stripes.length);
    }

    <T> T read(Fid fid, Read<T> body) throws OsdException {
        if (stripes.length == 0) {
            return body.run();
        }
        StampedLock l = stripes[stripe(fid)];
        for (int attempt = 0; attempt < 2; attempt++) {
            long stamp = l.tryOptimisticRead();
            if (stamp == 0) {
                continue;
            }
            T result;
            try {
                result = body.run();
            } catch (OsdException | RuntimeException e) {
                if (l.validate(stamp)) {
                    throw e;
                }
                continue;
            }
            if (l.validate(stamp)) {
                return result;
            }
        }
        long stamp = l.readLock();
        try {
            return body.run();
        } finally {
            l.unlockRead(stamp);
        }
    }

    /** The write side of these objects' stripes, taken in stripe order; close to release. */
    Held writeLock(Collection<Fid> fids) {
        if (stripes.length == 0) {
            return new Held(new BitSet(), new long[0]);
        }
        BitSet want = new BitSet(stripes.length);
        for (Fid f : fids) {
            want.set(stripe(f));
        }
        long[] stamps = new long[stripes.length];
        for (int i = want.nextSetBit(0); i >= 0; i = want.nextSetBit(i + 1)) {
            stamps[i] = stripes[i].writeLock();
        }
        return new Held(want, stamps);
    }

    final class Held implements AutoCloseable {
        private final BitSet held;
        private final long[] stamps;

        private Held(BitSet held, long[] stamps) {
            this.held = held;
            this.stamps = stamps;
        }

        @Override
        public void close() {
            for (int i = held.nextSetBit(0); i >= 0; i = held.nextSetBit(i + 1)) {
                stripes[i].unlockWrite(stamps[i]);
            }
            held.clear();
        }
    }
}
