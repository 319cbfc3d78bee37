package dev.spillway.pool.device;

/**
 * A device's I/O errors since the mount: the calls that failed with EIO, counted by its
 * {@link DeviceHealth}. A value: {@link PoolDevice#ioErrors()} returns a new one each time.
 *
 * @param reads failed reads
 * @param writes failed writes (transaction steps and syncs)
 */
public record IoErrors(long reads, long writes) {
    /** No errors (and what a device that is not counted, the metadata device, reports). */
    public static final IoErrors NONE = new IoErrors(0, 0);
}
