package dev.spillway.pool.device;

import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.StatFs;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.config.Role;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A mounted device of a pool: its place in the device table and the OSD that serves it. The state
 * is the persisted one and changes at run time ({@code device set-state}, evacuation).
 */
public final class PoolDevice {
    private final int index;
    private final String name;
    private final String backend;
    private final Set<Role> roles;
    private final int durability;
    private final Osd osd;
    // Written by set-state under the pool's device-table lock; read lock-free by the data path.
    private volatile DeviceState state;
    // Times the device became FAILED since the mount (a trip, set-state, a resumed lost pass):
    // what the pool kept of it in memory before (precreated sync-copy keys) may be gone.
    private final AtomicLong failures = new AtomicLong();

    public PoolDevice(
            int index, String name, String backend, Set<Role> roles, DeviceState state, int durability, Osd osd) {
        this.index = index;
        this.name = name;
        this.backend = backend;
        this.roles = Set.copyOf(roles);
        this.state = state;
        this.durability = durability;
        this.osd = osd;
    }

    public int index() {
        return index;
    }

    public String name() {
        return name;
    }

    public String backend() {
        return backend;
    }

    public Set<Role> roles() {
        return roles;
    }

    public boolean has(Role r) {
        return roles.contains(r);
    }

    public int durability() {
        return durability;
    }

    /**
     * The device's I/O errors since the mount (EIO answers counted by its {@link DeviceHealth});
     * {@link IoErrors#NONE} for the metadata device, which is not counted.
     */
    public IoErrors ioErrors() {
        return osd instanceof DeviceHealth h ? new IoErrors(h.readErrors(), h.writeErrors()) : IoErrors.NONE;
    }

    /** The device's statfs (what the daemon and the admin API read of a device). */
    public StatFs statfs() throws OsdException {
        return osd.statfs();
    }

    /**
     * The OSD that serves the device. For the pool's own packages: outside the pool (but the
     * benchmarks), nothing does I/O on a pool device behind the pool's back (ModuleGraphTest).
     */
    public Osd osd() {
        return osd;
    }

    public DeviceState state() {
        return state;
    }

    public synchronized void state(DeviceState s) {
        boolean failing = s == DeviceState.FAILED && state != DeviceState.FAILED;
        this.state = s;
        if (failing) {
            // After the state: a reader that checks the state and then reads this count sees
            // either FAILED or the new count (SyncKeys relies on it).
            failures.incrementAndGet();
        }
    }

    /** How many times the device became FAILED since the mount (it may have come back since). */
    public long failures() {
        return failures.get();
    }

    @Override
    public String toString() {
        return name + "#" + index + "(" + backend + ", " + state.yamlName() + ")";
    }
}
