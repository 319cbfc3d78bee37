package dev.spillway.osd.spi.storage.posix;

import dev.spillway.osd.spi.storage.Storage;
import dev.spillway.osd.spi.storage.StorageFile;
import dev.spillway.osd.spi.storage.StoragePaths;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * {@link Storage} on a POSIX directory: {@link FileChannel} for bodies, {@code fsync} of
 * directories through a read-only channel, user xattrs through
 * {@link UserDefinedFileAttributeView}, and {@link PosixNative} for punch, seek data/hole and
 * allocated blocks.
 */
public final class PosixStorage implements Storage {
    private static final Set<StandardOpenOption> ALLOWED = EnumSet.of(
            StandardOpenOption.READ,
            StandardOpenOption.WRITE,
            StandardOpenOption.CREATE,
            StandardOpenOption.CREATE_NEW,
            StandardOpenOption.TRUNCATE_EXISTING);

    private final Path root;
    private final PosixNative nat;
    // Files.getFileStore reads the mount table: looked up once, on first use.
    private volatile FileStore store;

    /** A storage rooted at {@code root} (which must exist) using {@code nat} for the native calls. */
    public PosixStorage(Path root, PosixNative nat) {
        this.root = root.toAbsolutePath().normalize();
        this.nat = nat;
    }

    public Path root() {
        return root;
    }

    public PosixNative nativeCalls() {
        return nat;
    }

    Path resolve(String path) {
        String p = StoragePaths.check(path);
        return p.isEmpty() ? root : root.resolve(p);
    }

    @Override
    public String describe() {
        return "posix:" + root;
    }

    @Override
    public StorageFile open(String path, Set<StandardOpenOption> options) throws IOException {
        for (StandardOpenOption o : options) {
            if (!ALLOWED.contains(o)) {
                throw new IllegalArgumentException("open option " + o + " is not part of the storage interface");
            }
        }
        Path p = resolve(path);
        return new PosixFile(path, p, FileChannel.open(p, options), nat);
    }

