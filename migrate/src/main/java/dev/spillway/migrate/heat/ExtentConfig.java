package dev.spillway.migrate.heat;

/**
 * Heat per extent (range-level placement, issue 20): the {@code policy:} keys {@code
 * extent-threshold}, {@code extent-size} and {@code extent-heat-cap}.
 *
 * @param threshold objects of at least this many bytes are tracked per extent (0: none are)
 * @param extentSize the extent's length: a multiple of 64 KiB (Lustre's {@code
 *     LOV_MIN_STRIPE_SIZE}, the pool's range alignment), at least 64 KiB
 * @param cap the most extents tracked at once, all objects together: an object that would pass it
 *     is placed whole, as a small one is
 */
public record ExtentConfig(long threshold, long extentSize, long cap) {
    /** The pool's range alignment (its {@code Span.ALIGN}). */
    public static final long ALIGN = 64 * 1024;

    public ExtentConfig {
        if (threshold < 0) {
            throw new IllegalArgumentException("extent-threshold must not be negative: " + threshold);
        }
        if (extentSize < ALIGN || extentSize % ALIGN != 0) {
            throw new IllegalArgumentException(
                    "extent-size must be a multiple of 64 KiB (the pool's range alignment): " + extentSize);
        }
        if (cap < 0 || cap > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("extent-heat-cap must be in [0, 2^31): " + cap);
        }
    }

    /** Objects of 256 MiB and more, 64 MiB extents, at most 262,144 extents (16 TiB of them). */
    public static ExtentConfig defaults() {
        return new ExtentConfig(256L << 20, 64L << 20, 262_144);
    }

    /** True if an object of {@code size} bytes is tracked per extent (room in the cap aside). */
    public boolean covers(long size) {
        return threshold > 0 && size >= threshold && cap > 0;
    }

    /** Extents of a body of {@code size} bytes (the last may be short). */
    public long extentsOf(long size) {
        return Math.max(1, size / extentSize + (size % extentSize == 0 ? 0 : 1));
    }
}
