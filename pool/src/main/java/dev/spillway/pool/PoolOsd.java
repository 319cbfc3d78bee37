package dev.spillway.pool;

import dev.spillway.osd.Attr;
import dev.spillway.osd.Capabilities;
import dev.spillway.osd.Capability;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.IndexCursor;
import dev.spillway.osd.ObjectCursor;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.StatFs;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.spi.Osds;
import dev.spillway.osd.spi.TransactionSupport;
import dev.spillway.pool.config.DeviceConfig;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.Role;
import dev.spillway.pool.core.PoolContext;
import dev.spillway.pool.device.DeviceHealth;
import dev.spillway.pool.device.DeviceTable;
import dev.spillway.pool.device.MetadataGate;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.io.CopyIo;
import dev.spillway.pool.io.SplitBody;
import dev.spillway.pool.layout.Layout;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.DeviceIndex;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.PoolFids;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.PoolObjectStore;
import dev.spillway.pool.meta.ReadPlan;
import dev.spillway.pool.meta.WorkIndex;
import dev.spillway.pool.ops.CapacityControl;
import dev.spillway.pool.ops.DeviceFailures;
import dev.spillway.pool.ops.DeviceOps;
import dev.spillway.pool.ops.Migrator;
import dev.spillway.pool.ops.SyncCommit;
import dev.spillway.pool.ops.WriteAround;
import dev.spillway.pool.recovery.Fsck;
import dev.spillway.pool.recovery.Recovery;
import dev.spillway.pool.recovery.RecoveryReport;
import dev.spillway.pool.space.ReservePlan;
import dev.spillway.pool.space.RoomQueue;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.BiConsumer;
import java.util.function.IntFunction;

/**
 * The pool OSD: an {@link Osd} that stacks on other OSDs (docs/design.md, "The pool OSD"). The
 * namespace, every object's attributes, xattrs and layout, the index objects and the pool's own
 * records live on the metadata device; bodies live where their layout says. Whoever sits above
 * cannot tell it from a single device.
 *
 * <p>Reads of a resident body go straight to the metadata device (checked against the object's
 * change stamp, or failing that its layout generation, so a concurrent spill is never half-seen;
 * an unchanged object's record comes from a cache, see {@link MetadataGate}); reads of a spilled body go to the
 * preferred in-sync copy and are verified chunk by chunk. Writes go through
 * {@link PoolTransaction}. Moving data ({@link #migrator()}) follows the spill protocol of docs/design.md:
 * pending copy and job in one metadata transaction, copy made durable, flip only if the data
 * version is unchanged, garbage deleted by jobs.
 */
public final class PoolOsd implements Osd {
    private static final System.Logger LOG = System.getLogger(PoolOsd.class.getName());

    /** How to mount. */
    public enum MountMode {
        /** Read the work index and nothing else (the normal mount). */
        RECOVER,
        /** Walk every object and device too (debugging; the baseline of the recovery benchmark). */
        FULL_SCAN,
        /**
         * Recover nothing and write nothing: the pool as the last crash left it, work in flight
         * included, for a read-only check (offline {@code fsck} without repair). Devices mount
         * read-only (osd-kv, osd-vfs and osd-s3: nothing written to them, an osd-vfs journal
         * replayed in memory, an osd-kv WAL likewise); osd-mem keeps nothing. Never needs space.
         */
        CHECK
    }

    private final PoolContext ctx;
    /** {@code ctx::device}, made once (reads pass it on every call). */
    private final IntFunction<PoolDevice> devices;
    // The context's, kept here because every client call names them.
    private final String name;
    private final PoolDevice mdDevice;
    private final PoolObjectStore store;
    private final Capabilities caps;
    private final Migrator migrator;
    private final DeviceOps deviceOps;
    private final SyncCommit syncCommit;
    private final WriteAround writeAround;
    private final DeviceFailures failures;
    private final CapacityControl capacity;
    private volatile PoolListener listener = PoolListener.NONE;
    /** Which reads are new accesses for placement (the rule in {@link PoolListener}). */
    private final ReadStreams streams = new ReadStreams();

    private volatile SpaceReclaimer reclaimer;
    private volatile RecoveryReport recovery;
    private volatile boolean closed;

    /** Composes the pool from its context and its movers, both fully built; does no I/O. */
    private PoolOsd(PoolContext ctx, Migrator migrator) {
        this.ctx = ctx;
        this.devices = ctx::device;
        this.name = ctx.name();
        this.mdDevice = ctx.metadata();
        this.store = ctx.store();
        this.caps = capabilities(mdDevice.osd(), ctx.devices());
        this.migrator = migrator;
        this.deviceOps = new DeviceOps(ctx, migrator);
        this.syncCommit = new SyncCommit(ctx, migrator);
        this.writeAround = new WriteAround(ctx, syncCommit);
        this.failures = new DeviceFailures(ctx, deviceOps);
        for (PoolDevice d : ctx.devices()) {
            if (d.osd() instanceof DeviceHealth h) {
                h.onTrip((dev, cause) -> failures.trip(d, cause));
            }
        }
        this.capacity = new CapacityControl(ctx);
    }

