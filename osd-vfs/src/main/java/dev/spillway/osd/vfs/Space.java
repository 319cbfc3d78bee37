package dev.spillway.osd.vfs;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
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
 * refuses to grow past it; without, it reports the filesystem's figures. Either way a start
 * fails with ENOSPC when the filesystem itself has no room for the declared bytes.
 *
 * <p>Each object is charged its body's allocated bytes plus one block for its record. The
 * filesystem's figures are asked for at most every {@value #FS_TTL_MS} ms (a statfs costs as much
 * as a small transaction): a start may therefore see free space up to that old when something
 * else fills the filesystem, and then the write itself fails with ENOSPC.
 */
final class Space {
    private final String device;
    private final Storage storage;
    private final long capacity;
    private final long objectOverhead;
    // The device's objects and their allocated bytes.
    private final AtomicLong objects = new AtomicLong();
    private final AtomicLong used = new AtomicLong();
    // Bytes reserved by started, unstopped transactions.
    private final AtomicLong reserved = new AtomicLong();
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

    /** Bytes a new reservation may take now. */
    long available() throws OsdException {
        Storage.Stats fs = fs();
        long avail = fs.usableBytes() - reserved.get();
        if (capacity > 0) {
            avail = Math.min(avail, capacity - used.get() - reserved.get());
        }
        return Math.max(0, avail);
    }

    /** Reserves {@code bytes} or fails with ENOSPC naming what is left. */
    long reserve(long bytes, long txId) throws OsdException {
        if (bytes <= 0) {
            return 0;
        }
        Storage.Stats fs = fs();
        while (true) {
            long r = reserved.get();
            long avail = fs.usableBytes() - r;
            if (capacity > 0) {
                avail = Math.min(avail, capacity - used.get() - r);
            }
            if (bytes > avail) {
                throw new OsdException(
                        Errno.ENOSPC,
                        device,
                        null,
                        "transaction " + txId + " declares " + bytes + " bytes, " + Math.max(0, avail) + " available"
                                + (capacity > 0 ? " of a capacity of " + capacity : " on " + storage.describe()));
            }
            if (reserved.compareAndSet(r, r + bytes)) {
                return bytes;
            }
        }
    }

    void release(long bytes) {
        reserved.addAndGet(-bytes);
    }

    /** ENOSPC unless {@code bytes} beyond a reservation fit now (an undeclared or larger update). */
    void checkExtra(Fid fid, long bytes) throws OsdException {
        long avail = available();
        if (bytes > avail) {
            throw new OsdException(
                    Errno.ENOSPC,
                    device,
                    fid,
                    "update exceeds the transaction's declared space by " + bytes + " bytes and " + avail
                            + " are available");
        }
    }

    StatFs statfs() throws OsdException {
        Storage.Stats fs = fs();
        long total;
        long free;
        if (capacity > 0) {
            total = capacity;
            free = Math.max(0, capacity - used.get());
        } else {
            total = fs.totalBytes();
            free = fs.freeBytes();
        }
        long avail = Math.max(0, Math.min(free, fs.usableBytes()) - reserved.get());
        return StatFs.of(device, total, free, avail, objects.get(), Long.MAX_VALUE, EnumSet.noneOf(StatFs.Flag.class));
    }
}
