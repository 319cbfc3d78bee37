package dev.spillway.osd;

import java.util.EnumSet;
import java.util.Set;

/**
 * What an OSD can do and its limits, fixed at mount time.
 *
 * @param features the capabilities it really has
 * @param maxXattrValue the largest xattr value in bytes (0 without {@link Capability#XATTRS})
 * @param maxXattrName the longest xattr name in UTF-8 bytes
 * @param maxObjectSize the largest body offset + 1 in bytes
 * @param maxIndexKey the longest index key in bytes (0 without {@link Capability#INDEX})
 * @param maxIndexValue the longest index value in bytes
 * @param preferredIoSize the I/O size at which the device streams best, in bytes
 * @param blockSize the allocation unit: punch and seek-hole work at this granularity
 */
public record Capabilities(
        Set<Capability> features,
        int maxXattrValue,
        int maxXattrName,
        long maxObjectSize,
        int maxIndexKey,
        int maxIndexValue,
        int preferredIoSize,
        int blockSize) {

    public Capabilities {
        features = features.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(features));
    }

    /** True if the OSD has {@code c}. */
    public boolean has(Capability c) {
        return features.contains(c);
    }

    /** Throws {@link Errno#EOPNOTSUPP} naming the device and the operation unless {@code c} is had. */
    public void require(Capability c, String device, Fid fid, String operation) throws OsdException {
        if (!has(c)) {
            throw new OsdException(
                    Errno.EOPNOTSUPP,
                    device,
                    fid,
                    operation + " needs " + c + ", which this device does not advertise");
        }
    }
}