    /**
     * Opens every device, checks capabilities against roles, formats a new pool or checks the
     * configuration against the persisted device table, and recovers.
     */
    public static PoolOsd mount(PoolConfig config, InstantSource clock, MountMode mode) throws OsdException {
        return mount(config, clock, mode, (d, c) -> Osds.open(new OsdConfig(d.name(), d.backend(), d.settings(), c)));
    }

    /** Opens one device of a pool; tests substitute their own (fault injection, crash simulation). */
    @FunctionalInterface
    public interface DeviceOpener {
        Osd open(DeviceConfig device, InstantSource clock) throws OsdException;
    }

    /** As {@link #mount(PoolConfig, InstantSource, MountMode)}, opening devices with {@code opener}. */
    public static PoolOsd mount(PoolConfig config, InstantSource clock, MountMode mode, DeviceOpener opener)
            throws OsdException {
        return mount(config, clock, mode, opener, false);
    }

    /**
     * As {@link #mount(PoolConfig, InstantSource, MountMode, DeviceOpener)}; with {@code inParallel}
     * the devices are opened side by side, a thread each (the server's start: an osd-kv device's
     * RocksDB open and an osd-vfs device's filesystem probe overlap), and {@code opener} must allow
     * that; a device whose open failed beside the others is opened once more after them, alone (its
     * open may need what another's made: a parent folder on a new pool), and only that error counts.
     * Otherwise one after the other, in the configuration's order (tests that count or crash a
     * device's calls rely on it).
     */
    public static PoolOsd mount(
            PoolConfig config, InstantSource clock, MountMode mode, DeviceOpener opener, boolean inParallel)
            throws OsdException {
        List<Osd> opened = new ArrayList<>();
        long t0 = System.nanoTime();
        StringBuilder timing = new StringBuilder();
        try {
            List<PoolDevice> devs = new ArrayList<>();
            Osd mdOsd = null;
            List<Osd> raw = openAll(config, clock, mode, opener, inParallel, timing);
            for (DeviceConfig d : config.devices()) {
                Osd o = raw.get(d.index());
                if (d.has(Role.METADATA)) {
                    // Every metadata transaction passes the gate, so an online fsck can quiesce them.
                    o = new MetadataGate(o);
                } else {
                    // Counts the device's I/O errors; at fail-after-errors in a row the pool fails it.
                    o = new DeviceHealth(o, config.failure().failAfterErrors(d.name()));
                }
                opened.add(o);
            }
            for (DeviceConfig d : config.devices()) {
                Osd o = opened.get(d.index());
                DeviceTable.checkCapabilities(config.name(), d, o);
                if (d.has(Role.METADATA)) {
                    mdOsd = o;
                }
            }
            List<DeviceTable.Entry> table;
            if (!DeviceTable.formatted(mdOsd)) {
                if (mode == MountMode.CHECK) {
                    throw new OsdException(
                            Errno.EROFS,
                            mdOsd.name(),
                            "pool " + config.name() + ": not formatted; a read-only check formats nothing");
                }
                DeviceTable.format(mdOsd, config);
                LOG.log(Level.INFO, "pool " + config.name() + ": formatted on " + mdOsd.name());
            }
            table = DeviceTable.check(mdOsd, config);
            for (DeviceConfig d : config.devices()) {
                DeviceState st = table.get(d.index()).state();
                devs.add(new PoolDevice(
                        d.index(), d.name(), d.backend(), d.roles(), st, d.durability(), opened.get(d.index())));
            }
            long p0 = System.nanoTime();
            PoolContext ctx = new PoolContext(config, devs, clock);
            PoolOsd pool = new PoolOsd(ctx, Migrator.open(ctx));
            timing.append("pool state ").append(millis(p0)).append(" ms, ");
            // The reserve is in place before recovery writes anything (recovery itself needs none).
            // A fast tier configured smaller than what it holds runs larger until spilled down.
            if (mode != MountMode.CHECK) {
                OptionalLong raised = pool.capacity.atMount();
                if (raised.isPresent()) {
                    LOG.log(
                            Level.WARNING,
                            "pool " + config.name() + ": " + pool.mdDevice.name()
                                    + " holds more than its configured capacity "
                                    + pool.capacity.target().getAsLong() + " allows; running at "
                                    + raised.getAsLong() + " bytes until the daemon has spilled down to it");
                }
            }
            ctx.applyReserve();
            long r0 = System.nanoTime();
            pool.recovery = switch (mode) {
                case FULL_SCAN -> Recovery.fullScan(ctx, pool.migrator);
                case RECOVER -> Recovery.recover(ctx, pool.migrator);
                case CHECK -> Recovery.none(ctx);
            };
            if (mode != MountMode.CHECK) {
                // A device failed before the crash: its lost-marking pass ends now (it walks that
                // device's index only, and needs no space beyond the reserve).
                pool.deviceOps.resumeLostPasses();
            }
            timing.append(mode == MountMode.FULL_SCAN ? "full scan " : "recovery ")
                    .append(millis(r0))
                    .append(" ms");
            LOG.log(Level.DEBUG, "pool " + config.name() + ": mounted in " + millis(t0) + " ms (" + timing + ")");
            return pool;
        } catch (OsdException | RuntimeException e) {
            for (Osd o : opened) {
                try {
                    o.close();
                } catch (OsdException | RuntimeException ignored) {
                    e.addSuppressed(ignored);
                }
            }
            throw e;
        }
    }

