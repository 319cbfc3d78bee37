package dev.spillway.osd.mem;

import dev.spillway.osd.Attr;
import dev.spillway.osd.Capabilities;
import dev.spillway.osd.Capability;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.IndexCursor;
import dev.spillway.osd.ObjectCursor;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.StatFs;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.spi.TransactionSupport;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * osd-mem: every object in memory, transactional, volatile. The "memfs" of the RFC thread: the
 * device of most tests, and a durability-0 cache tier in a pool.
 *
 * <p>Reads take no lock: they read the published {@link MemObject}, which a commit replaces
 * whole. Transactions lock their objects ({@link dev.spillway.osd.spi.ObjectLocks}), so there is
 * no global lock on the data path. Space is capped by {@code capacity}: declared bytes are
 * reserved at start, so ENOSPC comes there. Commit callbacks fire at stop, and the device says
 * it has no durable commit: nothing survives {@link #close()}.
 *
 * <p>Settings: {@code capacity} (bytes, default 1 TiB), {@code max-objects} (default unlimited),
 * {@code block-size} (page size, default 4096), {@code max-xattr-value} (default 65536),
 * {@code durability}: {@code volatile} (default) or {@code simulated}.
 *
 * <p>With {@code durability: simulated} the device behaves like a disk for crash tests: a
 * committed transaction is visible at once but durable only at the next sync point (a
 * {@link #sync()}, or the stop of a sync-flagged transaction), where the state is captured and the
 * waiting commit callbacks fire (group commit). {@link #crash()} then yields a new device holding
 * exactly what was durable: what a power cut would leave.
 */
public final class MemOsd implements Osd {
    /** Bytes each object costs in statfs, beyond its body, xattrs and index entries. */
    static final long OBJECT_OVERHEAD = 256;

    static final Set<String> SETTINGS =
            Set.of("capacity", "max-objects", "block-size", "max-xattr-value", "durability");

    private final String name;
    private final InstantSource clock;
    // The capacity setting; changed at run time by setCapacity.
    private volatile long capacity;
    private final long maxObjects;
    private final Capabilities caps;
    final TransactionSupport support;

    // Published objects; a commit replaces an entry, never changes one in place (but index maps).
    final ConcurrentSkipListMap<Fid, MemObject> objects = new ConcurrentSkipListMap<>();
    // Bytes of published objects, and bytes reserved by started transactions (and the reserve).
    final AtomicLong used = new AtomicLong();
    final dev.spillway.osd.spi.Reservations reservations;
    final AtomicLong reservedObjects = new AtomicLong();
    private volatile boolean closed;

    // Simulated durability (null when volatile). Publishing commits hold the read lock, a sync
    // point the write lock, so a captured image never holds part of a transaction.
    private final java.util.concurrent.locks.ReentrantReadWriteLock commitLock;
    // Guarded by commitLock's write lock (and by itself for enqueueing).
    private final java.util.List<MemTransaction> undurable;
    private volatile Map<Fid, MemObject> durableImage = Map.of();
    private final OsdConfig config;

    public MemOsd(OsdConfig config) throws OsdException {
        this(config, null);
    }

    private MemOsd(OsdConfig config, Map<Fid, MemObject> image) throws OsdException {
        this.name = config.name();
        this.clock = config.clock();
        this.capacity = config.bytes("capacity", 1L << 40);
        this.maxObjects = config.integer("max-objects", Long.MAX_VALUE);
        int blockSize = (int) config.bytes("block-size", 4096);
        int maxXattr = (int) config.bytes("max-xattr-value", 65536);
        if (blockSize < 512 || Integer.bitCount(blockSize) != 1) {
            throw new OsdException(
                    Errno.EINVAL, name, "setting 'block-size' must be a power of two >= 512, got " + blockSize);
        }
        if (capacity <= 0) {
            throw new OsdException(Errno.EINVAL, name, "setting 'capacity' must be positive, got " + capacity);
        }
        String durability = config.string("durability", "volatile");
        if (!durability.equals("volatile") && !durability.equals("simulated")) {
            throw new OsdException(
                    Errno.EINVAL, name, "setting 'durability' must be volatile or simulated, got '" + durability + "'");
        }
        boolean simulated = durability.equals("simulated");
        EnumSet<Capability> features = EnumSet.of(
                Capability.TRANSACTIONS,
                Capability.XATTRS,
                Capability.INDEX,
                Capability.PUNCH,
                Capability.SPARSE_SEEK,
                Capability.PARTIAL_WRITE,
                Capability.ATOMIC_REPLACE,
                Capability.LIST_OBJECTS);
        if (simulated) {
            features.add(Capability.DURABLE_COMMIT);
        }
        this.caps = new Capabilities(features, maxXattr, 255, 1L << 44, 4096, 65536, 1 << 20, blockSize);
        this.support = new TransactionSupport(name, config.strictDeclares());
        this.reservations = new dev.spillway.osd.spi.Reservations(name);
        this.config = config;
        this.commitLock = simulated ? new java.util.concurrent.locks.ReentrantReadWriteLock() : null;
        this.undurable = simulated ? new java.util.ArrayList<>() : null;
        if (image != null) {
            for (Map.Entry<Fid, MemObject> e : image.entrySet()) {
                MemObject o = copyOf(e.getValue());
                objects.put(e.getKey(), o);
                used.addAndGet(o.usedBytes());
            }
            durableImage = image;
        }
    }

    private static MemObject copyOf(MemObject o) {
        if (o.index() == null) {
            return o;
        }
        java.util.concurrent.ConcurrentSkipListMap<byte[], byte[]> ix = MemObject.newIndex();
        ix.putAll(o.index());
        return new MemObject(o.attr(), o.xattrs(), o.body(), ix, o.indexBytes());
    }

    /** True with {@code durability: simulated}. */
    boolean simulated() {
        return commitLock != null;
    }

    /** Runs a commit's publication; in simulated mode, never concurrently with a sync point. */
    void publishing(Runnable publish) {
        if (commitLock == null) {
            publish.run();
            return;
        }
        commitLock.readLock().lock();
        try {
            publish.run();
        } finally {
            commitLock.readLock().unlock();
        }
    }

    /** Simulated mode: a committed transaction waits for the next sync point to be durable. */
    void awaitDurable(MemTransaction tx) {
        synchronized (undurable) {
            undurable.add(tx);
        }
    }

    /** Simulated mode: captures what is durable now and fires the waiting callbacks, in commit order. */
    void syncPoint() {
        List<MemTransaction> done;
        commitLock.writeLock().lock();
        try {
            Map<Fid, MemObject> img = new java.util.HashMap<>();
            for (Map.Entry<Fid, MemObject> e : objects.entrySet()) {
                img.put(e.getKey(), copyOf(e.getValue()));
            }
            durableImage = img;
            synchronized (undurable) {
                done = new ArrayList<>(undurable);
                undurable.clear();
            }
        } finally {
            commitLock.writeLock().unlock();
        }
        for (MemTransaction t : done) {
            t.durable();
        }
    }

    /**
     * Simulated mode: a power cut. This device stops (every later call fails with EIO, waiting
     * callbacks never fire) and a new device is returned holding exactly the state of the last
     * sync point.
     */
    public MemOsd crash() throws OsdException {
        if (!simulated()) {
            throw new OsdException(Errno.EOPNOTSUPP, name, "crash needs durability: simulated");
        }
        closed = true;
        return new MemOsd(config, durableImage);
    }

    /** A device named {@code name} with default settings. */
    public static MemOsd create(String name) {
        try {
            return new MemOsd(OsdConfig.of(name, "mem", Map.of()));
        } catch (OsdException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String backend() {
        return "mem";
    }

    @Override
    public Capabilities capabilities() {
        return caps;
    }

    long capacity() {
        return capacity;
    }

    /** Free bytes before reservations. */
    long free() {
        return Math.max(0, capacity - used.get());
    }

    @Override
    public void setReserve(long bytes) throws OsdException {
        ensureOpen();
        reservations.setReserve(bytes);
    }

    @Override
    public void setCapacity(long bytes) throws OsdException {
        ensureOpen();
        if (bytes <= 0) {
            throw new OsdException(Errno.EINVAL, name, "capacity of " + bytes + " bytes: must be positive");
        }
        capacity = bytes;
    }

    long maxObjects() {
        return maxObjects;
    }

    long now() {
        Instant i = clock.instant();
        return i.getEpochSecond() * 1_000_000_000L + i.getNano();
    }

    void ensureOpen() throws OsdException {
        if (closed) {
            throw new OsdException(Errno.EIO, name, "device is closed");
        }
    }

    @Override
    public StatFs statfs() throws OsdException {
        ensureOpen();
        long u = used.get();
        long free = Math.max(0, capacity - u);
        long avail = reservations.available(free, dev.spillway.osd.SpaceClass.CLIENT);
        long n = objects.size();
        long freeObj = maxObjects == Long.MAX_VALUE ? Long.MAX_VALUE : Math.max(0, maxObjects - n);
        return StatFs.of(
                name, capacity, free, avail, n, freeObj, EnumSet.of(StatFs.Flag.NONROTATIONAL, StatFs.Flag.VOLATILE));
    }

    @Override
    public void sync() throws OsdException {
        ensureOpen();
        if (simulated()) {
            syncPoint();
        }
    }

    @Override
    public Transaction newTransaction() throws OsdException {
        ensureOpen();
        return new MemTransaction(this);
    }

    MemObject get(Fid fid) throws OsdException {
        ensureOpen();
        MemObject o = objects.get(fid);
        if (o == null) {
            throw new OsdException(Errno.ENOENT, name, fid, "no such object");
        }
        return o;
    }

    private MemObject data(Fid fid, String op) throws OsdException {
        MemObject o = get(fid);
        if (o.attr().kind() != ObjectKind.DATA) {
            throw new OsdException(Errno.EISDIR, name, fid, op + " on an index object");
        }
        return o;
    }

    private MemObject index(Fid fid, String op) throws OsdException {
        MemObject o = get(fid);
        if (o.attr().kind() != ObjectKind.INDEX) {
            throw new OsdException(Errno.ENOTDIR, name, fid, op + " on a data object");
        }
        return o;
    }

    @Override
    public Attr getAttr(Fid fid) throws OsdException {
        return get(fid).attr();
    }

    @Override
    public int read(Fid fid, long offset, ByteBuffer dst) throws OsdException {
        MemObject o = data(fid, "read");
        if (offset < 0) {
            throw new OsdException(Errno.EINVAL, name, fid, "read at negative offset " + offset);
        }
        return o.body().read(offset, o.attr().size(), dst);
    }

    @Override
    public long seekData(Fid fid, long offset) throws OsdException {
        MemObject o = data(fid, "seek data");
        long size = o.attr().size();
        long r = offset < 0 || offset >= size ? -1 : o.body().seekData(offset, size);
        if (r < 0) {
            throw new OsdException(Errno.ENXIO, name, fid, "no data at or after " + offset + " (size " + size + ")");
        }
        return r;
    }

    @Override
    public long seekHole(Fid fid, long offset) throws OsdException {
        MemObject o = data(fid, "seek hole");
        long size = o.attr().size();
        if (offset < 0 || offset >= size) {
            throw new OsdException(
                    Errno.ENXIO, name, fid, "seek hole at " + offset + " past the end (size " + size + ")");
        }
        return o.body().seekHole(offset, size);
    }

    @Override
    public byte[] getXattr(Fid fid, String xname) throws OsdException {
        MemObject o = get(fid);
        byte[] v = o.xattrs().get(xname);
        if (v == null) {
            throw new OsdException(Errno.ENODATA, name, fid, "no xattr " + xname);
        }
        return v.clone();
    }

    @Override
    public List<String> listXattrs(Fid fid) throws OsdException {
        return new ArrayList<>(get(fid).xattrs().keySet());
    }

    @Override
    public Optional<byte[]> lookup(Fid indexFid, byte[] key) throws OsdException {
        byte[] v = index(indexFid, "lookup").index().get(key);
        return v == null ? Optional.empty() : Optional.of(v.clone());
    }

    @Override
    public IndexCursor cursor(Fid indexFid, byte[] fromKey) throws OsdException {
        ConcurrentSkipListMap<byte[], byte[]> m = index(indexFid, "cursor").index();
        Iterator<Map.Entry<byte[], byte[]>> it = (fromKey == null || fromKey.length == 0 ? m : m.tailMap(fromKey, true))
                .entrySet()
                .iterator();
        return new IndexCursor() {
            private Map.Entry<byte[], byte[]> cur;

            @Override
            public boolean next() {
                cur = it.hasNext() ? it.next() : null;
                return cur != null;
            }

            @Override
            public byte[] key() {
                return cur.getKey().clone();
            }

            @Override
            public byte[] value() {
                return cur.getValue().clone();
            }

            @Override
            public void close() {}
        };
    }

    @Override
    public ObjectCursor listObjects() throws OsdException {
        ensureOpen();
        Iterator<Fid> it = objects.keySet().iterator();
        return new ObjectCursor() {
            private Fid cur;

            @Override
            public boolean next() {
                cur = it.hasNext() ? it.next() : null;
                return cur != null;
            }

            @Override
            public Fid fid() {
                return cur;
            }

            @Override
            public void close() {}
        };
    }

    @Override
    public void close() {
        closed = true;
    }

    @Override
    public String toString() {
        return "MemOsd(" + name + ")";
    }
}
