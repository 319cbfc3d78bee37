package dev.spillway.osd.vfs.journal;

import dev.spillway.osd.spi.storage.Storage;
import dev.spillway.osd.spi.storage.StorageFile;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/** Files in memory, for replaying a journal the fuzzer made: reads only, everything else refused. */
final class ReadOnlyStorage implements Storage {
    private final TreeMap<String, byte[]> files = new TreeMap<>();

    ReadOnlyStorage(Map<String, byte[]> files) {
        this.files.putAll(files);
    }

    @Override
    public String describe() {
        return "mem:fuzz";
    }

    @Override
    public StorageFile open(String path, Set<StandardOpenOption> options) throws IOException {
        byte[] d = files.get(path);
        if (d == null || options.contains(StandardOpenOption.WRITE)) {
            throw new NoSuchFileException(path);
        }
        return new StorageFile() {
            @Override
            public String path() {
                return path;
            }

            @Override
            public int read(ByteBuffer dst, long position) {
                if (position >= d.length) {
                    return -1;
                }
                int n = (int) Math.min(dst.remaining(), d.length - position);
                dst.put(d, (int) position, n);
                return n;
            }

            @Override
            public void write(ByteBuffer src, long position) throws IOException {
                throw new IOException("read-only");
            }

            @Override
            public long size() {
                return d.length;
            }

            @Override
            public void truncate(long size) throws IOException {
                throw new IOException("read-only");
            }

            @Override
            public void force(boolean metadata) {}

            @Override
            public void punch(long offset, long length) throws IOException {
                throw new IOException("read-only");
            }

            @Override
            public long seekData(long offset) throws IOException {
                throw new IOException("not here");
            }

            @Override
            public long seekHole(long offset) throws IOException {
                throw new IOException("not here");
            }

            @Override
            public void close() {}
        };
    }

    @Override
    public EntryType type(String path) {
        if (files.containsKey(path)) {
            return EntryType.FILE;
        }
        String dir = path + "/";
        return files.keySet().stream().anyMatch(p -> p.startsWith(dir)) ? EntryType.DIRECTORY : EntryType.MISSING;
    }

    @Override
    public List<String> list(String dir) {
        List<String> out = new ArrayList<>();
        for (String p : files.keySet()) {
            if (p.startsWith(dir + "/") && p.indexOf('/', dir.length() + 1) < 0) {
                out.add(p.substring(dir.length() + 1));
            }
        }
        return out;
    }

    @Override
    public void createDirectory(String path) throws IOException {
        throw new IOException("read-only");
    }

    @Override
    public void delete(String path) throws IOException {
        throw new IOException("read-only");
    }

    @Override
    public boolean deleteIfExists(String path) throws IOException {
        throw new IOException("read-only");
    }

    @Override
    public void rename(String from, String to) throws IOException {
        throw new IOException("read-only");
    }

    @Override
    public void forceDirectory(String dir) {}

    @Override
    public long allocatedBytes(String path) {
        byte[] d = files.get(path);
        return d == null ? 0 : d.length;
    }

    @Override
    public Optional<byte[]> getXattr(String path, String name) {
        return Optional.empty();
    }

    @Override
    public void setXattr(String path, String name, byte[] value) throws IOException {
        throw new IOException("read-only");
    }

    @Override
    public boolean removeXattr(String path, String name) throws IOException {
        throw new IOException("read-only");
    }

    @Override
    public List<String> listXattrs(String path) {
        return List.of();
    }

    @Override
    public Closeable lock(String path) {
        return () -> {};
    }

    @Override
    public Stats stats() {
        return new Stats(1L << 30, 1L << 30, 1L << 30, 4096);
    }

    @Override
    public void close() {}
}
