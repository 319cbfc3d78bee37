package dev.spillway.osd.s3;

import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.zip.CRC32C;

/**
 * The CRC32C of every 1 MiB block of a body, so that a ranged read can be verified by fetching
 * only the blocks it covers. Computed from the bytes the transaction wrote, before they leave the
 * process; a read that does not match is EIO, never silently wrong data.
 *
 * <p>Where the list lives ({@link #encode}): in the object's own metadata ({@code i} + base64)
 * when it has at most {@link #INLINE_MAX} blocks, so a small object costs no extra request; else
 * in a sidecar object ({@code s} + token, see {@link S3Keys#sums}) written before the body becomes
 * visible — the metadata of a multipart upload is fixed when the upload starts, before the later
 * parts' sums are known.
 *
 * @param size the body's size
 * @param crcs one CRC32C per block, the last block short
 */
record BlockSums(long size, int[] crcs) {
    static final int SHIFT = 20;
    static final int BLOCK = 1 << SHIFT;
    static final int INLINE_MAX = 8;
    /** The longest {@link #encode} result. */
    static final int MAX_ENCODED = 1 + (INLINE_MAX * 4 * 4 + 2) / 3;

    static final BlockSums EMPTY = new BlockSums(0, new int[0]);
    private static final int MAGIC = 0x53575331; // "SWS1"

    boolean inline() {
        return crcs.length <= INLINE_MAX;
    }

    /** The metadata value: the inline list, or the sidecar's token. */
    String encode(String token) {
        if (!inline()) {
            return "s" + token;
        }
        ByteBuffer b = ByteBuffer.allocate(crcs.length * 4);
        for (int c : crcs) {
            b.putInt(c);
        }
        return "i" + Base64.getEncoder().withoutPadding().encodeToString(b.array());
    }

    static String sidecarValue(String token) {
        return "s" + token;
    }

    static void checkEncoded(String enc) {
        if (enc.isEmpty()
                || (enc.charAt(0) != 'i' && enc.charAt(0) != 's')
                || (enc.charAt(0) == 's' && enc.length() < 2)) {
            throw new IllegalArgumentException("block sums '" + enc + "' are neither inline nor a sidecar token");
        }
        if (enc.charAt(0) == 'i') {
            inlineCrcs(enc);
        }
    }

    /** The sidecar token of an encoded value, or null if the list is inline. */
    static String token(String enc) {
        return enc.charAt(0) == 's' ? enc.substring(1) : null;
    }

    static int[] inlineCrcs(String enc) {
        byte[] b = Base64.getDecoder().decode(enc.substring(1));
        if (b.length % 4 != 0) {
            throw new IllegalArgumentException("inline block sums of " + b.length + " bytes");
        }
        int[] out = new int[b.length / 4];
        ByteBuffer bb = ByteBuffer.wrap(b);
        for (int i = 0; i < out.length; i++) {
            out[i] = bb.getInt();
        }
        return out;
    }

    /** The sidecar object's bytes: magic, size, count, CRCs, big-endian. */
    byte[] sidecar() {
        ByteBuffer b = ByteBuffer.allocate(16 + crcs.length * 4);
        b.putInt(MAGIC).putLong(size).putInt(crcs.length);
        for (int c : crcs) {
            b.putInt(c);
        }
        return b.array();
    }

    static BlockSums parseSidecar(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        if (bytes.length < 16 || b.getInt() != MAGIC) {
            throw new IllegalArgumentException("not a block-sums sidecar (" + bytes.length + " bytes, bad magic)");
        }
        long size = b.getLong();
        int n = b.getInt();
        if (n != blocks(size) || bytes.length != 16 + 4L * n) {
            throw new IllegalArgumentException(
                    "sidecar of " + bytes.length + " bytes lists " + n + " blocks for a body of " + size);
        }
        int[] crcs = new int[n];
        for (int i = 0; i < n; i++) {
            crcs[i] = b.getInt();
        }
        return new BlockSums(size, crcs);
    }

    static int blocks(long size) {
        return (int) ((size + BLOCK - 1) >>> SHIFT);
    }

    static int crc(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        return (int) c.getValue();
    }

    /** Base64 of a CRC32C, as the {@code x-amz-checksum-crc32c} header wants it. */
    static String header(int crc) {
        return Base64.getEncoder()
                .encodeToString(ByteBuffer.allocate(4).putInt(crc).array());
    }

    /** Computes the block list as the body streams through, whatever the write sizes. */
    static final class Builder {
        private final CRC32C cur = new CRC32C();
        private int inBlock;
        private long size;
        private int[] crcs = new int[16];
        private int n;

        void update(byte[] b, int off, int len) {
            while (len > 0) {
                int k = Math.min(len, BLOCK - inBlock);
                cur.update(b, off, k);
                inBlock += k;
                size += k;
                off += k;
                len -= k;
                if (inBlock == BLOCK) {
                    close();
                }
            }
        }

        private void close() {
            if (n == crcs.length) {
                crcs = java.util.Arrays.copyOf(crcs, n * 2);
            }
            crcs[n++] = (int) cur.getValue();
            cur.reset();
            inBlock = 0;
        }

        long size() {
            return size;
        }

        BlockSums build() {
            if (inBlock > 0) {
                close();
            }
            return new BlockSums(size, java.util.Arrays.copyOf(crcs, n));
        }
    }
}
