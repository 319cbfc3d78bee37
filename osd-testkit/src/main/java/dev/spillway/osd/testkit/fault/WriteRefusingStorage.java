package dev.spillway.osd.testkit.fault;

import dev.spillway.osd.spi.storage.Storage;
import dev.spillway.osd.spi.storage.StorageFile;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileSystemException;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A {@link Storage} that passes reads to another and refuses every change as a read-only
 * filesystem would (EROFS), remembering each attempt ({@link #attempts()}): a test of a
 * read-only mount asserts it tried none, even one whose error the code under test swallowed.
 * Forces count as attempts too (nothing should need one). A shared lock is granted without
 * touching the storage; an exclusive one is an attempt.
 */
public final class WriteRefusingStorage implements Storage {
    private final Storage base;
    private final List<String> attempts = new ArrayList<>();

    public WriteRefusingStorage(Storage base) {
        this.base = base;
    }

    /** Every change tried, in order ("rename a -> b"). */
    public synchronized List<String> attempts() {
        return List.copyOf(attempts);
    }

    private synchronized IOException refuse(String what, String path) {
        attempts.add(what + " " + path);
        return new FileSystemException(base.describe() + "/" + path, null, "Read-only file system (" + what + ")");
    }

    @Override
    public String describe() {
        return base.describe();
    }

    @Override
    public StorageFile open(String path, Set<StandardOpenOption> options) throws IOException {
        if (!options.equals(Set.of(StandardOpenOption.READ))) {
            throw refuse("open " + options, path);
        }
        StorageFile f = base.open(path, options);
        return new StorageFile() {
            @Override
            public String path() {
                return f.path();
            }

            @Override
            public int read(ByteBuffer dst, long position) throws IOException {
                return f.read(dst, position);
            }

            @Override
            public void write(ByteBuffer src, long position) throws IOException {
                throw refuse("write", path);
            }

            @Override
            public long size() throws IOException {
                return f.size();
            }

            @Override
            public void truncate(long size) throws IOException {
                throw refuse("truncate", path);
            }

            @Override
            public void force(boolean metadata) throws IOException {
                throw refuse("force", path);
            }

            @Override
            public void punch(long offset, long length) throws IOException {
                throw refuse("punch", path);
            }

            @Override
            public long seekData(long offset) throws IOException {
                return f.seekData(offset);
            }

            @Override
            public long seekHole(long offset) throws IOException {
                return f.seekHole(offset);
            }

            @Override
            public void close() throws IOException {
                f.close();
            }
        };
    }

    @Override
    public StorageFile create(String path, Access access) throws IOException {
        throw refuse("create", path);
    }

    @Override
    public EntryType type(String path) throws IOException {
        return base.type(path);
    }

    @Override
    public long size(String path) throws IOException {
        return base.size(path);
    }

    @Override
    public void createDirectory(String path) throws IOException {
        throw refuse("mkdir", path);
    }

    @Override
    public void delete(String path) throws IOException {
        throw refuse("delete", path);
    }

    @Override
    public boolean deleteIfExists(String path) throws IOException {
        throw refuse("delete", path);
    }

    @Override
    public void rename(String from, String to) throws IOException {
        throw refuse("rename", from + " -> " + to);
    }

    @Override
    public List<String> list(String dir) throws IOException {
        return base.list(dir);
    }

    @Override
    public void forceDirectory(String dir) throws IOException {
        throw refuse("force folder", dir);
    }

    @Override
    public long allocatedBytes(String path) throws IOException {
        return base.allocatedBytes(path);
    }

    @Override
    public Optional<byte[]> getXattr(String path, String name) throws IOException {
        return base.getXattr(path, name);
    }

    @Override
    public void setXattr(String path, String name, byte[] value) throws IOException {
        throw refuse("setxattr " + name, path);
    }

    @Override
    public boolean removeXattr(String path, String name) throws IOException {
        throw refuse("removexattr " + name, path);
    }

    @Override
    public List<String> listXattrs(String path) throws IOException {
        return new ArrayList<>(base.listXattrs(path));
    }

    @Override
    public Closeable lock(String path) throws IOException {
        throw refuse("lock", path);
    }

    @Override
    public Closeable lockShared(String path) throws IOException {
        if (base.type(path) != EntryType.FILE) {
            throw new java.nio.file.NoSuchFileException(path);
        }
        return () -> {};
    }

    @Override
    public Stats stats() throws IOException {
        return base.stats();
    }

    @Override
    public void close() throws IOException {}
}
