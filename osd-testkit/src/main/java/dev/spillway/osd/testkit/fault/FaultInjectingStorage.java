package dev.spillway.osd.testkit.fault;

import dev.spillway.osd.spi.storage.Storage;
import dev.spillway.osd.spi.storage.StorageFile;
import dev.spillway.osd.spi.storage.StoragePaths;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

/**
 * A {@link Storage} in memory that behaves like a filesystem under a power cut, for crash tests
 * below the device under test (Lucene's {@code MockDirectoryWrapper} is the model).
 *
 * <p>It keeps what was written but not forced: file content and xattrs are durable only after
 * {@link StorageFile#force} (xattrs only with {@code metadata}), and a created, renamed or
 * deleted name only after {@link #forceDirectory} of its directory. Every call counts as one
 * operation; at the operation chosen with {@link #crashAt} — or when a {@link CrashSwitch} shared
 * with other devices of the same simulated machine fires — the storage "crashes": that call and
 * every later one fail with an {@link IOException}, as if the machine were gone. Then
 * {@link #survivor} builds the storage a reboot would find. What it keeps of what was not forced
 * is the {@link CrashMode}, after the crash-state models of ALICE and CrashMonkey (a POSIX
 * filesystem promises only what was forced; everything else may or may not be there, in the
 * combinations below):
 * <ul>
 * <li>{@link CrashMode#DROP}: nothing unforced;</li>
 * <li>{@link CrashMode#TORN}: an in-order prefix of each file's unforced writes, the last one
 *     cut at any byte (an unsynced append cut anywhere);</li>
 * <li>{@link CrashMode#REORDER}: any subset of them, pieces of writes included (page-cache
 *     writeback in any order);</li>
 * <li>{@link CrashMode#NAMES_FIRST}: every unforced name change, with each file's content as
 *     forced plus a prefix (often nothing: a new file is empty), half the time at the size its
 *     metadata recorded with zeros where the data never arrived — a journal commit (any fsync on
 *     the filesystem, or the 5-second timer) made the names durable and writeback had not run;</li>
 * <li>{@link CrashMode#SECTORS}: each 512-byte sector of each unforced write there or not,
 *     independently (a torn multi-sector write).</li>
 * </ul>
 * Unforced directory changes survive up to one point of their storage-wide order (journaling
 * filesystems commit metadata in order; none with DROP, all with NAMES_FIRST): so a rename is
 * durable or not; it is recorded as "new name, then old name gone", so a file whose new
 * directory was forced but not its old one shows under both names, as a POSIX filesystem may
 * show it, but a rename never loses the file.
 *
 * <p>It can also fail chosen operations ({@link #setFault}) to test error paths, simulate a
 * filesystem without user xattrs, hole punching or sparse seek, and start with the device's
 * folder missing or a file in its place. It is thread-safe (one lock) and meant for tests.
 */
public final class FaultInjectingStorage implements Storage {

    /** What a crash keeps of what was not forced. */
    public enum CrashMode {
        DROP,
        TORN,
        REORDER,
        NAMES_FIRST,
        SECTORS
    }

    /** The operations counted and offered to a {@link Fault}. */
    public enum Op {
        OPEN,
        READ,
        WRITE,
        SIZE,
        TRUNCATE,
        FORCE,
        PUNCH,
        SEEK,
        CLOSE,
        TYPE,
        MKDIR,
        DELETE,
        RENAME,
        LIST,
        FORCE_DIR,
        ALLOCATED,
        GET_XATTR,
        SET_XATTR,
        REMOVE_XATTR,
        LIST_XATTRS,
        LOCK,
        STATS
    }

    /** An injected failure: the exception to throw for this operation, or null to let it run. */
    @FunctionalInterface
    public interface Fault {
        IOException inject(Op op, String path, long operation);
    }

