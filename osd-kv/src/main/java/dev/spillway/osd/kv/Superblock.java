package dev.spillway.osd.kv;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * The superblock, kept in {@code osd-kv.super} at the top of the folder and, as a copy, under
 * key {@code 'S'} in the database. 44 bytes, big-endian:
 *
 * <pre>
 *   0  magic          "SPWY-OKV" (8 bytes)
 *   8  format version u32  (this build writes and reads {@link #FORMAT_VERSION})
 *  12  block size     u32  (body block size, fixed at format)
 *  16  uuid           16 bytes
 *  32  created        u64  ms since the epoch
 *  40  crc32c         u32  of bytes 0..39
 * </pre>
 *
 * A folder is an osd-kv only if this file is there with the magic; a newer format version is
 * refused rather than guessed at.
 */
record Superblock(int formatVersion, int blockSize, UUID uuid, long createdMillis) {
    static final byte[] MAGIC = "SPWY-OKV".getBytes(StandardCharsets.US_ASCII);
    static final int FORMAT_VERSION = 1;
    static final int SIZE = 44;

    /** Why bytes are not a superblock this build can use. */
    static final class Invalid extends Exception {
        private static final long serialVersionUID = 1L;
        final boolean notOurs;
        final boolean newer;

        Invalid(String message, boolean notOurs, boolean newer) {
            super(message);
            this.notOurs = notOurs;
            this.newer = newer;
        }
    }

    byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(SIZE)
                .put(MAGIC)
                .putInt(formatVersion)
                .putInt(blockSize)
                .putLong(uuid.getMostSignificantBits())
                .putLong(uuid.getLeastSignificantBits())
                .putLong(createdMillis);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, SIZE - 4);
        b.putInt((int) crc.getValue());
        return b.array();
    }

    static Superblock decode(byte[] b) throws Invalid {
        if (b.length < MAGIC.length || !Arrays.equals(b, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw new Invalid("no osd-kv magic", true, false);
        }
        if (b.length != SIZE) {
            throw new Invalid("superblock is " + b.length + " bytes, expected " + SIZE, false, false);
        }
        ByteBuffer bb = ByteBuffer.wrap(b);
        CRC32C crc = new CRC32C();
        crc.update(b, 0, SIZE - 4);
        if (bb.getInt(SIZE - 4) != (int) crc.getValue()) {
            throw new Invalid("superblock checksum mismatch", false, false);
        }
        bb.position(MAGIC.length);
        int version = bb.getInt();
        if (version > FORMAT_VERSION) {
            throw new Invalid(
                    "format version " + version + " is newer than this build's " + FORMAT_VERSION, false, true);
        }
        if (version < 1) {
            throw new Invalid("format version " + version + " is not valid", false, false);
        }
        int bs = bb.getInt();
        UUID uuid = new UUID(bb.getLong(), bb.getLong());
        long created = bb.getLong();
        if (bs < 512 || Integer.bitCount(bs) != 1) {
            throw new Invalid("block size " + bs + " is not a power of two >= 512", false, false);
        }
        return new Superblock(version, bs, uuid, created);
    }
}
