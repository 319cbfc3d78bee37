package dev.spillway.osd.vfs;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.SpaceClass;
import dev.spillway.osd.StatFs;
import dev.spillway.osd.spi.storage.Storage;
import dev.spillway.osd.spi.storage.StorageErrors;
import java.io.IOException;
import java.util.EnumSet;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Space accounting: the device's own use (objects and allocated bytes, kept up to date by every
 * update and persisted at clean unmount), reservations of started transactions, and the
 * filesystem's free space. With {@code capacity} set, the device reports that capacity and
 * refuses to grow past it; without, it reports the filesystem's figures. Either way its room is
 * the smaller of what the capacity leaves and what the filesystem has (a spill directory shares
 * its filesystem with whatever else lives there), and a start fails with ENOSPC when the declared
 * bytes are not in it. Clients never reach the device's reserve ({@link SpaceClass}).
 *
 * <p>Each object is charged its body's allocated bytes plus one block for its record. The
 * filesystem's figures are asked for at most every {@value #FS_TTL_MS} ms (a statfs costs as much
 * as a small transaction): a start may therefore see free space up to that old when something
 * else fills the filesystem, and then the write itself fails with ENOSPC.
 */
final class Space {
    private final String device;
    private final Storage storage;
    // The capacity setting (0: the whole filesystem); changed at run time by setCapacity.
    private volatile long capacity;
    private final long objectOverhead;
    // The device's objects and their allocated bytes.
    private final AtomicLong objects = new AtomicLong();
    private final AtomicLong used = new AtomicLong();
    // Bytes reserved by started, unstopped transactions, and the reserve.
    private final dev.spillway.osd.spi.Reservations reservations;
    private static final long FS_TTL_MS = 20;
    // The filesystem's figures and when they were read (nanoTime); replaced whole.
    private volatile Storage.Stats fsStats;
    private volatile long fsStatsAt;

    // The device's clock (injected: a crash test's steps, so that the statfs calls it makes, which
    // are storage operations, fall at the same places in every run).
    private final java.time.InstantSource clock;

    Space(String device, Storage storage, long capacity, int blockSize, java.time.InstantSource clock) {
        this.clock = clock;
        this.device = device;
        this.storage = storage;
        this.capacity = capacity;
        this.objectOverhead = blockSize;
        this.reservations = new dev.spillway.osd.spi.Reservations(device);
    }

    void setCapacity(long bytes) throws OsdException {
        if (bytes < 0) {
            throw new OsdException(
                    Errno.EINVAL,
                    device,
                    null,
                    "capacity of " + bytes + " bytes: must not be negative (0: the whole filesystem)");
        }
        capacity = bytes;
    }

    void setReserve(long bytes) throws OsdException {
        reservations.setReserve(bytes);
    }

    long objectOverhead() {
        return objectOverhead;
    }

    void reset(long objectCount, long usedBytes) {
        objects.set(objectCount);
        used.set(usedBytes);
    }

    long objects() {
        return objects.get();
    }

    long used() {
        return used.get();
    }

    void objectCreated() {
        objects.incrementAndGet();
        used.addAndGet(objectOverhead);
    }

    void objectDestroyed(long allocated) {
        objects.decrementAndGet();
        used.addAndGet(-(allocated + objectOverhead));
    }

    void allocated(long delta) {
        used.addAndGet(delta);
    }

    private Storage.Stats fs() throws OsdException {
        long now = clock.millis();
        Storage.Stats cached = fsStats;
        if (cached != null && now >= fsStatsAt && now - fsStatsAt < FS_TTL_MS) {
            return cached;
        }
        try {
            Storage.Stats fresh = storage.stats();
            fsStats = fresh;
            fsStatsAt = now;
            return fresh;
        } catch (IOException e) {
            throw StorageErrors.toOsd(device, null, "statfs of " + storage.describe(), e);
        }
    }

    /**
     * Free bytes before reservations: what the filesystem has, and with a capacity what it leaves
     * (the smaller of the two).
     */
    long free() throws OsdException {
        return free(fs());
    }

    private long free(Storage.Stats fs) {
        long f = fs.usableBytes();
        long c = capacity;
        if (c > 0) {
            f = Math.min(f, c - used.get());
        }
        return Math.max(0, f);
    }

    /** Bytes a new reservation of class {@code c} may take now. */
    long available(SpaceClass c) throws OsdException {
        return reservations.available(free(), c);
    }

    /** Reserves {@code bytes} for a transaction of class {@code c} or fails with ENOSPC naming what is left. */
    long reserve(long bytes, SpaceClass c, long txId) throws OsdException {
        long need = dev.spillway.osd.spi.Reservations.atStart(c, bytes);
        Storage.Stats fs = fs();
        reservations.take(
                need,
                c,
                null,
                () -> free(fs),
                avail -> "transaction " + txId + " declares " + need + " bytes, " + avail + " available"
                        + (capacity > 0 ? " of a capacity of " + capacity : " on " + storage.describe())
                        + (c == SpaceClass.CLIENT && reservations.reserve() > 0
                                ? " (beyond a reserve of " + reservations.reserve() + ")"
                                : ""));
        return need;
    }

    void release(long bytes) {
        reservations.give(bytes);
    }

    /**
     * Reserves {@code bytes} beyond a transaction's reservation (an undeclared or larger update)
     * or fails with ENOSPC; returns what was taken.
     */
    long reserveMore(Fid fid, long bytes, SpaceClass c) throws OsdException {
        reservations.take(
                bytes,
                c,
                fid,
                this::free,
                avail -> "update exceeds the transaction's declared space by " + bytes + " bytes and " + avail
                        + " are available");
        return bytes;
    }

    StatFs statfs() throws OsdException {
        Storage.Stats fs = fs();
        long total;
        long free;
        long c = capacity;
        if (c > 0) {
            // The smaller of the capacity and what the filesystem can still give (as osd-kv does).
            long u = used.get();
            total = Math.min(c, u + fs.freeBytes() < 0 ? Long.MAX_VALUE : u + fs.freeBytes());
            free = Math.max(0, total - u);
        } else {
            total = fs.totalBytes();
            free = fs.freeBytes();
        }
        long avail = reservations.available(Math.min(free, free(fs)), SpaceClass.CLIENT);
        return StatFs.of(device, total, free, avail, objects.get(), Long.MAX_VALUE, EnumSet.noneOf(StatFs.Flag.class));
    }
}
