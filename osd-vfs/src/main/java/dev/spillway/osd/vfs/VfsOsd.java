package dev.spillway.osd.vfs;

import dev.spillway.osd.Attr;
import dev.spillway.osd.AttrChange;
import dev.spillway.osd.AttrField;
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
import dev.spillway.osd.spi.Declare;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.spi.TransactionSupport;
import dev.spillway.osd.spi.storage.Storage;
import dev.spillway.osd.spi.storage.StorageErrors;
import dev.spillway.osd.spi.storage.posix.PosixNative;
import dev.spillway.osd.spi.storage.posix.PosixStorage;
import dev.spillway.osd.vfs.journal.Journal;
import dev.spillway.osd.vfs.journal.Recovery;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;

/**
 * osd-vfs: an OSD on any POSIX directory — the device a pool spills to (an HDD filesystem, NFS,
 * an s3fs or gcsfuse mount). Objects are files in a FID-hashed tree ({@link ObjectIndex}) with a
 * small record each — in the body's own xattr ({@link XattrRecord}) where the filesystem has
 * user xattrs when the device is formatted, else in a file beside it ({@link AttrRecord}); OSD
 * xattrs are the body file's user xattrs.
 * What the filesystem can do is found at mount ({@link Probe}) and advertised as found.
 *
 * <p>Two modes ({@code journal: on|off}):
 * <ul>
 * <li><b>off</b> — no TRANSACTIONS, no DURABLE_COMMIT: each update is applied to the files when
 * made; {@link #sync()} forces everything changed since the last sync and {@link #sync(Fid)}
 * one object (its files and the directories naming them). Callbacks fire at stop.</li>
 * <li><b>on</b> — TRANSACTIONS, DURABLE_COMMIT, ATOMIC_REPLACE on the device's own redo log
 * ({@link Journal}): stop logs the transaction (group commit), applies it once durable and
 * fires its callbacks, so stop returns with it durable. Mount replays the log
 * ({@link Recovery}).</li>
 * </ul>
 * All file I/O goes through one {@link Storage}, so tests can put a fault-injecting one under it.
 */
public final class VfsOsd implements Osd {
    public static final String BACKEND = "vfs";
    private static final System.Logger LOG = System.getLogger(VfsOsd.class.getName());

    private final String name;
    private final VfsSettings settings;
    private final InstantSource clock;
    private final Storage storage;
    private final DeviceLayout.Mounted mounted;
    private final Probe probe;
    private final XattrRules xattrRules;
    private final Space space;
    private final DirtySet dirty;
    private final ObjectFiles store;
    private final ReadGuard guard;
    private final TransactionSupport support;
    private final Capabilities caps;
    private final Journal journal;
    private final List<String> notes = new ArrayList<>();
    // Staging is emptied at every mount, so a counter names its files uniquely (and the same in
    // every run of a test: crash campaigns replay operation by operation).
    private final AtomicLong stagingSeq = new AtomicLong();
    private volatile OsdException failure;
    private volatile boolean closed;

    /** Opens the device on its {@code path} (the provider's way). */
    public static VfsOsd open(OsdConfig config) throws OsdException {
        VfsSettings s = VfsSettings.of(config);
        if (s.path().isBlank()) {
            throw new OsdException(Errno.EINVAL, config.name(), "setting 'path' of backend vfs: required");
        }
        PosixStorage storage = new PosixStorage(Path.of(s.path()), PosixNative.load());
        String dev = config.name();
        return new VfsOsd(
                config,
                s,
                storage,
                r -> Thread.ofVirtual().name("vfs-checkpoint-" + dev).start(r));
    }

    /**
     * Opens the device on {@code storage} (tests put a fault-injecting one here), running
     * checkpoints on {@code checkpointer} ({@code Runnable::run} runs them inline, deterministically).
     */
    public static VfsOsd open(OsdConfig config, Storage storage, Executor checkpointer) throws OsdException {
        return new VfsOsd(config, VfsSettings.of(config), storage, checkpointer);
    }

