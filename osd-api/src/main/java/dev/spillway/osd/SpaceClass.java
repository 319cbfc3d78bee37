package dev.spillway.osd;

/**
 * Whose space a transaction may take, as ZFS's {@code zfs_space_check_t} and ext4's reserved
 * blocks decide it. A device keeps a <em>reserve</em> ({@link Osd#setReserve}) that client work
 * never reaches: a client sees the device full at the reserve boundary, while the work that keeps
 * a stacked pool alive on a full device (rolling back, spilling, collecting garbage, deleting)
 * still finds room. Set with {@link Transaction#setSpaceClass} before start; the default is
 * {@link #CLIENT}.
 *
 * <p>A device without space accounting of its own treats every class alike.
 */
public enum SpaceClass {
    /**
     * A client's work (the default): start reserves the declared bytes out of the free space
     * minus the device's reserve, and fails with ENOSPC if they are not there.
     */
    CLIENT,
    /**
     * The stacking layer's own bookkeeping (layout updates, pending copies, counters): start
     * reserves the declared bytes out of all the free space, the reserve included. Whoever uses
     * it must bound how much of it is in flight at once; that bound is what the reserve is sized
     * from.
     */
    RESERVED,
    /**
     * Work that gives space back (a roll-back, garbage collection, a delete, a record rewritten
     * in place): start reserves nothing, and an update takes only what it grows the device beyond
     * what the transaction already freed, out of all the free space, the reserve included. A
     * transaction that frees at least what it adds, in that order, never fails for lack of space,
     * also on a device that is full or over its capacity; one that grows anyway may meet ENOSPC
     * at the update (and a device with transactions then discards all of it at stop).
     */
    FREEING
}
