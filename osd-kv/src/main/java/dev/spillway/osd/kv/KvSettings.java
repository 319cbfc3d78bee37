package dev.spillway.osd.kv;

import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.spi.OsdConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/**
 * osd-kv's settings, parsed and checked once.
 *
 * @param path the device's folder (required)
 * @param capacity the most bytes the device holds (default: what the filesystem has)
 * @param blockSize body block size, fixed at format (default 4096)
 * @param inlineMax a transaction's write to one object goes to an extent file when it (or the
 *     transaction's declared writes to that object) reaches this many bytes; below, the bytes are
 *     inline body blocks in RocksDB (default 64 KiB)
 * @param maxXattrValue the largest xattr value (default 64 KiB)
 * @param blockCache RocksDB block cache (default 64 MiB)
 * @param commitDelay how long the group-commit thread waits for more transactions before a WAL
 *     sync that nobody is waiting for (default 0: sync at once)
 * @param strictDeclares the common debug setting
 * @param readOnly the common read-only setting: RocksDB opened read-only, nothing written
 */
record KvSettings(
        Path path,
        long capacity,
        int blockSize,
        int inlineMax,
        int maxXattrValue,
        long blockCache,
        Duration commitDelay,
        boolean strictDeclares,
        boolean readOnly) {

    static final int DEFAULT_BLOCK_SIZE = 4096;
    static final Set<String> KEYS =
            Set.of("path", "capacity", "block-size", "inline-max", "max-xattr-value", "block-cache", "commit-delay");

    static KvSettings parse(OsdConfig c) throws OsdException {
        Path path = c.path("path");
        long capacity = c.bytes("capacity", Long.MAX_VALUE);
        long bs = c.bytes("block-size", 0);
        long inline = c.bytes("inline-max", 64 << 10);
        long xv = c.bytes("max-xattr-value", 64 << 10);
        long cache = c.bytes("block-cache", 64L << 20);
        Duration delay = c.duration("commit-delay", Duration.ZERO);
        if (capacity <= 0) {
            throw bad(c, "capacity", "must be positive, got " + capacity);
        }
        if (bs != 0 && (bs < 512 || bs > (1 << 20) || Long.bitCount(bs) != 1)) {
            throw bad(c, "block-size", "must be a power of two from 512 to 1 MiB, got " + bs);
        }
        if (inline < 0 || inline > (64L << 20)) {
            throw bad(c, "inline-max", "must be from 0 to 64 MiB, got " + inline);
        }
        if (xv < 1 || xv > (1L << 20)) {
            throw bad(c, "max-xattr-value", "must be from 1 byte to 1 MiB, got " + xv);
        }
        if (cache < 0) {
            throw bad(c, "block-cache", "must not be negative, got " + cache);
        }
        if (delay.isNegative() || delay.compareTo(Duration.ofSeconds(1)) > 0) {
            throw bad(c, "commit-delay", "must be from 0 to 1s, got " + delay);
        }
        return new KvSettings(
                path, capacity, (int) bs, (int) inline, (int) xv, cache, delay, c.strictDeclares(), c.readOnly());
    }

    private static OsdException bad(OsdConfig c, String key, String why) {
        return new OsdException(Errno.EINVAL, c.name(), "setting '" + key + "' of backend kv: " + why);
    }
}
