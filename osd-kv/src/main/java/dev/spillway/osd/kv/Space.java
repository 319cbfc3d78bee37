package dev.spillway.osd.kv;

import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
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
 * room. Started transactions reserve their declared bytes; freed extent files not yet deleted
 * count against what is available until they are gone.
 */
final class Space {
    private final String device;
    private final long capacity;
    private final Storage store;
    private final ColumnFamilyHandle meta;
    // Follow the persisted counters: a commit adds its deltas once its write succeeded.
    private final AtomicLong used;
    private final AtomicLong objects;
    private final AtomicLong reserved = new AtomicLong();
    private final AtomicLong pendingFree = new AtomicLong();

    Space(String device, long capacity, Storage folder, ColumnFamilyHandle meta, long used, long objects)
            throws IOException {
        this.device = device;
        this.capacity = capacity;
        this.store = folder;
        this.meta = meta;
        this.used = new AtomicLong(used);
        this.objects = new AtomicLong(objects);
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

    /** Bytes a transaction may still reserve. */
    long available() throws OsdException {
        long u = used.get();
        long free = Math.max(0, total(u, fsFree()) - u);
        return Math.max(0, free - reserved.get() - pendingFree.get());
    }

    /** Reserves {@code bytes} for a starting transaction, or fails with ENOSPC. */
    void reserve(long bytes, long txId) throws OsdException {
        long fs = fsFree();
        while (true) {
            long r = reserved.get();
            long u = used.get();
            long avail = total(u, fs) - u - r - pendingFree.get();
            if (bytes > avail) {
                throw new OsdException(
                        Errno.ENOSPC,
                        device,
                        null,
                        "transaction " + txId + " declares " + bytes + " bytes, " + Math.max(0, avail)
                                + " available (capacity " + total(u, fs) + ", used " + u + ")");
            }
            if (reserved.compareAndSet(r, r + bytes)) {
                return;
            }
        }
    }

    void release(long bytes) {
        reserved.addAndGet(-bytes);
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
        long avail = Math.max(0, free - reserved.get() - pendingFree.get());
        return StatFs.of(device, total, free, avail, objects.get(), Long.MAX_VALUE, EnumSet.noneOf(StatFs.Flag.class));
    }
}