    /** What the simulated filesystem can do. */
    public record Features(
            int pageSize,
            long capacity,
            boolean xattrs,
            int maxXattrValue,
            long xattrBudget,
            boolean punch,
            boolean sparseSeek) {
        /** ext4 with 4 KiB blocks: xattr values up to 4,040 bytes, all of a file's in one block. */
        public static Features ext4() {
            return new Features(4096, 1L << 40, true, 4040, 4096 - 32 - 4, true, true);
        }

        public Features withoutXattrs() {
            return new Features(pageSize, capacity, false, 0, 0, punch, sparseSeek);
        }

        public Features withoutHoles() {
            return new Features(pageSize, capacity, xattrs, maxXattrValue, xattrBudget, false, false);
        }

        public Features withCapacity(long bytes) {
            return new Features(pageSize, bytes, xattrs, maxXattrValue, xattrBudget, punch, sparseSeek);
        }
    }

    /** How the device's folder starts. */
    public enum Root {
        FOLDER,
        MISSING,
        FILE
    }

    private final Features features;
    private final String name;
    // The folder: a SimDir, a SimFile (a file where the folder should be), or null (missing).
    private Object root;
    private final Set<String> locks = new HashSet<>();
    private long operations;
    // Stamps directory changes in the order they were made.
    private long metaSeq;
    // Numbers files in the order they were created.
    private long files;
    private long crashAt = Long.MAX_VALUE;
    private boolean crashed;
    private Fault fault;
    // The machine's crash point, shared with its other devices; null: this storage's own.
    private final CrashSwitch power;

    public FaultInjectingStorage(Features features) {
        this(features, Root.FOLDER);
    }

    public FaultInjectingStorage(Features features, Root start) {
        this(features, start, null, null);
    }

    /**
     * A storage that is one device of a simulated machine: every operation also ticks
     * {@code power}, and when it fires (here or on another device) this storage is down too.
     *
     * @param label names the storage in messages ({@code sim:<label>})
     */
    public FaultInjectingStorage(Features features, Root start, CrashSwitch power, String label) {
        this.features = features;
        this.name = "sim:" + (label != null ? label : Integer.toHexString(System.identityHashCode(this)));
        this.power = power;
        this.root = switch (start) {
            case FOLDER -> new SimDir();
            case MISSING -> null;
            case FILE -> new SimFile(features.pageSize(), 0);
        };
    }

    private FaultInjectingStorage(Features features, Object root, String name) {
        this.features = features;
        this.name = name;
        this.power = null;
        this.root = root;
    }

    // ---- crash control ---------------------------------------------------------------------

    /** Operations counted so far. */
    public synchronized long operations() {
        return operations;
    }

    /** Crashes when operation number {@code n} (1-based, counted from creation) is attempted. */
    public synchronized void crashAt(long n) {
        crashAt = n;
    }

    /** Crashes now: every later operation fails. */
    public synchronized void crash() {
        crashed = true;
    }

    public synchronized boolean crashed() {
        return crashed || (power != null && power.crashed());
    }

    public synchronized void setFault(Fault f) {
        this.fault = f;
    }

    /**
     * The storage a reboot finds: what was forced, plus what {@code mode} lets survive of the
     * rest (decided by {@code seed}). Crashes this storage if it has not crashed yet.
     */
    public synchronized FaultInjectingStorage survivor(CrashMode mode, long seed) {
        crashed = true;
        // Scrambled: java.util.Random's first outputs of nearby seeds are correlated.
        Random rnd = new Random(new java.util.SplittableRandom(seed).nextLong());
        // The point of the metadata order up to which unforced directory changes survive.
        long cut = switch (mode) {
            case DROP -> 0;
            case NAMES_FIRST -> metaSeq + 1;
            default -> metaSeq == 0 ? 0 : rnd.nextLong(metaSeq + 2);
        };
        Map<Object, Object> memo = new IdentityHashMap<>();
        Object r = root instanceof SimDir d ? surviveDir(d, cut, mode, seed, memo) : root;
        FaultInjectingStorage after = new FaultInjectingStorage(features, r, name);
        after.files = files;
        return after;
    }

