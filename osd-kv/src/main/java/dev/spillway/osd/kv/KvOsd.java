package dev.spillway.osd.kv;

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
import dev.spillway.osd.spi.storage.Storage;
import dev.spillway.osd.spi.storage.posix.PosixNative;
import dev.spillway.osd.spi.storage.posix.PosixStorage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
import org.rocksdb.Snapshot;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * osd-kv: the persistent, transactional OSD on RocksDB, the pool's fast device (the role
 * ldiskfs or ZFS plays under a Lustre OSD). Attributes, xattrs, index objects and small bodies
 * live in RocksDB; large bodies in copy-on-write extent files. See the module README for the
 * layout and the reasons.
 *
 * <p>Reads take no lock: each read call works on one RocksDB snapshot, so it sees a
 * transaction wholly or not at all. Transactions lock their objects
 * ({@link dev.spillway.osd.spi.ObjectLocks}); commits are ordered by {@link CommitPipeline},
 * whose thread makes them durable in groups and fires their callbacks.
 */
public final class KvOsd implements Osd {
    private static final System.Logger LOG = System.getLogger(KvOsd.class.getName());
    /** Bytes each object counts in statfs beyond its blocks, xattrs and index records. */
    static final long OBJECT_OVERHEAD = 256;

    static final int MAX_XATTR_NAME = 255;
    static final int MAX_INDEX_KEY = 4096;
    static final int MAX_INDEX_VALUE = 64 << 10;
    static final long MAX_OBJECT_SIZE = 1L << 50;
    private static final int READ_RETRIES = 8;

    private final String name;
    private final KvSettings settings;
    private final InstantSource clock;
    private final KvFolder folder;
    final KvDatabase kv;
    final ExtentFiles files;
    final Space space;
    final CommitPipeline pipeline;
    final TransactionSupport support;
    private final Capabilities caps;
    private final int bs;
    private final ReadOptions latest = new ReadOptions();

    // Calls in progress; close waits for them before it releases RocksDB.
    private final LongAdder inflight = new LongAdder();
    private volatile boolean closed;
    private final Set<AutoCloseable> cursors = ConcurrentHashMap.newKeySet();
    // Extent lists of large bodies by FID, valid while the object's layout stamp is unchanged:
    // a read of a large body then costs one point get instead of an iterator.
    private final ConcurrentHashMap<Fid, Layout> layouts = new ConcurrentHashMap<>();
    private static final int LAYOUT_CACHE = 4096;

    private record Layout(long stamp, List<Piece> extents) {}

    // Change stamps of objects (commits mark them), and per object what a read loaded under one:
    // while the stamp is unchanged, a read of a large body needs no RocksDB get at all.
    final ChangeStamps stamps = new ChangeStamps();
    private final ConcurrentHashMap<Fid, View> views = new ConcurrentHashMap<>();

    /** A body without inline blocks as loaded under change stamp {@code change}: its size and extents. */
    private record View(long change, long size, Layout layout) {}

    // Reads of large bodies that loaded the object's records (tests).
    private final LongAdder viewLoads = new LongAdder();

    long viewLoads() {
        return viewLoads.sum();
    }

    // Whether this mount opened RocksDB read-only to check the database first (tests).
    private final boolean checkedReadOnly;

    private KvOsd(
            String name,
            KvSettings settings,
            InstantSource clock,
            KvFolder folder,
            KvDatabase kv,
            MountRecovery.Result mounted,
            Executor background,
            boolean checkedReadOnly)
            throws IOException {
        this.name = name;
        this.checkedReadOnly = checkedReadOnly;
        this.settings = settings;
        this.clock = clock;
        this.folder = folder;
        this.kv = kv;
        this.bs = folder.superblock().blockSize();
        this.files = new ExtentFiles(folder.storage, mounted.nextFileId(), background);
        this.space = new Space(name, settings.capacity(), folder.storage, kv.meta, mounted.used(), mounted.objects());
        this.support = new TransactionSupport(name, settings.strictDeclares());
        this.caps = new Capabilities(
                EnumSet.of(
                        Capability.TRANSACTIONS,
                        Capability.DURABLE_COMMIT,
                        Capability.XATTRS,
                        Capability.INDEX,
                        Capability.PUNCH,
                        Capability.SPARSE_SEEK,
                        Capability.PARTIAL_WRITE,
                        Capability.ATOMIC_REPLACE,
                        Capability.LIST_OBJECTS),
                settings.maxXattrValue(),
                MAX_XATTR_NAME,
                MAX_OBJECT_SIZE,
                MAX_INDEX_KEY,
                MAX_INDEX_VALUE,
                1 << 20,
                bs);
        this.pipeline = new CommitPipeline(name, kv, this::reclaim, settings.commitDelay());
    }

