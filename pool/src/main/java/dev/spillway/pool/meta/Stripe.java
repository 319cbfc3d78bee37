package dev.spillway.pool.meta;

import dev.spillway.osd.Fid;

/**
 * One part of a copy: the object holding it on one device. A whole (unstriped) copy has one part,
 * itself; a striped copy (RAID0 over a striping tier, {@link Copy#striped()}) has one per stripe,
 * each a separate object with its own key, so that its job, its device-index entry and its counter
 * are those of an ordinary copy on that device.
 *
 * @param device the device index
 * @param key the stripe object's FID on that device
 * @param bytes what it occupies on its device (its length while pending), for the counters
 * @param checksums CRC32C per chunk of the stripe object (chunks hold whole stripe units)
 */
public record Stripe(int device, Fid key, long bytes, Checksums checksums) {

    /**
     * Bytes of stripe {@code i} of a body of {@code size} bytes striped RAID0 over {@code count}
     * stripes of {@code unit} bytes: unit {@code u} of the body is unit {@code u / count} of stripe
     * {@code u % count}.
     */
    public static long length(long size, int count, int unit, int i) {
        long full = size / unit;
        long rest = size % unit;
        long units = full / count + (i < full % count ? 1 : 0);
        return units * unit + (full % count == i ? rest : 0);
    }

    /** Where byte {@code off} of the body lies: {@code [stripe, offset in that stripe]}. */
    public static long[] locate(long off, int count, int unit) {
        long u = off / unit;
        return new long[] {u % count, (u / count) * unit + off % unit};
    }

    public Stripe withBytes(long b, Checksums sums) {
        return new Stripe(device, key, b, sums);
    }
}