    private static SimDir surviveDir(SimDir d, long cut, CrashMode mode, long seed, Map<Object, Object> memo) {
        Object done = memo.get(d);
        if (done != null) {
            return (SimDir) done;
        }
        SimDir s = new SimDir();
        memo.put(d, s);
        for (Map.Entry<String, Object> e : d.surviving(cut).entrySet()) {
            Object child = e.getValue();
            Object c = child instanceof SimDir cd
                    ? surviveDir(cd, cut, mode, seed, memo)
                    : surviveFile((SimFile) child, mode, seed, memo);
            s.entries.put(e.getKey(), c);
        }
        s.durable = new TreeMap<>(s.entries);
        return s;
    }

    private static SimFile surviveFile(SimFile f, CrashMode mode, long seed, Map<Object, Object> memo) {
        Object done = memo.get(f);
        if (done == null) {
            long mixed = new java.util.SplittableRandom(seed + f.serial * 0x9E3779B97F4A7C15L).nextLong();
            done = f.survive(mode, new Random(mixed));
            memo.put(f, done);
        }
        return (SimFile) done;
    }

    void op(Op op, String path) throws IOException {
        if (crashed) {
            throw new IOException("simulated crash: " + name + " is down (" + op + " " + path + ")");
        }
        if (power != null) {
            try {
                power.tick(name + ": " + op + " " + path);
            } catch (CrashSwitch.SimulatedCrash e) {
                crashed = true;
                throw new IOException(e.getMessage());
            }
        }
        operations++;
        if (operations >= crashAt) {
            crashed = true;
            throw new IOException("simulated crash at operation " + operations + " (" + op + " " + path + ")");
        }
        if (fault != null) {
            IOException e = fault.inject(op, path, operations);
            if (e != null) {
                throw e;
            }
        }
    }

    // ---- the tree ----------------------------------------------------------------------------

    private SimDir rootDir(String path) throws IOException {
        if (root == null) {
            throw new NoSuchFileException(path, null, "the storage's folder does not exist");
        }
        if (!(root instanceof SimDir d)) {
            throw new NotDirectoryException(path);
        }
        return d;
    }

    /** The directory holding {@code path}'s last segment. */
    private SimDir parentOf(String path) throws IOException {
        SimDir d = rootDir(path);
        String parent = StoragePaths.parent(path);
        if (parent.isEmpty()) {
            return d;
        }
        for (String seg : parent.split("/")) {
            Object o = d.entries.get(seg);
            if (o == null) {
                throw new NoSuchFileException(path);
            }
            if (!(o instanceof SimDir sd)) {
                throw new NotDirectoryException(path);
            }
            d = sd;
        }
        return d;
    }

    private Object lookup(String path) throws IOException {
        if (StoragePaths.check(path).isEmpty()) {
            return root;
        }
        return parentOf(path).entries.get(StoragePaths.name(path));
    }

    private SimDir dir(String path) throws IOException {
        Object o = lookup(path);
        if (o == null) {
            throw new NoSuchFileException(path);
        }
        if (!(o instanceof SimDir d)) {
            throw new NotDirectoryException(path);
        }
        return d;
    }

    private SimFile file(String path) throws IOException {
        Object o = lookup(path);
        if (o == null) {
            throw new NoSuchFileException(path);
        }
        if (!(o instanceof SimFile f)) {
            throw new FileSystemException(path, null, "Is a directory");
        }
        return f;
    }

    // ---- Storage -----------------------------------------------------------------------------

    @Override
    public String describe() {
        return name;
    }

