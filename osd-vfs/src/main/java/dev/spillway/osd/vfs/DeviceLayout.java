package dev.spillway.osd.vfs;

import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.spi.storage.Storage;
import dev.spillway.osd.spi.storage.StorageErrors;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The device's folder: checks it, formats it when it is empty, refuses anything that is not
 * ours, and holds the small files beside the objects.
 *
 * <pre>
 * SPILLWAY-VFS   the format marker (text: format, version, uuid, created, records); written first
 * LOCK           held (fcntl lock) while mounted: a second mount fails with EBUSY
 * usage          objects and used bytes, present only after a clean unmount
 * objects/       the FID-hashed tree ({@link ObjectIndex})
 * journal/       the redo log's segments and checkpoint (journal mode)
 * staging/       bodies being written by running journal transactions
 * </pre>
 */
final class DeviceLayout {
    static final String MARKER = "SPILLWAY-VFS";
    static final String LOCK = "LOCK";
    static final String USAGE = "usage";
    static final String JOURNAL = "journal";
    static final String STAGING = "staging";
    /** Records in {@code .attr} files (every device formatted before records could live in xattrs). */
    static final int VERSION_RECORD_FILES = 1;
    /** Records in the body's xattr ({@link XattrRecord}); the marker says {@code records: xattr}. */
    static final int VERSION_RECORD_XATTRS = 2;

    private DeviceLayout() {}

    /**
     * The result of {@link #mount}: the device's uuid, its lock, whether it was formatted now,
     * and where its objects' records live (fixed at format, read from the marker ever after).
     */
    record Mounted(UUID uuid, Closeable lock, boolean formatted, boolean xattrRecords) {}

    /** Decides at format time, on the empty folder, whether records can live in xattrs. */
    @FunctionalInterface
    interface RecordChoice {
        boolean xattrRecords(Storage s) throws IOException;
    }

    /**
     * Checks the folder, formats it if empty (creating it first if {@code create} and only its
     * last segment is missing; {@code choice} decides where records live), verifies the marker
     * and takes the lock.
     */
    static Mounted mount(String device, Storage s, boolean create, RecordChoice choice) throws OsdException {
        return mount(device, s, create, choice, false);
    }

    /**
     * As {@link #mount(String, Storage, boolean, RecordChoice)}; with {@code readOnly} nothing is
     * created or written: a folder that is missing, unformatted or lacks one of its folders is
     * refused with EROFS, and the lock is taken shared and only if its file exists (creating it
     * would be a write; a device that was ever mounted has one).
     */
    static Mounted mount(String device, Storage s, boolean create, RecordChoice choice, boolean readOnly)
            throws OsdException {
        String where = s.describe();
        try {
            switch (s.type("")) {
                case MISSING -> {
                    if (readOnly) {
                        throw new OsdException(
                                Errno.EROFS,
                                device,
                                null,
                                "folder " + where + " does not exist; a read-only mount creates nothing");
                    }
                    if (!create) {
                        throw new OsdException(
                                Errno.ENOENT,
                                device,
                                null,
                                "folder " + where
                                        + " does not exist (setting create: false); create it, or check that its filesystem is mounted");
                    }
                    try {
                        s.createDirectory("");
                    } catch (NoSuchFileException e) {
                        throw new OsdException(
                                Errno.ENOENT,
                                device,
                                null,
                                "folder " + where
                                        + " does not exist and neither does its parent; is the filesystem mounted?",
                                e);
                    }
                }
                case FILE, OTHER ->
                    throw new OsdException(
                            Errno.ENOTDIR,
                            device,
                            null,
                            where
                                    + " is not a folder (a file or something else is where the device's folder should be)");
                case DIRECTORY -> {}
            }
            List<String> names;
            try {
                names = s.list("");
            } catch (AccessDeniedException e) {
                throw new OsdException(
                        Errno.EACCES,
                        device,
                        null,
                        "no permission to list the folder " + where + ": " + StorageErrors.describe(e),
                        e);
            }
            boolean formatted = false;
            UUID uuid;
            boolean xattrRecords;
            if (names.contains(MARKER)) {
                Marker m = readMarker(device, s);
                uuid = m.uuid();
                xattrRecords = m.xattrRecords();
            } else if (readOnly) {
                throw new OsdException(
                        Errno.EROFS,
                        device,
                        null,
                        "folder " + where + " holds no " + MARKER
                                + " marker (not a formatted spillway-vfs device); a read-only mount formats nothing");
            } else if (List.of(MARKER + ".tmp", Probe.FILE).containsAll(names)) {
                // Empty, or a format a crash interrupted before the marker was in place.
                uuid = UUID.randomUUID();
                xattrRecords = choice.xattrRecords(s);
                writeMarker(s, uuid, xattrRecords);
                formatted = true;
            } else {
                throw new OsdException(
                        Errno.EINVAL,
                        device,
                        null,
                        "folder " + where + " is not empty (" + preview(names) + ") and holds no " + MARKER
                                + " marker: not a spillway-vfs device; refusing to format it");
            }
            Closeable lock;
            try {
                // Read-only: a shared lock through a read-only handle (works on a read-only
                // filesystem; a read-write mount's exclusive lock and this one refuse each other).
                lock = !readOnly
                        ? s.lock(LOCK)
                        : s.type(LOCK) == Storage.EntryType.FILE ? s.lockShared(LOCK) : () -> {};
            } catch (IOException e) {
                throw StorageErrors.toOsd(device, null, "lock " + where + "/" + LOCK, e);
            }
            if (readOnly) {
                for (String d : List.of(ObjectIndex.OBJECTS, JOURNAL, STAGING)) {
                    if (s.type(d) != Storage.EntryType.DIRECTORY) {
                        lock.close();
                        throw new OsdException(
                                Errno.EROFS,
                                device,
                                null,
                                "folder " + where + " has no " + d
                                        + "/ folder; a read-only mount creates nothing (mount it read-write once)");
                    }
                }
                return new Mounted(uuid, lock, false, xattrRecords);
            }
            try {
                boolean made = false;
                for (String d : List.of(ObjectIndex.OBJECTS, JOURNAL, STAGING)) {
                    if (s.type(d) == Storage.EntryType.MISSING) {
                        s.createDirectory(d);
                        made = true;
                    }
                }
                if (made) {
                    s.forceDirectory("");
                }
                formatted |= made;
            } catch (IOException | RuntimeException e) {
                lock.close();
                throw e;
            }
            return new Mounted(uuid, lock, formatted, xattrRecords);
        } catch (IOException e) {
            throw StorageErrors.toOsd(device, null, "mount " + where, e);
        }
    }

