package dev.spillway.pool.meta;

import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * CRC32C of each chunk of a body, so that a ranged read from a spill device can be verified by
 * reading only the chunks it covers. Chunks are 1 MiB, doubled as needed to keep at most
 * {@link #MAX_CHUNKS} of them (so the list fits a metadata xattr even for very large objects).
 *
 * @param chunkShift log2 of the chunk size
 * @param crcs one CRC32C per chunk; the last chunk may be short
 */
public record Checksums(int chunkShift, int[] crcs) {
    public static final int MIN_SHIFT = 20;
    public static final int MAX_CHUNKS = 4096;
    public static final Checksums NONE = new Checksums(MIN_SHIFT, new int[0]);

    /** The chunk shift for a body of {@code size} bytes. */
    public static int shiftFor(long size) {
        return shiftFor(size, MIN_SHIFT);
    }

    /**
     * The chunk shift for a body of {@code size} bytes whose chunks are at least {@code 2^minShift}
     * bytes (a stripe object's chunks hold whole stripe units).
     */
    public static int shiftFor(long size, int minShift) {
        int s = Math.max(MIN_SHIFT, minShift);
        while ((size + (1L << s) - 1) >>> s > MAX_CHUNKS) {
            s++;
        }
        return s;
    }

    public long chunkSize() {
        return 1L << chunkShift;
    }

    public static int crc(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        return (int) c.getValue();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Checksums c && c.chunkShift == chunkShift && Arrays.equals(c.crcs, crcs);
    }

    @Override
    public int hashCode() {
        return chunkShift * 31 + Arrays.hashCode(crcs);
    }

    @Override
    public String toString() {
        return "Checksums(chunk " + chunkSize() + ", " + crcs.length + " crcs)";
    }
}