    @Override
    public synchronized StorageFile open(String path, Set<StandardOpenOption> options) throws IOException {
        op(Op.OPEN, path);
        StoragePaths.check(path);
        if (path.isEmpty()) {
            throw new FileSystemException(path, null, "Is a directory");
        }
        SimDir parent = parentOf(path);
        String n = StoragePaths.name(path);
        Object o = parent.entries.get(n);
        SimFile f;
        if (o instanceof SimDir) {
            throw new FileSystemException(path, null, "Is a directory");
        } else if (o == null) {
            if (!options.contains(StandardOpenOption.CREATE) && !options.contains(StandardOpenOption.CREATE_NEW)) {
                throw new NoSuchFileException(path);
            }
            f = new SimFile(features.pageSize(), ++files);
            parent.put(n, f, ++metaSeq);
        } else {
            if (options.contains(StandardOpenOption.CREATE_NEW)) {
                throw new FileAlreadyExistsException(path);
            }
            f = (SimFile) o;
            if (options.contains(StandardOpenOption.TRUNCATE_EXISTING) && options.contains(StandardOpenOption.WRITE)) {
                f.apply(new SimFile.Change.Truncate(0));
            }
        }
        return new SimHandle(this, path, f, options.contains(StandardOpenOption.WRITE));
    }