    private VfsOsd(OsdConfig config, VfsSettings settings, Storage base, Executor checkpointer) throws OsdException {
        this.name = config.name();
        this.settings = settings;
        this.clock = config.clock();
        this.dirty = new DirtySet(settings.syncThreads());
        this.mounted = DeviceLayout.mount(
                name,
                base,
                settings.create(),
                s -> settings.xattrRecords() && Probe.recordsFitInXattrs(s, notes),
                settings.readOnly());
        try {
            this.probe = settings.readOnly()
                    ? Probe.readOnly(base, mounted.xattrRecords())
                    : Probe.run(base, mounted.xattrRecords());
            // Read-only: the journal is replayed into memory over the folder, never into it.
            this.storage = settings.readOnly() ? new OverlayStorage(base, probe.blockSize()) : base;
            notes.addAll(probe.notes());
            if (mounted.xattrRecords() && !probe.xattrs()) {
                throw new OsdException(
                        Errno.EOPNOTSUPP,
                        name,
                        null,
                        storage.describe() + "/" + DeviceLayout.MARKER
                                + " says records: xattr (objects' records are their bodies' xattrs), but the filesystem"
                                + " under it has no working user xattrs now (" + String.join("; ", probe.notes())
                                + "); was the folder copied or remounted without them?");
            }
            notes.add(
                    mounted.xattrRecords()
                            ? "records: in each body's xattr user." + XattrRecord.NAME + " (format version "
                                    + DeviceLayout.VERSION_RECORD_XATTRS + ")"
                            : "records: in .attr files (format version " + DeviceLayout.VERSION_RECORD_FILES + ")");
            if (settings.requireXattr() && !probe.xattrs()) {
                throw new OsdException(
                        Errno.EOPNOTSUPP,
                        name,
                        null,
                        "setting require-xattr: the filesystem under " + storage.describe()
                                + " has no working user xattrs (" + String.join("; ", probe.notes()) + ")");
            }
            this.xattrRules = new XattrRules(name, probe, mounted.xattrRecords());
            this.space = new Space(name, storage, settings.capacity(), probe.blockSize(), clock);
            long last = settings.readOnly() ? replayInMemory() : 0;
            this.store = new ObjectFiles(
                    name, storage, dirty, probe.blockSize(), mounted.xattrRecords(), settings.readOnly());
            dirty.useHandles(store::forceOpen);
            if (!settings.readOnly()) {
                last = recover();
            }
            store.forget();
            loadUsage();
            this.guard = settings.journal() ? new ReadGuard(256) : ReadGuard.NONE;
            this.support = new TransactionSupport(name, config.strictDeclares());
            EnumSet<Capability> f = EnumSet.of(Capability.PARTIAL_WRITE, Capability.LIST_OBJECTS);
            if (probe.xattrs()) {
                f.add(Capability.XATTRS);
            }
            if (probe.punch()) {
                f.add(Capability.PUNCH);
            }
            if (probe.sparseSeek()) {
                f.add(Capability.SPARSE_SEEK);
            }
            if (settings.journal()) {
                f.addAll(EnumSet.of(Capability.TRANSACTIONS, Capability.DURABLE_COMMIT, Capability.ATOMIC_REPLACE));
            }
            this.caps = new Capabilities(
                    f,
                    xattrRules.maxValue(),
                    probe.maxXattrName(),
                    settings.maxObjectSize(),
                    0,
                    0,
                    1 << 20,
                    probe.blockSize());
            this.journal = settings.journal() && !settings.readOnly()
                    ? Journal.start(
                            storage,
                            name,
                            mounted.uuid(),
                            last + 1,
                            settings.segmentSize(),
                            settings.preallocate(),
                            () -> dirty.forceAll(storage),
                            checkpointer)
                    : null;
        } catch (IOException e) {
            releaseLock();
            throw StorageErrors.toOsd(name, null, "mount " + base.describe(), e);
        } catch (OsdException | RuntimeException e) {
            releaseLock();
            throw e;
        }
        LOG.log(System.Logger.Level.DEBUG, () -> name + ": mounted " + this + ": " + String.join("; ", notes));
    }

