package dev.spillway.osd.vfs;

import dev.spillway.osd.Attr;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.spi.storage.Storage;
import dev.spillway.osd.spi.storage.StorageErrors;
import dev.spillway.osd.spi.storage.StorageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The files of objects: a body file per FID ({@link ObjectIndex}) and its record — in the body's
 * xattr {@link XattrRecord#NAME} on a device formatted with records in xattrs, else in a record
 * file beside it ({@link AttrRecord}) — read and changed through the {@link Storage}. Every change
 * marks what it touched in the {@link DirtySet}. Callers hold the object's lock for changes;
 * reads take none.
 *
 * <p>An object exists when its record exists: create writes the body then the record, destroy
 * removes the record then the body (in xattrs: the body and its record go together), so a crash
 * between leaves at worst a body without record, which is invisible and replaced by the next
 * create of that FID. A device keeps its records in one place for life (its marker says which),
 * so an object never has two records to choose between.
 */
final class ObjectFiles {
    private final String device;
    private final Storage s;
    private final DirtySet dirty;
    // Object directories known to exist (they are never removed while mounted).
    private final Set<String> knownDirs = ConcurrentHashMap.newKeySet();
    private final FileHandles bodies;
    private final FileHandles records;
    private final long blockSize;
    // Where records live, fixed at format (DeviceLayout's marker).
    private final boolean xattrRecords;

    /**
     * What is known of an object's files: its record, body size and allocated bytes (-1: not
     * known). Exact: every change of the files below updates or drops it.
     */
    record Known(AttrRecord.Stored stored, long size, long allocated) {
        boolean complete() {
            return size >= 0 && allocated >= 0;
        }
    }

    // New objects of journal-off transactions still running whose record (in xattrs) is not on
    // disk yet: their transaction writes it once, as it ends, with the attributes its updates
    // left, so a new copy (create, write, stop) costs one record write, not one per update. Until
    // then the object exists by this map (never cleared as "known" may be); a sync writes it first.
    private final Map<Fid, Attr> unwritten = new ConcurrentHashMap<>();

    private static final int KNOWN_MAX = 1 << 16;
    // Filled only by holders of the object's lock (load), so a reader racing with a change can
    // never put back what the change replaced; readers use it when it is there.
    private final Map<Fid, Known> known = new ConcurrentHashMap<>();

    ObjectFiles(String device, Storage storage, DirtySet dirty, int blockSize, boolean xattrRecords) {
        this(device, storage, dirty, blockSize, xattrRecords, false);
    }

    /** With {@code readOnly}, files are opened for reading only (a read-only mount changes nothing). */
    ObjectFiles(String device, Storage storage, DirtySet dirty, int blockSize, boolean xattrRecords, boolean readOnly) {
        this.blockSize = blockSize;
        this.xattrRecords = xattrRecords;
        this.device = device;
        this.s = storage;
        this.dirty = dirty;
        this.bodies = new FileHandles(storage, ObjectIndex::body, readOnly);
        this.records = new FileHandles(storage, ObjectIndex::record, readOnly);
    }

    /**
     * Forces {@code path} through the cached handle of the body it names, if one is cached (it is
     * then that body's current file: whoever replaces or removes a body invalidates it first);
     * false otherwise.
     */
    boolean forceOpen(String path, boolean metadata) throws IOException {
        Fid fid = ObjectIndex.parseBody(path.substring(path.lastIndexOf('/') + 1));
        if (fid == null || !ObjectIndex.body(fid).equals(path)) {
            return false;
        }
        FileHandles.Handle h = bodies.cached(fid);
        if (h == null) {
            return false;
        }
        try {
            h.file.force(metadata);
        } finally {
            h.release();
        }
        return true;
    }

    void closeHandles() {
        bodies.closeAll();
        records.closeAll();
    }

    /** Both files of {@code fid} are about to be replaced or removed. */
    private void invalidate(Fid fid) {
        known.remove(fid);
        bodies.invalidate(fid);
        records.invalidate(fid);
    }

    /** Forgets everything remembered (after recovery rewrote files behind it). */
    void forget() {
        known.clear();
    }

    /**
     * The object's record, size and allocation, reading what is not known yet and remembering
     * it; null if the object does not exist. Only for holders of the object's lock.
     */
    Known load(Fid fid) throws OsdException {
        Known k = known.get(fid);
        if (k != null && k.complete()) {
            return k;
        }
        AttrRecord.Stored st = k != null ? k.stored() : readRecord(fid);
        if (st == null) {
            return null;
        }
        Known n = new Known(
                st,
                k != null && k.size() >= 0 ? k.size() : readSize(fid),
                k != null && k.allocated() >= 0 ? k.allocated() : readAllocated(fid));
        if (known.size() >= KNOWN_MAX) {
            known.clear();
        }
        known.put(fid, n);
        return n;
    }

    /** After a write of {@code [offset, end)}: the size grows to {@code end}; the allocation is unchanged only inside a fully allocated body. */
    private void wrote(Fid fid, long offset, long end) {
        known.computeIfPresent(fid, (f, k) -> {
            if (k.size() < 0) {
                return new Known(k.stored(), -1, -1);
            }
            boolean dense = k.allocated() >= 0 && k.allocated() >= (k.size() + blockSize - 1) / blockSize * blockSize;
            long alloc = dense && end <= k.size() ? k.allocated() : -1;
            return new Known(k.stored(), Math.max(k.size(), end), alloc);
        });
    }

    @FunctionalInterface
    private interface FileIo<T> {
        T run(StorageFile f) throws IOException;
    }

    /** Runs {@code io} on a cached handle of the file; null if it is missing. */
    private <T> T with(FileHandles cache, Fid fid, FileHandles.Check check, FileIo<T> io) throws IOException {
        FileHandles.Handle h = cache.acquire(fid, check);
        if (h == null) {
            return null;
        }
        try {
            return io.run(h.file);
        } finally {
            h.release();
        }
    }

    private static final FileHandles.Check EXISTS = () -> true;

    Storage storage() {
        return s;
    }

    OsdException io(Fid fid, String doing, IOException e) {
        return StorageErrors.toOsd(device, fid, doing, e);
    }

    // ---- reads ---------------------------------------------------------------------------

    /** The stored record, or null if the object does not exist. */
    AttrRecord.Stored record(Fid fid) throws OsdException {
        Known k = known.get(fid);
        return k != null ? k.stored() : readRecord(fid);
    }

    private AttrRecord.Stored readRecord(Fid fid) throws OsdException {
        Attr pending = unwritten.get(fid);
        if (pending != null) {
            return new AttrRecord.Stored(pending, 1);
        }
        if (xattrRecords) {
            return readXattrRecord(fid);
        }
        String path = ObjectIndex.record(fid);
        boolean[] present = {false};
        try {
            AttrRecord.Stored st = with(records, fid, EXISTS, f -> {
                present[0] = true;
                return AttrRecord.read(f, fid);
            });
            if (!present[0]) {
                return null;
            }
            if (st == null) {
                throw new OsdException(
                        Errno.EIO,
                        device,
                        fid,
                        "record " + s.describe() + "/" + path
                                + " is corrupt: neither of its two slots passes its checksum (restore the object from another copy, or destroy it)");
            }
            return st;
        } catch (IOException e) {
            throw io(fid, "read record " + path, e);
        }
    }

    private AttrRecord.Stored readXattrRecord(Fid fid) throws OsdException {
        String body = ObjectIndex.body(fid);
        Optional<byte[]> v;
        try {
            // Empty for a missing body too (an object never written: no exception per check).
            v = s.findXattr(body, XattrRecord.NAME);
        } catch (IOException e) {
            throw io(fid, "read record " + body + " xattr user." + XattrRecord.NAME, e);
        }
        if (v.isEmpty()) {
            return null;
        }
        Attr a = XattrRecord.decode(v.get());
        if (a == null) {
            throw new OsdException(
                    Errno.EIO,
                    device,
                    fid,
                    "record " + s.describe() + "/" + body + " xattr user." + XattrRecord.NAME + " is corrupt: "
                            + XattrRecord.whyInvalid(v.get())
                            + " (restore the object from another copy, or destroy it)");
        }
        // One value replaced whole: no generations to compare.
        return new AttrRecord.Stored(a, 0);
    }

    /** Whether the object's record is there, readable or not. */
    private boolean recordPresent(Fid fid) throws IOException {
        if (unwritten.containsKey(fid)) {
            return true;
        }
        if (!xattrRecords) {
            return s.type(ObjectIndex.record(fid)) == Storage.EntryType.FILE;
        }
        return s.findXattr(ObjectIndex.body(fid), XattrRecord.NAME).isPresent();
    }

    /**
     * The object named by a file of an object directory (its record file, or in xattrs its body
     * holding a record), or null: a listing shows objects, never bodies a crash left without record.
     */
    Fid listed(String dir, String fileName) throws IOException {
        if (!xattrRecords) {
            return ObjectIndex.parseRecord(fileName);
        }
        Fid f = ObjectIndex.parseBody(fileName);
        return f != null && ObjectIndex.dir(f).equals(dir) && recordPresent(f) ? f : null;
    }

    /**
     * For a destroy, which must work whatever a crash left of the object: its allocated bytes if
     * its record is there — readable or not (empty, torn: a copy whose name became durable before
     * its content) — or -1 if it does not exist.
     */
    long allocatedForDestroy(Fid fid) throws OsdException {
        try {
            Known k = load(fid);
            return k == null ? -1 : k.allocated();
        } catch (OsdException e) {
            if (!e.is(Errno.EIO) || !exists(fid)) {
                throw e;
            }
            return readAllocated(fid);
        }
    }

    /** Removes a body left without its record (a create or destroy a crash cut in two); true if there was one. */
    boolean removeOrphanBody(Fid fid) throws IOException {
        invalidate(fid);
        boolean had = s.deleteIfExists(ObjectIndex.body(fid));
        if (had) {
            dirty.dir(ObjectIndex.dir(fid));
        }
        return had;
    }

    boolean exists(Fid fid) throws OsdException {
        if (known.containsKey(fid)) {
            return true;
        }
        try {
            return recordPresent(fid);
        } catch (IOException e) {
            throw io(fid, "stat record", e);
        }
    }

    /** The body's size; 0 if it has no body file. */
    long size(Fid fid) throws OsdException {
        Known k = known.get(fid);
        return k != null && k.size() >= 0 ? k.size() : readSize(fid);
    }

    private long readSize(Fid fid) throws OsdException {
        try {
            Long size = with(bodies, fid, EXISTS, StorageFile::size);
            return size == null ? 0 : size;
        } catch (IOException e) {
            throw io(fid, "size of body", e);
        }
    }

    /** The body's allocated bytes; 0 if it has no body file. */
    long allocated(Fid fid) throws OsdException {
        Known k = known.get(fid);
        return k != null && k.allocated() >= 0 ? k.allocated() : readAllocated(fid);
    }

    private long readAllocated(Fid fid) throws OsdException {
        try {
            return s.allocatedBytes(ObjectIndex.body(fid));
        } catch (NoSuchFileException e) {
            return 0;
        } catch (IOException e) {
            throw io(fid, "allocated blocks of body", e);
        }
    }

    /** The full attributes, or null if the object does not exist. */
    Attr attr(Fid fid) throws OsdException {
        AttrRecord.Stored st = record(fid);
        if (st == null) {
            return null;
        }
        return st.attr().withSize(size(fid), allocated(fid) / 512);
    }

    /** Reads the body at {@code offset} into {@code dst}; 0 at or past the end; ENOENT for no object. */
    int read(Fid fid, long offset, ByteBuffer dst) throws OsdException {
        try {
            Integer n = with(bodies, fid, () -> recordPresent(fid), f -> f.read(dst, offset));
            if (n == null) {
                throw new OsdException(Errno.ENOENT, device, fid, "no such object");
            }
            return Math.max(0, n);
        } catch (NoSuchFileException e) {
            throw new OsdException(Errno.ENOENT, device, fid, "no such object (its body file is gone)", e);
        } catch (IOException e) {
            throw io(fid, "read at " + offset, e);
        }
    }

    /** SEEK_DATA / SEEK_HOLE on the body; -1 for ENXIO. */
    long seek(Fid fid, long offset, boolean data) throws OsdException {
        try (StorageFile f = s.open(ObjectIndex.body(fid), StandardOpenOption.READ)) {
            return data ? f.seekData(offset) : f.seekHole(offset);
        } catch (NoSuchFileException e) {
            throw new OsdException(Errno.ENOENT, device, fid, "no such object (its body file is gone)", e);
        } catch (IOException e) {
            throw io(fid, (data ? "seek data" : "seek hole") + " at " + offset, e);
        }
    }

    Optional<byte[]> xattr(Fid fid, String name) throws OsdException {
        if (reserved(name)) {
            return Optional.empty();
        }
        try {
            return s.getXattr(ObjectIndex.body(fid), name);
        } catch (NoSuchFileException e) {
            throw new OsdException(Errno.ENOENT, device, fid, "no such object (its body file is gone)", e);
        } catch (IOException e) {
            throw io(fid, "get xattr " + name, e);
        }
    }

    List<String> xattrNames(Fid fid) throws OsdException {
        try {
            List<String> names = s.listXattrs(ObjectIndex.body(fid));
            if (xattrRecords && names.contains(XattrRecord.NAME)) {
                names = new java.util.ArrayList<>(names);
                names.remove(XattrRecord.NAME);
            }
            return names;
        } catch (NoSuchFileException e) {
            throw new OsdException(Errno.ENOENT, device, fid, "no such object (its body file is gone)", e);
        } catch (IOException e) {
            throw io(fid, "list xattrs", e);
        }
    }

    /** Every xattr of the object with its value, in name order. */
    Map<String, byte[]> xattrs(Fid fid) throws OsdException {
        Map<String, byte[]> m = new LinkedHashMap<>();
        for (String n : xattrNames(fid)) {
            xattr(fid, n).ifPresent(v -> m.put(n, v));
        }
        return m;
    }

    // ---- changes (object lock held) ------------------------------------------------------

    /** Creates the object's directory if needed, marking the new entry dirty. */
    void ensureDir(Fid fid) throws IOException {
        String dir = ObjectIndex.dir(fid);
        if (knownDirs.contains(dir)) {
            return;
        }
        if (mkdir(dir)) {
            dirty.dir(ObjectIndex.OBJECTS);
            dirty.dir(dir);
        }
        knownDirs.add(dir);
    }

    private boolean mkdir(String dir) throws IOException {
        if (s.type(dir) == Storage.EntryType.DIRECTORY) {
            return false;
        }
        try {
            s.createDirectory(dir);
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        }
    }

    /**
     * A fresh object, unless it exists (false): leftovers of that FID removed, an empty body, a
     * record of generation 1. With records in xattrs the body is created at once ({@code
     * O_EXCL}: no existence check beforehand, a body a crash left without its record is replaced)
     * and its handle kept for the writes that follow; with {@code deferRecord} the record is
     * written by {@link #writeDeferred}, once, when the creating transaction ends.
     */
    boolean create(Fid fid, Attr attr, boolean deferRecord) throws IOException {
        if (known.containsKey(fid) || unwritten.containsKey(fid)) {
            return false;
        }
        if (!xattrRecords && recordPresent(fid)) {
            return false;
        }
        invalidate(fid);
        ensureDir(fid);
        String body = ObjectIndex.body(fid);
        if (xattrRecords) {
            StorageFile f;
            try {
                f = s.open(body, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
            } catch (FileAlreadyExistsException e) {
                if (recordPresent(fid)) {
                    return false;
                }
                // A body a crash left without its record: invisible, replaced.
                s.deleteIfExists(body);
                f = s.open(body, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
            }
            bodies.adopt(fid, f);
            dirty.dir(ObjectIndex.dir(fid));
            known.put(fid, new Known(new AttrRecord.Stored(attr, 1), 0, 0));
            if (deferRecord) {
                unwritten.put(fid, attr);
            } else {
                setXattrRecord(fid, attr);
            }
            return true;
        }
        String rec = ObjectIndex.record(fid);
        s.deleteIfExists(rec);
        s.deleteIfExists(body);
        s.open(body, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
        try (StorageFile f = s.open(rec, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            f.write(AttrRecord.fresh(fid, attr), 0);
        }
        dirty.file(body);
        dirty.file(rec);
        dirty.dir(ObjectIndex.dir(fid));
        known.put(fid, new Known(new AttrRecord.Stored(attr, 1), 0, 0));
        return true;
    }

    /** Writes {@code fid}'s record if its creating transaction has not yet ({@link #create}). */
    void writeDeferred(Fid fid) throws IOException {
        IOException[] failed = {null};
        // Under the map's lock for this FID: a record change racing with it (the creating
        // transaction, on its own thread) either lands in the map first or finds it gone and
        // writes its newer record itself, after this one.
        unwritten.computeIfPresent(fid, (f, a) -> {
            try {
                setXattrRecord(f, a);
                return null;
            } catch (IOException e) {
                failed[0] = e;
                return a;
            }
        });
        if (failed[0] != null) {
            throw failed[0];
        }
    }

    /** Writes every record still deferred (before a sync of the whole device, or an unmount). */
    void writeAllDeferred() throws IOException {
        for (Fid f : unwritten.keySet()) {
            writeDeferred(f);
        }
    }

    /**
     * Journal mode's create: leftovers of the FID removed and an empty body, but no record yet
     * (the transaction's {@code SetAttr} writes it, so the object appears with its final
     * attributes).
     */
    void createBody(Fid fid) throws IOException {
        invalidate(fid);
        ensureDir(fid);
        String body = ObjectIndex.body(fid);
        if (!xattrRecords) {
            s.deleteIfExists(ObjectIndex.record(fid));
        }
        s.deleteIfExists(body);
        s.open(body, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
        dirty.file(body);
        dirty.dir(ObjectIndex.dir(fid));
    }

    boolean hasBody(Fid fid) throws IOException {
        return s.type(ObjectIndex.body(fid)) == Storage.EntryType.FILE;
    }

    /**
     * Makes a staged file the object's body: any old record goes first, then the rename (in
     * xattrs, the old record goes with the old inode the rename replaces).
     */
    void install(Fid fid, String staged) throws IOException {
        invalidate(fid);
        ensureDir(fid);
        if (!xattrRecords) {
            s.deleteIfExists(ObjectIndex.record(fid));
        }
        s.rename(staged, ObjectIndex.body(fid));
        dirty.installedInto(ObjectIndex.dir(fid));
    }

    /** Writes the whole record (a new file) with generation 1, as after {@link #install}. */
    void freshRecord(Fid fid, Attr attr) throws IOException {
        if (xattrRecords) {
            setXattrRecord(fid, attr);
            known.remove(fid);
            return;
        }
        String rec = ObjectIndex.record(fid);
        records.invalidate(fid);
        try (StorageFile f = s.open(
                rec, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            f.write(AttrRecord.fresh(fid, attr), 0);
        }
        dirty.file(rec);
        dirty.dir(ObjectIndex.dir(fid));
        known.remove(fid);
    }

    /** Removes the record, then the body (in xattrs: the body, and its record with it). */
    void destroy(Fid fid) throws IOException {
        unwritten.remove(fid);
        invalidate(fid);
        if (!xattrRecords) {
            s.deleteIfExists(ObjectIndex.record(fid));
        }
        s.deleteIfExists(ObjectIndex.body(fid));
        dirty.dir(ObjectIndex.dir(fid));
    }

    /** Writes the record as {@code generation} (one more than the current one). */
    void writeRecord(Fid fid, Attr attr, long generation) throws IOException {
        if (xattrRecords) {
            // Not written yet: the creating transaction writes the latest one as it ends.
            if (unwritten.computeIfPresent(fid, (f, a) -> attr) == null) {
                setXattrRecord(fid, attr);
            }
        } else {
            String rec = ObjectIndex.record(fid);
            require(rec, with(records, fid, EXISTS, f -> {
                AttrRecord.write(f, fid, attr, generation);
                return Boolean.TRUE;
            }));
            dirty.file(rec);
        }
        known.computeIfPresent(
                fid, (f, k) -> new Known(new AttrRecord.Stored(attr, generation), k.size(), k.allocated()));
    }

    /** Replaces the record in the body's xattr (whole: a crash keeps the old value or the new). */
    private void setXattrRecord(Fid fid, Attr attr) throws IOException {
        String body = ObjectIndex.body(fid);
        s.setXattr(body, XattrRecord.NAME, XattrRecord.encode(attr));
        dirty.inode(body);
    }

    private boolean reserved(String name) {
        return xattrRecords && name.equals(XattrRecord.NAME);
    }

    private static void require(String path, Object done) throws NoSuchFileException {
        if (done == null) {
            throw new NoSuchFileException(path);
        }
    }

    void write(Fid fid, long offset, ByteBuffer src) throws IOException {
        String body = ObjectIndex.body(fid);
        long end = offset + src.remaining();
        try {
            require(body, with(bodies, fid, EXISTS, f -> {
                f.write(src, offset);
                return Boolean.TRUE;
            }));
        } catch (IOException | RuntimeException e) {
            known.remove(fid);
            throw e;
        }
        wrote(fid, offset, end);
        dirty.file(body);
    }

    void punch(Fid fid, long offset, long length) throws IOException {
        String body = ObjectIndex.body(fid);
        try {
            require(body, with(bodies, fid, EXISTS, f -> {
                f.punch(offset, length);
                return Boolean.TRUE;
            }));
        } catch (IOException | RuntimeException e) {
            known.remove(fid);
            throw e;
        }
        known.computeIfPresent(fid, (f, k) -> new Known(k.stored(), k.size(), -1));
        dirty.file(body);
    }

    void truncate(Fid fid, long size) throws IOException {
        String body = ObjectIndex.body(fid);
        try {
            require(body, with(bodies, fid, EXISTS, f -> {
                f.truncate(size);
                return Boolean.TRUE;
            }));
            known.computeIfPresent(
                    fid, (f, k) -> new Known(k.stored(), size, k.size() >= 0 && size >= k.size() ? k.allocated() : -1));
        } catch (IOException | RuntimeException e) {
            known.remove(fid);
            throw e;
        }
        dirty.file(body);
    }

    void setXattr(Fid fid, String name, byte[] value) throws IOException {
        String body = ObjectIndex.body(fid);
        s.setXattr(body, name, value);
        dirty.inode(body);
    }

    boolean removeXattr(Fid fid, String name) throws IOException {
        if (reserved(name)) {
            return false; // not an OSD xattr: the record stays
        }
        String body = ObjectIndex.body(fid);
        boolean had = s.removeXattr(body, name);
        dirty.inode(body);
        return had;
    }

    /** The files of an object, for a per-object sync: its body, and its record file if records are files. */
    List<String> files(Fid fid) {
        return xattrRecords ? List.of(ObjectIndex.body(fid)) : List.of(ObjectIndex.body(fid), ObjectIndex.record(fid));
    }

    boolean xattrRecords() {
        return xattrRecords;
    }

    /** The directories whose entries an object's durability depends on. */
    static List<String> dirs(Fid fid) {
        return List.of(ObjectIndex.dir(fid), ObjectIndex.OBJECTS);
    }
}
