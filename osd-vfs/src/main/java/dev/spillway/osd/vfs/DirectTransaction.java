package dev.spillway.osd.vfs;

import dev.spillway.osd.Attr;
import dev.spillway.osd.AttrChange;
import dev.spillway.osd.AttrField;
import dev.spillway.osd.Capability;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.XattrFlag;
import dev.spillway.osd.spi.AbstractTransaction;
import dev.spillway.osd.spi.storage.StorageErrors;
import dev.spillway.osd.spi.storage.StorageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * A transaction of journal-off mode: no atomicity. Each update is applied to the object files
 * when it is made and is visible at once; a failed update leaves the earlier ones in place.
 * Nothing is forced: {@code sync()} and {@code sync(fid)} make updates durable. Commit callbacks
 * fire at stop and promise nothing about durability (the device does not advertise
 * DURABLE_COMMIT); with {@code setSync(true)}, stop forces the touched objects first, so a
 * callback of a sync transaction does mean durable.
 *
 * <p>The transaction keeps the files of the objects it changes open until stop and their
 * records in memory (it holds their locks, so nobody else changes them), so a stream of writes
 * costs a body write and a record write each; allocated space is charged once, at stop.
 */
final class DirectTransaction extends AbstractTransaction {
    private final VfsOsd osd;
    private final ObjectStore store;
    private final Set<Fid> touched = new LinkedHashSet<>();
    // Objects changed by this transaction that still exist, with their open files.
    private final Map<Fid, Open> open = new HashMap<>();
    private long reservation;
    private long growth;

    /** An object this transaction changes: its files, its record, its allocation at first touch. */
    private static final class Open {
        final StorageFile body;
        final StorageFile record;
        AttrRecord.Stored stored;
        final long allocatedBefore;
        boolean bodyChanged;

        Open(StorageFile body, StorageFile record, AttrRecord.Stored stored, long allocatedBefore) {
            this.body = body;
            this.record = record;
            this.stored = stored;
            this.allocatedBefore = allocatedBefore;
        }

        void close() {
            try {
                body.close();
            } catch (IOException e) {
                // nothing was buffered in the handle: writes went to the file
            }
            try {
                record.close();
            } catch (IOException e) {
                // likewise
            }
        }
    }

    DirectTransaction(VfsOsd osd) {
        super(osd.support());
        this.osd = osd;
        this.store = osd.store();
    }

    @Override
    protected void doStart() throws OsdException {
        osd.ensureOpen();
        reservation = osd.space().reserve(osd.estimate(declares()), id());
    }

    @Override
    protected void doRelease() {
        for (Open o : open.values()) {
            o.close();
        }
        open.clear();
        osd.space().release(reservation);
        reservation = 0;
    }

    /** Charges the space the transaction's body changes really allocated. */
    private void charge() throws OsdException {
        for (Map.Entry<Fid, Open> e : open.entrySet()) {
            if (e.getValue().bodyChanged) {
                e.getValue().bodyChanged = false;
                osd.space().allocated(store.allocated(e.getKey()) - e.getValue().allocatedBefore);
            }
        }
    }

    @Override
    protected void doCommit() throws OsdException {
        charge();
        if (isSync()) {
            for (Fid f : touched) {
                osd.syncObject(f);
            }
        }
        fireCallbacks(null);
    }

    @Override
    protected void doDiscard() throws OsdException {
        // Without TRANSACTIONS the updates made stay made (and their space counts).
        charge();
    }

    private OsdException io(Fid fid, String doing, IOException e) {
        return StorageErrors.toOsd(device(), fid, doing, e);
    }

    /** The object's open files and record; ENOENT if it does not exist. */
    private Open existing(Fid fid) throws OsdException {
        osd.ensureOpen();
        Open o = open.get(fid);
        if (o != null) {
            return o;
        }
        AttrRecord.Stored st = store.record(fid);
        if (st == null) {
            throw new OsdException(Errno.ENOENT, device(), fid, "no such object");
        }
        touched.add(fid);
        StorageFile body = null;
        try {
            body = osd.storage().open(ObjectIndex.body(fid), StandardOpenOption.READ, StandardOpenOption.WRITE);
            StorageFile rec = osd.storage().open(ObjectIndex.record(fid), StandardOpenOption.WRITE);
            o = new Open(body, rec, st, store.allocated(fid));
        } catch (IOException e) {
            if (body != null) {
                try {
                    body.close();
                } catch (IOException ignored) {
                    // already failing
                }
            }
            throw io(fid, "open the object's files", e);
        }
        open.put(fid, o);
        return o;
    }

    private Open data(Fid fid, String op) throws OsdException {
        Open o = existing(fid);
        if (o.stored.attr().kind() != ObjectKind.DATA) {
            throw new OsdException(Errno.EISDIR, device(), fid, op + " on an index object");
        }
        return o;
    }

    /** Writes the next generation of the record. */
    private void record(Fid fid, Open o, Attr attr) throws OsdException {
        long gen = o.stored.generation() + 1;
        try {
            AttrRecord.write(o.record, fid, attr, gen);
        } catch (IOException e) {
            throw io(fid, "write the record", e);
        }
        o.stored = new AttrRecord.Stored(attr, gen);
        osd.dirty().file(ObjectIndex.record(fid));
    }

    private void bodyChanged(Fid fid, Open o) throws OsdException {
        o.bodyChanged = true;
        osd.dirty().file(ObjectIndex.body(fid));
        record(fid, o, o.stored.attr().bodyChanged(0, 0, osd.now()));
    }