    /** Mounts the device {@code config} describes, formatting a missing or empty folder. */
    public static KvOsd open(OsdConfig config) throws OsdException {
        KvSettings s = KvSettings.parse(config);
        Path root = s.path().toAbsolutePath().normalize();
        return open(
                config,
                new PosixStorage(root, PosixNative.load()),
                root.resolve(KvFolder.DB),
                r -> Thread.ofVirtual().name("osd-kv-spares").start(r));
    }

    /**
     * Mounts the device on {@code folder} (its superblock, lock and extent files) with RocksDB in
     * {@code db}, running background work (the refill of spare extent files) on
     * {@code background}. Crash tests use it to put the folder on the fault-injecting storage and
     * to run everything inline, so that a crash point replays exactly; RocksDB stays on a real
     * folder and keeps what was written to it before the crash (what reached the page cache).
     */
    public static KvOsd open(OsdConfig config, Storage folder, Path db, Executor background) throws OsdException {
        KvSettings s = KvSettings.parse(config);
        return open(config, s, folder, db, background);
    }

    private static KvOsd open(OsdConfig config, KvSettings s, Storage storage, Path db, Executor background)
            throws OsdException {
        String name = config.name();
        if (s.readOnly()) {
            return openReadOnly(config, s, storage, db, background);
        }
        long t0 = System.nanoTime();
        KvFolder folder = KvFolder.mount(name, storage, db, s.blockSize());
        long probeNanos = 0;
        try {
            // A database this folder has not mounted before is checked read-only first, so that
            // refusing it leaves the folder exactly as it was. The one this folder last mounted
            // is checked on the read-write open alone: RocksDB's open writes nothing before it
            // has recovered (and the database keeps no LOG file to rotate), so a RocksDB that
            // cannot open it still changes nothing; only a refusal after a successful open (a
            // corrupt counter record, or a superblock copy that no longer matches) finds the
            // WAL and MANIFEST renewed, its data unchanged.
            boolean known = !folder.fresh && folder.knowsDatabase();
            boolean probed = false;
            if (!folder.fresh && !known) {
                try (KvDatabase probe = KvDatabase.openReadOnly(folder.db(), name)) {
                    checkSuperblockCopy(probe, folder, name);
                    MountRecovery.check(name, folder, probe, false);
                } catch (RocksDBException e) {
                    throw cannotOpen(name, folder, e);
                }
                probed = true;
                probeNanos = System.nanoTime() - t0;
            }
            long o0 = System.nanoTime();
            KvDatabase kv;
            try {
                kv = KvDatabase.open(folder.db(), folder.fresh, s.blockCache(), name);
            } catch (RocksDBException e) {
                throw cannotOpen(name, folder, e);
            }
            try {
                if (folder.fresh) {
                    format(kv, folder);
                } else {
                    checkSuperblockCopy(kv, folder, name);
                }
                long r0 = System.nanoTime();
                MountRecovery.Result r = MountRecovery.run(name, folder, kv);
                if (!known) {
                    folder.rememberDatabase();
                }
                long end = System.nanoTime();
                long probe = probeNanos;
                LOG.log(
                        System.Logger.Level.DEBUG,
                        () -> String.format(
                                java.util.Locale.ROOT,
                                "%s: mounted %s in %.1f ms (read-only check %s, RocksDB open %.1f ms, extent files %.1f ms)",
                                name,
                                folder.root,
                                (end - t0) / 1e6,
                                known
                                        ? "skipped: the database this folder last mounted"
                                        : String.format(java.util.Locale.ROOT, "%.1f ms", probe / 1e6),
                                (r0 - o0) / 1e6,
                                (end - r0) / 1e6));
                return new KvOsd(name, s, config.clock(), folder, kv, r, background, probed);
            } catch (OsdException | RuntimeException e) {
                kv.close();
                throw e;
            } catch (RocksDBException | IOException e) {
                kv.close();
                throw new OsdException(
                        Errno.EIO, name, null, "osd-kv folder " + folder.root + ": mount failed: " + e, e);
            }
        } catch (OsdException | RuntimeException e) {
            folder.close();
            throw e;
        } catch (IOException e) {
            folder.close();
            throw new OsdException(Errno.EIO, name, null, "osd-kv folder " + folder.root + ": mount failed: " + e, e);
        }
    }

