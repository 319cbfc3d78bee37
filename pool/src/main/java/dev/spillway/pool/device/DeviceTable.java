package dev.spillway.pool.device;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Capability;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.SpaceClass;
import dev.spillway.osd.Transaction;
import dev.spillway.pool.config.DeviceConfig;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.Role;
import dev.spillway.pool.meta.PoolFids;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The pool's records in its superblock index on the metadata device: the format, the pool's name
 * and the device table (name, backend, roles, state, durability per device index). At mount the
 * YAML is checked against it, so a device cannot silently swap places; devices may be appended.
 */
public final class DeviceTable {
    static final String FORMAT = "spillway-pool 1";

    private DeviceTable() {}

    private static byte[] k(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String v(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    static String deviceKey(int index) {
        return String.format("device/%04d", index);
    }

    /** The persisted form of a device entry: "name backend roles state durability". */
    static String encode(String name, String backend, Set<Role> roles, DeviceState state, int durability) {
        String r = roles.stream().map(Role::yamlName).sorted().collect(Collectors.joining(","));
        return name + " " + backend + " " + r + " " + state.yamlName() + " " + durability;
    }

    /** A persisted device entry. */
    public record Entry(
            int index, String name, String backend, EnumSet<Role> roles, DeviceState state, int durability) {}

    static Entry decode(int index, String s) throws OsdException {
        String[] p = s.split(" ");
        if (p.length != 5) {
            throw new OsdException(
                    Errno.EPROTO, null, "pool superblock: device " + index + " entry malformed: '" + s + "'");
        }
        EnumSet<Role> roles = EnumSet.noneOf(Role.class);
        for (String r : p[2].split(",")) {
            roles.add(Role.valueOf(r.toUpperCase(Locale.ROOT)));
        }
        return new Entry(index, p[0], p[1], roles, DeviceState.parse(p[3]), Integer.parseInt(p[4]));
    }

    /** True if the metadata device holds a pool. */
    public static boolean formatted(Osd md) throws OsdException {
        return md.exists(PoolFids.SUPER);
    }

    /** The persisted device table, by index. */
    public static List<Entry> read(Osd md) throws OsdException {
        Optional<byte[]> f = md.lookup(PoolFids.SUPER, k("format"));
        if (f.isEmpty() || !v(f.get()).equals(FORMAT)) {
            throw new OsdException(
                    Errno.EPROTO,
                    md.name(),
                    PoolFids.SUPER,
                    "pool superblock format " + f.map(DeviceTable::v).orElse("(missing)") + " not understood (want "
                            + FORMAT + ")");
        }
        List<Entry> out = new ArrayList<>();
        for (int i = 0; ; i++) {
            Optional<byte[]> e = md.lookup(PoolFids.SUPER, k(deviceKey(i)));
            if (e.isEmpty()) {
                return out;
            }
            out.add(decode(i, v(e.get())));
        }
    }

    public static String poolName(Osd md) throws OsdException {
        return md.lookup(PoolFids.SUPER, k("name")).map(DeviceTable::v).orElse("?");
    }

    /** Creates the superblock and every internal index of a new pool. */
    public static void format(Osd md, PoolConfig cfg) throws OsdException {
        try (Transaction tx = md.newTransaction()) {
            tx.declareCreate(PoolFids.SUPER, ObjectKind.INDEX);
            tx.declareInsert(PoolFids.SUPER, 64, 256);
            for (int s = 0; s < PoolFids.STRIPES; s++) {
                tx.declareCreate(PoolFids.work(s), ObjectKind.INDEX);
                tx.declareCreate(PoolFids.counters(s), ObjectKind.INDEX);
            }
            for (DeviceConfig d : cfg.devices()) {
                for (int s = 0; s < PoolFids.STRIPES; s++) {
                    tx.declareCreate(PoolFids.deviceIndex(d.index(), s), ObjectKind.INDEX);
                }
            }
            tx.setSync(true);
            tx.start();
            tx.create(PoolFids.SUPER, ObjectKind.INDEX, AttrChange.none());
            tx.insert(PoolFids.SUPER, k("format"), k(FORMAT));
            tx.insert(PoolFids.SUPER, k("name"), k(cfg.name()));
            for (int s = 0; s < PoolFids.STRIPES; s++) {
                tx.create(PoolFids.work(s), ObjectKind.INDEX, AttrChange.none());
                tx.create(PoolFids.counters(s), ObjectKind.INDEX, AttrChange.none());
            }
            for (DeviceConfig d : cfg.devices()) {
                addDevice(tx, d);
            }
        }
    }

    private static void addDevice(Transaction tx, DeviceConfig d) throws OsdException {
        tx.insert(
                PoolFids.SUPER,
                k(deviceKey(d.index())),
                k(encode(d.name(), d.backend(), d.roles(), d.state(), d.durability())));
        for (int s = 0; s < PoolFids.STRIPES; s++) {
            tx.create(PoolFids.deviceIndex(d.index(), s), ObjectKind.INDEX, AttrChange.none());
        }
    }

    /**
     * Checks the YAML against the persisted table: same name, backend and roles at every index;
     * devices may only be appended (they are added to the table here). Returns the persisted
     * states, which rule over the YAML's after format.
     */
    public static List<Entry> check(Osd md, PoolConfig cfg) throws OsdException {
        List<Entry> table = read(md);
        for (Entry e : table) {
            if (e.index() >= cfg.devices().size()) {
                throw new OsdException(
                        Errno.EINVAL,
                        md.name(),
                        "pool '" + cfg.name() + "': device " + e.index() + " ('" + e.name()
                                + "') is in the pool but missing from the configuration; devices cannot be removed by editing the YAML (evacuate it first)");
            }
            DeviceConfig d = cfg.devices().get(e.index());
            if (!d.name().equals(e.name())
                    || !d.backend().equals(e.backend())
                    || !d.roles().equals(e.roles())) {
                throw new OsdException(
                        Errno.EINVAL,
                        md.name(),
                        "pool '" + cfg.name() + "': devices[" + e.index() + "] is '" + d.name()
                                + "' (" + d.backend() + ", " + d.roles() + ") in the configuration but '" + e.name()
                                + "' (" + e.backend() + ", "
                                + e.roles() + ") in the pool; devices cannot swap places");
            }
        }
        if (cfg.devices().size() > table.size()) {
            List<DeviceConfig> added =
                    cfg.devices().subList(table.size(), cfg.devices().size());
            try (Transaction tx = md.newTransaction()) {
                tx.declareInsert(PoolFids.SUPER, 64, 256);
                for (DeviceConfig d : added) {
                    for (int s = 0; s < PoolFids.STRIPES; s++) {
                        tx.declareCreate(PoolFids.deviceIndex(d.index(), s), ObjectKind.INDEX);
                    }
                }
                tx.setSync(true);
                tx.start();
                for (DeviceConfig d : added) {
                    addDevice(tx, d);
                }
            }
            table = read(md);
        }
        return table;
    }

    /** Persists a device's new state. */
    public static void setState(Osd md, PoolDevice d) throws OsdException {
        try (Transaction tx = md.newTransaction()) {
            tx.declareInsert(PoolFids.SUPER, 64, 256);
            tx.setSync(true);
            tx.start();
            tx.upsert(
                    PoolFids.SUPER,
                    k(deviceKey(d.index())),
                    k(encode(d.name(), d.backend(), d.roles(), d.state(), d.durability())));
        }
    }

    // ---- the lost-marking pass of a failed device ---------------------------------------------

    static String lostKey(int index) {
        return String.format("lost-pass/%04d", index);
    }

    /** Bytes of a lost-pass cursor: the device-index stripe, then the last entry's key. */
    public static final int LOST_CURSOR_BYTES = 1 + 2 * Fid.BYTES;

    /**
     * Persists a device's FAILED state and the start of its lost-marking pass, in one forced
     * transaction: a crash leaves the device either in its old state or failed with the pass to
     * resume at mount, never failed without the pass.
     */
    public static void fail(Osd md, PoolDevice d) throws OsdException {
        try (Transaction tx = md.newTransaction()) {
            tx.declareInsert(PoolFids.SUPER, 64, 256);
            tx.declareInsert(PoolFids.SUPER, 16, LOST_CURSOR_BYTES);
            tx.setSync(true);
            // The pool's own work (a few bytes): it must go through on a full metadata device.
            tx.setSpaceClass(SpaceClass.RESERVED);
            tx.start();
            tx.upsert(
                    PoolFids.SUPER,
                    k(deviceKey(d.index())),
                    k(encode(d.name(), d.backend(), d.roles(), DeviceState.FAILED, d.durability())));
            tx.upsert(PoolFids.SUPER, k(lostKey(d.index())), new byte[0]);
        }
    }

    /** The cursor of device {@code index}'s unfinished lost-marking pass (empty bytes: not begun). */
    public static Optional<byte[]> lostCursor(Osd md, int index) throws OsdException {
        return md.lookup(PoolFids.SUPER, k(lostKey(index)));
    }

    public static void declareLostCursor(Transaction tx) throws OsdException {
        tx.declareInsert(PoolFids.SUPER, 16, LOST_CURSOR_BYTES);
    }

    /** Moves the pass's cursor, in the transaction that marked the entry it names. */
    public static void moveLostCursor(Transaction tx, int index, byte[] cursor) throws OsdException {
        tx.upsert(PoolFids.SUPER, k(lostKey(index)), cursor);
    }

    /** Ends device {@code index}'s pass (forced; the caller has synced the markings before). */
    public static void endLostPass(Osd md, int index) throws OsdException {
        if (lostCursor(md, index).isEmpty()) {
            return;
        }
        try (Transaction tx = md.newTransaction()) {
            tx.declareDelete(PoolFids.SUPER, 16);
            tx.setSync(true);
            tx.setSpaceClass(SpaceClass.FREEING);
            tx.start();
            tx.delete(PoolFids.SUPER, k(lostKey(index)));
        }
    }

    /** Reads an allocator's persisted high-water mark. */
    public static long counter(Osd md, String name) throws OsdException {
        return md.lookup(PoolFids.SUPER, k("counter/" + name))
                .map(b -> Long.parseLong(v(b)))
                .orElse(0L);
    }

    /** Persists an allocator's high-water mark (durably: it guards against reuse after a crash). */
    public static void setCounter(Osd md, String name, long value) throws OsdException {
        try (Transaction tx = md.newTransaction()) {
            tx.declareInsert(PoolFids.SUPER, 64, 32);
            tx.setSync(true);
            tx.start();
            tx.upsert(PoolFids.SUPER, k("counter/" + name), k(Long.toString(value)));
        }
    }

    /** Checks a device's capabilities against its roles; the error names the device and what it lacks. */
    public static void checkCapabilities(String pool, DeviceConfig d, Osd osd) throws OsdException {
        List<Capability> need = new ArrayList<>();
        if (d.has(Role.METADATA)) {
            need.addAll(Arrays.asList(Capability.TRANSACTIONS, Capability.XATTRS, Capability.INDEX));
        }
        if (d.has(Role.FOREGROUND) || d.has(Role.PROMOTE)) {
            need.add(Capability.TRANSACTIONS);
        }
        for (Capability c : need) {
            if (!osd.capabilities().has(c)) {
                throw new OsdException(
                        Errno.EOPNOTSUPP,
                        d.name(),
                        "pool '" + pool + "': device '" + d.name() + "' (backend " + d.backend() + ") has roles "
                                + d.roles() + " but does not advertise " + c + "; " + roleReason(c));
            }
        }
    }

    private static String roleReason(Capability c) {
        return switch (c) {
            case TRANSACTIONS -> "layouts, the work index and foreground writes must change atomically";
            case XATTRS ->
                "layouts are kept as xattrs (the thread's \"OSD advertises that it doesn't support EA\" case)";
            case INDEX -> "the pool's work index, device indexes and counters are index objects";
            default -> "the role needs it";
        };
    }

    /** True if a FID is one of the pool's internal objects. */
    public static boolean internal(Fid fid) {
        return fid.seq() == PoolFids.SEQ;
    }
}
