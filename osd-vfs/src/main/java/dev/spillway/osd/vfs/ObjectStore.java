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
 * The files of objects: a body file and a record file per FID ({@link ObjectIndex}), read and
 * changed through the {@link Storage}. Every change marks what it touched in the
 * {@link DirtySet}. Callers hold the object's lock for changes; reads take none.
 *
 * <p>An object exists when its record exists: create writes the body then the record, destroy
 * removes the record then the body, so a crash between leaves at worst a body without record,
 * which is invisible and replaced by the next create of that FID.
 */
final class ObjectStore {
    private final String device;
    private final Storage s;
    private final DirtySet dirty;
    // Object directories known to exist (they are never removed while mounted).
    private final Set<String> knownDirs = ConcurrentHashMap.newKeySet();
    private final ReadHandles handles;

    ObjectStore(String device, Storage storage, DirtySet dirty) {
        this.device = device;
        this.s = storage;
        this.dirty = dirty;
        this.handles = new ReadHandles(storage);
    }

    void closeHandles() {
        handles.closeAll();
    }

    Storage storage() {
        return s;
    }

    OsdException io(Fid fid, String doing, IOException e) {
        return StorageErrors.toOsd(device, fid, doing, e);
    }

    // ---- reads ---------------------------------------------------------------------------

    /** The stored record, or null if the object does not exist. */
    AttrRecord.Stored record(Fid fid) throws OsdException {
        String path = ObjectIndex.record(fid);
        StorageFile f;
        try {
            f = s.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw io(fid, "open record " + path, e);
        }
        try (f) {
            AttrRecord.Stored st = AttrRecord.read(f, fid);
            if (st == null) {
                throw new OsdException(Errno.EIO, device, fid, "record " + s.describe() + "/" + path
                        + " is corrupt: neither of its two slots passes its checksum (restore the object from another copy, or destroy it)");
            }
            return st;
        } catch (IOException e) {
            throw io(fid, "read record " + path, e);
        }
    }

    boolean exists(Fid fid) throws OsdException {
        try {
            return s.type(ObjectIndex.record(fid)) == Storage.EntryType.FILE;
        } catch (IOException e) {
            throw io(fid, "stat record", e);
        }
    }

    /** The body's size; 0 if it has no body file. */
    long size(Fid fid) throws OsdException {
        try (StorageFile f = s.open(ObjectIndex.body(fid), StandardOpenOption.READ)) {
            return f.size();
        } catch (NoSuchFileException e) {
            return 0;
        } catch (IOException e) {
            throw io(fid, "size of body", e);
        }
    }

    /** The body's allocated bytes; 0 if it has no body file. */
    long allocated(Fid fid) throws OsdException {
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
            ReadHandles.Handle h = handles.acquire(fid, () -> s.type(ObjectIndex.record(fid)) == Storage.EntryType.FILE);
            if (h == null) {
                throw new OsdException(Errno.ENOENT, device, fid, "no such object");
            }
            try {
                return Math.max(0, h.file.read(dst, offset));
            } finally {
                h.release();
            }
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
            return s.listXattrs(ObjectIndex.body(fid));
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

    /** A fresh object: leftovers of that FID removed, an empty body, a record of generation 1. */
    void create(Fid fid, Attr attr) throws IOException {
        handles.invalidate(fid);
        ensureDir(fid);
        String body = ObjectIndex.body(fid);
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
    }

    /**
     * Journal mode's create: leftovers of the FID removed and an empty body, but no record yet
     * (the transaction's {@code SetAttr} writes it, so the object appears with its final
     * attributes).
     */
    void createBody(Fid fid) throws IOException {
        handles.invalidate(fid);
        ensureDir(fid);
        String body = ObjectIndex.body(fid);
        s.deleteIfExists(ObjectIndex.record(fid));
        s.deleteIfExists(body);
        s.open(body, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
        dirty.file(body);
        dirty.dir(ObjectIndex.dir(fid));
    }

    boolean hasBody(Fid fid) throws IOException {
        return s.type(ObjectIndex.body(fid)) == Storage.EntryType.FILE;
    }

    /** Makes a staged file the object's body: any old record goes first, then the rename. */
    void install(Fid fid, String staged) throws IOException {
        handles.invalidate(fid);
        ensureDir(fid);
        s.deleteIfExists(ObjectIndex.record(fid));
        s.rename(staged, ObjectIndex.body(fid));
        dirty.installedInto(ObjectIndex.dir(fid));
    }

    /** Writes the whole record (a new file) with generation 1, as after {@link #install}. */
    void freshRecord(Fid fid, Attr attr) throws IOException {
        String rec = ObjectIndex.record(fid);
        try (StorageFile f = s.open(rec, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            f.write(AttrRecord.fresh(fid, attr), 0);
        }
        dirty.file(rec);
        dirty.dir(ObjectIndex.dir(fid));
    }

    /** Removes the record, then the body. */
    void destroy(Fid fid) throws IOException {
        handles.invalidate(fid);
        s.deleteIfExists(ObjectIndex.record(fid));
        s.deleteIfExists(ObjectIndex.body(fid));
        dirty.dir(ObjectIndex.dir(fid));
    }

    /** Writes the record as {@code generation} (one more than the current one). */
    void writeRecord(Fid fid, Attr attr, long generation) throws IOException {
        String rec = ObjectIndex.record(fid);
        try (StorageFile f = s.open(rec, StandardOpenOption.WRITE)) {
            AttrRecord.write(f, fid, attr, generation);
        }
        dirty.file(rec);
    }

    void write(Fid fid, long offset, ByteBuffer src) throws IOException {
        String body = ObjectIndex.body(fid);
        try (StorageFile f = s.open(body, StandardOpenOption.WRITE)) {
            f.write(src, offset);
        }
        dirty.file(body);
    }

    void punch(Fid fid, long offset, long length) throws IOException {
        String body = ObjectIndex.body(fid);
        try (StorageFile f = s.open(body, StandardOpenOption.WRITE)) {
            f.punch(offset, length);
        }
        dirty.file(body);
    }

    void truncate(Fid fid, long size) throws IOException {
        String body = ObjectIndex.body(fid);
        try (StorageFile f = s.open(body, StandardOpenOption.WRITE)) {
            f.truncate(size);
        }
        dirty.file(body);
    }

    void setXattr(Fid fid, String name, byte[] value) throws IOException {
        String body = ObjectIndex.body(fid);
        s.setXattr(body, name, value);
        dirty.inode(body);
    }

    boolean removeXattr(Fid fid, String name) throws IOException {
        String body = ObjectIndex.body(fid);
        boolean had = s.removeXattr(body, name);
        dirty.inode(body);
        return had;
    }

    /** The body and record paths of an object, for a per-object sync. */
    static List<String> files(Fid fid) {
        return List.of(ObjectIndex.body(fid), ObjectIndex.record(fid));
    }

    /** The directories whose entries an object's durability depends on. */
    static List<String> dirs(Fid fid) {
        return List.of(ObjectIndex.dir(fid), ObjectIndex.OBJECTS);
    }
}