    /**
     * Opens every device, in order or side by side; on a failure closes what it opened and throws
     * the error of the first device (in the configuration's order) that failed.
     */
    private static List<Osd> openAll(
            PoolConfig config,
            InstantSource clock,
            MountMode mode,
            DeviceOpener opener,
            boolean inParallel,
            StringBuilder timing)
            throws OsdException {
        List<DeviceConfig> ds = config.devices();
        int n = ds.size();
        Osd[] osds = new Osd[n];
        Throwable[] errors = new Throwable[n];
        long[] took = new long[n];
        Thread[] threads = new Thread[n];
        for (int k = 0; k < n; k++) {
            int i = k;
            Runnable open = () -> {
                long d0 = System.nanoTime();
                try {
                    osds[i] = opener.open(mode == MountMode.CHECK ? readOnly(ds.get(i)) : ds.get(i), clock);
                } catch (OsdException | RuntimeException | Error e) {
                    errors[i] = e;
                }
                took[i] = System.nanoTime() - d0;
            };
            if (inParallel && i > 0) {
                threads[i] = Thread.ofPlatform()
                        .name("spillway-mount-" + ds.get(i).name())
                        .start(open);
            } else if (!inParallel) {
                open.run();
                if (errors[i] != null) {
                    break;
                }
            }
        }
        if (inParallel && n > 0) {
            // The first device on this thread, the others on theirs.
            long d0 = System.nanoTime();
            try {
                osds[0] = opener.open(mode == MountMode.CHECK ? readOnly(ds.get(0)) : ds.get(0), clock);
            } catch (OsdException | RuntimeException | Error e) {
                errors[0] = e;
            }
            took[0] = System.nanoTime() - d0;
            boolean interrupted = false;
            for (Thread t : threads) {
                while (t != null) {
                    try {
                        t.join();
                        break;
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            // A device may need what another's open makes (osd-vfs creates its folder only in an
            // existing parent, which osd-kv's open of a sibling folder may create on a new pool):
            // one that failed beside the others is opened again after them, alone, as in order.
            for (int i = 0; i < n; i++) {
                if (errors[i] != null) {
                    errors[i] = null;
                    long again = System.nanoTime();
                    try {
                        osds[i] = opener.open(mode == MountMode.CHECK ? readOnly(ds.get(i)) : ds.get(i), clock);
                    } catch (OsdException | RuntimeException | Error e) {
                        errors[i] = e;
                    }
                    took[i] += System.nanoTime() - again;
                }
            }
        }
        Throwable first = null;
        for (int i = 0; i < n; i++) {
            if (errors[i] != null && first == null) {
                first = errors[i];
            }
        }
        if (first != null) {
            for (Osd o : osds) {
                if (o != null) {
                    try {
                        o.close();
                    } catch (OsdException | RuntimeException ignored) {
                        first.addSuppressed(ignored);
                    }
                }
            }
            if (first instanceof OsdException oe) {
                throw oe;
            }
            if (first instanceof RuntimeException re) {
                throw re;
            }
            throw (Error) first;
        }
        for (int i = 0; i < n; i++) {
            timing.append(ds.get(i).name())
                    .append(' ')
                    .append(String.format(Locale.ROOT, "%.1f", took[i] / 1e6))
                    .append(" ms, ");
        }
        return List.of(osds);
    }

    /**
     * A device of a read-only check: mounted with the common {@code read-only} setting where its
     * backend can (osd-kv, osd-vfs, osd-s3: nothing written to the device, no space needed), as
     * it is otherwise (osd-mem keeps nothing).
     */
    private static DeviceConfig readOnly(DeviceConfig d) {
        if (!Osds.mountsReadOnly(d.backend())) {
            return d;
        }
        Map<String, Object> s = new LinkedHashMap<>(d.settings());
        s.put(OsdConfig.READ_ONLY, true);
        return new DeviceConfig(d.index(), d.name(), d.backend(), d.roles(), d.state(), d.durability(), s);
    }

    private static String millis(long since) {
        return String.format(Locale.ROOT, "%.1f", (System.nanoTime() - since) / 1e6);
    }

    private static Capabilities capabilities(Osd md, List<PoolDevice> devices) {
        Capabilities m = md.capabilities();
        EnumSet<Capability> f = EnumSet.noneOf(Capability.class);
        for (Capability c : List.of(
                Capability.TRANSACTIONS,
                Capability.DURABLE_COMMIT,
                Capability.XATTRS,
                Capability.INDEX,
                Capability.PUNCH,
                Capability.SPARSE_SEEK,
                Capability.PARTIAL_WRITE,
                Capability.ATOMIC_REPLACE,
                Capability.LIST_OBJECTS)) {
            if (m.has(c)) {
                f.add(c);
            }
        }
        long maxObject = m.maxObjectSize();
        for (PoolDevice d : devices) {
            if (d.has(Role.BACKGROUND)) {
                maxObject = Math.min(maxObject, d.osd().capabilities().maxObjectSize());
            }
        }
        return new Capabilities(
                f,
                m.maxXattrValue(),
                m.maxXattrName(),
                maxObject,
                m.maxIndexKey(),
                m.maxIndexValue(),
                m.preferredIoSize(),
                m.blockSize());
    }

    // ---- accessors for the pool's own packages ---------------------------------------------

    public PoolConfig config() {
        return ctx.config();
    }

    public List<PoolDevice> devices() {
        return ctx.devices();
    }

    public PoolDevice device(int index) {
        return ctx.device(index);
    }

    public Optional<PoolDevice> device(String deviceName) {
        return ctx.device(deviceName);
    }

    /**
     * Runs {@code body} with no metadata transaction in flight (see {@link MetadataGate}): what an
     * online fsck needs to see one consistent state.
     */
    public <T> T quiesced(Duration wait, MetadataGate.Quiet<T> body) throws OsdException {
        return ctx.quiesced(wait, body);
    }

    /**
     * The index of the metadata device: where the pool's records live and where a resident body is
     * (see {@link PoolObject#resident(int)}).
     */
    public int metadataIndex() {
        return mdDevice.index();
    }

    /**
     * The metadata device's statfs: what the fast tier holds and has free (the daemon's watermarks
     * and the reserve are measured against it), without asking the other devices.
     */
    public StatFs metadataStatfs() throws OsdException {
        return mdDevice.osd().statfs();
    }

    // The metadata device and the clock are the pool's shared state: package-private, for the
    // pool's own tests; other modules use metadataIndex(), metadataStatfs() and their own clock.
    PoolDevice metadata() {
        return mdDevice;
    }

    // The pool's records and locks are its own: package-private, for PoolTransaction and tests.
    PoolObjectStore store() {
        return store;
    }

    TransactionSupport transactions() {
        return ctx.transactions();
    }

    /**
     * The pool's record of a DATA object — size, data version, its copies and their states — or
     * empty if {@code fid} names no DATA object of the pool.
     */
    public Optional<PoolObject> object(Fid fid) throws OsdException {
        ensureOpen();
        checkClientFid(fid);
        return store.load(fid);
    }

    /**
     * As {@link #object}, for an object that must exist.
     *
     * @throws OsdException ENOENT naming the object if it does not, or is not a DATA object
     */
    public PoolObject requireObject(Fid fid) throws OsdException {
        ensureOpen();
        checkClientFid(fid);
        return store.require(fid);
    }

    /** The object's placement, decoded from its {@code trusted.lov} layout. */
    public Layout layout(Fid fid) throws OsdException {
        ensureOpen();
        checkClientFid(fid);
        return store.decodedLayout(fid);
    }

    /** The object's {@code trusted.lov} layout as stored (Lustre's composite layout format). */
    public byte[] rawLayout(Fid fid) throws OsdException {
        ensureOpen();
        checkClientFid(fid);
        return store.layout(fid);
    }

    /** A small file the pool keeps for a component running on it (see {@link LocalFile}). */
    public LocalFile localFile(LocalFile.Name file) throws OsdException {
        ensureOpen();
        return new LocalFile(name, mdDevice.osd(), file);
    }

    /** How many parts {@link #residents(int)} splits the fast tier's resident objects into. */
    public int residentParts() {
        return PoolFids.STRIPES;
    }

    /**
     * One part of the objects whose body is on the metadata device, from the pool's index of them
     * (never a walk of the namespace): the parts {@code 0 .. residentParts()-1} together name each
     * resident object once.
     */
    public List<Fid> residents(int part) throws OsdException {
        ensureOpen();
        Objects.checkIndex(part, PoolFids.STRIPES);
        List<Fid> out = new ArrayList<>();
        try (IndexCursor c = mdDevice.osd().cursor(PoolFids.deviceIndex(mdDevice.index(), part), null)) {
            while (c.next()) {
                out.add(Fid.fromBytes(c.key(), 0));
            }
        }
        return out;
    }

    /** True if the pool's index names any copy on {@code device} (a failed device still to be replaced). */
    public boolean holdsCopies(PoolDevice device) throws OsdException {
        ensureOpen();
        return !DeviceIndex.list(mdDevice.osd(), device.index()).isEmpty();
    }

    InstantSource clock() {
        return ctx.clock();
    }

    public long nowNanos() {
        return ctx.nowNanos();
    }

    public int replicas() {
        return ctx.replicas();
    }

    /** The data-moving operations (spill, promote, resync, …) the daemon and the CLI call. */
    public Migrator migrator() {
        return migrator;
    }

    /** The extra copies of writes under a sync write-commit policy (used by the pool's transactions). */
    SyncCommit syncCommit() {
        return syncCommit;
    }

    WriteAround writeAround() {
        return writeAround;
    }

    /** Device state changes, evacuation, replacement of lost copies. */
    public DeviceOps deviceOps() {
        return deviceOps;
    }

    /** Devices given up (tripped by their I/O errors or failed by the admin): listen, or wait for one. */
    public DeviceFailures deviceFailures() {
        return failures;
    }

    public PoolListener listener() {
        return listener;
    }

    /** Sets the one listener told about accesses (the migration daemon). */
    public void listener(PoolListener l) {
        this.listener = l == null ? PoolListener.NONE : l;
    }

    /** The emergency spiller writers call when the fast tier is full, or null. */
    public SpaceReclaimer spaceReclaimer() {
        return reclaimer;
    }

    public void spaceReclaimer(SpaceReclaimer r) {
        this.reclaimer = r;
    }

    /** The reserve the metadata device needs at a capacity of {@code capacity} bytes. */
    public ReservePlan planFor(long capacity) {
        return ctx.planFor(capacity);
    }

    /** The reserve kept on the metadata device, and how it was sized; empty if the device keeps none. */
    public Optional<ReservePlan> reservePlan() {
        return ctx.reservePlan();
    }

    /** Capacity changes while mounted (see {@link CapacityControl}). */
    public CapacityControl capacity() {
        return capacity;
    }

    /** Where client transactions wait for room on a full fast tier (see {@link RoomQueue}). */
    public RoomQueue roomQueue() {
        return ctx.roomQueue();
    }

    /**
     * Checks the pool ({@link Fsck}): online, with metadata transactions held off during the
     * structural walk; {@code repair} fixes what can be fixed without losing data, {@code deep}
     * reads every copy through its checksums.
     */
    public Fsck.Report fsck(boolean repair, boolean deep, Fsck.Progress progress) throws OsdException {
        ensureOpen();
        return Fsck.check(ctx, migrator, repair, deep, progress);
    }

    /** What the last mount found and did. */
    public RecoveryReport recoveryReport() {
        return recovery;
    }

    /** Every job of the work index (what the admin API's {@code jobs} shows). */
    public List<Job> jobs() throws OsdException {
        return WorkIndex.all(mdDevice.osd());
    }

    /**
     * Bytes and copies the pool has placed on each device other than the metadata device, per
     * copy state: {@code device index -> state -> [bytes, copies]}, from the persisted counters
     * (exact after a crash, no scan). The metadata device's resident bodies are not counted here:
     * its statfs says what it holds.
     */
    public Map<Integer, Map<CopyState, long[]>> copyTotals() throws OsdException {
        ensureOpen();
        return ctx.copyTotals();
    }

    // ---- Osd -------------------------------------------------------------------------------

    @Override
    public String name() {
        return name;
    }

    @Override
    public String backend() {
        return "pool";
    }

    @Override
    public Capabilities capabilities() {
        return caps;
    }

    void ensureOpen() throws OsdException {
        if (closed) {
            throw new OsdException(Errno.EIO, name, "pool is unmounted");
        }
    }

    /** Clients may not see or touch the pool's own objects: they do not exist for them. */
    void checkClientFid(Fid fid) throws OsdException {
        if (PoolFids.reserved(fid)) {
            throw new OsdException(Errno.ENOENT, name, fid, "no such object (FID in a sequence the pool reserves)");
        }
    }

    @Override
    public StatFs statfs() throws OsdException {
        try {
            ensureOpen();
            return ctx.statfs();
        } catch (OsdException e) {
            throw e.via(name);
        }
    }

    @Override
    public void sync() throws OsdException {
        try {
            ensureOpen();
            mdDevice.osd().sync();
        } catch (OsdException e) {
            throw e.via(name);
        }
    }

    @Override
    public void sync(Fid fid) throws OsdException {
        try {
            ensureOpen();
            checkClientFid(fid);
            mdDevice.osd().sync(fid);
        } catch (OsdException e) {
            throw e.via(name);
        }
    }

    @Override
    public Transaction newTransaction() throws OsdException {
        ensureOpen();
        return new PoolTransaction(this, ctx);
    }

    @Override
    public Attr getAttr(Fid fid) throws OsdException {
        try {
            ensureOpen();
            checkClientFid(fid);
            Attr a = mdDevice.osd().getAttr(fid);
            Optional<PoolObject> o = store.loadStamped(fid).record();
            if (o.isEmpty()) {
                return a;
            }
            PoolObject p = o.get();
            int mdi = mdDevice.index();
            // A split body occupies its resident ranges here and its copies of ranges elsewhere.
            long blocks = p.resident(mdi)
                    ? a.blocks()
                    : p.split(mdi)
                            ? a.blocks()
                                    + p.ranges(mdi).stream()
                                            .filter(c -> c.state() == CopyState.IN_SYNC)
                                            .mapToLong(c -> (c.bytes() + 511) / 512)
                                            .sum()
                            : p.blocks();
            return a.withSize(p.size(), blocks).withDataVersion(p.dataVersion());
        } catch (OsdException e) {
            throw e.via(name);
        }
    }

    @Override
    public int read(Fid fid, long offset, ByteBuffer dst) throws OsdException {
        try {
            ensureOpen();
            checkClientFid(fid);
            if (offset < 0) {
                throw new OsdException(Errno.EINVAL, name, fid, "read at negative offset " + offset);
            }
            int start = dst.position();
            for (int attempt = 0; attempt < 100; attempt++) {
                // One record load per read at most, none while the object is unchanged: the
                // change stamp taken with the record says whether it still holds after the read.
                PoolObjectStore.Stamped st = store.loadStamped(fid);
                Optional<PoolObject> o = st.record();
                if (o.isEmpty()) {
                    return mdDevice.osd().read(fid, offset, dst);
                }
                PoolObject p = o.get();
                ReadPlan plan = st.plan();
                if (plan.where() == ReadPlan.Where.RESIDENT) {
                    int n = mdDevice.osd().read(fid, offset, dst);
                    if (store.unchanged(fid, st.stamp()) || sameBody(fid, p)) {
                        reported(fid, p, offset, n, mdDevice.index());
                        return n;
                    }
                    dst.position(start);
                    continue;
                }
                if (plan.where() == ReadPlan.Where.SPLIT) {
                    // A read inside one range the metadata device holds (a split body's hot head)
                    // is a resident read: the same single read of the metadata device.
                    long want = Math.min(dst.remaining(), p.size() - offset);
                    long localEnd = want > 0 ? plan.localEnd(offset) : -1;
                    if (localEnd >= 0 && offset + want <= localEnd) {
                        int n = readLocal(fid, offset, dst, (int) want);
                        if (n == want && (store.unchanged(fid, st.stamp()) || sameBody(fid, p))) {
                            reported(fid, p, offset, n, mdDevice.index());
                            return n;
                        }
                        // Changed under the read, or short (SplitBody names what the body holds).
                        dst.position(start);
                        if (n == want) {
                            continue;
                        }
                    }
                    Integer n = readSplit(fid, p, offset, dst, start, st.stamp());
                    if (n != null) {
                        return n;
                    }
                    continue;
                }
                Integer n = readSpilled(fid, p, offset, dst, start);
                if (n != null) {
                    return n;
                }
            }
            throw new OsdException(Errno.EAGAIN, name, fid, "the object's layout kept changing under the read");
        } catch (OsdException e) {
            throw e.via(name);
        }
    }

    /** Reads up to {@code want} bytes of the metadata device's body at {@code offset}, all there are. */
    private int readLocal(Fid fid, long offset, ByteBuffer dst, int want) throws OsdException {
        int limit = dst.limit();
        dst.limit(dst.position() + want);
        try {
            int got = 0;
            while (got < want) {
                int n = mdDevice.osd().read(fid, offset + got, dst);
                if (n <= 0) {
                    break;
                }
                got += n;
            }
            return got;
        } finally {
            dst.limit(limit);
        }
    }

    /** Loads the record again: true if the layout and data are still those of {@code p}. */
    private boolean sameBody(Fid fid, PoolObject p) throws OsdException {
        Optional<PoolObject> again = store.load(fid);
        return again.isPresent()
                && again.get().layoutGen() == p.layoutGen()
                && again.get().dataVersion() == p.dataVersion();
    }

    /** Tells the listener about a read: its bytes always, and an access if it starts a read stream. */
    private void reported(Fid fid, PoolObject p, long offset, int n, int device) {
        boolean access = streams.read(fid, p.dataVersion(), offset, n, p.size());
        listener.readAt(fid, p.size(), offset, n, access, device);
    }

    /** Read streams open now (tests). */
    int openReadStreams() {
        return streams.open();
    }

    /** The order whole copies are tried in: the preferred one first, then by device. */
    private static final Comparator<Copy> READ_ORDER =
            Comparator.comparing((Copy c) -> !c.preferred()).thenComparingInt(Copy::device);

    /** Reads from the best in-sync copy; null if the layout changed and the read must restart. */
    private Integer readSpilled(Fid fid, PoolObject p, long offset, ByteBuffer dst, int start) throws OsdException {
        if (p.split(mdDevice.index())) {
            return readSplit(fid, p, offset, dst, start, Long.MIN_VALUE);
        }
        // The in-sync whole copies on readable devices, in one pass over the record's list (no
        // intermediate copies: this runs on every read of a spilled object).
        List<Copy> copies = p.copies();
        List<Copy> candidates = new ArrayList<>(copies.size());
        for (int i = 0; i < copies.size(); i++) {
            Copy c = copies.get(i);
            if (c.state() == CopyState.IN_SYNC && c.whole() && ctx.readable(c)) {
                candidates.add(c);
            }
        }
        if (candidates.size() > 1) {
            candidates.sort(READ_ORDER);
        }
        OsdException last = null;
        List<String> tried = new ArrayList<>();
        for (Copy c : candidates) {
            PoolDevice d = ctx.device(c.device());
            try {
                int n = CopyIo.readVerified(devices, fid, c, p.size(), offset, dst);
                reported(fid, p, offset, n, d.index());
                return n;
            } catch (OsdException e) {
                dst.position(start);
                Optional<PoolObject> now = store.load(fid);
                if (now.isEmpty() || now.get().layoutGen() != p.layoutGen()) {
                    return null;
                }
                tried.add(d.name() + " (" + e.errno() + ")");
                last = e;
                if ((e.is(Errno.EIO) || e.is(Errno.ENOENT)) && d.state() != DeviceState.FAILED) {
                    try {
                        migrator.markBad(fid, c, e);
                    } catch (OsdException notNow) {
                        // E.g. the reader holds a transaction on this thread; scrub will find it.
                        e.addSuppressed(notNow);
                    }
                }
            }
        }
        // The device may have failed under this read (tripped by it): the layout says where else.
        Optional<PoolObject> now = store.load(fid);
        if (now.isEmpty()
                || now.get().layoutGen() != p.layoutGen()
                || now.get().inSync().stream()
                        .anyMatch(c -> ctx.device(c.device()).state().readable()
                                && candidates.stream().noneMatch(t -> t.mirrorId() == c.mirrorId()))) {
            return null;
        }
        if (!tried.isEmpty()
                && candidates.stream().anyMatch(c -> ctx.device(c.device()).state() == DeviceState.FAILED)) {
            // The copies tried are on devices failed meanwhile: the next attempt sees them lost.
            return null;
        }
        List<String> lostOn = new ArrayList<>();
        for (Copy c : p.copies()) {
            PoolDevice d = ctx.device(c.device());
            if (c.state() == CopyState.LOST || (c.state() == CopyState.IN_SYNC && d.state() == DeviceState.FAILED)) {
                lostOn.add(d.name());
            }
        }
        if (tried.isEmpty() && !lostOn.isEmpty()) {
            throw new OsdException(
                    Errno.EIO,
                    name,
                    fid,
                    "no copy left to read: " + (lostOn.size() == 1 ? "its only copy was" : "its copies were")
                            + " on failed device" + (lostOn.size() == 1 ? " " : "s ") + String.join(", ", lostOn)
                            + " (lost). Bring the device back if it can be (`spillway device set-state "
                            + lostOn.get(0) + " rw`: its copies are verified before they count) or restore the"
                            + " object from a backup; `spillway device lost " + lostOn.get(0)
                            + "` lists every object in this state");
        }
        throw new OsdException(
                Errno.EIO,
                name,
                fid,
                "no good copy left to read"
                        + (tried.isEmpty()
                                ? " (no in-sync copy on a readable device)"
                                : "; tried " + String.join(", ", tried)),
                last);
    }

    /**
     * Reads a split body (issue 20): its resident ranges from the metadata device only, the others
     * from copies holding them; null if the layout changed under the read (it restarts).
     */
    private Integer readSplit(Fid fid, PoolObject p, long offset, ByteBuffer dst, int start, long stamp)
            throws OsdException {
        SplitBody.Read r;
        // The copies a part of the read failed on (the next copy holding the range served it).
        FailedCopies failed = new FailedCopies();
        try {
            r = SplitBody.read(
                    mdDevice.osd(), mdDevice.index(), ctx::device, ctx::readable, fid, p, offset, dst, failed);
        } catch (OsdException e) {
            dst.position(start);
            if (!sameBody(fid, p)) {
                return null;
            }
            if (failed.copies != null) {
                markBad(fid, failed.copies, failed.why, e);
            }
            throw e;
        }
        // As for a resident body: the change stamp taken with the record spares a record load
        // while the object is unchanged (a split body's record is large: a copy per range).
        if (!(stamp != Long.MIN_VALUE && store.unchanged(fid, stamp)) && !sameBody(fid, p)) {
            dst.position(start);
            return null;
        }
        if (failed.copies != null) {
            markBad(fid, failed.copies, failed.why, null);
        }
        reported(fid, p, offset, r.bytes(), r.lastDevice());
        return r.bytes();
    }

    /** The copies a read of a split body failed on, and why; the lists made at the first failure. */
    private static final class FailedCopies implements BiConsumer<Copy, OsdException> {
        List<Copy> copies;
        List<OsdException> why;

        @Override
        public void accept(Copy c, OsdException e) {
            if (copies == null) {
                copies = new ArrayList<>();
                why = new ArrayList<>();
            }
            copies.add(c);
            why.add(e);
        }
    }

    /**
     * Marks the copies of a split body a read failed on bad, as a failed read of a whole copy is:
     * a copy of a range becomes STALE with a RESYNC job (rebuilt from another copy holding its
     * range), unless it is the last in-sync copy of that range. A failed device's copies are the
     * lost-marking pass's.
     */
    private void markBad(Fid fid, List<Copy> bad, List<OsdException> why, OsdException thrown) {
        for (int i = 0; i < bad.size(); i++) {
            Copy c = bad.get(i);
            if (ctx.device(c.device()).state() == DeviceState.FAILED) {
                continue;
            }
            try {
                migrator.markBad(fid, c, why.get(i));
            } catch (OsdException notNow) {
                // E.g. the reader holds a transaction on this thread; scrub will find it.
                if (thrown != null) {
                    thrown.addSuppressed(notNow);
                }
            }
        }
    }

    @Override
    public long seekData(Fid fid, long offset) throws OsdException {
        return seek(fid, offset, true);
    }

    @Override
    public long seekHole(Fid fid, long offset) throws OsdException {
        return seek(fid, offset, false);
    }

    /**
     * SEEK_DATA / SEEK_HOLE. A resident body answers from the metadata device; a spilled one is
     * scanned block by block (verified reads), all-zero blocks counting as holes — the contract
     * allows it, since a hole only promises to read as zeros.
     */
    private long seek(Fid fid, long offset, boolean data) throws OsdException {
        try {
            ensureOpen();
            checkClientFid(fid);
            for (int attempt = 0; attempt < 100; attempt++) {
                Optional<PoolObject> o = store.load(fid);
                if (o.isEmpty() || o.get().resident(mdDevice.index())) {
                    long r = data
                            ? mdDevice.osd().seekData(fid, offset)
                            : mdDevice.osd().seekHole(fid, offset);
                    Optional<PoolObject> again = o.isEmpty() ? o : store.load(fid);
                    if (o.isEmpty()
                            || again.isPresent()
                                    && again.get().layoutGen() == o.get().layoutGen()) {
                        return r;
                    }
                    continue;
                }
                long size = o.get().size();
                if (offset < 0 || offset >= size) {
                    throw new OsdException(
                            Errno.ENXIO, name, fid, "seek at " + offset + " past the end (size " + size + ")");
                }
                int bs = caps.blockSize();
                byte[] block = new byte[bs];
                long pos = offset;
                while (pos < size) {
                    long blockStart = pos - pos % bs;
                    int len = (int) Math.min(bs, size - blockStart);
                    ByteBuffer b = ByteBuffer.wrap(block, 0, len);
                    Integer n = readSpilled(fid, o.get(), blockStart, b, 0);
                    if (n == null) {
                        break;
                    }
                    boolean zero = true;
                    for (int i = 0; i < len && zero; i++) {
                        zero = block[i] == 0;
                    }
                    if (zero != data) {
                        return Math.max(pos, blockStart);
                    }
                    pos = blockStart + len;
                }
                if (pos >= size) {
                    if (data) {
                        throw new OsdException(
                                Errno.ENXIO, name, fid, "no data at or after " + offset + " (size " + size + ")");
                    }
                    return size;
                }
            }
            throw new OsdException(Errno.EAGAIN, name, fid, "the object's layout kept changing under the seek");
        } catch (OsdException e) {
            throw e.via(name);
        }
    }

    @Override
    public byte[] getXattr(Fid fid, String xname) throws OsdException {
        try {
            ensureOpen();
            checkClientFid(fid);
            if (xname.equals(PoolObjectStore.LAYOUT_XATTR)) {
                // Read-only, as on Lustre: the layout is readable through its xattr.
                return mdDevice.osd().getXattr(fid, xname);
            }
            if (PoolObjectStore.reservedXattr(xname)) {
                mdDevice.osd().getAttr(fid);
                throw new OsdException(Errno.ENODATA, name, fid, "no xattr " + xname);
            }
            return mdDevice.osd().getXattr(fid, xname);
        } catch (OsdException e) {
            throw e.via(name);
        }
    }

    @Override
    public List<String> listXattrs(Fid fid) throws OsdException {
        try {
            ensureOpen();
            checkClientFid(fid);
            List<String> all = new ArrayList<>(mdDevice.osd().listXattrs(fid));
            all.removeIf(PoolObjectStore::reservedXattr);
            return all;
        } catch (OsdException e) {
            throw e.via(name);
        }
    }

    @Override
    public Optional<byte[]> lookup(Fid index, byte[] key) throws OsdException {
        try {
            ensureOpen();
            checkClientFid(index);
            return mdDevice.osd().lookup(index, key);
        } catch (OsdException e) {
            throw e.via(name);
        }
    }

    @Override
    public IndexCursor cursor(Fid index, byte[] fromKey) throws OsdException {
        try {
            ensureOpen();
            checkClientFid(index);
            return mdDevice.osd().cursor(index, fromKey);
        } catch (OsdException e) {
            throw e.via(name);
        }
    }

    @Override
    public ObjectCursor listObjects() throws OsdException {
        try {
            ensureOpen();
            ObjectCursor in = mdDevice.osd().listObjects();
            return new ObjectCursor() {
                @Override
                public boolean next() throws OsdException {
                    while (in.next()) {
                        if (!PoolFids.reserved(in.fid())) {
                            return true;
                        }
                    }
                    return false;
                }

                @Override
                public Fid fid() {
                    return in.fid();
                }

                @Override
                public void close() {
                    in.close();
                }
            };
        } catch (OsdException e) {
            throw e.via(name);
        }
    }

    @Override
    public void close() throws OsdException {
        if (closed) {
            return;
        }
        closed = true;
        failures.close();
        migrator.close();
        OsdException first = null;
        for (PoolDevice d : ctx.devices()) {
            try {
                d.osd().close();
            } catch (OsdException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    @Override
    public String toString() {
        return "PoolOsd(" + name + ": " + ctx.devices() + ")";
    }
}