    /**
     * A read-only mount (setting {@code read-only}, an offline check): the folder is checked and
     * its lock taken without creating anything, RocksDB is opened read-only (the last process's
     * WAL replayed into memory, not into new files), the mount's checks run without deleting
     * freed or orphaned extent files, and nothing is written then or at unmount. It needs no
     * space and leaves every file of the device as it was; every change is refused with EROFS.
     */
    private static KvOsd openReadOnly(OsdConfig config, KvSettings s, Storage storage, Path db, Executor background)
            throws OsdException {
        String name = config.name();
        KvFolder folder = KvFolder.mount(name, storage, db, s.blockSize(), true);
        try {
            KvDatabase kv;
            try {
                kv = KvDatabase.openReadOnlyMount(folder.db(), s.blockCache(), name);
            } catch (RocksDBException e) {
                throw cannotOpen(name, folder, e);
            }
            try {
                checkSuperblockCopy(kv, folder, name);
                MountRecovery.Result r = MountRecovery.check(name, folder, kv, true);
                return new KvOsd(name, s, config.clock(), folder, kv, r, background, false);
            } catch (OsdException | RuntimeException e) {
                kv.close();
                throw e;
            } catch (RocksDBException | IOException e) {
                kv.close();
                throw new OsdException(
                        Errno.EIO, name, null, "osd-kv folder " + folder.root + ": read-only mount failed: " + e, e);
            }
        } catch (OsdException | RuntimeException e) {
            folder.close();
            throw e;
        }
    }

    private static OsdException cannotOpen(String name, KvFolder folder, RocksDBException e) {
        return new OsdException(
                Errno.EIO,
                name,
                null,
                "osd-kv folder " + folder.root + ": RocksDB cannot open " + KvFolder.DB + "/: " + e.getMessage()
                        + "; not mounted, nothing changed",
                e);
    }

    private static void format(KvDatabase kv, KvFolder folder) throws RocksDBException, OsdException {
        try (WriteBatch b = new WriteBatch();
                WriteOptions sync = new WriteOptions().setSync(true)) {
            b.put(kv.meta, Keys.single(Keys.SUPER), folder.superblock().encode());
            b.put(kv.meta, Keys.USED, Space.le(0));
            b.put(kv.meta, Keys.OBJECTS, Space.le(0));
            kv.db.write(sync, b);
        }
        folder.finishFormat();
    }

    private static void checkSuperblockCopy(KvDatabase kv, KvFolder folder, String name)
            throws RocksDBException, OsdException {
        byte[] copy = kv.db.get(kv.meta, Keys.single(Keys.SUPER));
        byte[] file = folder.superblock().encode();
        if (copy == null || !java.util.Arrays.equals(copy, file)) {
            throw new OsdException(
                    Errno.EPROTO,
                    name,
                    "osd-kv folder " + folder.root + ": the database in " + KvFolder.DB
                            + "/ does not belong to " + KvFolder.SUPER + " (superblock copy "
                            + (copy == null ? "missing" : "differs")
                            + "); not mounted");
        }
    }

