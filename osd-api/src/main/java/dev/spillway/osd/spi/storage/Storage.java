package dev.spillway.osd.spi.storage;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A directory tree of files, rooted where the device lives: every file operation of a
 * file-backed device goes through it (see the package comment for the durability rules).
 *
 * <p>Paths are relative, {@code /}-separated, without {@code .} or {@code ..} segments
 * ({@code "objects/3f/a2/0000000200000400-00000001-00000000"}); the empty string is the root.
 * Implementations reject any other path with {@link IllegalArgumentException}, so no caller
 * string can reach outside the tree. Implementations are thread-safe.
 */
public interface Storage extends Closeable {

    /** Who may read and write a file this storage creates. */
    enum Access {
        /** As the process's umask allows (usually 0644). */
        DEFAULT,
        /** The owner alone, from the moment the file exists (0600): secrets. */
        OWNER_ONLY
    }

    /** What a path names. */
    enum EntryType {
        MISSING,
        FILE,
        DIRECTORY,
        OTHER
    }

    /**
     * Space on the underlying filesystem and its allocation unit.
     *
     * @param totalBytes capacity
     * @param freeBytes unallocated bytes
     * @param usableBytes bytes this process may still allocate (free less root reserve, quota)
     * @param blockSize the allocation unit (the unit of punch and of seek data/hole)
     */
    record Stats(long totalBytes, long freeBytes, long usableBytes, int blockSize) {}

    /** Where this storage lives, for messages: {@code posix:/srv/spill/dev0}. */
    String describe();

    /**
     * Opens a file. Options are those of {@link StandardOpenOption} among READ, WRITE, CREATE,
     * CREATE_NEW and TRUNCATE_EXISTING; others fail with {@link IllegalArgumentException}.
     *
     * @throws java.nio.file.NoSuchFileException if missing and not created
     * @throws java.nio.file.FileAlreadyExistsException with CREATE_NEW on an existing name
     */
    StorageFile open(String path, Set<StandardOpenOption> options) throws IOException;

    /** Shorthand for {@link #open(String, Set)}. */
    default StorageFile open(String path, StandardOpenOption first, StandardOpenOption... more) throws IOException {
        return open(path, EnumSet.of(first, more));
    }

    /**
     * Creates a new file open for writing ({@code O_CREAT|O_EXCL}) with {@code access} set as it
     * is created, never after.
     *
     * @throws java.nio.file.FileAlreadyExistsException if the name exists
     * @throws UnsupportedOperationException for {@link Access#OWNER_ONLY} where the storage
     *     cannot set permissions (this default)
     */
    default StorageFile create(String path, Access access) throws IOException {
        if (access != Access.DEFAULT) {
            throw new UnsupportedOperationException(describe() + " cannot create " + path + " " + access);
        }
        return open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    }

    /** The size of a file in bytes. @throws java.nio.file.NoSuchFileException if it is missing */
    default long size(String path) throws IOException {
        try (StorageFile f = open(path, StandardOpenOption.READ)) {
            return f.size();
        }
    }

    /** What {@code path} is now (not following a symbolic link at the last segment). */
    EntryType type(String path) throws IOException;

    /**
     * Creates one directory; its parent must exist. Durable after its parent is forced.
     *
     * @throws java.nio.file.FileAlreadyExistsException if the name exists
     */
    void createDirectory(String path) throws IOException;

    /**
     * Removes a file or an empty directory; open handles keep the inode.
     *
     * @throws java.nio.file.NoSuchFileException if missing
     * @throws java.nio.file.DirectoryNotEmptyException for a non-empty directory
     */
    void delete(String path) throws IOException;

    /** {@link #delete} that returns false instead of throwing for a missing name. */
    boolean deleteIfExists(String path) throws IOException;

    /**
     * Renames a file atomically, replacing any file at {@code to} ({@code rename(2)}); the
     * directory of {@code to} must exist. Durable once both directories are forced.
     */
    void rename(String from, String to) throws IOException;

    /** The names in a directory, sorted. @throws java.nio.file.NotDirectoryException */
    List<String> list(String dir) throws IOException;

    /** Makes the directory's entries durable ({@code fsync} of the directory). */
    void forceDirectory(String dir) throws IOException;

