package dev.spillway.osd;

/**
 * What an OSD can do, advertised honestly at mount time in {@link Capabilities}. A caller checks
 * before relying on one; a call that needs a capability the OSD lacks fails with
 * {@link Errno#EOPNOTSUPP}, never silently.
 */
public enum Capability {
    /**
     * Every update of a {@link Transaction} becomes visible and durable together or not at all,
     * and a transaction whose update failed (or that was {@link Transaction#abort() aborted})
     * leaves nothing behind at {@link Transaction#stop()}. Without it, updates apply one by one as
     * they are made, and a crash can keep any prefix of them.
     */
    TRANSACTIONS,
    /**
     * Commit callbacks fire only once the transaction is durable (it survives a crash or power
     * loss). Without it they fire at {@link Transaction#stop()} and say nothing of durability
     * (a volatile device, or one that is durable only after {@link Osd#sync()}).
     */
    DURABLE_COMMIT,
    /** Extended attributes; {@link Capabilities#maxXattrValue()} says how large a value may be. */
    XATTRS,
    /** {@link ObjectKind#INDEX} objects with ordered cursors. */
    INDEX,
    /** {@link Transaction#punch} deallocates a range (it reads back as zeros). */
    PUNCH,
    /** {@link Osd#seekData} and {@link Osd#seekHole} report real holes, not just end of object. */
    SPARSE_SEEK,
    /**
     * Writes at any offset of an existing body. Without it, a transaction's writes to an object
     * must start at offset 0 and continue sequentially, and the first one replaces the whole
     * body: the whole-object PUT of an object store. Anything else fails with EOPNOTSUPP.
     */
    PARTIAL_WRITE,
    /** A body written in one transaction replaces the old one atomically for readers. */
    ATOMIC_REPLACE,
    /** The device checksums bodies end to end and fails a read of corrupt data with EIO. */
    CHECKSUMS,
    /** Objects can be listed with {@link Osd#listObjects()} (for fsck and full-scan mounts). */
    LIST_OBJECTS
}
