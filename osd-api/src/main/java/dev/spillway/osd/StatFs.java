package dev.spillway.osd;

import java.util.List;
import java.util.Set;

/**
 * Space and object counts, as Lustre's {@code struct obd_statfs}. {@code available} may be less
 * than {@code free} (space reserved for running transactions, or for the device itself).
 * A pool reports its sum here and one row per device in {@link #devices()}; a single device has
 * no rows.
 *
 * @param device the device (or pool) name
 * @param totalBytes capacity in bytes
 * @param freeBytes bytes not used
 * @param availableBytes bytes a new transaction may still reserve
 * @param objects objects held
 * @param freeObjects more objects that could be created (Long.MAX_VALUE when unlimited)
 * @param flags state of the device
 * @param devices one row per device of a pool; empty for a single device
 */
public record StatFs(
        String device,
        long totalBytes,
        long freeBytes,
        long availableBytes,
        long objects,
        long freeObjects,
        Set<Flag> flags,
        List<StatFs> devices) {

    /** Device state flags, as Lustre's {@code OS_STATFS_*}. */
    public enum Flag {
        /** Non-rotational (flash or memory). */
        NONROTATIONAL,
        /** Read-only: transactions fail with EROFS. */
        READONLY,
        /** Degraded: some data may have reduced redundancy. */
        DEGRADED,
        /** Volatile: contents are lost at unmount or crash. */
        VOLATILE
    }

    public StatFs {
        flags = Set.copyOf(flags);
        devices = List.copyOf(devices);
    }

    /** A single device's row. */
    public static StatFs of(
            String device, long total, long free, long available, long objects, long freeObjects, Set<Flag> flags) {
        return new StatFs(device, total, free, available, objects, freeObjects, flags, List.of());
    }

    /** Bytes in use. */
    public long usedBytes() {
        return totalBytes - freeBytes;
    }
}