    /**
     * Bytes allocated to a file ({@code st_blocks * 512}). An implementation that cannot ask
     * the filesystem returns the size rounded up to the block size and says so in
     * {@link #describe()}.
     */
    long allocatedBytes(String path) throws IOException;

    // ---- extended attributes, in the user namespace (the implementation adds "user.") ----

    /**
     * The value of user xattr {@code name}, or empty if the file has none of that name.
     *
     * @throws UnsupportedOperationException if the filesystem has no user xattrs
     */
    Optional<byte[]> getXattr(String path, String name) throws IOException;

    /**
     * As {@link #getXattr}, but empty also if there is no such file: an existence check (osd-vfs
     * asks it of every object whose record is in its body's xattr) that a storage with native
     * calls answers without building an exception.
     *
     * @throws UnsupportedOperationException if the filesystem has no user xattrs
     */
    default Optional<byte[]> findXattr(String path, String name) throws IOException {
        try {
            return getXattr(path, name);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /**
     * Sets user xattr {@code name}; atomic (a crash keeps the old or the new value).
     *
     * @throws java.nio.file.FileSystemException naming the cause when the filesystem refuses
     *     (value or total too large: "No space left on device" / "Argument list too long")
     */
    void setXattr(String path, String name, byte[] value) throws IOException;

    /** Removes user xattr {@code name}; false if it was not there. */
    boolean removeXattr(String path, String name) throws IOException;

    /** The user xattr names of a file (without the "user." prefix), sorted. */
    List<String> listXattrs(String path) throws IOException;

    // ---- the device as a whole -----------------------------------------------------------

    /**
     * Takes an exclusive lock named by {@code path} (a file, created if needed), held until the
     * returned handle is closed, so that two mounts of one device refuse each other.
     *
     * @throws java.nio.file.FileSystemException with reason "locked" if someone holds it
     */
    Closeable lock(String path) throws IOException;

    /**
     * A shared lock on {@code path} (an existing file, opened for reading only: nothing is
     * created or written, so it works on a read-only filesystem): any number of shared holders,
     * but {@link #lock} refuses while one holds it, and it refuses while {@link #lock} is held.
     * This default takes the exclusive lock (a storage without shared locks).
     *
     * @throws java.nio.file.NoSuchFileException if the file is missing
     * @throws java.nio.file.FileSystemException with reason "locked" if an exclusive holder has it
     */
    default Closeable lockShared(String path) throws IOException {
        return lock(path);
    }

    /** Space on the filesystem. */
    Stats stats() throws IOException;

    /** {@link Stats#usableBytes()} alone (one statfs where {@link #stats()} may take several). */
    default long usableBytes() throws IOException {
        return stats().usableBytes();
    }

    // ---- small files, built on the calls above ------------------------------------------------

    /** The whole content of a small file (at most 16 MiB). */
    default byte[] readFully(String path) throws IOException {
        try (StorageFile f = open(path, StandardOpenOption.READ)) {
            long size = f.size();
            if (size > 16 << 20) {
                throw new IOException(path + " is " + size + " bytes, too large to read whole");
            }
            ByteBuffer b = ByteBuffer.allocate((int) size);
            while (b.hasRemaining() && f.read(b, b.position()) > 0) {
                // until full or the file ended early
            }
            return b.position() == b.capacity() ? b.array() : Arrays.copyOf(b.array(), b.position());
        }
    }

    /**
     * Replaces a small file atomically and durably — the one way Spillway writes a state file
     * (configuration, credentials, endpoint, superblock, checkpoint, usage): writes
     * {@code path + ".tmp"} (a leftover of an earlier crash is removed first), forces it, renames
     * it over {@code path} and forces the directory. A crash leaves the old content or the new,
     * never an empty or partial file under {@code path}; at worst a stray {@code .tmp}, which the
     * next replacement removes.
     */
    default void replaceDurably(String path, byte[] content) throws IOException {
        replaceDurably(path, content, Access.DEFAULT);
    }

    /** {@link #replaceDurably(String, byte[])} creating the file with {@code access}. */
    default void replaceDurably(String path, byte[] content, Access access) throws IOException {
        String tmp = path + ".tmp";
        deleteIfExists(tmp);
        try (StorageFile f = create(tmp, access)) {
            f.write(ByteBuffer.wrap(content), 0);
            f.force(true);
        }
        rename(tmp, path);
        forceDirectory(StoragePaths.parent(path));
    }
}