    @Override
    public StorageFile create(String path, Access access) throws IOException {
        Path p = resolve(path);
        Set<StandardOpenOption> o = EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        FileChannel ch = access == Access.OWNER_ONLY
                ? FileChannel.open(
                        p, o, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))
                : FileChannel.open(p, o);
        return new PosixFile(path, p, ch, nat);
    }

    @Override
    public long size(String path) throws IOException {
        return Files.size(resolve(path));
    }

    @Override
    public EntryType type(String path) throws IOException {
        try {
            BasicFileAttributes a =
                    Files.readAttributes(resolve(path), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            return a.isRegularFile() ? EntryType.FILE : a.isDirectory() ? EntryType.DIRECTORY : EntryType.OTHER;
        } catch (NoSuchFileException e) {
            return EntryType.MISSING;
        }
    }

    @Override
    public void createDirectory(String path) throws IOException {
        Path p = resolve(path);
        Files.createDirectory(p);
        if (p.equals(root) && root.getParent() != null) {
            // The root's name lives in a folder no caller can force through this storage: a
            // device or data folder created at first start must not vanish in a power cut.
            try (FileChannel ch = FileChannel.open(root.getParent(), StandardOpenOption.READ)) {
                ch.force(true);
            }
        }
    }

    @Override
    public void delete(String path) throws IOException {
        Files.delete(resolve(path));
    }

    @Override
    public boolean deleteIfExists(String path) throws IOException {
        return Files.deleteIfExists(resolve(path));
    }

    @Override
    public void rename(String from, String to) throws IOException {
        // ATOMIC_MOVE is rename(2): atomic, and it replaces an existing target.
        Files.move(resolve(from), resolve(to), StandardCopyOption.ATOMIC_MOVE);
    }

    @Override
    public List<String> list(String dir) throws IOException {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(resolve(dir))) {
            for (Path p : s) {
                names.add(p.getFileName().toString());
            }
        }
        Collections.sort(names);
        return names;
    }

    @Override
    public void forceDirectory(String dir) throws IOException {
        try (FileChannel ch = FileChannel.open(resolve(dir), StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    @Override
    public long allocatedBytes(String path) throws IOException {
        Path p = resolve(path);
        if (nat.available()) {
            return nat.allocatedBytes(p);
        }
        // Without statx: the size rounded up to a block, which overstates sparse files.
        long size = Files.size(p);
        long bs = blockSize();
        return (size + bs - 1) / bs * bs;
    }

    private FileStore fileStore() throws IOException {
        FileStore fs = store;
        if (fs == null) {
            fs = Files.getFileStore(root);
            store = fs;
        }
        return fs;
    }

    private long blockSize() {
        try {
            return fileStore().getBlockSize();
        } catch (IOException | UnsupportedOperationException e) {
            return 4096;
        }
    }

    // ---- xattrs ------------------------------------------------------------------------------

    private UserDefinedFileAttributeView view(String path) {
        UserDefinedFileAttributeView v = Files.getFileAttributeView(resolve(path), UserDefinedFileAttributeView.class);
        if (v == null) {
            throw new UnsupportedOperationException("user xattrs are not supported by this JDK on " + root);
        }
        return v;
    }

    private static boolean reason(FileSystemException e, String text) {
        String r = e.getReason() != null ? e.getReason() : e.getMessage();
        return r != null && r.toLowerCase(Locale.ROOT).contains(text);
    }

    private static IOException unsupportedOr(FileSystemException e) {
        if (reason(e, "not supported")) {
            throw new UnsupportedOperationException(
                    "user xattrs are not supported on " + e.getFile() + ": " + e.getReason(), e);
        }
        return e;
    }

    @Override
    public Optional<byte[]> getXattr(String path, String name) throws IOException {
        UserDefinedFileAttributeView v = view(path);
        for (int attempt = 0; ; attempt++) {
            try {
                int size = v.size(name);
                ByteBuffer b = ByteBuffer.allocate(size);
                v.read(name, b);
                if (b.hasRemaining()) {
                    // Shrunk between size() and read(): ask again.
                    continue;
                }
                return Optional.of(b.array());
            } catch (FileSystemException e) {
                if (reason(e, "no data available") || reason(e, "no such attribute")) {
                    return Optional.empty();
                }
                if (reason(e, "result out of range") && attempt < 8) {
                    continue; // grew between size() and read()
                }
                throw unsupportedOr(e);
            }
        }
    }

    @Override
    public Optional<byte[]> findXattr(String path, String name) throws IOException {
        if (!nat.available()) {
            return Storage.super.findXattr(path, name);
        }
        // One getxattr(2) by path; no exception for a missing file or attribute.
        return nat.findXattr(resolve(path), "user." + name);
    }

    @Override
    public void setXattr(String path, String name, byte[] value) throws IOException {
        try {
            view(path).write(name, ByteBuffer.wrap(value));
        } catch (FileSystemException e) {
            throw unsupportedOr(e);
        }
    }

    @Override
    public boolean removeXattr(String path, String name) throws IOException {
        try {
            view(path).delete(name);
            return true;
        } catch (FileSystemException e) {
            if (reason(e, "no data available") || reason(e, "no such attribute")) {
                return false;
            }
            throw unsupportedOr(e);
        }
    }

    @Override
    public List<String> listXattrs(String path) throws IOException {
        try {
            List<String> names = new ArrayList<>(view(path).list());
            Collections.sort(names);
            return names;
        } catch (FileSystemException e) {
            throw unsupportedOr(e);
        }
    }

    // ---- device ------------------------------------------------------------------------------

    @Override
    public Closeable lock(String path) throws IOException {
        Path p = resolve(path);
        return locked(p, FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE), false);
    }

    @Override
    public Closeable lockShared(String path) throws IOException {
        Path p = resolve(path);
        return locked(p, FileChannel.open(p, StandardOpenOption.READ), true);
    }

    /** Takes the whole-file lock on {@code ch} (shared or exclusive), closing it if the lock is not had. */
    private static Closeable locked(Path p, FileChannel ch, boolean shared) throws IOException {
        FileLock lock;
        try {
            lock = ch.tryLock(0, Long.MAX_VALUE, shared);
        } catch (OverlappingFileLockException e) {
            ch.close();
            throw new FileSystemException(
                    p.toString(), null, "locked by this process (the device is already mounted here)");
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        if (lock == null) {
            ch.close();
            throw new FileSystemException(
                    p.toString(), null, "locked by another process (the device is mounted elsewhere)");
        }
        return () -> {
            try {
                lock.release();
            } finally {
                ch.close();
            }
        };
    }

    @Override
    public long usableBytes() throws IOException {
        return fileStore().getUsableSpace();
    }

    @Override
    public Stats stats() throws IOException {
        FileStore fs = fileStore();
        return new Stats(fs.getTotalSpace(), fs.getUnallocatedSpace(), fs.getUsableSpace(), (int) blockSize());
    }

    @Override
    public void close() {}

    @Override
    public String toString() {
        return describe();
    }

    /** One open file: a {@link FileChannel} plus the native calls by path. */
    static final class PosixFile implements StorageFile {
        private final String path;
        private final Path file;
        private final FileChannel ch;
        private final PosixNative nat;

        PosixFile(String path, Path file, FileChannel ch, PosixNative nat) {
            this.path = path;
            this.file = file;
            this.ch = ch;
            this.nat = nat;
        }

        @Override
        public String path() {
            return path;
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            int total = 0;
            while (dst.hasRemaining()) {
                int n = ch.read(dst, position + total);
                if (n < 0) {
                    return total == 0 ? -1 : total;
                }
                total += n;
            }
            return total;
        }

        @Override
        public void write(ByteBuffer src, long position) throws IOException {
            long pos = position;
            while (src.hasRemaining()) {
                pos += ch.write(src, pos);
            }
        }

        @Override
        public long size() throws IOException {
            return ch.size();
        }

        @Override
        public void truncate(long size) throws IOException {
            long now = ch.size();
            if (size <= now) {
                ch.truncate(size);
            } else if (nat.available()) {
                nat.truncate(file, size);
            } else {
                // FileChannel cannot grow a file: write its last byte (one block, not a hole).
                ch.write(ByteBuffer.allocate(1), size - 1);
            }
        }

        @Override
        public void force(boolean metadata) throws IOException {
            ch.force(metadata);
        }

        @Override
        public void punch(long offset, long length) throws IOException {
            nat.punch(file, offset, length);
        }

        @Override
        public long seekData(long offset) throws IOException {
            return nat.seek(file, offset, true);
        }

        @Override
        public long seekHole(long offset) throws IOException {
            return nat.seek(file, offset, false);
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }
}
