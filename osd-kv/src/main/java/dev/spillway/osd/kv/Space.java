package dev.spillway.osd.kv;

import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.SpaceClass;
import dev.spillway.osd.StatFs;
import dev.spillway.osd.spi.storage.Storage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.EnumSet;
import java.util.concurrent.atomic.AtomicLong;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/**
 * Space accounting. {@code used} and {@code objects} are persisted as RocksDB counters (uint64
 * add merge operands) in the same batch as every change, so after a crash they are the sums of
 * exactly the transactions that survived: exact, without a scan, and in any commit order.
 * An object counts {@link KvOsd#OBJECT_OVERHEAD} plus its allocated blocks, xattrs and index
 * records; RocksDB's own overhead (WAL, not yet compacted versions) is not counted.
 *
 * <p>The device's total is the {@code capacity} setting, or less if the filesystem has less
 * room. Started transactions reserve their declared bytes (by {@link SpaceClass}: clients never
 * reach the device's reserve); freed extent files not yet deleted count against what is
 * available until they are gone.
 */
final class Space {
    private final String device;
    // The capacity setting; changed at run time by setCapacity.
    private volatile long capacity;
    private final Storage store;
    private final ColumnFamilyHandle meta;
    // Follow the persisted counters: a commit adds its deltas once its write succeeded.
    private final AtomicLong used;
    private final AtomicLong objects;
    private final dev.spillway.osd.spi.Reservations reservations;
    private final AtomicLong pendingFree = new AtomicLong();

    Space(String device, long capacity, Storage folder, ColumnFamilyHandle meta, long used, long objects)
            throws IOException {
        this.device = device;
        this.capacity = capacity;
        this.store = folder;
        this.meta = meta;
        this.used = new AtomicLong(used);
        this.objects = new AtomicLong(objects);
        this.reservations = new dev.spillway.osd.spi.Reservations(device);
    }

    void setCapacity(long bytes) throws OsdException {
        if (bytes <= 0) {
            throw new OsdException(Errno.EINVAL, device, null, "capacity of " + bytes + " bytes: must be positive");
        }
        capacity = bytes;
    }

    void setReserve(long bytes) throws OsdException {
        reservations.setReserve(bytes);
    }

    long reserve() {
        return reservations.reserve();
    }

    /** A counter value or delta as RocksDB's uint64add operator reads it (little-endian). */
    static byte[] le(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    /** A counter's value; absent is 0. */
    static long counter(byte[] b) {
        if (b == null) {
            return 0;
        }
        if (b.length != 8) {
            throw new IllegalArgumentException("counter of " + b.length + " bytes, expected 8");
        }
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    /** Adds the deltas to {@code batch}; the returned action applies them here once it is written. */
    Runnable appendCounters(WriteBatch batch, long usedDelta, long objectsDelta) throws RocksDBException {
        if (usedDelta != 0) {
            batch.merge(meta, Keys.USED, le(usedDelta));
        }
        if (objectsDelta != 0) {
            batch.merge(meta, Keys.OBJECTS, le(objectsDelta));
        }
        return () -> {
            used.addAndGet(usedDelta);
            objects.addAndGet(objectsDelta);
        };
    }

    private long fsFree() throws OsdException {
        try {
            return store.usableBytes();
        } catch (IOException e) {
            throw new OsdException(Errno.EIO, device, null, "statfs of the filesystem failed: " + e, e);
        }
    }

    private long total(long u, long fs) {
        long withFs = u + fs < 0 ? Long.MAX_VALUE : u + fs;
        return Math.min(capacity, withFs);
    }

    /** Free bytes before reservations: the total minus what is used and what is being freed. */
    private long free() throws OsdException {
        long u = used.get();
        return Math.max(0, total(u, fsFree()) - u - pendingFree.get());
    }

    /** Bytes a transaction of class {@code c} may still reserve. */
    long available(SpaceClass c) throws OsdException {
        return reservations.available(free(), c);
    }

    /** Reserves {@code bytes} for a transaction of class {@code c}, or fails with ENOSPC. */
    void reserve(long bytes, SpaceClass c, long txId) throws OsdException {
        long fs = fsFree();
        reservations.take(
                bytes, c, null, () -> Math.max(0, total(used.get(), fs) - used.get() - pendingFree.get()), avail -> {
                    long u = used.get();
                    return "transaction " + txId + " declares " + bytes + " bytes, " + avail + " available (capacity "
                            + total(u, fs) + ", used " + u
                            + (c == SpaceClass.CLIENT ? ", reserve " + reservations.reserve() : "")
                            + ")";
                });
    }

    /**
     * Reserves {@code bytes} more for a transaction whose updates outgrew what it reserved, or
     * fails with ENOSPC naming the object.
     */
    void reserveMore(long bytes, SpaceClass c, dev.spillway.osd.Fid fid) throws OsdException {
        reservations.take(
                bytes,
                c,
                fid,
                this::free,
                avail -> "update needs " + bytes + " bytes more than its transaction reserved and the device has "
                        + avail
                        + (c == SpaceClass.CLIENT ? " (beyond its reserve of " + reservations.reserve() + ")" : ""));
    }

    void release(long bytes) {
        reservations.give(bytes);
    }

    /** A commit written: its counters apply and its reservation goes, together. */
    void settle(Runnable counters, long reservation) {
        reservations.settle(counters, reservation);
    }

    void freeing(long bytes) {
        pendingFree.addAndGet(bytes);
    }

    void freed(long bytes) {
        pendingFree.addAndGet(-bytes);
    }

    long used() {
        return used.get();
    }

    long objects() {
        return objects.get();
    }

    StatFs statfs() throws OsdException {
        long u = used.get();
        long total = total(u, fsFree());
        long free = Math.max(0, total - u);
        // What a client may still take: the reserve is not for clients.
        long avail = reservations.available(Math.max(0, free - pendingFree.get()), SpaceClass.CLIENT);
        return StatFs.of(device, total, free, avail, objects.get(), Long.MAX_VALUE, EnumSet.noneOf(StatFs.Flag.class));
    }
}
