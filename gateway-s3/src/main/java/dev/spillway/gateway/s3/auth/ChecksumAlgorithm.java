package dev.spillway.gateway.s3.auth;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Locale;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;
import java.util.zip.Checksum;

/** The additional checksums of S3 ({@code x-amz-checksum-*}), base64 of the big-endian value. */
public enum ChecksumAlgorithm {
    CRC32,
    CRC32C,
    CRC64NVME,
    SHA1,
    SHA256;

    /** A running checksum. */
    public interface Hasher {
        void update(byte[] b, int off, int len);

        /** The base64 value S3 exchanges. */
        String base64();
    }

    /** The header (and trailer) name, e.g. {@code x-amz-checksum-crc32}. */
    public String header() {
        return "x-amz-checksum-" + name().toLowerCase(Locale.ROOT);
    }

    /** The algorithm named in {@code x-amz-checksum-algorithm} or a header suffix, or null. */
    public static ChecksumAlgorithm of(String name) {
        if (name == null) {
            return null;
        }
        try {
            return valueOf(name.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    public Hasher newHasher() {
        return switch (this) {
            case CRC32 -> crc(new CRC32(), 4);
            case CRC32C -> crc(new CRC32C(), 4);
            case CRC64NVME -> new Crc64Nvme();
            case SHA1 -> digest(Hashing.digest("SHA-1"));
            case SHA256 -> digest(Hashing.sha256());
        };
    }

    private static Hasher crc(Checksum c, int bytes) {
        return new Hasher() {
            @Override
            public void update(byte[] b, int off, int len) {
                c.update(b, off, len);
            }

            @Override
            public String base64() {
                byte[] v = ByteBuffer.allocate(8).putLong(c.getValue()).array();
                return Base64.getEncoder().encodeToString(java.util.Arrays.copyOfRange(v, 8 - bytes, 8));
            }
        };
    }

    private static Hasher digest(MessageDigest md) {
        return new Hasher() {
            @Override
            public void update(byte[] b, int off, int len) {
                md.update(b, off, len);
            }

            @Override
            public String base64() {
                return Base64.getEncoder().encodeToString(md.digest());
            }
        };
    }

    /** CRC-64/NVME (reflected polynomial 0x9a6c9329ac4bc9b5, init and xor-out all ones). */
    private static final class Crc64Nvme implements Hasher {
        private static final long[] TABLE = new long[256];

        static {
            for (int i = 0; i < 256; i++) {
                long c = i;
                for (int k = 0; k < 8; k++) {
                    c = (c & 1) != 0 ? (c >>> 1) ^ 0x9a6c9329ac4bc9b5L : c >>> 1;
                }
                TABLE[i] = c;
            }
        }

        private long crc = -1L;

        @Override
        public void update(byte[] b, int off, int len) {
            long c = crc;
            for (int i = off; i < off + len; i++) {
                c = TABLE[(int) ((c ^ b[i]) & 0xff)] ^ (c >>> 8);
            }
            crc = c;
        }

        @Override
        public String base64() {
            return Base64.getEncoder()
                    .encodeToString(ByteBuffer.allocate(8).putLong(~crc).array());
        }
    }
}
