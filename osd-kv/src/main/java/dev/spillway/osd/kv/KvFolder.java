package dev.spillway.osd.kv;

import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.spi.storage.Storage;
import dev.spillway.osd.spi.storage.StorageFile;
import dev.spillway.osd.spi.storage.posix.PosixStorage;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The device's folder: what is in it, who holds it, and whether it may be formatted.
 *
 * <pre>
 *   osd-kv.super        the superblock ({@link Superblock}); its presence makes the folder ours
 *   osd-kv.lock         held with an exclusive lock while mounted
 *   db/                 the RocksDB database
 *   extents/            extent files of large bodies, one per extent, named by a hex file id
 *   .osd-kv-formatting  only while formatting: lets an interrupted format be redone
 *   osd-kv.db-id        the database the last mount checked: the superblock's bytes and
 *                       RocksDB's identity of db/ (see {@link #knowsDatabase()})
 * </pre>
 *
 * Only a missing or empty folder is formatted (or one whose format we interrupted ourselves).
 * Anything else that is not a valid osd-kv fails with an error naming the folder, and nothing
 * in it is changed: the checks only read until the folder is known to be ours and unlocked.
 *
 * <p>The folder's own files go through its {@link Storage} (the superblock the durable way:
 * temporary name, fsync, rename, fsync of the folder); RocksDB keeps {@code db/} itself.
 */
final class KvFolder implements AutoCloseable {
    static final String SUPER = "osd-kv.super";
    static final String LOCK = "osd-kv.lock";
    static final String FORMATTING = ".osd-kv-formatting";
    static final String DB = "db";
    static final String EXTENTS = "extents";
    static final String KNOWN_DB = "osd-kv.db-id";
    private static final Set<String> OURS =
            Set.of(SUPER, LOCK, FORMATTING, DB, EXTENTS, SUPER + ".tmp", KNOWN_DB, KNOWN_DB + ".tmp");
    private static final System.Logger LOG = System.getLogger(KvFolder.class.getName());

    // POSIX record locks belong to the process, and closing any descriptor of the file drops
    // them all; so a second mount attempt in this JVM must be refused before it opens the lock
    // file, or its failure would unlock the first mount. Keyed by the folder's real path.
    private static final Set<String> MOUNTED_HERE = ConcurrentHashMap.newKeySet();

    final String device;
    /** Where the folder is, for messages. */
    final String root;

    final Storage storage;
    private final Path db;
    final boolean fresh;
    private Superblock superblock;
    private final String lockKey;
    private Closeable lock;

    private KvFolder(String device, Storage storage, Path db, boolean fresh, Superblock sb, String lockKey) {
        this.device = device;
        this.storage = storage;
        this.root = storage instanceof PosixStorage p ? p.root().toString() : storage.describe();
        this.db = db;
        this.fresh = fresh;
        this.superblock = sb;
        this.lockKey = lockKey;
    }

    Path db() {
        return db;
    }

    Superblock superblock() {
        return superblock;
    }

    private static OsdException err(Errno e, String device, Object root, String why) {
        return new OsdException(e, device, "osd-kv folder " + root + ": " + why);
    }

    private static OsdException err(Errno e, String device, Object root, String why, Throwable cause) {
        return new OsdException(e, device, null, "osd-kv folder " + root + ": " + why, cause);
    }

    private static String where(Storage s) {
        return s instanceof PosixStorage p ? p.root().toString() : s.describe();
    }

    /**
     * Checks the folder and takes its lock; prepares a format if it is missing or empty.
     *
     * @param storage the device's folder
     * @param db where RocksDB keeps the database ({@code db/} in the folder, but for crash tests)
     * @param blockSize the configured block size for a format, or 0 for the default
     */
    static KvFolder mount(String device, Storage storage, Path db, int blockSize) throws OsdException {
        return mount(device, storage, db, blockSize, false);
    }