    // ---- identity ----------------------------------------------------------------------------

    @Override
    public String name() {
        return name;
    }

    @Override
    public String backend() {
        return "kv";
    }

    @Override
    public Capabilities capabilities() {
        return caps;
    }

    int blockSize() {
        return bs;
    }

    int inlineMax() {
        return settings.inlineMax();
    }

    long now() {
        Instant i = clock.instant();
        return i.getEpochSecond() * 1_000_000_000L + i.getNano();
    }

    @Override
    public String toString() {
        return "KvOsd(" + name + ", " + folder.root + ")";
    }

    // ---- guard -------------------------------------------------------------------------------

    /** A call in progress: RocksDB stays open until it ends. */
    interface Op extends AutoCloseable {
        @Override
        void close();
    }

    Op enter() throws OsdException {
        inflight.increment();
        if (closed) {
            inflight.decrement();
            throw new OsdException(Errno.EIO, name, "device is closed");
        }
        return inflight::decrement;
    }

    // ---- helpers shared with transactions ------------------------------------------------------

    /** A RocksDB snapshot for one read call. */
    final class Snap implements AutoCloseable {
        final Snapshot snapshot = kv.db.getSnapshot();
        final ReadOptions ro = new ReadOptions().setSnapshot(snapshot);

        @Override
        public void close() {
            ro.close();
            kv.db.releaseSnapshot(snapshot);
        }
    }

    private ReadOptions ro(Snap s) {
        return s == null ? latest : s.ro;
    }

    /** The value of a meta key, or null; {@code s} null reads the latest state. */
    byte[] get(Snap s, byte[] key, Fid fid) throws OsdException {
        try {
            return kv.db.get(kv.meta, ro(s), key);
        } catch (RocksDBException e) {
            throw new OsdException(Errno.EIO, name, fid, "RocksDB read failed: " + e.getMessage(), e);
        }
    }

    InodeRecord record(Snap s, Fid fid) throws OsdException {
        byte[] b = get(s, Keys.attr(fid), fid);
        try {
            return InodeRecord.decode(b, bs);
        } catch (CorruptRecord e) {
            throw new OsdException(Errno.EIO, name, fid, "corrupt attribute record: " + e.getMessage(), e);
        }
    }

    private InodeRecord existing(Snap s, Fid fid) throws OsdException {
        InodeRecord r = record(s, fid);
        if (r == null) {
            throw new OsdException(Errno.ENOENT, name, fid, "no such object");
        }
        return r;
    }

    private InodeRecord data(Snap s, Fid fid, String op) throws OsdException {
        InodeRecord r = existing(s, fid);
        if (r.attr().kind() != ObjectKind.DATA) {
            throw new OsdException(Errno.EISDIR, name, fid, op + " on an index object");
        }
        return r;
    }

    private InodeRecord index(Snap s, Fid fid, String op) throws OsdException {
        InodeRecord r = existing(s, fid);
        if (r.attr().kind() != ObjectKind.INDEX) {
            throw new OsdException(Errno.ENOTDIR, name, fid, op + " on a data object");
        }
        return r;
    }

    /** Committed pieces of {@code fid} overlapping blocks {@code [from, to)}. */
    List<Piece> committedPieces(Snap s, Fid fid, long from, long to) throws RocksDBException {
        List<Piece> out = new ArrayList<>();
        try (PieceCursor c = new PieceCursor(kv.db, kv.meta, kv.body, s == null ? null : s.snapshot, fid, from)) {
            Piece p;
            while ((p = c.next()) != null && p.start() < to) {
                out.add(p);
            }
        }
        return out;
    }

