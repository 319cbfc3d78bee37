package dev.spillway.gateway.s3.auth;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Arrays;
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

    /** True for the CRCs, whose checksums of parts combine into the whole body's (FULL_OBJECT). */
    public boolean combinable() {
        return this == CRC32 || this == CRC32C || this == CRC64NVME;
    }

    /** The checksum types S3 allows: FULL_OBJECT only for CRC64NVME, COMPOSITE only for SHA. */
    public boolean allows(String checksumType) {
        return switch (checksumType) {
            case "FULL_OBJECT" -> combinable();
            case "COMPOSITE" -> this != CRC64NVME;
            default -> false;
        };
    }

    /** The type a multipart upload gets when CreateMultipartUpload names none. */
    public String defaultMultipartType() {
        return this == CRC64NVME ? "FULL_OBJECT" : "COMPOSITE";
    }

    /** The XML element and SDK field name, e.g. {@code ChecksumCRC32C}. */
    public String element() {
        return "Checksum" + name();
    }

    /**
     * The CRC of {@code A || B} from the CRC of A, the CRC of B and B's length (base64 values):
     * the CRC of A multiplied by x^(8·lenB) modulo the polynomial, xor the CRC of B. Exact for
     * these CRCs because their initial value equals their final xor (all ones).
     */
    public String combine(String crcA, String crcB, long lenB) {
        if (!combinable()) {
            throw new IllegalStateException(this + " checksums do not combine");
        }
        int width = this == CRC64NVME ? 64 : 32;
        long poly = switch (this) {
            case CRC32 -> 0xedb88320L;
            case CRC32C -> 0x82f63b78L;
            default -> 0x9a6c9329ac4bc9b5L;
        };
        long a = decode(crcA);
        long b = decode(crcB);
        long shifted = Crc.multiply(a, Crc.xPow(8 * lenB, poly, width), poly, width);
        long v = shifted ^ b;
        byte[] raw = ByteBuffer.allocate(8).putLong(v).array();
        return Base64.getEncoder().encodeToString(Arrays.copyOfRange(raw, 8 - width / 8, 8));
    }

    private static long decode(String b64) {
        long v = 0;
        for (byte x : Base64.getDecoder().decode(b64)) {
            v = (v << 8) | (x & 0xff);
        }
        return v;
    }

    /** Polynomial arithmetic over GF(2) in the reflected bit order of these CRCs. */
    private static final class Crc {
        private Crc() {}

        /** a·b mod p; the top bit of the width is x^0. */
        static long multiply(long a, long b, long poly, int width) {
            long one = 1L << (width - 1);
            long p = 0;
            for (long m = one; m != 0; m >>>= 1) {
                if ((a & m) != 0) {
                    p ^= b;
                }
                b = (b & 1) != 0 ? (b >>> 1) ^ poly : b >>> 1;
            }
            return p;
        }

        /** x^n mod p, by squaring. */
        static long xPow(long n, long poly, int width) {
            long result = 1L << (width - 1); // x^0
            long base = 1L << (width - 2); // x^1
            while (n > 0) {
                if ((n & 1) != 0) {
                    result = multiply(result, base, poly, width);
                }
                base = multiply(base, base, poly, width);
                n >>>= 1;
            }
            return result;
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
                return Base64.getEncoder().encodeToString(Arrays.copyOfRange(v, 8 - bytes, 8));
            }
        };
    }

    private static Hasher digest(MessageDigest messageDigest) {
        return new Hasher() {
            @Override
            public void update(byte[] b, int off, int len) {
                messageDigest.update(b, off, len);
            }

            @Override
            public String base64() {
                return Base64.getEncoder().encodeToString(messageDigest.digest());
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
