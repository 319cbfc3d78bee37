package dev.spillway.pool.meta;

import dev.spillway.osd.Fid;

/**
 * One copy (FLR mirror) of an object's body.
 *
 * @param mirrorId the FLR mirror id (unique within the object's layout)
 * @param device the device index
 * @param key the copy's FID on that device (for the metadata device: the object's own FID)
 * @param state pending, in sync or stale
 * @param version the object's data version the copy holds (HSM archive version)
 * @param bytes what the copy occupies on its device (its allocated blocks; the object's size
 *     while pending), for the counters
 * @param preferred the preferred read copy ({@code LCME_FL_PREF_RD})
 * @param checksums CRC32C per chunk of the body, for copies on devices other than the metadata
 *     device; verified on every read from them and by scrub
 */
public record Copy(
        int mirrorId,
        int device,
        Fid key,
        CopyState state,
        long version,
        long bytes,
        boolean preferred,
        Checksums checksums) {

    public Copy withState(CopyState s) {
        return new Copy(mirrorId, device, key, s, version, bytes, preferred, checksums);
    }

    public Copy withPreferred(boolean p) {
        return new Copy(mirrorId, device, key, state, version, bytes, p, checksums);
    }

    public Copy inSync(long v, long length, Checksums sums) {
        return new Copy(mirrorId, device, key, CopyState.IN_SYNC, v, length, preferred, sums);
    }
}