    private void releaseLock() {
        try {
            mounted.lock().close();
        } catch (IOException e) {
            // The mount is failing already; that error is the one to report.
        }
    }

    /** Replays the journal, checkpoints the result, clears staging; returns the last LSN. */
    private long recover() throws IOException, OsdException {
        Applier applier = new Applier(store, true);
        Recovery.Result r =
                Recovery.replay(storage, name, mounted.uuid(), settings.pointInTimeRecovery(), applier::replay);
        if (!applier.unexplained().isEmpty()) {
            // Damage to some objects never stops the mount of the rest: the pool above reads
            // such an object as a bad copy and heals it from another (or reports it lost).
            String w = "journal replay: the files of " + applier.unexplained().size() + " object(s) "
                    + applier.unexplained() + " are gone although the log says they exist (damaged outside the"
                    + " journal?); they are left as they are: restore them from another copy, or destroy them";
            LOG.log(System.Logger.Level.WARNING, name + ": " + w);
            notes.add(w);
        }
        for (String w : r.warnings()) {
            LOG.log(System.Logger.Level.WARNING, name + ": " + w);
            notes.add(w);
        }
        if (r.replayed() > 0) {
            notes.add("journal: replayed " + r.replayed() + " transaction(s) after lsn " + r.checkpointLsn());
        }
        // Make the replayed state durable, then record it, then forget the log.
        dirty.forceAll(storage);
        Recovery.complete(storage, mounted.uuid(), r);
        List<String> leftovers = storage.list(DeviceLayout.STAGING);
        for (String n : leftovers) {
            storage.deleteIfExists(DeviceLayout.STAGING + "/" + n);
        }
        if (!leftovers.isEmpty()) {
            storage.forceDirectory(DeviceLayout.STAGING);
            notes.add("staging: removed " + leftovers.size() + " body file(s) of transactions that never committed");
        }
        return r.lastLsn();
    }

    /**
     * A read-only mount's journal: replayed as a read-write mount replays it — the same checks
     * (corruption refuses the mount alike), the same {@link Applier} — but into an in-memory
     * {@link OverlayStorage} over the folder, so the device then answers reads, attributes,
     * xattrs, listings and statfs as the replayed files would, and nothing is written: no object
     * file, checkpoint or segment changes, and staging is left as it is (a replay removes what is
     * left there; it is never listed as objects). After a power loss (or a kill between a
     * record's fsync and its apply) the object files may lack or hold torn what the records
     * committed; read as they are, committed objects would show missing.
     */
    private long replayInMemory() throws OsdException, IOException {
        // Writable handles, on the overlay: the read-only store is made after it.
        ObjectFiles replayFiles = new ObjectFiles(name, storage, dirty, probe.blockSize(), mounted.xattrRecords());
        Applier applier = new Applier(replayFiles, true);
        Recovery.Result r;
        try {
            r = Recovery.replay(storage, name, mounted.uuid(), settings.pointInTimeRecovery(), applier::replay);
        } finally {
            replayFiles.closeHandles();
        }
        if (!applier.unexplained().isEmpty()) {
            String w = "journal replay (in memory): the files of "
                    + applier.unexplained().size() + " object(s) "
                    + applier.unexplained() + " are gone although the log says they exist (damaged outside the"
                    + " journal?)";
            LOG.log(System.Logger.Level.WARNING, name + ": read-only: " + w);
            notes.add(w);
        }
        for (String w : r.warnings()) {
            LOG.log(System.Logger.Level.WARNING, name + ": read-only: " + w);
            notes.add(w);
        }
        if (r.replayed() > 0) {
            notes.add("journal: replayed " + r.replayed() + " transaction(s) after lsn " + r.checkpointLsn()
                    + " in memory (read-only: nothing written)");
        }
        return r.lastLsn();
    }

