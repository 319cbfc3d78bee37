package dev.spillway.pool.core;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.StatFs;
import dev.spillway.osd.spi.ObjectLocks;
import dev.spillway.osd.spi.TransactionSupport;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.Role;
import dev.spillway.pool.config.StripeTier;
import dev.spillway.pool.device.MetadataGate;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.layout.HsmType;
import dev.spillway.pool.layout.LovFormat;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.Counters;
import dev.spillway.pool.meta.LayoutView;
import dev.spillway.pool.meta.PoolFids;
import dev.spillway.pool.meta.PoolObjectStore;
import dev.spillway.pool.meta.Stripe;
import dev.spillway.pool.space.ReservePlan;
import dev.spillway.pool.space.ReserveSlots;
import dev.spillway.pool.space.RoomQueue;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The shared state of one mounted pool — its devices, the metadata device behind its gate, the
 * object store, the object locks client transactions and moves share, the clock and the space
 * controls — kept apart from the operations that work on it, as Lustre keeps {@code struct
 * osd_device} apart from the method table of {@code osd_handler.c}. The facade
 * ({@code PoolOsd}), the movers ({@code ops}), recovery and fsck all take this one object, fully
 * built before any of them exists; none of them takes another's half-built {@code this}.
 *
 * <p>Immutable but for the reserve plan (set when the reserve is applied). Thread-safe.
 */
public final class PoolContext {
    private static final System.Logger LOG = System.getLogger(PoolContext.class.getName());

    private final PoolConfig config;
    private final String name;
    private final List<PoolDevice> devices;
    private final PoolDevice mdDevice;
    private final MetadataGate gate;
    private final PoolObjectStore store;
    private final TransactionSupport support;
    private final InstantSource clock;
    private final ReserveSlots reserveSlots;
    private final RoomQueue roomQueue;
    private volatile ReservePlan reservePlan;

