package dev.spillway.osd.spi;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.SpaceClass;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The reservation arithmetic of a device that accounts its space, written once: bytes held by
 * started transactions, and the reserve that only {@link SpaceClass#RESERVED} and
 * {@link SpaceClass#FREEING} transactions may take (see {@link dev.spillway.osd.Osd#setReserve}).
 * The device supplies its free space (capacity minus used, or the filesystem's room, whichever
 * it counts); this class subtracts what is held and, for clients, the reserve, and takes
 * reservations atomically so that concurrent starts never promise the same bytes twice. A commit
 * hands its reservation over to the device's used bytes in one step ({@link #settle}), so a start
 * never sees the same bytes both held and used (which would refuse the pool's own work on a busy,
 * nearly full device) nor neither (which would promise them twice).
 */
public final class Reservations {
    /** The device's free space before reservations (capacity minus used, never negative). */
    @FunctionalInterface
    public interface Free {
        long bytes() throws OsdException;
    }

    /** The message of an ENOSPC, given the bytes that were available. */
    @FunctionalInterface
    public interface Refusal {
        String message(long available);
    }

    private final String device;
    // Bytes held by started, unstopped transactions. Changed under this object's lock (take,
    // give, settle), so that a device's used bytes and the held ones move together.
    private final AtomicLong held = new AtomicLong();
    private volatile long reserve;

    public Reservations(String device) {
        this.device = device;
    }

    /** Sets the reserve; EINVAL if negative. */
    public void setReserve(long bytes) throws OsdException {
        if (bytes < 0) {
            throw new OsdException(Errno.EINVAL, device, null, "reserve of " + bytes + " bytes: must not be negative");
        }
        reserve = bytes;
    }

    /** The reserve in bytes. */
    public long reserve() {
        return reserve;
    }

    /** Bytes held by started transactions. */
    public long held() {
        return held.get();
    }

    private long floor(SpaceClass c) {
        return c == SpaceClass.CLIENT ? reserve : 0;
    }

    /** Bytes a transaction of class {@code c} may still take out of {@code free}. */
    public long available(long free, SpaceClass c) {
        return Math.max(0, free - held.get() - floor(c));
    }

    /**
     * Takes {@code bytes} for a transaction of class {@code c}, or throws ENOSPC with the
     * message {@code refusal} makes of what was available. Nothing is taken for {@code bytes <= 0}.
     */
    public void take(long bytes, SpaceClass c, Fid fid, Free free, Refusal refusal) throws OsdException {
        if (bytes <= 0) {
            return;
        }
        synchronized (this) {
            long avail = free.bytes() - held.get() - floor(c);
            if (bytes > avail) {
                throw new OsdException(Errno.ENOSPC, device, fid, refusal.message(Math.max(0, avail)));
            }
            held.addAndGet(bytes);
        }
    }

    /** Gives back what {@link #take} took. */
    public void give(long bytes) {
        if (bytes != 0) {
            synchronized (this) {
                held.addAndGet(-bytes);
            }
        }
    }

    /**
     * A commit: runs {@code applyUsed} (the device's used bytes take the commit's change) and gives
     * back {@code bytes} of reservation, in one step as far as {@link #take} can see.
     */
    public synchronized void settle(Runnable applyUsed, long bytes) {
        applyUsed.run();
        held.addAndGet(-bytes);
    }

    /**
     * What a transaction of class {@code c} must take at start for its declared {@code bytes}:
     * all of them, except for a {@link SpaceClass#FREEING} one, which takes nothing up front.
     */
    public static long atStart(SpaceClass c, long bytes) {
        return c == SpaceClass.FREEING ? 0 : bytes;
    }
}