    private void loadUsage() throws IOException, OsdException {
        long[] u = settings.readOnly() ? DeviceLayout.readUsage(storage) : DeviceLayout.takeUsage(storage);
        if (u != null) {
            space.reset(u[0], u[1]);
            return;
        }
        if (mounted.formatted()) {
            space.reset(0, 0);
            return;
        }
        long objects = 0;
        long used = 0;
        for (Fid f : allObjects()) {
            objects++;
            used += store.allocated(f) + space.objectOverhead();
        }
        space.reset(objects, used);
        notes.add("usage: not unmounted cleanly; counted " + objects + " object(s), " + used + " bytes");
    }

    private List<Fid> allObjects() throws IOException {
        List<Fid> out = new ArrayList<>();
        for (String d : storage.list(ObjectIndex.OBJECTS)) {
            String dir = ObjectIndex.OBJECTS + "/" + d;
            for (String file : storage.list(dir)) {
                Fid f = store.listed(dir, file);
                if (f != null) {
                    out.add(f);
                }
            }
        }
        return out;
    }

    // ---- for the transactions ------------------------------------------------------------

    TransactionSupport support() {
        return support;
    }

    Space space() {
        return space;
    }

    ObjectFiles store() {
        return store;
    }

    Storage storage() {
        return storage;
    }

    DirtySet dirty() {
        return dirty;
    }

    ReadGuard guard() {
        return guard;
    }

    Journal journal() {
        return journal;
    }

    XattrRules xattrRules() {
        return xattrRules;
    }

    VfsSettings settings() {
        return settings;
    }

    long now() {
        Instant i = clock.instant();
        return i.getEpochSecond() * 1_000_000_000L + i.getNano();
    }

    String stagingPath() {
        return DeviceLayout.STAGING + "/" + stagingSeq.incrementAndGet();
    }

    Attr initialAttr(ObjectKind kind, AttrChange a) {
        long now = now();
        return new Attr(
                kind,
                0,
                0,
                a.has(AttrField.MODE) ? a.mode() : 0,
                a.has(AttrField.UID) ? a.uid() : 0,
                a.has(AttrField.GID) ? a.gid() : 0,
                a.has(AttrField.ATIME) ? a.atime() : now,
                a.has(AttrField.MTIME) ? a.mtime() : now,
                a.has(AttrField.CTIME) ? a.ctime() : now,
                a.has(AttrField.FLAGS) ? a.flags() : 0,
                1);
    }

    /** Bytes to reserve for these declares: whole blocks around every write, a block per object. */
    long estimate(List<Declare> declares) {
        long bs = probe.blockSize();
        long sum = 0;
        for (Declare d : declares) {
            sum += switch (d.op()) {
                case CREATE -> space.objectOverhead();
                case WRITE -> d.length() + 2 * bs;
                case SET_XATTR -> d.length() + (d.name() == null ? 0 : d.name().length());
                default -> 0;
            };
        }
        return sum;
    }

    void ensureOpen() throws OsdException {
        if (closed) {
            throw new OsdException(Errno.EIO, name, "device is closed");
        }
        OsdException f = failure;
        if (f != null) {
            throw new OsdException(
                    Errno.EIO,
                    name,
                    null,
                    "device failed earlier and must be unmounted and mounted again: " + f.getMessage(),
                    f);
        }
    }

    /** Fails the device for good (an fsync or the journal failed) and returns the error to throw. */
    OsdException failed(String doing, IOException e) {
        OsdException err = new OsdException(
                Errno.EIO,
                name,
                null,
                doing + " failed: " + StorageErrors.describe(e)
                        + "; the device is failed until it is unmounted and mounted again",
                e);
        if (failure == null) {
            failure = err;
        }
        return err;
    }

    /** Off mode: forces one object's files and the dirty directories naming them. */
    void syncObject(Fid fid) throws OsdException {
        try {
            store.writeDeferred(fid);
            dirty.force(storage, store.files(fid), ObjectFiles.dirs(fid));
        } catch (IOException e) {
            throw failed("sync of " + fid, e);
        }
    }

