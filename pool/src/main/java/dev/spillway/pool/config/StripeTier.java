package dev.spillway.pool.config;

import java.util.List;

/**
 * One entry of the pool configuration's {@code striping:} list: background devices that hold
 * striped (RAID0) copies together. A copy placed on any device of the tier, of an object of at
 * least {@link #minObjectSize} bytes, is striped over {@link #stripeCount} devices of the tier
 * (the chosen device first, then the next writable ones in the tier's order), one stripe object per
 * device, {@link #stripeSize} bytes per stripe unit, as Lustre's RAID0 ({@code lmm_stripe_count},
 * {@code lmm_stripe_size}).
 *
 * @param devices the tier's background devices, in configuration order of the entry; each belongs
 *     to at most one tier
 * @param stripeCount stripes of a copy, 2..the number of devices
 * @param stripeSize bytes of one stripe unit: a power of two from 64 KiB (Lustre's
 *     {@code LOV_MIN_STRIPE_SIZE}) to 1 GiB, so that a stripe's checksum chunks (1 MiB or more, a
 *     power of two) hold whole units
 * @param minObjectSize objects smaller than this keep whole (unstriped) copies on the tier; 0
 *     stripes every object
 */
public record StripeTier(List<String> devices, int stripeCount, int stripeSize, long minObjectSize) {
    /** The smallest stripe size, Lustre's {@code LOV_MIN_STRIPE_SIZE}. */
    public static final int MIN_STRIPE_SIZE = 1 << 16;
    /** The largest stripe size (fits {@code lmm_stripe_size}, a u32, and a Java array). */
    public static final int MAX_STRIPE_SIZE = 1 << 30;

    public StripeTier {
        devices = List.copyOf(devices);
        if (stripeCount < 2 || stripeCount > devices.size()) {
            throw new IllegalArgumentException(
                    "stripe-count " + stripeCount + " must be 2.." + devices.size() + " (the tier's devices)");
        }
        if (Integer.bitCount(stripeSize) != 1 || stripeSize < MIN_STRIPE_SIZE || stripeSize > MAX_STRIPE_SIZE) {
            throw new IllegalArgumentException(
                    "stripe-size " + stripeSize + " must be a power of two from 64KiB to 1GiB");
        }
        if (minObjectSize < 0) {
            throw new IllegalArgumentException("min-object-size must not be negative");
        }
    }

    /** True if a copy of an object of {@code size} bytes on this tier is striped. */
    public boolean stripes(long size) {
        return size >= minObjectSize;
    }
}