    /**
     * As {@link #mount(String, Storage, Path, int)}; with {@code readOnly} nothing in the folder is
     * created or changed: a folder that is not a formatted osd-kv is refused (EROFS for one that
     * would be formatted), and the lock is taken only if its file exists (a formatted device
     * has one; creating it would be a write).
     */
    static KvFolder mount(String device, Storage storage, Path db, int blockSize, boolean readOnly)
            throws OsdException {
        String root = where(storage);
        try {
            Storage.EntryType t = storage.type("");
            if (t == Storage.EntryType.FILE || t == Storage.EntryType.OTHER) {
                throw err(Errno.EINVAL, device, root, "exists and is not a folder");
            }
            boolean format;
            Superblock sb = null;
            if (t == Storage.EntryType.MISSING) {
                format = true;
            } else {
                List<String> names = storage.list("");
                if (names.isEmpty()) {
                    format = true;
                } else if (!names.contains(SUPER) && names.contains(FORMATTING) && OURS.containsAll(names)) {
                    format = true; // our own format was interrupted: redo it
                } else if (!names.contains(SUPER)) {
                    throw err(
                            Errno.EPROTO,
                            device,
                            root,
                            "is not empty and is not an osd-kv (no " + SUPER + "; it holds " + preview(names)
                                    + "); refusing to format it");
                } else {
                    format = false;
                    sb = readSuperblock(device, storage, root);
                }
            }
            if (format && readOnly) {
                throw err(
                        Errno.EROFS,
                        device,
                        root,
                        (t == Storage.EntryType.MISSING ? "does not exist" : "is not a formatted osd-kv")
                                + "; a read-only mount formats nothing");
            }
            if (format && t == Storage.EntryType.MISSING) {
                if (storage instanceof PosixStorage p
                        && !Files.isDirectory(p.root().getParent())) {
                    Files.createDirectories(p.root().getParent());
                }
                storage.createDirectory("");
            }
            // One folder, one key: its real path; another storage (a test's) is its own folder.
            String key = storage instanceof PosixStorage p
                    ? p.root().toRealPath().toString()
                    : storage.describe() + "@" + System.identityHashCode(storage);
            if (!MOUNTED_HERE.add(key)) {
                throw err(Errno.EBUSY, device, root, "is already mounted by this process");
            }
            KvFolder f = new KvFolder(device, storage, db, format, sb, key);
            try {
                if (format) {
                    f.prepareFormat(blockSize);
                } else {
                    if (!readOnly || storage.type(LOCK) == Storage.EntryType.FILE) {
                        f.lock();
                    }
                    f.checkPresent();
                    if (blockSize != 0 && blockSize != sb.blockSize()) {
                        throw err(
                                Errno.EINVAL,
                                device,
                                root,
                                "setting 'block-size' is " + blockSize + " but the device was formatted with "
                                        + sb.blockSize() + "; it cannot change");
                    }
                }
            } catch (OsdException | IOException | RuntimeException e) {
                // Whatever failed, the folder is not mounted: a later attempt must not find it busy.
                f.close();
                throw e;
            }
            return f;
        } catch (IOException e) {
            throw err(Errno.EIO, device, root, "cannot be read: " + e, e);
        }
    }

    private static String preview(List<String> names) {
        return names.size() <= 5
                ? String.join(", ", names)
                : String.join(", ", names.subList(0, 5)) + ", … (" + names.size() + " entries)";
    }

    private static Superblock readSuperblock(String device, Storage storage, String root)
            throws OsdException, IOException {
        byte[] b = storage.readFully(SUPER);
        try {
            return Superblock.decode(b);
        } catch (Superblock.Invalid e) {
            if (e.notOurs) {
                throw err(Errno.EPROTO, device, root, SUPER + " is not an osd-kv superblock (" + e.getMessage() + ")");
            }
            if (e.newer) {
                throw err(
                        Errno.EPROTO,
                        device,
                        root,
                        "has a newer on-disk format: " + e.getMessage() + "; upgrade Spillway to mount it");
            }
            throw err(Errno.EBADMSG, device, root, SUPER + " is corrupt: " + e.getMessage());
        }
    }

    private void lock() throws OsdException, IOException {
        try {
            lock = storage.lock(LOCK);
        } catch (FileSystemException e) {
            throw err(Errno.EBUSY, device, root, "is already mounted by another process (" + LOCK + " is locked)");
        }
    }

    private void checkPresent() throws OsdException, IOException {
        List<String> missing = new ArrayList<>();
        if (!Files.isDirectory(db)) {
            missing.add(DB + "/");
        } else if (!Files.isRegularFile(db.resolve("CURRENT"))) {
            missing.add(DB + "/CURRENT");
        }
        if (storage.type(EXTENTS) != Storage.EntryType.DIRECTORY) {
            missing.add(EXTENTS + "/");
        }
        if (!missing.isEmpty()) {
            throw err(
                    Errno.EIO,
                    device,
                    root,
                    "is an osd-kv with missing files: " + String.join(", ", missing)
                            + "; not mounted, nothing changed (restore them, or reformat an empty folder)");
        }
    }