    /**
     * @param devices every device of the pool, in index order; the one with the metadata role must
     *     be opened behind a {@link MetadataGate}
     */
    public PoolContext(PoolConfig config, List<PoolDevice> devices, InstantSource clock) {
        this.config = config;
        this.name = config.name();
        this.devices = List.copyOf(devices);
        this.mdDevice = this.devices.stream()
                .filter(d -> d.has(Role.METADATA))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("pool " + config.name() + " has no metadata device"));
        if (!(mdDevice.osd() instanceof MetadataGate g)) {
            throw new IllegalArgumentException(
                    "pool " + config.name() + ": metadata device " + mdDevice.name() + " is not behind its gate");
        }
        this.gate = g;
        this.store = new PoolObjectStore(mdDevice.osd(), g, mdDevice.index(), this::hsmType);
        this.support = new TransactionSupport(name, false);
        this.clock = clock;
        this.reserveSlots = new ReserveSlots(name, ReservePlan.STREAMS);
        this.roomQueue = new RoomQueue(name, System::nanoTime);
    }

    private HsmType hsmType(int device) {
        return LayoutView.hsmType(devices.get(device).backend());
    }

    public PoolConfig config() {
        return config;
    }

    /** The pool's name (what its errors say). */
    public String name() {
        return name;
    }

    public List<PoolDevice> devices() {
        return devices;
    }

    public PoolDevice device(int index) {
        return devices.get(index);
    }

    /** True if every part of copy {@code c} (each stripe of a striped copy) is on a readable device. */
    public boolean readable(Copy c) {
        if (!c.striped()) {
            return device(c.device()).state().readable();
        }
        for (Stripe s : c.stripes()) {
            if (!device(s.device()).state().readable()) {
                return false;
            }
        }
        return true;
    }

    /**
     * True if copy {@code c} counts toward {@code replicas}: every part on a durable device (a
     * striped copy is lost with any one of its devices).
     */
    public boolean durable(Copy c) {
        return c.parts().stream().allMatch(s -> device(s.device()).durability() > 0);
    }

    /**
     * The devices a new copy placed on {@code target} is striped over, {@code target} first: the
     * next writable devices of its striping tier ({@code striping:}), in the tier's order, if the
     * object ({@code size} bytes) is striped there and at least two are writable; else
     * {@code target} alone (a whole copy).
     */
    public List<PoolDevice> stripeSet(PoolDevice target, long size) {
        return stripeSet(target, size, d -> true);
    }

    /**
     * {@link #stripeSet(PoolDevice, long)} over the tier's devices that {@code usable} accepts
     * ({@code target} is not asked): a copy of a range leaves out the devices that already hold
     * bytes of its range, so that one device's loss never takes two copies of a byte.
     */
    public List<PoolDevice> stripeSet(PoolDevice target, long size, Predicate<PoolDevice> usable) {
        Optional<StripeTier> tier = config.stripeTier(target.name());
        if (tier.isEmpty() || !tier.get().stripes(size)) {
            return List.of(target);
        }
        List<String> names = tier.get().devices();
        int at = names.indexOf(target.name());
        List<PoolDevice> set = new ArrayList<>();
        set.add(target);
        for (int i = 1; i < names.size() && set.size() < tier.get().stripeCount(); i++) {
            device(names.get((at + i) % names.size()))
                    .filter(d -> d.has(Role.BACKGROUND) && d.state().writable() && usable.test(d))
                    .ifPresent(set::add);
        }
        return set.size() < 2 ? List.of(target) : List.copyOf(set);
    }

    /** The stripe size of {@code target}'s striping tier (only meaningful where {@link #stripeSet} stripes). */
    public int stripeSize(PoolDevice target) {
        return config.stripeTier(target.name()).map(StripeTier::stripeSize).orElse(0);
    }

    public Optional<PoolDevice> device(String deviceName) {
        return devices.stream().filter(d -> d.name().equals(deviceName)).findFirst();
    }

    /** The metadata device. */
    public PoolDevice metadata() {
        return mdDevice;
    }

    /** The metadata device's gate (an online fsck holds it; see {@link MetadataGate}). */
    public MetadataGate gate() {
        return gate;
    }

    /**
     * Runs {@code body} with no metadata transaction in flight (see {@link MetadataGate}): what an
     * online fsck needs to see one consistent state.
     */
    public <T> T quiesced(Duration wait, MetadataGate.Quiet<T> body) throws OsdException {
        return gate.quiesced(wait, body);
    }

    /** Every object's pool record and layout, on the metadata device. */
    public PoolObjectStore store() {
        return store;
    }

    /** What client transactions of this pool share (their object locks, above all). */
    public TransactionSupport transactions() {
        return support;
    }

    /** The object locks client transactions take, which every move of a body takes too. */
    public ObjectLocks locks() {
        return support.locks();
    }

    public InstantSource clock() {
        return clock;
    }

    /** The clock's now in nanoseconds since the epoch (what jobs and ctime record). */
    public long nowNanos() {
        var i = clock.instant();
        return i.getEpochSecond() * 1_000_000_000L + i.getNano();
    }

    public int replicas() {
        return config.replicas();
    }

    /** The slots that bound the pool's RESERVED work (see {@link ReserveSlots}). */
    public ReserveSlots reserveSlots() {
        return reserveSlots;
    }

    /** Where client transactions wait for room on a full fast tier (see {@link RoomQueue}). */
    public RoomQueue roomQueue() {
        return roomQueue;
    }

    // ---- the reserve -----------------------------------------------------------------------

    /**
     * Computes the reserve of the metadata device from the pool's shape and the device's capacity
     * ({@link ReservePlan}) and sets it there. Background devices keep none: nothing but the pool's
     * own copies is written to them, and deleting a copy needs no space.
     */
    public void applyReserve() throws OsdException {
        ReservePlan plan = planFor(mdDevice.osd().statfs().totalBytes());
        try {
            mdDevice.osd().setReserve(plan.total());
            reservePlan = plan;
            LOG.log(
                    System.Logger.Level.DEBUG,
                    "pool " + name + ": reserve on " + mdDevice.name() + ": " + plan.describe());
        } catch (OsdException e) {
            if (!e.is(Errno.EOPNOTSUPP)) {
                throw e;
            }
            reservePlan = null;
            LOG.log(
                    System.Logger.Level.WARNING,
                    "pool " + name + ": metadata device " + mdDevice.name() + " keeps no reserve (" + e.getMessage()
                            + "); a full device may refuse the pool's own work");
        }
    }

    /** The reserve the metadata device needs at a capacity of {@code capacity} bytes. */
    public ReservePlan planFor(long capacity) {
        // A cache device holds copies as a spill device does: the worst record counts them too.
        List<Integer> bg = devices.stream()
                .filter(d -> d.has(Role.BACKGROUND) || d.has(Role.CACHE))
                .map(PoolDevice::index)
                .toList();
        int maxStripes = config.striping().stream()
                .mapToInt(StripeTier::stripeCount)
                .max()
                .orElse(1);
        int maxXattr = mdDevice.osd().capabilities().maxXattrValue();
        return ReservePlan.of(
                devices.size(),
                mdDevice.index(),
                bg,
                this::hsmType,
                capacity,
                maxStripes,
                maxXattr > 0 ? maxXattr : LovFormat.XATTR_SIZE_MAX);
    }

    /** The reserve kept on the metadata device, and how it was sized; empty if the device keeps none. */
    public Optional<ReservePlan> reservePlan() {
        return Optional.ofNullable(reservePlan);
    }

    // ---- what the pool holds ---------------------------------------------------------------

    /**
     * Bytes and copies the pool has placed on each device other than the metadata device, per
     * copy state: {@code device index -> state -> [bytes, copies]}, from the persisted counters
     * (exact after a crash, no scan).
     */
    public Map<Integer, Map<CopyState, long[]>> copyTotals() throws OsdException {
        return Counters.totals(mdDevice.osd());
    }

    /**
     * One statfs row per device, in index order, as the pool reports it: a spill device's use is
     * what the pool placed there (its counters), the metadata device's objects are its clients'
     * (the pool's own records not counted); plus the totals over the devices that count.
     */
    public StatFs statfs() throws OsdException {
        Map<Integer, Map<CopyState, long[]>> counted = copyTotals();
        List<StatFs> rows = new ArrayList<>();
        long total = 0;
        long free = 0;
        long avail = 0;
        for (PoolDevice d : devices) {
            StatFs s = d.osd().statfs();
            if (d != mdDevice) {
                long used = 0;
                long copies = 0;
                for (long[] v : counted.getOrDefault(d.index(), Map.of()).values()) {
                    used += v[0];
                    copies += v[1];
                }
                // Used is what the pool placed there (exact, from its counters): a spill device
                // may share its filesystem with other data, which is not the pool's to report.
                // Its size is what the pool can reach: what it placed there plus what is still
                // available to it (a shared filesystem's other data is neither), so that
                // size = used + available holds on every row of df.
                long dfree = Math.max(0, Math.min(s.totalBytes() - used, s.availableBytes()));
                s = new StatFs(
                        d.name(),
                        Math.min(s.totalBytes(), used + dfree),
                        dfree,
                        dfree,
                        copies,
                        s.freeObjects(),
                        flags(d, s),
                        List.of());
            } else {
                // The pool's own records are not objects of its clients.
                s = new StatFs(
                        d.name(),
                        s.totalBytes(),
                        s.freeBytes(),
                        s.availableBytes(),
                        Math.max(0, s.objects() - reservedObjects()),
                        s.freeObjects(),
                        flags(d, s),
                        List.of());
            }
            rows.add(s);
            // A read cache adds no room for data: its row is shown, its bytes are not the pool's.
            if (d.state() != DeviceState.FAILED && d.state() != DeviceState.SPARE && !d.has(Role.CACHE)) {
                total += s.totalBytes();
                free += s.freeBytes();
                avail += d.state().writable() ? s.availableBytes() : 0;
            }
        }
        Set<StatFs.Flag> flags = EnumSet.noneOf(StatFs.Flag.class);
        // A failed read cache loses nothing the pool counts on: its own row says so, the pool's does not.
        if (devices.stream().anyMatch(d -> d.state() == DeviceState.FAILED && !d.has(Role.CACHE))) {
            flags.add(StatFs.Flag.DEGRADED);
        }
        StatFs mds = rows.get(mdDevice.index());
        return new StatFs(name, total, free, avail, mds.objects(), mds.freeObjects(), flags, rows);
    }

    private static Set<StatFs.Flag> flags(PoolDevice d, StatFs s) {
        Set<StatFs.Flag> f = EnumSet.noneOf(StatFs.Flag.class);
        f.addAll(s.flags());
        if (d.state() == DeviceState.RO || d.state() == DeviceState.SPARE) {
            f.add(StatFs.Flag.READONLY);
        }
        if (d.state() == DeviceState.FAILED) {
            f.add(StatFs.Flag.DEGRADED);
        }
        return f;
    }

    /**
     * The pool's own records on the metadata device (superblock, work index, counters, device
     * indexes, heat checkpoint, sync-copy key leases): objects its clients never see, so statfs does not count them.
     */
    private long reservedObjects() throws OsdException {
        long n = 0;
        for (Fid f : reservedFids()) {
            if (mdDevice.osd().exists(f)) {
                n++;
            }
        }
        return n;
    }

    private List<Fid> reservedFids() {
        List<Fid> out = new ArrayList<>();
        out.add(PoolFids.SUPER);
        out.add(PoolFids.HEAT);
        out.add(PoolFids.SYNC_KEYS);
        for (int s = 0; s < PoolFids.STRIPES; s++) {
            out.add(PoolFids.work(s));
            out.add(PoolFids.counters(s));
            for (PoolDevice d : devices) {
                out.add(PoolFids.deviceIndex(d.index(), s));
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return "PoolContext(" + name + ": " + devices + ")";
    }
}