    /** Every committed extent record of {@code fid} (latest state). */
    List<Piece.Extent> extents(Fid fid) throws OsdException {
        List<Piece.Extent> out = new ArrayList<>();
        try (ReadOptions r = new ReadOptions();
                Slice lo = new Slice(Keys.subStart(fid, Keys.EXTENT));
                Slice hi = new Slice(Keys.subEnd(fid, Keys.EXTENT))) {
            r.setIterateLowerBound(lo).setIterateUpperBound(hi);
            try (RocksIterator it = kv.db.newIterator(kv.meta, r)) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    out.add(Piece.Extent.decode(Keys.extentBlock(it.key()), it.value()));
                }
                it.status();
            }
        } catch (RocksDBException e) {
            throw new OsdException(Errno.EIO, name, fid, "RocksDB read of extents failed: " + e.getMessage(), e);
        } catch (CorruptRecord e) {
            throw new OsdException(Errno.EIO, name, fid, "corrupt extent record: " + e.getMessage(), e);
        }
        return out;
    }

    static byte[] fileRecord(Fid fid, long bytes) {
        return ByteBuffer.allocate(Fid.BYTES + 8)
                .put(fid.toBytes())
                .putLong(bytes)
                .array();
    }

    /** Bytes of a live extent file, from its 'F' record (0 if it has none). */
    long fileBytes(long id) throws OsdException {
        byte[] v = get(null, Keys.file(Keys.FILE, id), null);
        return v == null || v.length < Fid.BYTES + 8
                ? 0
                : ByteBuffer.wrap(v, Fid.BYTES, 8).getLong();
    }

    /** After the transactions that freed them are durable: deletes the files, then their 'G' records. */
    private void reclaim(Map<Long, Long> freed) throws OsdException {
        try (WriteBatch b = new WriteBatch()) {
            for (Map.Entry<Long, Long> e : freed.entrySet()) {
                files.delete(e.getKey());
                space.freed(e.getValue());
                b.delete(kv.meta, Keys.file(Keys.FREE, e.getKey()));
            }
            kv.db.write(kv.noSync, b);
        } catch (IOException | RocksDBException e) {
            throw new OsdException(
                    Errno.EIO, name, null, "deleting freed extent files failed (the next mount retries): " + e, e);
        }
    }

    void noteLeak(long fileId, IOException e) {
        LOG.log(
                System.Logger.Level.WARNING,
                name + ": could not delete unreferenced extent file " + ExtentFiles.name(fileId)
                        + " (the next mount removes it): " + e);
    }

    private OsdException io(Fid fid, String what, Exception e) {
        return new OsdException(Errno.EIO, name, fid, what + " failed: " + e, e);
    }

    // ---- device ------------------------------------------------------------------------------

    @Override
    public StatFs statfs() throws OsdException {
        try (Op op = enter()) {
            return space.statfs();
        }
    }

    @Override
    public void setReserve(long bytes) throws OsdException {
        try (Op op = enter()) {
            space.setReserve(bytes);
        }
    }

    @Override
    public void setCapacity(long bytes) throws OsdException {
        try (Op op = enter()) {
            space.setCapacity(bytes);
        }
    }

    @Override
    public void sync() throws OsdException {
        try (Op op = enter()) {
            pipeline.sync();
        }
    }

    @Override
    public Transaction newTransaction() throws OsdException {
        if (settings.readOnly()) {
            throw new OsdException(
                    Errno.EROFS, name, "osd-kv folder " + folder.root + " is mounted read-only: no transaction");
        }
        try (Op op = enter()) {
            return new KvTransaction(this);
        }
    }

    // ---- reads -------------------------------------------------------------------------------

    @Override
    public Attr getAttr(Fid fid) throws OsdException {
        try (Op op = enter()) {
            return existing(null, fid).attr();
        }
    }

    /** One lookup, no exception for a missing object (the pool asks this of every object it creates). */
    @Override
    public boolean exists(Fid fid) throws OsdException {
        try (Op op = enter()) {
            return get(null, Keys.attr(fid), fid) != null;
        }
    }

    @Override
    public int read(Fid fid, long offset, ByteBuffer dst) throws OsdException {
        try (Op op = enter()) {
            if (offset < 0) {
                throw new OsdException(Errno.EINVAL, name, fid, "read at negative offset " + offset);
            }
            for (int attempt = 0; ; attempt++) {
                try {
                    int n = readExtentsOnly(fid, offset, dst);
                    return n >= 0 ? n : readSnapshot(fid, offset, dst);
                } catch (NoSuchFileException | ClosedChannelException e) {
                    // An extent file of this view was freed by a newer commit: read a newer view.
                    if (attempt >= READ_RETRIES) {
                        throw io(fid, "read at " + offset + " (extent file missing: " + e.getMessage() + ")", e);
                    }
                } catch (IOException | RocksDBException e) {
                    throw io(fid, "read at " + offset, e);
                }
            }
        }
    }

    /**
     * The read of a body without inline blocks (large bodies): the attributes by one point get,
     * the extent list from the layout cache when its stamp matches (else from one meta iterator,
     * which sees the attributes and the extents on one implicit snapshot). Returns -1 if the body
     * may have inline blocks, which needs both column families on an explicit snapshot.
     */
    private int readExtentsOnly(Fid fid, long offset, ByteBuffer dst)
            throws OsdException, RocksDBException, IOException {
        long change = stamps.stamp(fid);
        View v = change == ChangeStamps.UNSTABLE ? null : views.get(fid);
        if (v != null && v.change() == change) {
            return readExtents(fid, v.layout(), v.size(), offset, dst);
        }
        viewLoads.increment();
        InodeRecord r = record(null, fid);
        if (r == null) {
            throw new OsdException(Errno.ENOENT, name, fid, "no such object");
        }
        if (r.attr().kind() != ObjectKind.DATA) {
            throw new OsdException(Errno.EISDIR, name, fid, "read on an index object");
        }
        if (r.mayHaveInline()) {
            return -1;
        }
        Layout l = layouts.get(fid);
        if (l == null || l.stamp() != r.layout()) {
            l = loadLayout(fid);
            if (l == null) {
                return readSnapshot(fid, offset, dst);
            }
            if (l.stamp() != r.layout()) {
                // A commit came between the get and the iterator: use the iterator's state.
                r = null;
            }
        }
        if (r == null) {
            return readSnapshot(fid, offset, dst);
        }
        long size = r.attr().size();
        // Loaded after the stamp was taken and nothing began since: the latest state under it.
        if (stamps.unchanged(fid, change)) {
            if (views.size() >= LAYOUT_CACHE) {
                views.clear();
            }
            views.put(fid, new View(change, size, l));
        }
        return readExtents(fid, l, size, offset, dst);
    }

    private int readExtents(Fid fid, Layout l, long size, long offset, ByteBuffer dst)
            throws IOException, RocksDBException {
        if (offset >= size || !dst.hasRemaining()) {
            return 0;
        }
        int n = (int) Math.min(dst.remaining(), size - offset);
        ByteBuffer d = dst.duplicate();
        try {
            BodyIo.fill(BodyIo.Pieces.from(l.extents(), offset / bs), offset, n, d, bs, files::reader);
        } catch (NoSuchFileException | ClosedChannelException e) {
            layouts.remove(fid, l);
            views.remove(fid);
            throw e;
        }
        dst.position(dst.position() + n);
        return n;
    }

    /** The extent list and layout stamp of a body without inline blocks, read on one iterator; null otherwise. */
    private Layout loadLayout(Fid fid) throws OsdException, RocksDBException {
        try (RocksIterator it = kv.db.newIterator(kv.meta, latest)) {
            byte[] ak = Keys.attr(fid);
            it.seek(ak);
            if (!it.isValid() || !java.util.Arrays.equals(it.key(), ak)) {
                it.status();
                return null;
            }
            InodeRecord r;
            try {
                r = InodeRecord.decode(it.value(), bs);
            } catch (CorruptRecord e) {
                throw new OsdException(Errno.EIO, name, fid, "corrupt attribute record: " + e.getMessage(), e);
            }
            if (r.mayHaveInline() || r.attr().kind() != ObjectKind.DATA) {
                return null;
            }
            byte[] prefix = Keys.subStart(fid, Keys.EXTENT);
            List<Piece> extents = new ArrayList<>();
            for (it.seek(prefix); it.isValid() && Keys.hasPrefix(it.key(), prefix); it.next()) {
                try {
                    extents.add(Piece.Extent.decode(Keys.extentBlock(it.key()), it.value()));
                } catch (CorruptRecord e) {
                    throw new OsdException(Errno.EIO, name, fid, "corrupt extent record: " + e.getMessage(), e);
                }
            }
            it.status();
            Layout l = new Layout(r.layout(), List.copyOf(extents));
            if (layouts.size() >= LAYOUT_CACHE) {
                layouts.clear();
            }
            layouts.put(fid, l);
            return l;
        }
    }

    private int readSnapshot(Fid fid, long offset, ByteBuffer dst) throws OsdException, RocksDBException, IOException {
        try (Snap s = new Snap()) {
            long size = data(s, fid, "read").attr().size();
            if (offset >= size || !dst.hasRemaining()) {
                return 0;
            }
            int n = (int) Math.min(dst.remaining(), size - offset);
            ByteBuffer d = dst.duplicate();
            try (PieceCursor c = new PieceCursor(kv.db, kv.meta, kv.body, s.snapshot, fid, offset / bs)) {
                BodyIo.fill(c::next, offset, n, d, bs, files::reader);
            }
            dst.position(dst.position() + n);
            return n;
        }
    }

    @Override
    public long seekData(Fid fid, long offset) throws OsdException {
        try (Op op = enter();
                Snap s = new Snap()) {
            long size = data(s, fid, "seek data").attr().size();
            if (offset >= 0 && offset < size) {
                try (PieceCursor c = new PieceCursor(kv.db, kv.meta, kv.body, s.snapshot, fid, offset / bs)) {
                    Piece p;
                    while ((p = c.next()) != null) {
                        if (p.end() * bs <= offset) {
                            continue;
                        }
                        long at = Math.max(offset, p.start() * bs);
                        if (at < size) {
                            return at;
                        }
                        break;
                    }
                } catch (RocksDBException e) {
                    throw io(fid, "seek data at " + offset, e);
                }
            }
            throw new OsdException(Errno.ENXIO, name, fid, "no data at or after " + offset + " (size " + size + ")");
        }
    }

    @Override
    public long seekHole(Fid fid, long offset) throws OsdException {
        try (Op op = enter();
                Snap s = new Snap()) {
            long size = data(s, fid, "seek hole").attr().size();
            if (offset < 0 || offset >= size) {
                throw new OsdException(
                        Errno.ENXIO, name, fid, "seek hole at " + offset + " past the end (size " + size + ")");
            }
            long pos = offset;
            try (PieceCursor c = new PieceCursor(kv.db, kv.meta, kv.body, s.snapshot, fid, offset / bs)) {
                Piece p;
                while ((p = c.next()) != null && pos < size) {
                    if (p.end() * bs <= pos) {
                        continue;
                    }
                    if (p.start() * bs > pos) {
                        break;
                    }
                    pos = p.end() * bs;
                }
            } catch (RocksDBException e) {
                throw io(fid, "seek hole at " + offset, e);
            }
            return Math.min(pos, size);
        }
    }

    @Override
    public byte[] getXattr(Fid fid, String xname) throws OsdException {
        try (Op op = enter();
                Snap s = new Snap()) {
            existing(s, fid);
            byte[] v = get(s, Keys.xattr(fid, xname), fid);
            if (v == null) {
                throw new OsdException(Errno.ENODATA, name, fid, "no xattr " + xname);
            }
            return v;
        }
    }

    @Override
    public List<String> listXattrs(Fid fid) throws OsdException {
        try (Op op = enter();
                Snap s = new Snap()) {
            existing(s, fid);
            List<String> out = new ArrayList<>();
            try (Slice lo = new Slice(Keys.subStart(fid, Keys.XATTR));
                    Slice hi = new Slice(Keys.subEnd(fid, Keys.XATTR));
                    ReadOptions r = new ReadOptions()
                            .setSnapshot(s.snapshot)
                            .setIterateLowerBound(lo)
                            .setIterateUpperBound(hi);
                    RocksIterator it = kv.db.newIterator(kv.meta, r)) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    out.add(new String(Keys.suffix(it.key()), StandardCharsets.UTF_8));
                }
                it.status();
            } catch (RocksDBException e) {
                throw io(fid, "list xattrs", e);
            }
            return out;
        }
    }

    @Override
    public Optional<byte[]> lookup(Fid indexFid, byte[] key) throws OsdException {
        try (Op op = enter();
                Snap s = new Snap()) {
            index(s, indexFid, "lookup");
            return Optional.ofNullable(get(s, Keys.index(indexFid, key), indexFid));
        }
    }

    @Override
    public IndexCursor cursor(Fid indexFid, byte[] fromKey) throws OsdException {
        try (Op op = enter()) {
            Snap s = new Snap();
            try {
                index(s, indexFid, "cursor");
                byte[] from = fromKey == null ? new byte[0] : fromKey;
                KvIndexCursor c =
                        new KvIndexCursor(this, s, Keys.index(indexFid, from), Keys.subEnd(indexFid, Keys.INDEX));
                cursors.add(c);
                return c;
            } catch (OsdException | RuntimeException e) {
                s.close();
                throw e;
            }
        }
    }

    void forget(AutoCloseable cursor) {
        cursors.remove(cursor);
    }

    @Override
    public ObjectCursor listObjects() throws OsdException {
        try (Op op = enter()) {
            KvObjectCursor c = new KvObjectCursor(this);
            cursors.add(c);
            return c;
        }
    }

    /**
     * Checks the whole device ({@link Fsck}): counters, per-object accounting, body pieces,
     * extent files. Costs a full scan; meant for a quiescent device (tests, the admin tool),
     * since files of transactions still running would count as leaks.
     *
     * @return the problems found, one per line; empty when the device is consistent
     */
    public List<String> fsck() throws OsdException {
        try (Op op = enter()) {
            pipeline.sync();
            return new Fsck(this).run();
        } catch (RocksDBException | IOException e) {
            throw io(null, "fsck", e);
        }
    }

    /** Whether this mount checked the database read-only before its read-write open. */
    boolean checkedReadOnly() {
        return checkedReadOnly;
    }

    /**
     * A clean unmount leaves the next mount nothing to replay: the memtables (what the WAL holds
     * since the last flush, a crash's replayed writes included, which the mount no longer
     * flushes) go to SST files. Best effort: if the flush fails (no space), the writes stay in
     * the WAL, where the next mount finds them.
     */
    private void flushForNextMount() {
        try (org.rocksdb.FlushOptions f = new org.rocksdb.FlushOptions().setWaitForFlush(true)) {
            kv.db.flush(f, List.of(kv.meta, kv.body));
        } catch (RocksDBException e) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    name + ": flushing RocksDB at unmount failed (the next mount replays its WAL): " + e.getMessage());
        }
    }

    /** Flushes the memtables to SST files (tests use it to have some on disk). */
    void flush() throws OsdException {
        try (Op op = enter();
                org.rocksdb.FlushOptions f = new org.rocksdb.FlushOptions().setWaitForFlush(true)) {
            kv.db.flush(f, List.of(kv.meta, kv.body));
        } catch (RocksDBException e) {
            throw io(null, "flush", e);
        }
    }

    // ---- close -------------------------------------------------------------------------------

    @Override
    public synchronized void close() throws OsdException {
        if (closed) {
            return;
        }
        closed = true;
        boolean interrupted = false;
        while (inflight.sum() > 0) {
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        OsdException failure = null;
        try {
            for (AutoCloseable c : List.copyOf(cursors)) {
                c.close();
            }
            try {
                pipeline.close();
            } catch (OsdException e) {
                failure = e;
            }
            try {
                files.close();
            } catch (IOException e) {
                failure = failure != null ? failure : io(null, "closing extent files", e);
            }
            if (!settings.readOnly()) {
                flushForNextMount();
            }
        } catch (Exception e) {
            failure = failure != null ? failure : io(null, "unmount", e);
        } finally {
            latest.close();
            kv.close();
            folder.close();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
