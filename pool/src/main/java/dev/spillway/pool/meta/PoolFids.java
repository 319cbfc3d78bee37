package dev.spillway.pool.meta;

import dev.spillway.osd.Fid;

/**
 * The FIDs the pool reserves for itself. Its records live on the metadata device in Lustre's
 * "local file" sequence ({@code FID_SEQ_LOCAL_FILE}, 0x200000001), which clients of the pool may
 * not use; copies on other devices are named from a sequence range of their own, so a copy's key
 * never collides with a client's FID.
 *
 * <p>Shared records are striped by the object's FID so that transactions on different objects
 * rarely touch the same record (no global lock on the data path).
 */
public final class PoolFids {
    /** Lustre's FID_SEQ_LOCAL_FILE: OSD-internal objects. */
    public static final long SEQ = 0x200000001L;
    /** First sequence of copy keys on devices (an unused range of the normal FID space). */
    public static final long COPY_SEQ_BASE = 0x2c0000000L;

    /** Stripes of the work index, the counters and each per-device index. */
    public static final int STRIPES = 16;

    /** The superblock index: format, device table, allocators. */
    public static final Fid SUPER = new Fid(SEQ, 1, 0);
    /** The heat checkpoint (a DATA object written by the migration daemon). */
    public static final Fid HEAT = new Fid(SEQ, 2, 0);
    /** The index of keys leased for sync writes' extra copies ({@code SyncKeys}). */
    public static final Fid SYNC_KEYS = new Fid(SEQ, 3, 0);

    private static final int WORK_BASE = 0x100;
    private static final int COUNTER_BASE = 0x200;
    private static final int DEVICE_INDEX_BASE = 0x10000;

    private PoolFids() {}

    /** True for FIDs clients may not use. */
    public static boolean reserved(Fid fid) {
        return fid.seq() == SEQ || (fid.seq() >= COPY_SEQ_BASE && fid.seq() < COPY_SEQ_BASE + 0x10000000L);
    }

    public static int stripe(Fid fid) {
        long h = fid.seq() * 0x9E3779B97F4A7C15L + fid.oid() * 0xC2B2AE3D27D4EB4FL + fid.ver();
        return (int) ((h ^ (h >>> 29)) & (STRIPES - 1));
    }

    public static Fid work(int stripe) {
        return new Fid(SEQ, WORK_BASE + stripe, 0);
    }

    public static Fid workFor(Fid object) {
        return work(stripe(object));
    }

    public static Fid counters(int stripe) {
        return new Fid(SEQ, COUNTER_BASE + stripe, 0);
    }

    public static Fid countersFor(Fid object) {
        return counters(stripe(object));
    }

    /** Stripe {@code stripe} of the index of objects with a copy on device {@code device}. */
    public static Fid deviceIndex(int device, int stripe) {
        return new Fid(SEQ, DEVICE_INDEX_BASE + device * STRIPES + stripe, 0);
    }

    public static Fid deviceIndexFor(int device, Fid object) {
        return deviceIndex(device, stripe(object));
    }

    /** The copy key numbered {@code n}. */
    public static Fid copy(long n) {
        return new Fid(COPY_SEQ_BASE + (n >>> 32), (int) n, 0);
    }
}