    /** Checks room for {@code estimate} more bytes before an update that may allocate them. */
    private void grow(Fid fid, long estimate) throws OsdException {
        growth += estimate;
        if (growth > reservation) {
            osd.space().checkExtra(fid, growth - reservation);
        }
    }

    @Override
    protected void doCreate(Fid fid, ObjectKind kind, AttrChange a) throws OsdException {
        osd.ensureOpen();
        if (kind == ObjectKind.INDEX) {
            osd.capabilities().require(Capability.INDEX, device(), fid, "create of an index object");
        }
        if (store.exists(fid)) {
            throw new OsdException(Errno.EEXIST, device(), fid, "object exists");
        }
        grow(fid, osd.space().objectOverhead());
        try {
            store.create(fid, osd.initialAttr(kind, a));
        } catch (IOException e) {
            throw io(fid, "create", e);
        }
        touched.add(fid);
        osd.space().objectCreated();
    }

    @Override
    protected void doDestroy(Fid fid) throws OsdException {
        Open o = existing(fid);
        long allocated = store.allocated(fid);
        o.close();
        open.remove(fid);
        try {
            store.destroy(fid);
        } catch (IOException e) {
            throw io(fid, "destroy", e);
        }
        // Whatever this transaction allocated to it goes with it: charge it, then free it all.
        osd.space().allocated(allocated - o.allocatedBefore);
        osd.space().objectDestroyed(allocated);
    }

    @Override
    protected void doSetAttr(Fid fid, AttrChange change) throws OsdException {
        Open o = existing(fid);
        Attr a = o.stored.attr().apply(change);
        record(fid, o, change.has(AttrField.CTIME) ? a : a.withCtime(osd.now()));
    }

    @Override
    protected void doWrite(Fid fid, long offset, ByteBuffer src) throws OsdException {
        Open o = data(fid, "write");
        long end = offset + src.remaining();
        if (end > osd.capabilities().maxObjectSize()) {
            throw new OsdException(Errno.EFBIG, device(), fid, "write ends at " + end + ", past the largest object " + osd.capabilities().maxObjectSize());
        }
        grow(fid, src.remaining());
        o.bodyChanged = true;
        try {
            o.body.write(src, offset);
        } catch (IOException e) {
            throw io(fid, "write at " + offset, e);
        }
        bodyChanged(fid, o);
    }

    @Override
    protected void doPunch(Fid fid, long offset, long length) throws OsdException {
        osd.capabilities().require(Capability.PUNCH, device(), fid, "punch");
        Open o = data(fid, "punch");
        long end;
        try {
            end = Math.min(o.body.size(), offset + length);
            if (offset < end) {
                o.bodyChanged = true;
                o.body.punch(offset, end - offset);
            }
        } catch (IOException e) {
            throw io(fid, "punch [" + offset + ", +" + length + ")", e);
        }
        bodyChanged(fid, o);
    }

    @Override
    protected void doTruncate(Fid fid, long size) throws OsdException {
        Open o = data(fid, "truncate");
        if (size > osd.capabilities().maxObjectSize()) {
            throw new OsdException(Errno.EFBIG, device(), fid, "truncate to " + size + ", past the largest object");
        }
        o.bodyChanged = true;
        try {
            o.body.truncate(size);
        } catch (IOException e) {
            throw io(fid, "truncate to " + size, e);
        }
        bodyChanged(fid, o);
    }

    @Override
    protected void doSetXattr(Fid fid, String name, byte[] value, XattrFlag flag) throws OsdException {
        osd.xattrRules().requireSupported(fid, "setxattr");
        Open o = existing(fid);
        osd.xattrRules().checkSet(fid, name, value.length);
        Map<String, Integer> sizes = new TreeMap<>();
        for (String n : store.xattrNames(fid)) {
            Optional<byte[]> v = store.xattr(fid, n);
            v.ifPresent(b -> sizes.put(n, b.length));
        }
        boolean had = sizes.containsKey(name);
        if (flag == XattrFlag.CREATE && had) {
            throw new OsdException(Errno.EEXIST, device(), fid, "xattr " + name + " exists (CREATE)");
        }
        if (flag == XattrFlag.REPLACE && !had) {
            throw new OsdException(Errno.ENODATA, device(), fid, "no xattr " + name + " to replace (REPLACE)");
        }
        sizes.put(name, value.length);
        osd.xattrRules().checkBudget(fid, name, sizes);
        try {
            store.setXattr(fid, name, value);
        } catch (IOException e) {
            throw io(fid, "set xattr " + name, e);
        }
        record(fid, o, o.stored.attr().withCtime(osd.now()));
    }

    @Override
    protected void doDeleteXattr(Fid fid, String name) throws OsdException {
        osd.xattrRules().requireSupported(fid, "removexattr");
        Open o = existing(fid);
        boolean had;
        try {
            had = store.removeXattr(fid, name);
        } catch (IOException e) {
            throw io(fid, "remove xattr " + name, e);
        }
        if (!had) {
            throw new OsdException(Errno.ENODATA, device(), fid, "no xattr " + name);
        }
        record(fid, o, o.stored.attr().withCtime(osd.now()));
    }

    @Override
    protected void doInsert(Fid index, byte[] key, byte[] value, boolean replace) throws OsdException {
        osd.capabilities().require(Capability.INDEX, device(), index, "insert");
    }

    @Override
    protected void doDelete(Fid index, byte[] key) throws OsdException {
        osd.capabilities().require(Capability.INDEX, device(), index, "delete");
    }
}
