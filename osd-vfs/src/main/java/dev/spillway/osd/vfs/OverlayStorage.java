package dev.spillway.osd.vfs;

import dev.spillway.osd.spi.storage.Storage;
import dev.spillway.osd.spi.storage.StorageFile;
import dev.spillway.osd.spi.storage.StoragePaths;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A copy-on-write view of a {@link Storage} kept in memory: reads see the base as the changes
 * made through this view left it, and nothing reaches the base — no byte, name or xattr. A
 * read-only mount replays its journal into one ({@link VfsOsd}), so it answers as a read-write
 * mount would after the replay, on a folder (or a filesystem) that must not or cannot be written.
 *
 * <p>A changed file is an inode of its own ({@link Node}): the base file it started as (read
 * through at each read, never held open), the extents written over it, its size, and its xattrs
 * once one changed. A rename moves the inode, a delete leaves a whiteout. What a journal replay
 * changes is small (the log's inline writes, renames of staged bodies, records), so memory stays
 * about the size of the log, which replay holds in memory anyway. Forces are no-ops: nothing here
 * is durable, by design. Thread-safe: the tables under this object's lock, each inode under its own.
 */
final class OverlayStorage implements Storage {
    private static final Set<StandardOpenOption> KNOWN = EnumSet.of(
            StandardOpenOption.READ,
            StandardOpenOption.WRITE,
            StandardOpenOption.CREATE,
            StandardOpenOption.CREATE_NEW,
            StandardOpenOption.TRUNCATE_EXISTING);

    private final Storage base;
    private final int blockSize;
    // What differs from the base, by folder then name: a Node (a file), DIR (a folder made here)
    // or GONE (removed here). Guarded by this.
    private final Map<String, TreeMap<String, Object>> changed = new HashMap<>();
    private static final Object DIR = new Object();
    private static final Object GONE = new Object();

    OverlayStorage(Storage base, int blockSize) {
        this.base = base;
        this.blockSize = blockSize;
    }

    /** A file changed here: its bytes are the base file's below {@code baseLimit}, then the extents over them. */
    private final class Node {
        // Guarded by this node.
        private final String basePath;
        private long baseLimit;
        private long size;
        // Written (data) or punched (null data: zeros) extents, by offset, not overlapping.
        private final TreeMap<Long, byte[]> extents = new TreeMap<>();
        private final Map<Long, Long> zeros = new HashMap<>();
        private Map<String, byte[]> xattrs;

        Node(String basePath, long size) {
            this.basePath = basePath;
            this.baseLimit = basePath == null ? 0 : size;
            this.size = size;
        }

        synchronized long size() {
            return size;
        }

        private long end(Map.Entry<Long, byte[]> e) {
            return e.getKey() + (e.getValue() != null ? e.getValue().length : zeros.get(e.getKey()));
        }

        /** Removes {@code [from, to)} from the extents, keeping what lies outside it. */
        private void cut(long from, long to) {
            Map.Entry<Long, byte[]> before = extents.lowerEntry(from);
            if (before != null && end(before) > from) {
                split(before, from);
            }
            Map.Entry<Long, byte[]> last = extents.lowerEntry(to);
            if (last != null && last.getKey() >= from && end(last) > to) {
                split(last, to);
            }
            for (Long k : new ArrayList<>(extents.subMap(from, true, to, false).keySet())) {
                extents.remove(k);
                zeros.remove(k);
            }
        }

        /** Splits an extent in two at {@code at}. */
        private void split(Map.Entry<Long, byte[]> e, long at) {
            long off = e.getKey();
            long end = end(e);
            byte[] d = e.getValue();
            if (d == null) {
                zeros.put(off, at - off);
                extents.put(off, null);
                zeros.put(at, end - at);
                extents.put(at, null);
            } else {
                extents.put(off, java.util.Arrays.copyOfRange(d, 0, (int) (at - off)));
                extents.put(at, java.util.Arrays.copyOfRange(d, (int) (at - off), d.length));
            }
        }

        synchronized void write(ByteBuffer src, long pos) {
            byte[] d = new byte[src.remaining()];
            src.get(d);
            if (d.length == 0) {
                return;
            }
            cut(pos, pos + d.length);
            extents.put(pos, d);
            size = Math.max(size, pos + d.length);
        }

        synchronized void punch(long pos, long len) {
            long end = Math.min(size, pos + len);
            if (end <= pos) {
                return;
            }
            cut(pos, end);
            extents.put(pos, null);
            zeros.put(pos, end - pos);
        }

        synchronized void truncate(long n) {
            if (n < size) {
                cut(n, Long.MAX_VALUE);
                baseLimit = Math.min(baseLimit, n);
            }
            size = n;
        }

        synchronized int read(ByteBuffer dst, long pos) throws IOException {
            if (pos >= size) {
                return -1;
            }
            int n = (int) Math.min(dst.remaining(), size - pos);
            byte[] out = new byte[n];
            if (basePath != null && pos < baseLimit) {
                int fromBase = (int) Math.min(n, baseLimit - pos);
                try (StorageFile f = base.open(basePath, StandardOpenOption.READ)) {
                    ByteBuffer b = ByteBuffer.wrap(out, 0, fromBase);
                    while (b.hasRemaining() && f.read(b, pos + b.position()) > 0) {
                        // until full or the base file ends (beyond: zeros, as a replay's holes)
                    }
                }
            }
            Map.Entry<Long, byte[]> first = extents.floorEntry(pos);
            long from = first != null && end(first) > pos ? first.getKey() : pos;
            for (Map.Entry<Long, byte[]> e :
                    extents.subMap(from, true, pos + n, false).entrySet()) {
                long s = Math.max(pos, e.getKey());
                long t = Math.min(pos + n, end(e));
                if (e.getValue() == null) {
                    java.util.Arrays.fill(out, (int) (s - pos), (int) (t - pos), (byte) 0);
                } else {
                    System.arraycopy(e.getValue(), (int) (s - e.getKey()), out, (int) (s - pos), (int) (t - s));
                }
            }
            dst.put(out);
            return n;
        }

        /** As the base file's if unchanged, else its size in whole blocks (nothing here is allocated). */
        synchronized long allocated() throws IOException {
            if (basePath != null && extents.isEmpty() && baseLimit == size) {
                return base.allocatedBytes(basePath);
            }
            return (size + blockSize - 1) / blockSize * blockSize;
        }

        synchronized Map<String, byte[]> xattrs() throws IOException {
            if (xattrs == null) {
                xattrs = new TreeMap<>();
                if (basePath != null) {
                    for (String n : base.listXattrs(basePath)) {
                        base.getXattr(basePath, n).ifPresent(v -> xattrs.put(n, v));
                    }
                }
            }
            return xattrs;
        }

        synchronized Optional<byte[]> xattr(String name) throws IOException {
            if (xattrs == null) {
                return basePath == null ? Optional.empty() : base.getXattr(basePath, name);
            }
            return Optional.ofNullable(xattrs.get(name)).map(byte[]::clone);
        }
    }

    private final class NodeFile implements StorageFile {
        private final String path;
        private final Node node;

        NodeFile(String path, Node node) {
            this.path = path;
            this.node = node;
        }

        @Override
        public String path() {
            return path;
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return node.read(dst, position);
        }

        @Override
        public void write(ByteBuffer src, long position) {
            node.write(src, position);
        }

        @Override
        public long size() {
            return node.size();
        }

        @Override
        public void truncate(long size) {
            node.truncate(size);
        }

        @Override
        public void force(boolean metadata) {
            // Nothing in the overlay is durable, by design.
        }

        @Override
        public void punch(long offset, long length) {
            node.punch(offset, length);
        }

        @Override
        public long seekData(long offset) {
            throw new UnsupportedOperationException("an in-memory overlay of " + base.describe() + " has no holes");
        }

        @Override
        public long seekHole(long offset) {
            throw new UnsupportedOperationException("an in-memory overlay of " + base.describe() + " has no holes");
        }

        @Override
        public void close() {}
    }

    // ---- the tables ----------------------------------------------------------------------------

    /** What {@code path} is changed to (Node, DIR or GONE), or null if the base's entry stands. */
    private synchronized Object entry(String path) {
        if (path.isEmpty()) {
            return null;
        }
        TreeMap<String, Object> dir = changed.get(StoragePaths.parent(path));
        return dir == null ? null : dir.get(name(path));
    }

    private static String name(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    private synchronized void put(String path, Object e) {
        changed.computeIfAbsent(StoragePaths.parent(path), d -> new TreeMap<>()).put(name(path), e);
    }

    /** The inode of a file, made from the base file on first change; null if there is no such file. */
    private synchronized Node node(String path) throws IOException {
        Object e = entry(path);
        if (e instanceof Node n) {
            return n;
        }
        if (e != null || base.type(path) != EntryType.FILE) {
            return null;
        }
        Node n = new Node(path, base.size(path));
        put(path, n);
        return n;
    }

    private void requireFolder(String path) throws IOException {
        String parent = StoragePaths.parent(path);
        EntryType t = type(parent);
        if (t == EntryType.MISSING) {
            throw new NoSuchFileException(path);
        }
        if (t != EntryType.DIRECTORY) {
            throw new NotDirectoryException(parent);
        }
    }

    // ---- Storage -------------------------------------------------------------------------------

    @Override
    public String describe() {
        return base.describe();
    }

    @Override
    public synchronized StorageFile open(String path, Set<StandardOpenOption> options) throws IOException {
        for (StandardOpenOption o : options) {
            if (!KNOWN.contains(o)) {
                throw new IllegalArgumentException("open option " + o);
            }
        }
        EntryType t = type(path);
        if (t == EntryType.DIRECTORY || t == EntryType.OTHER) {
            throw new java.nio.file.FileSystemException(path, null, "not a regular file");
        }
        boolean write = options.contains(StandardOpenOption.WRITE);
        if (t == EntryType.FILE && options.contains(StandardOpenOption.CREATE_NEW)) {
            throw new FileAlreadyExistsException(path);
        }
        if (t == EntryType.MISSING) {
            if (!options.contains(StandardOpenOption.CREATE) && !options.contains(StandardOpenOption.CREATE_NEW)) {
                throw new NoSuchFileException(path);
            }
            requireFolder(path);
            Node n = new Node(null, 0);
            put(path, n);
            return new NodeFile(path, n);
        }
        Object e = entry(path);
        if (!write && e == null) {
            return base.open(path, StandardOpenOption.READ);
        }
        Node n = node(path);
        if (write && options.contains(StandardOpenOption.TRUNCATE_EXISTING)) {
            n.truncate(0);
        }
        return new NodeFile(path, n);
    }

    @Override
    public synchronized EntryType type(String path) throws IOException {
        Object e = entry(path);
        if (e == null) {
            return base.type(path);
        }
        return e == GONE ? EntryType.MISSING : e == DIR ? EntryType.DIRECTORY : EntryType.FILE;
    }

    @Override
    public synchronized long size(String path) throws IOException {
        Object e = entry(path);
        if (e instanceof Node n) {
            return n.size();
        }
        if (e == GONE) {
            throw new NoSuchFileException(path);
        }
        return base.size(path);
    }

    @Override
    public synchronized void createDirectory(String path) throws IOException {
        if (type(path) != EntryType.MISSING) {
            throw new FileAlreadyExistsException(path);
        }
        requireFolder(path);
        put(path, DIR);
    }

    @Override
    public synchronized void delete(String path) throws IOException {
        EntryType t = type(path);
        if (t == EntryType.MISSING) {
            throw new NoSuchFileException(path);
        }
        if (t == EntryType.DIRECTORY && !list(path).isEmpty()) {
            throw new DirectoryNotEmptyException(path);
        }
        put(path, GONE);
    }

    @Override
    public synchronized boolean deleteIfExists(String path) throws IOException {
        if (type(path) == EntryType.MISSING) {
            return false;
        }
        delete(path);
        return true;
    }

    @Override
    public synchronized void rename(String from, String to) throws IOException {
        if (type(from) != EntryType.FILE) {
            throw new NoSuchFileException(from);
        }
        requireFolder(to);
        if (type(to) == EntryType.DIRECTORY) {
            throw new java.nio.file.FileSystemException(to, null, "is a folder");
        }
        if (from.equals(to)) {
            return;
        }
        Node n = node(from);
        put(to, n);
        put(from, GONE);
    }

    @Override
    public synchronized List<String> list(String dir) throws IOException {
        EntryType t = type(dir);
        if (t == EntryType.MISSING) {
            throw new NoSuchFileException(dir);
        }
        if (t != EntryType.DIRECTORY) {
            throw new NotDirectoryException(dir);
        }
        TreeSet<String> names = new TreeSet<>();
        if (entry(dir) == null) {
            names.addAll(base.list(dir));
        }
        TreeMap<String, Object> here = changed.get(dir);
        if (here != null) {
            for (Map.Entry<String, Object> e : here.entrySet()) {
                if (e.getValue() == GONE) {
                    names.remove(e.getKey());
                } else {
                    names.add(e.getKey());
                }
            }
        }
        return new ArrayList<>(names);
    }

    @Override
    public void forceDirectory(String dir) {
        // Nothing in the overlay is durable, by design.
    }

    @Override
    public synchronized long allocatedBytes(String path) throws IOException {
        Object e = entry(path);
        if (e instanceof Node n) {
            return n.allocated();
        }
        if (e == GONE) {
            throw new NoSuchFileException(path);
        }
        return base.allocatedBytes(path);
    }

    @Override
    public Optional<byte[]> getXattr(String path, String name) throws IOException {
        Object e = entry(path);
        if (e instanceof Node n) {
            return n.xattr(name);
        }
        if (e == GONE) {
            throw new NoSuchFileException(path);
        }
        return e == DIR ? Optional.empty() : base.getXattr(path, name);
    }

    @Override
    public void setXattr(String path, String name, byte[] value) throws IOException {
        Node n = node(path);
        if (n == null) {
            throw new NoSuchFileException(path);
        }
        synchronized (n) {
            n.xattrs().put(name, value.clone());
        }
    }

    @Override
    public boolean removeXattr(String path, String name) throws IOException {
        Node n = node(path);
        if (n == null) {
            throw new NoSuchFileException(path);
        }
        synchronized (n) {
            return n.xattrs().remove(name) != null;
        }
    }

    @Override
    public List<String> listXattrs(String path) throws IOException {
        Object e = entry(path);
        if (e instanceof Node n) {
            synchronized (n) {
                return new ArrayList<>(n.xattrs().keySet());
            }
        }
        if (e == GONE) {
            throw new NoSuchFileException(path);
        }
        return e == DIR ? new ArrayList<>() : base.listXattrs(path);
    }

    @Override
    public Closeable lock(String path) throws IOException {
        return base.lockShared(path);
    }

    @Override
    public Stats stats() throws IOException {
        return base.stats();
    }

    @Override
    public long usableBytes() throws IOException {
        return base.usableBytes();
    }

    @Override
    public void replaceDurably(String path, byte[] content, Access access) throws IOException {
        throw new java.nio.file.FileSystemException(
                base.describe() + "/" + path, null, "an in-memory overlay writes no state file");
    }

    @Override
    public void close() {
        // The base belongs to the device.
    }
}