    /**
     * Off mode: forces several objects' files together (their fsyncs issued side by side, so the
     * filesystem's journal commits them in one go) and then each dirty directory naming them
     * once: a batch of spilled copies costs about one commit, not one per copy.
     */
    void syncObjects(Collection<Fid> fids) throws OsdException {
        Set<String> files = new LinkedHashSet<>();
        Set<String> dirs = new LinkedHashSet<>();
        for (Fid f : fids) {
            files.addAll(store.files(f));
            dirs.addAll(ObjectFiles.dirs(f));
        }
        try {
            for (Fid f : fids) {
                store.writeDeferred(f);
            }
            dirty.force(storage, files, dirs);
        } catch (IOException e) {
            throw failed("sync of " + fids.size() + " objects", e);
        }
    }

    // ---- the device ----------------------------------------------------------------------

    @Override
    public String name() {
        return name;
    }

    @Override
    public String backend() {
        return BACKEND;
    }

    @Override
    public Capabilities capabilities() {
        return caps;
    }

    /** What the mount found and did (probes, replay, cleanup), one line each. */
    public List<String> mountNotes() {
        return Collections.unmodifiableList(notes);
    }

    /** Journal mode: [transactions committed, fsyncs of the log] since mount; off mode: null. */
    public long[] journalStats() {
        return journal == null ? null : journal.stats();
    }

    @Override
    public StatFs statfs() throws OsdException {
        ensureOpen();
        return space.statfs();
    }

    @Override
    public void setReserve(long bytes) throws OsdException {
        ensureOpen();
        space.setReserve(bytes);
    }

    @Override
    public void setCapacity(long bytes) throws OsdException {
        ensureOpen();
        space.setCapacity(bytes);
    }

    @Override
    public void sync() throws OsdException {
        ensureOpen();
        if (settings.readOnly()) {
            return; // nothing was changed (a replay's view lives in memory, never forced)
        }
        if (journal != null) {
            // Every stopped transaction is durable in the log already.
            IOException f = journal.failure();
            if (f != null) {
                throw failed("journal", f);
            }
            return;
        }
        try {
            store.writeAllDeferred();
            dirty.forceAll(storage);
        } catch (IOException e) {
            throw failed("sync", e);
        }
    }

    @Override
    public void sync(Fid fid) throws OsdException {
        ensureOpen();
        if (!exists(fid)) {
            throw new OsdException(Errno.ENOENT, name, fid, "no such object");
        }
        if (journal == null && !settings.readOnly()) {
            syncObject(fid);
        } else {
            sync();
        }
    }

    @Override
    public void sync(Collection<Fid> fids) throws OsdException {
        ensureOpen();
        for (Fid f : fids) {
            if (!exists(f)) {
                throw new OsdException(Errno.ENOENT, name, f, "no such object");
            }
        }
        if (journal == null && !settings.readOnly()) {
            syncObjects(fids);
        } else {
            sync();
        }
    }

    @Override
    public Transaction newTransaction() throws OsdException {
        ensureOpen();
        if (settings.readOnly()) {
            throw new OsdException(
                    Errno.EROFS, name, "device " + storage.describe() + " is mounted read-only: no transaction");
        }
        return journal != null ? new JournalTransaction(this) : new DirectTransaction(this);
    }

    private OsdException enoent(Fid fid) {
        return new OsdException(Errno.ENOENT, name, fid, "no such object");
    }

    @Override
    public Attr getAttr(Fid fid) throws OsdException {
        ensureOpen();
        return guard.read(fid, () -> {
            Attr a = store.attr(fid);
            if (a == null) {
                throw enoent(fid);
            }
            return a;
        });
    }

    @Override
    public boolean exists(Fid fid) throws OsdException {
        ensureOpen();
        return guard.read(fid, () -> store.exists(fid));
    }

