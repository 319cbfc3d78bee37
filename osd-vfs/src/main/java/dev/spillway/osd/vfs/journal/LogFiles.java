package dev.spillway.osd.vfs.journal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * Names and fixed headers of the journal's files, all under {@code journal/}:
 *
 * <pre>
 * journal/&lt;first lsn, 16 hex&gt;.log   a segment: 64-byte header, then records, then at least 48 zero bytes
 *     0 magic "SWJS" u32 | 4 version u32 | 8 device uuid (16) | 24 first lsn u64 | 32..60 zero | 60 crc32c u32
 * journal/spare-&lt;random&gt;.log       a checkpointed segment kept for reuse (its old records are dead)
 * journal/checkpoint             every record up to this LSN is durable in the object files
 *     0 magic "SWCP" u32 | 4 version u32 | 8 device uuid (16) | 24 lsn u64 | 32 crc32c u32
 * </pre>
 * The device uuid keeps a segment or checkpoint copied from another device from being replayed.
 */
public final class LogFiles {
    public static final String DIR = "journal";
    public static final String CHECKPOINT = DIR + "/checkpoint";
    static final String SUFFIX = ".log";
    static final String CORRUPT_SUFFIX = ".corrupt";
    public static final int SEGMENT_HEADER = 64;
    /** Zero bytes written after every record: where they start, the log ends. */
    public static final int END_MARK = RecordCodec.HEADER;

    static final String SPARE_PREFIX = "spare-";
    private static final int SEGMENT_MAGIC = 0x534a5753; // "SWJS"
    private static final int CHECKPOINT_MAGIC = 0x50435753; // "SWCP"
    private static final int VERSION = 1;
    private static final int CHECKPOINT_SIZE = 36;

    private LogFiles() {}

    /**
     * The name a segment takes when it becomes a spare (never parsed as a segment): unique,
     * since no two segments ever start at the same LSN, and the same in every run of a test
     * (crash campaigns replay operation by operation).
     */
    static String spare(String segment) {
        return DIR + "/" + SPARE_PREFIX + segment.substring(segment.lastIndexOf('/') + 1);
    }

    static boolean isSpare(String name) {
        return name.startsWith(SPARE_PREFIX) && name.endsWith(SUFFIX);
    }

    static String segment(long firstLsn) {
        return DIR + "/" + HexFormat.of().toHexDigits(firstLsn) + SUFFIX;
    }

    /** The first LSN a segment file name says, or -1 if it is not a segment name. */
    static long firstLsn(String name) {
        if (!name.endsWith(SUFFIX) || name.length() != 16 + SUFFIX.length()) {
            return -1;
        }
        try {
            long l = HexFormat.fromHexDigitsToLong(name, 0, 16);
            return HexFormat.of().toHexDigits(l).equals(name.substring(0, 16)) ? l : -1;
        } catch (IllegalArgumentException e) {
            return -1;
        }
    }

    static ByteBuffer segmentHeader(UUID uuid, long firstLsn) {
        ByteBuffer b = ByteBuffer.allocate(SEGMENT_HEADER).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(SEGMENT_MAGIC)
                .putInt(VERSION)
                .putLong(uuid.getMostSignificantBits())
                .putLong(uuid.getLeastSignificantBits())
                .putLong(firstLsn);
        b.putInt(60, crc(b.array(), 60));
        return b.position(0).limit(SEGMENT_HEADER);
    }

    /** The first LSN in a segment header, or -1 if the header is not valid. @throws IllegalStateException for another device's */
    static long readSegmentHeader(byte[] buf, int length, UUID uuid) {
        if (length < SEGMENT_HEADER) {
            return -1;
        }
        ByteBuffer b = ByteBuffer.wrap(buf, 0, SEGMENT_HEADER).order(ByteOrder.LITTLE_ENDIAN);
        if (b.getInt(0) != SEGMENT_MAGIC || b.getInt(4) != VERSION || b.getInt(60) != crc(buf, 60)) {
            return -1;
        }
        UUID u = new UUID(b.getLong(8), b.getLong(16));
        if (!u.equals(uuid)) {
            throw new IllegalStateException("belongs to device " + u + ", not to this device " + uuid);
        }
        return b.getLong(24);
    }

    static byte[] checkpoint(UUID uuid, long lsn) {
        ByteBuffer b = ByteBuffer.allocate(CHECKPOINT_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(CHECKPOINT_MAGIC)
                .putInt(VERSION)
                .putLong(uuid.getMostSignificantBits())
                .putLong(uuid.getLeastSignificantBits())
                .putLong(lsn);
        b.putInt(32, crc(b.array(), 32));
        return b.array();
    }

    /** The checkpoint LSN, or -1 if the content is not a valid checkpoint of {@code uuid}. */
    static long readCheckpoint(byte[] buf, UUID uuid) {
        if (buf.length != CHECKPOINT_SIZE) {
            return -1;
        }
        ByteBuffer b = ByteBuffer.wrap(buf).order(ByteOrder.LITTLE_ENDIAN);
        if (b.getInt(0) != CHECKPOINT_MAGIC || b.getInt(4) != VERSION || b.getInt(32) != crc(buf, 32)) {
            return -1;
        }
        if (!new UUID(b.getLong(8), b.getLong(16)).equals(uuid)) {
            return -1;
        }
        return b.getLong(24);
    }

    private static int crc(byte[] b, int len) {
        CRC32C c = new CRC32C();
        c.update(b, 0, len);
        return (int) c.getValue();
    }
}
