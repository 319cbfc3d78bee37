package dev.spillway.pool.layout;

/**
 * The blob a component entry points at ({@code lcme_offset}, {@code lcme_size}): a striped
 * layout on OST-like devices, or a foreign HSM copy.
 */
public sealed interface SubLayout permits StripeLayout, HsmForeign {

    /** The blob's magic: {@code LOV_MAGIC_V1}, {@code LOV_MAGIC_V3} or {@code LOV_MAGIC_FOREIGN}. */
    int magic();

    /** The blob's size in bytes ({@code lcme_size}). */
    int encodedSize();
}