    private static String preview(List<String> names) {
        List<String> p = new ArrayList<>(names.subList(0, Math.min(5, names.size())));
        return String.join(", ", p) + (names.size() > 5 ? ", … " + names.size() + " entries" : "");
    }

    /**
     * A device with records in files keeps version 1 and no {@code records} line — exactly what
     * builds before record xattrs wrote, so they still mount it; one with records in xattrs is
     * version 2, which those builds refuse (they would see bodies without records: no objects).
     */
    private static void writeMarker(Storage s, UUID uuid, boolean xattrRecords) throws IOException {
        String text = "# spillway osd-vfs device: objects under objects/, redo log under journal/. Do not edit.\n"
                + "format: spillway-vfs\nversion: " + (xattrRecords ? VERSION_RECORD_XATTRS : VERSION_RECORD_FILES)
                + "\nuuid: " + uuid + "\ncreated: " + Instant.now() + "\n" + (xattrRecords ? "records: xattr\n" : "");
        s.replaceDurably(MARKER, text.getBytes(StandardCharsets.UTF_8));
    }

    private record Marker(UUID uuid, boolean xattrRecords) {}

    private static Marker readMarker(String device, Storage s) throws IOException, OsdException {
        Map<String, String> kv = new LinkedHashMap<>();
        for (String line : new String(s.readFully(MARKER), StandardCharsets.UTF_8).split("\n")) {
            int i = line.indexOf(':');
            if (!line.startsWith("#") && i > 0) {
                kv.put(line.substring(0, i).trim(), line.substring(i + 1).trim());
            }
        }
        if (!"spillway-vfs".equals(kv.get("format"))) {
            throw new OsdException(
                    Errno.EPROTO, device, null, s.describe() + "/" + MARKER + " does not say format: spillway-vfs");
        }
        String version = kv.get("version");
        String records = kv.getOrDefault("records", "file");
        boolean xattrRecords;
        if (String.valueOf(VERSION_RECORD_FILES).equals(version)) {
            xattrRecords = false;
        } else if (String.valueOf(VERSION_RECORD_XATTRS).equals(version)
                && (records.equals("xattr") || records.equals("file"))) {
            xattrRecords = records.equals("xattr");
        } else {
            throw new OsdException(
                    Errno.EPROTO,
                    device,
                    null,
                    s.describe() + "/" + MARKER + " is format version " + version + " (records: " + records
                            + "); this build reads versions " + VERSION_RECORD_FILES + " (records in .attr files) and "
                            + VERSION_RECORD_XATTRS + " (records: xattr)");
        }
        try {
            return new Marker(UUID.fromString(kv.get("uuid")), xattrRecords);
        } catch (RuntimeException e) {
            throw new OsdException(Errno.EPROTO, device, null, s.describe() + "/" + MARKER + " has no valid uuid", e);
        }
    }

    // ---- usage ---------------------------------------------------------------------------

    /** The counts a clean unmount left, removed (and the removal forced) so a crash from now on rescans; null if none. */
    static long[] takeUsage(Storage s) throws IOException {
        if (s.type(USAGE) != Storage.EntryType.FILE) {
            return null;
        }
        long[] r = null;
        String[] lines = new String(s.readFully(USAGE), StandardCharsets.UTF_8).split("\n");
        try {
            if (lines.length >= 2 && lines[0].startsWith("objects ") && lines[1].startsWith("used ")) {
                r = new long[] {
                    Long.parseLong(lines[0].substring(8).trim()),
                    Long.parseLong(lines[1].substring(5).trim())
                };
            }
        } catch (NumberFormatException e) {
            r = null;
        }
        s.delete(USAGE);
        s.forceDirectory("");
        return r;
    }

    /** The counts a clean unmount left, without taking them (a read-only mount); null if none. */
    static long[] readUsage(Storage s) throws IOException {
        if (s.type(USAGE) != Storage.EntryType.FILE) {
            return null;
        }
        String[] lines = new String(s.readFully(USAGE), StandardCharsets.UTF_8).split("\n");
        try {
            if (lines.length >= 2 && lines[0].startsWith("objects ") && lines[1].startsWith("used ")) {
                return new long[] {
                    Long.parseLong(lines[0].substring(8).trim()),
                    Long.parseLong(lines[1].substring(5).trim())
                };
            }
        } catch (NumberFormatException e) {
            return null;
        }
        return null;
    }

    static void putUsage(Storage s, long objects, long used) throws IOException {
        s.replaceDurably(USAGE, ("objects " + objects + "\nused " + used + "\n").getBytes(StandardCharsets.UTF_8));
    }
}
