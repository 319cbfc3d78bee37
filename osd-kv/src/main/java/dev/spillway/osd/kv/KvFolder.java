package dev.spillway.osd.kv;

import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
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
 * </pre>
 *
 * Only a missing or empty folder is formatted (or one whose format we interrupted ourselves).
 * Anything else that is not a valid osd-kv fails with an error naming the folder, and nothing
 * in it is changed: the checks only read until the folder is known to be ours and unlocked.
 */
final class KvFolder implements AutoCloseable {
    static final String SUPER = "osd-kv.super";
    static final String LOCK = "osd-kv.lock";
    static final String FORMATTING = ".osd-kv-formatting";
    static final String DB = "db";
    static final String EXTENTS = "extents";
    private static final Set<String> OURS = Set.of(SUPER, LOCK, FORMATTING, DB, EXTENTS, SUPER + ".tmp");

    // POSIX record locks belong to the process, and closing any descriptor of the file drops
    // them all; so a second mount attempt in this JVM must be refused before it opens the lock
    // file, or its failure would unlock the first mount. Keyed by the folder's real path.
    private static final Set<Path> MOUNTED_HERE = ConcurrentHashMap.newKeySet();

    final String device;
    final Path root;
    final boolean fresh;
    private Superblock superblock;
    private final Path lockKey;
    private FileChannel lockChannel;
    private FileLock lock;

    private KvFolder(String device, Path root, boolean fresh, Superblock sb, Path lockKey) {
        this.device = device;
        this.root = root;
        this.fresh = fresh;
        this.superblock = sb;
        this.lockKey = lockKey;
    }

    Path db() {
        return root.resolve(DB);
    }

    Path extents() {
        return root.resolve(EXTENTS);
    }

    Superblock superblock() {
        return superblock;
    }

    private static OsdException err(Errno e, String device, Path root, String why) {
        return new OsdException(e, device, "osd-kv folder " + root + ": " + why);
    }

    private static OsdException err(Errno e, String device, Path root, String why, Throwable cause) {
        return new OsdException(e, device, null, "osd-kv folder " + root + ": " + why, cause);
    }

    /**
     * Checks the folder and takes its lock; prepares a format if it is missing or empty.
     *
     * @param blockSize the configured block size for a format, or 0 for the default
     */
    static KvFolder mount(String device, Path root, int blockSize) throws OsdException {
        root = root.toAbsolutePath().normalize();
        try {
            if (Files.exists(root) && !Files.isDirectory(root)) {
                throw err(Errno.EINVAL, device, root, "exists and is not a folder");
            }
            boolean format;
            Superblock sb = null;
            if (!Files.exists(root)) {
                format = true;
            } else {
                List<String> names = list(root);
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
                    sb = readSuperblock(device, root);
                }
            }
            Path key = realKey(root, format);
            if (!MOUNTED_HERE.add(key)) {
                throw err(Errno.EBUSY, device, root, "is already mounted by this process");
            }
            KvFolder f = new KvFolder(device, root, format, sb, key);
            try {
                if (format) {
                    f.prepareFormat(blockSize);
                } else {
                    f.lock();
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
            } catch (OsdException | RuntimeException e) {
                f.close();
                throw e;
            }
            return f;
        } catch (IOException e) {
            throw err(Errno.EIO, device, root, "cannot be read: " + e, e);
        }
    }

    private static Path realKey(Path root, boolean format) throws IOException {
        if (format) {
            Files.createDirectories(root);
        }
        return root.toRealPath();
    }

    private static List<String> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static String preview(List<String> names) {
        return names.size() <= 5
                ? String.join(", ", names)
                : String.join(", ", names.subList(0, 5)) + ", … (" + names.size() + " entries)";
    }

    private static Superblock readSuperblock(String device, Path root) throws OsdException, IOException {
        byte[] b = Files.readAllBytes(root.resolve(SUPER));
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
        lockChannel = FileChannel.open(root.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
            lock = lockChannel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            throw err(Errno.EBUSY, device, root, "is already mounted by another process (" + LOCK + " is locked)");
        }
    }

    private void checkPresent() throws OsdException {
        List<String> missing = new ArrayList<>();
        if (!Files.isDirectory(db())) {
            missing.add(DB + "/");
        } else if (!Files.isRegularFile(db().resolve("CURRENT"))) {
            missing.add(DB + "/CURRENT");
        }
        if (!Files.isDirectory(extents())) {
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
        Path marker = root.resolve(FORMATTING);
        if (Files.exists(marker)) {
            // An interrupted format of ours: clear what it left.
            for (String n : list(root)) {
                if (!n.equals(FORMATTING) && !n.equals(LOCK)) {
                    deleteTree(root.resolve(n));
                }
            }
        } else {
            Files.write(
                    marker, new byte[0], StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.SYNC);
            fsyncDir(root);
        }
        lock();
        Files.createDirectories(extents());
        int bs = blockSize == 0 ? KvSettings.DEFAULT_BLOCK_SIZE : blockSize;
        superblock = new Superblock(Superblock.FORMAT_VERSION, bs, UUID.randomUUID(), System.currentTimeMillis());
    }

    /** Completes a format once the database exists: the superblock goes last, atomically. */
    void finishFormat() throws OsdException {
        try {
            fsyncDir(extents());
            Path tmp = root.resolve(SUPER + ".tmp");
            try (FileChannel ch = FileChannel.open(
                    tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
                ch.write(java.nio.ByteBuffer.wrap(superblock.encode()));
                ch.force(true);
            }
            try {
                Files.move(tmp, root.resolve(SUPER), StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, root.resolve(SUPER), StandardCopyOption.REPLACE_EXISTING);
            }
            fsyncDir(root);
            Files.deleteIfExists(root.resolve(FORMATTING));
            fsyncDir(root);
        } catch (IOException e) {
            throw err(Errno.EIO, device, root, "format failed: " + e, e);
        }
    }

    static void fsyncDir(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

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
                lock.release();
            }
            if (lockChannel != null) {
                lockChannel.close();
            }
        } catch (IOException e) {
            // Closing the descriptor releases the lock whatever the error; nothing is left held.
        } finally {
            lock = null;
            lockChannel = null;
            MOUNTED_HERE.remove(lockKey);
        }
    }
}