    private void prepareFormat(int blockSize) throws OsdException, IOException {
        if (storage.type(FORMATTING) == Storage.EntryType.FILE) {
            // An interrupted format of ours: clear what it left.
            for (String n : storage.list("")) {
                if (!n.equals(FORMATTING) && !n.equals(LOCK)) {
                    deleteTree(n);
                }
            }
            deleteTree(db);
        } else {
            try (StorageFile m = storage.open(
                    FORMATTING, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE)) {
                m.force(true);
            }
            storage.forceDirectory("");
        }
        lock();
        if (storage.type(EXTENTS) == Storage.EntryType.MISSING) {
            storage.createDirectory(EXTENTS);
        }
        int bs = blockSize == 0 ? KvSettings.DEFAULT_BLOCK_SIZE : blockSize;
        superblock = new Superblock(Superblock.FORMAT_VERSION, bs, UUID.randomUUID(), System.currentTimeMillis());
    }

    /** Completes a format once the database exists: the superblock goes last, the durable way. */
    void finishFormat() throws OsdException {
        try {
            storage.forceDirectory(EXTENTS);
            storage.replaceDurably(SUPER, superblock.encode());
            storage.deleteIfExists(FORMATTING);
            storage.forceDirectory("");
        } catch (IOException e) {
            throw err(Errno.EIO, device, root, "format failed: " + e, e);
        }
    }

    /**
     * Whether {@code db/} is the database this folder's superblock was last mounted with:
     * {@value #KNOWN_DB} names the superblock's bytes and RocksDB's own identity of the database
     * (its {@code IDENTITY} file, made when the database was created and kept for its life), and
     * both still match. A mount checks such a database on the one read-write open; any other (a
     * database copied in from another device, a superblock put back from elsewhere, a folder
     * last mounted before this record existed) is checked read-only first, so that refusing it
     * changes nothing. Any doubt (no record, no {@code IDENTITY}, an I/O error) answers no.
     */
    boolean knowsDatabase() {
        try {
            String want = databaseRecord();
            return want != null
                    && storage.type(KNOWN_DB) == Storage.EntryType.FILE
                    && want.equals(new String(storage.readFully(KNOWN_DB), java.nio.charset.StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * Records that {@code db/} passed the mount's checks (temporary name, fsync, rename, fsync of
     * the folder). Best effort: without the record the next mount checks read-only first again.
     */
    void rememberDatabase() {
        try {
            String r = databaseRecord();
            if (r != null) {
                storage.replaceDurably(KNOWN_DB, r.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(
                    System.Logger.Level.DEBUG,
                    () -> device + ": osd-kv folder " + root + ": could not record the database (" + e
                            + "); the next mount checks it read-only first");
        }
    }

    /** The record {@link #knowsDatabase()} compares, or null if RocksDB's identity is not there. */
    private String databaseRecord() throws IOException {
        Path id = db.resolve("IDENTITY");
        if (!Files.isRegularFile(id) || Files.size(id) > 4096) {
            return null;
        }
        String identity = Files.readString(id).strip();
        if (identity.isEmpty()) {
            return null;
        }
        return "osd-kv db-id 1\nsuperblock " + java.util.HexFormat.of().formatHex(superblock.encode()) + "\nrocksdb "
                + identity + "\n";
    }

    /** Deletes {@code path} of the folder and everything under it. */
    private void deleteTree(String path) throws IOException {
        Storage.EntryType t = storage.type(path);
        if (t == Storage.EntryType.DIRECTORY) {
            for (String n : storage.list(path)) {
                deleteTree(path + "/" + n);
            }
        }
        if (t != Storage.EntryType.MISSING) {
            storage.deleteIfExists(path);
        }
    }

    /** Deletes a database folder outside the storage (crash tests keep it apart). */
    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
                try {
                    Files.delete(x);
                } catch (NoSuchFileException e) {
                    // already gone
                }
            }
        }
    }

    @Override
    public void close() {
        try {
            if (lock != null) {
                lock.close();
            }
        } catch (IOException e) {
            // Closing the descriptor releases the lock whatever the error; nothing is left held.
        } finally {
            lock = null;
            MOUNTED_HERE.remove(lockKey);
        }
    }
}