    @Override
    public synchronized StorageFile create(String path, Access access) throws IOException {
        StorageFile f = open(path, java.util.EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE));
        ((SimHandle) f).inode().ownerOnly = access == Access.OWNER_ONLY;
        return f;
    }

    /** True if {@code path} was created {@link Storage.Access#OWNER_ONLY}. */
    public synchronized boolean ownerOnly(String path) throws IOException {
        return file(path).ownerOnly;
    }

    @Override
    public synchronized EntryType type(String path) throws IOException {
        op(Op.TYPE, path);
        Object o;
        try {
            o = lookup(path);
        } catch (NoSuchFileException | NotDirectoryException e) {
            return EntryType.MISSING;
        }
        return o == null ? EntryType.MISSING : o instanceof SimDir ? EntryType.DIRECTORY : EntryType.FILE;
    }

    @Override
    public synchronized void createDirectory(String path) throws IOException {
        op(Op.MKDIR, path);
        if (StoragePaths.check(path).isEmpty()) {
            if (root != null) {
                throw new FileAlreadyExistsException(path);
            }
            root = new SimDir();
            return;
        }
        SimDir parent = parentOf(path);
        String n = StoragePaths.name(path);
        if (parent.entries.containsKey(n)) {
            throw new FileAlreadyExistsException(path);
        }
        parent.put(n, new SimDir(), ++metaSeq);
    }

    @Override
    public synchronized void delete(String path) throws IOException {
        op(Op.DELETE, path);
        remove(path);
    }

    private void remove(String path) throws IOException {
        SimDir parent = parentOf(StoragePaths.check(path));
        String n = StoragePaths.name(path);
        Object o = parent.entries.get(n);
        if (o == null) {
            throw new NoSuchFileException(path);
        }
        if (o instanceof SimDir d && !d.entries.isEmpty()) {
            throw new DirectoryNotEmptyException(path);
        }
        parent.remove(n, ++metaSeq);
    }

    @Override
    public synchronized boolean deleteIfExists(String path) throws IOException {
        op(Op.DELETE, path);
        try {
            remove(path);
            return true;
        } catch (NoSuchFileException e) {
            return false;
        }
    }

    @Override
    public synchronized void rename(String from, String to) throws IOException {
        op(Op.RENAME, from + " -> " + to);
        SimFile f = file(StoragePaths.check(from));
        SimDir target = parentOf(StoragePaths.check(to));
        if (target.entries.get(StoragePaths.name(to)) instanceof SimDir) {
            throw new FileSystemException(to, null, "Is a directory");
        }
        target.put(StoragePaths.name(to), f, ++metaSeq);
        parentOf(from).remove(StoragePaths.name(from), ++metaSeq);
    }

    @Override
    public synchronized List<String> list(String dir) throws IOException {
        op(Op.LIST, dir);
        return new ArrayList<>(dir(dir).entries.keySet());
    }

    @Override
    public synchronized void forceDirectory(String dir) throws IOException {
        op(Op.FORCE_DIR, dir);
        dir(dir).force();
    }

    @Override
    public synchronized long allocatedBytes(String path) throws IOException {
        op(Op.ALLOCATED, path);
        return file(path).current.allocated();
    }

    private void requireXattrs(String path) {
        if (!features.xattrs()) {
            throw new UnsupportedOperationException("user xattrs are not supported on " + name + " (" + path + ")");
        }
    }

    @Override
    public synchronized Optional<byte[]> getXattr(String path, String xname) throws IOException {
        op(Op.GET_XATTR, path);
        requireXattrs(path);
        byte[] v = file(path).xattrs.get(xname);
        return v == null ? Optional.empty() : Optional.of(v.clone());
    }

    private static long cost(String n, int len) {
        return 16 + ((n.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + 3) & ~3L) + ((len + 3) & ~3L);
    }

    @Override
    public synchronized void setXattr(String path, String xname, byte[] value) throws IOException {
        op(Op.SET_XATTR, path);
        requireXattrs(path);
        SimFile f = file(path);
        if (value.length > 65536) {
            throw new FileSystemException(path, null, "Argument list too long");
        }
        long total = cost(xname, value.length);
        for (Map.Entry<String, byte[]> e : f.xattrs.entrySet()) {
            if (!e.getKey().equals(xname)) {
                total += cost(e.getKey(), e.getValue().length);
            }
        }
        if (value.length > features.maxXattrValue() || total > features.xattrBudget()) {
            throw new FileSystemException(path, null, "No space left on device");
        }
        f.xattrs.put(xname, value.clone());
    }

    @Override
    public synchronized boolean removeXattr(String path, String xname) throws IOException {
        op(Op.REMOVE_XATTR, path);
        requireXattrs(path);
        return file(path).xattrs.remove(xname) != null;
    }

    @Override
    public synchronized List<String> listXattrs(String path) throws IOException {
        op(Op.LIST_XATTRS, path);
        requireXattrs(path);
        return new ArrayList<>(file(path).xattrs.keySet());
    }

    @Override
    public synchronized Closeable lock(String path) throws IOException {
        op(Op.LOCK, path);
        open(path, java.util.EnumSet.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE))
                .close();
        if (!locks.add(path)) {
            throw new FileSystemException(path, null, "locked by another process (the device is mounted elsewhere)");
        }
        return () -> {
            synchronized (FaultInjectingStorage.this) {
                locks.remove(path);
            }
        };
    }

    @Override
    public synchronized Stats stats() throws IOException {
        op(Op.STATS, "");
        long used = root instanceof SimDir d ? allocated(d, new IdentityHashMap<>()) : 0;
        long free = Math.max(0, features.capacity() - used);
        return new Stats(features.capacity(), free, free, features.pageSize());
    }

    private static long allocated(SimDir d, Map<Object, Boolean> seen) {
        long sum = 0;
        for (Object o : d.entries.values()) {
            if (seen.put(o, Boolean.TRUE) != null) {
                continue;
            }
            sum += o instanceof SimDir sd ? allocated(sd, seen) : ((SimFile) o).current.allocated();
        }
        return sum;
    }

    @Override
    public void close() {}

    Features features() {
        return features;
    }

    /** Refuses to grow past the capacity (checked only when a capacity below 1 TiB is simulated). */
    void checkRoom(String path, long growing) throws IOException {
        if (growing > 0
                && features.capacity() < (1L << 40)
                && root instanceof SimDir d
                && allocated(d, new IdentityHashMap<>()) + growing > features.capacity()) {
            throw new FileSystemException(path, null, "No space left on device");
        }
    }

    @Override
    public String toString() {
        return describe();
    }
}
