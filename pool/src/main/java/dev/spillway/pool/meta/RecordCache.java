package dev.spillway.pool.meta;

import dev.spillway.osd.Fid;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The last loaded pool records, each with the {@link ChangeStamps change stamp} it was loaded
 * under: a record is served only while its object's stamp is still that one, so the cache is never
 * stale, only missing. Direct-mapped (a slot per FID hash, the newest load wins), lock-free; the
 * records are immutable. Each record's {@link ReadPlan} is kept with it, made from it at the put,
 * so it is served under exactly the same stamp.
 */
final class RecordCache {
    private static final int SLOTS = 4096;

    record Entry(Fid fid, long stamp, PoolObject record, ReadPlan plan) {}

    private final AtomicReferenceArray<Entry> slots = new AtomicReferenceArray<>(SLOTS);

    /** The record and plan cached for {@code fid} under {@code stamp}, or null. */
    Entry get(Fid fid, long stamp) {
        Entry e = slots.get(slot(fid));
        return e != null && e.stamp() == stamp && e.fid().equals(fid) ? e : null;
    }

    void put(Fid fid, long stamp, PoolObject record, ReadPlan plan) {
        slots.set(slot(fid), new Entry(fid, stamp, record, plan));
    }

    private static int slot(Fid fid) {
        return (fid.hashCode() * 0x9E3779B9 >>> 20) & (SLOTS - 1);
    }
}
