package dev.spillway.osd.vfs;

import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.spi.OsdConfig;
import java.util.Locale;
import java.util.Set;

/**
 * The settings of {@code backend: vfs}.
 *
 * @param path the device's folder (required when the device opens its own POSIX storage)
 * @param journal journal mode: transactions and durable commit on a redo log
 * @param capacity bytes the device may use, 0 for the whole filesystem
 * @param create create the folder when only its last segment is missing
 * @param requireXattr refuse to mount without user xattrs
 * @param maxObjectSize the largest body
 * @param segmentSize bytes of journal after which the log rotates and a checkpoint runs
 * @param inlineLimit body bytes of an object created in a journal transaction kept in the log
 *     record; past it the body is written to a staging file and renamed into place
 * @param pointInTimeRecovery at mount, replay up to corruption in the log and discard the rest
 *     instead of refusing (the repair path, for one mount)
 * @param preallocate write journal segments full of zeros when created (and recycle them), so
 *     that a log fsync flushes data only, not the file's size
 * @param syncThreads files forced at once by sync and checkpoints (1: one after another, in a
 *     fixed order, as deterministic crash tests need)
 * @param xattrRecords {@code records: auto} (the default): a device formatted on a filesystem
 *     with user xattrs keeps each object's record in its body's xattr; {@code records: file}
 *     formats it with {@code .attr} record files. Read only when the folder is formatted: the
 *     marker fixes the choice for the device's life.
 * @param readOnly the common read-only setting: a mount that writes nothing (no format, no journal
 *     replay, no checkpoint, no probe file, no usage file taken or put)
 */
record VfsSettings(
        String path,
        boolean journal,
        long capacity,
        boolean create,
        boolean requireXattr,
        long maxObjectSize,
        long segmentSize,
        long inlineLimit,
        boolean pointInTimeRecovery,
        boolean preallocate,
        int syncThreads,
        boolean xattrRecords,
        boolean readOnly) {

    static final Set<String> KEYS = Set.of(
            "path",
            "journal",
            "capacity",
            "create",
            "require-xattr",
            "max-object-size",
            "journal-segment-size",
            "journal-inline-limit",
            "journal-recovery",
            "journal-preallocate",
            "sync-threads",
            "records");

    static VfsSettings of(OsdConfig c) throws OsdException {
        String journal = c.string("journal", "on").trim().toLowerCase(Locale.ROOT);
        boolean on = switch (journal) {
            case "on", "true", "yes" -> true;
            case "off", "false", "no" -> false;
            default -> throw bad(c, "journal", "want on or off, got '" + journal + "'");
        };
        String recovery = c.string("journal-recovery", "strict").trim().toLowerCase(Locale.ROOT);
        if (!recovery.equals("strict") && !recovery.equals("point-in-time")) {
            throw bad(c, "journal-recovery", "want strict or point-in-time, got '" + recovery + "'");
        }
        String records = c.string("records", "auto").trim().toLowerCase(Locale.ROOT);
        if (!records.equals("auto") && !records.equals("file")) {
            throw bad(
                    c, "records", "want auto (in xattrs where the filesystem has them) or file, got '" + records + "'");
        }
        long capacity = c.bytes("capacity", 0);
        long maxObject = c.bytes("max-object-size", 1L << 40);
        long segment = c.bytes("journal-segment-size", 64L << 20);
        long inline = c.bytes("journal-inline-limit", 1L << 20);
        if (capacity < 0) {
            throw bad(c, "capacity", "must not be negative");
        }
        if (maxObject < (1L << 30)) {
            throw bad(c, "max-object-size", "must be at least 1 GiB");
        }
        if (segment < 4096) {
            throw bad(c, "journal-segment-size", "must be at least 4 KiB");
        }
        if (inline < 0) {
            throw bad(c, "journal-inline-limit", "must not be negative");
        }
        return new VfsSettings(
                c.string("path", ""),
                on,
                capacity,
                c.bool("create", true),
                c.bool("require-xattr", false),
                maxObject,
                segment,
                inline,
                recovery.equals("point-in-time"),
                c.bool("journal-preallocate", true),
                (int) Math.max(1, Math.min(64, c.integer("sync-threads", 4))),
                records.equals("auto"),
                c.readOnly());
    }

    private static OsdException bad(OsdConfig c, String key, String why) {
        return new OsdException(Errno.EINVAL, c.name(), "setting '" + key + "' of backend vfs: " + why);
    }
}