    @Override
    public int read(Fid fid, long offset, ByteBuffer dst) throws OsdException {
        ensureOpen();
        if (offset < 0) {
            throw new OsdException(Errno.EINVAL, name, fid, "read at negative offset " + offset);
        }
        int start = dst.position();
        return guard.read(fid, () -> {
            dst.position(start);
            return store.read(fid, offset, dst);
        });
    }

    private long seek(Fid fid, long offset, boolean data) throws OsdException {
        ensureOpen();
        return guard.read(fid, () -> {
            if (!store.exists(fid)) {
                throw enoent(fid);
            }
            long size = store.size(fid);
            String what = data ? "seek data" : "seek hole";
            if (offset < 0 || offset >= size) {
                throw new OsdException(
                        Errno.ENXIO, name, fid, what + " at " + offset + " past the end (size " + size + ")");
            }
            if (!caps.has(Capability.SPARSE_SEEK)) {
                return data ? offset : size;
            }
            long r = store.seek(fid, offset, data);
            if (data) {
                if (r < 0 || r >= size) {
                    throw new OsdException(
                            Errno.ENXIO, name, fid, "seek data at " + offset + ": no data follows (size " + size + ")");
                }
                return r;
            }
            return r < 0 ? size : Math.min(r, size);
        });
    }

    @Override
    public long seekData(Fid fid, long offset) throws OsdException {
        return seek(fid, offset, true);
    }

    @Override
    public long seekHole(Fid fid, long offset) throws OsdException {
        return seek(fid, offset, false);
    }

    @Override
    public byte[] getXattr(Fid fid, String xname) throws OsdException {
        ensureOpen();
        xattrRules.requireSupported(fid, "getxattr");
        return guard.read(fid, () -> {
            if (!store.exists(fid)) {
                throw enoent(fid);
            }
            Optional<byte[]> v = store.xattr(fid, xname);
            if (v.isEmpty()) {
                throw new OsdException(Errno.ENODATA, name, fid, "no xattr " + xname);
            }
            return v.get();
        });
    }

    @Override
    public List<String> listXattrs(Fid fid) throws OsdException {
        ensureOpen();
        xattrRules.requireSupported(fid, "listxattr");
        return guard.read(fid, () -> {
            if (!store.exists(fid)) {
                throw enoent(fid);
            }
            List<String> names = new ArrayList<>(store.xattrNames(fid));
            names.sort((a, b) ->
                    Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8)));
            return names;
        });
    }

    @Override
    public Optional<byte[]> lookup(Fid index, byte[] key) throws OsdException {
        ensureOpen();
        caps.require(Capability.INDEX, name, index, "lookup");
        throw new IllegalStateException("unreachable");
    }

    @Override
    public IndexCursor cursor(Fid index, byte[] fromKey) throws OsdException {
        ensureOpen();
        caps.require(Capability.INDEX, name, index, "cursor");
        throw new IllegalStateException("unreachable");
    }

    @Override
    public ObjectCursor listObjects() throws OsdException {
        ensureOpen();
        return new ObjectListing(this);
    }

    @Override
    public synchronized void close() throws OsdException {
        if (closed) {
            return;
        }
        closed = true;
        store.closeHandles();
        IOException err = null;
        if (settings.readOnly()) {
            // Nothing was written, so nothing is forced or recorded.
            releaseLock();
            return;
        }
        try {
            if (journal != null) {
                journal.close();
            } else if (failure == null) {
                store.writeAllDeferred();
                dirty.forceAll(storage);
            }
            if (failure == null && (journal == null || journal.failure() == null)) {
                DeviceLayout.putUsage(storage, space.objects(), space.used());
            }
        } catch (IOException e) {
            err = e;
        } finally {
            releaseLock();
        }
        if (err != null) {
            throw StorageErrors.toOsd(name, null, "unmount " + storage.describe(), err);
        }
    }

    @Override
    public String toString() {
        return "VfsOsd(" + name + ", " + storage.describe() + ", journal " + (settings.journal() ? "on" : "off") + ")";
    }
}
