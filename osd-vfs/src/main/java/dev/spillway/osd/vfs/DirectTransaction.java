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
import java.io.IOException;
import java.nio.ByteBuffer;
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
 * <p>Space actually allocated is charged once per object, at stop (a stream of writes costs a
 * body write and a record write each).
 */
final class DirectTransaction extends AbstractTransaction {
    private final VfsOsd osd;
    private final ObjectFiles store;
    private final Set<Fid> touched = new LinkedHashSet<>();
    // Objects this transaction created whose record it writes as it ends (ObjectFiles.create).
    private final Set<Fid> created = new LinkedHashSet<>();
    // Allocation of each existing object when this transaction first changed its body.
    private final Map<Fid, Long> allocatedBefore = new HashMap<>();
    private long reservation;
    private long growth;

    DirectTransaction(VfsOsd osd) {
        super(osd.support());
        this.osd = osd;
        this.store = osd.store();
    }

    @Override
    protected void doStart() throws OsdException {
        osd.ensureOpen();
        reservation = osd.space().reserve(osd.estimate(declares()), spaceClass(), id());
    }

    @Override
    protected void doRelease() {
        osd.space().release(reservation);
        reservation = 0;
    }

    /** Charges the space the transaction's body changes really allocated. */
    private void charge() throws OsdException {
        for (Map.Entry<Fid, Long> e : allocatedBefore.entrySet()) {
            ObjectFiles.Known k = store.load(e.getKey());
            if (k != null) {
                osd.space().allocated(k.allocated() - e.getValue());
            }
        }
        allocatedBefore.clear();
    }

    /** Writes the records of the objects this transaction created, each once, as its updates left them. */
    private void writeRecords() throws OsdException {
        for (Fid f : created) {
            try {
                store.writeDeferred(f);
            } catch (IOException e) {
                throw io(f, "write the record", e);
            }
        }
        created.clear();
    }

    @Override
    protected void doCommit() throws OsdException {
        writeRecords();
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
        writeRecords();
        charge();
    }

    private OsdException io(Fid fid, String doing, IOException e) {
        return StorageErrors.toOsd(device(), fid, doing, e);
    }

    private ObjectFiles.Known existing(Fid fid) throws OsdException {
        osd.ensureOpen();
        ObjectFiles.Known k = store.load(fid);
        if (k == null) {
            throw new OsdException(Errno.ENOENT, device(), fid, "no such object");
        }
        touched.add(fid);
        return k;
    }

    /** An existing DATA object whose body this update changes. */
    private ObjectFiles.Known body(Fid fid, String op) throws OsdException {
        ObjectFiles.Known k = existing(fid);
        if (k.stored().attr().kind() != ObjectKind.DATA) {
            throw new OsdException(Errno.EISDIR, device(), fid, op + " on an index object");
        }
        allocatedBefore.putIfAbsent(fid, k.allocated());
        return k;
    }

    private void record(Fid fid, AttrRecord.Stored st, Attr attr) throws OsdException {
        try {
            store.writeRecord(fid, attr, st.generation() + 1);
        } catch (IOException e) {
            throw io(fid, "write the record", e);
        }
    }

    private void bodyChanged(Fid fid, ObjectFiles.Known k) throws OsdException {
        record(fid, k.stored(), k.stored().attr().bodyChanged(0, 0, osd.now()));
    }

    /** Checks room for {@code estimate} more bytes before an update that may allocate them. */
    private void grow(Fid fid, long estimate) throws OsdException {
        growth += estimate;
        if (growth > reservation) {
            reservation += osd.space().reserveMore(fid, growth - reservation, spaceClass());
        }
    }

    @Override
    protected void doCreate(Fid fid, ObjectKind kind, AttrChange a) throws OsdException {
        osd.ensureOpen();
        if (kind == ObjectKind.INDEX) {
            osd.capabilities().require(Capability.INDEX, device(), fid, "create of an index object");
        }
        grow(fid, osd.space().objectOverhead());
        boolean made;
        try {
            // The record is written once, as the transaction ends: a new object's create and
            // writes do not each rewrite it.
            made = store.create(fid, osd.initialAttr(kind, a), true);
        } catch (IOException e) {
            throw io(fid, "create", e);
        }
        if (!made) {
            throw new OsdException(Errno.EEXIST, device(), fid, "object exists");
        }
        created.add(fid);
        touched.add(fid);
        allocatedBefore.remove(fid);
        osd.space().objectCreated();
    }

    @Override
    protected void doDestroy(Fid fid) throws OsdException {
        if (!doDestroyIfExists(fid)) {
            throw new OsdException(Errno.ENOENT, device(), fid, "no such object");
        }
    }

    @Override
    protected boolean doDestroyIfExists(Fid fid) throws OsdException {
        osd.ensureOpen();
        // Whatever a crash left of it: a record no slot of which is valid does not stop a destroy.
        long allocated = store.allocatedForDestroy(fid);
        if (allocated < 0) {
            try {
                store.removeOrphanBody(fid);
            } catch (IOException e) {
                throw io(fid, "remove a body without record", e);
            }
            return false;
        }
        touched.add(fid);
        Long before = allocatedBefore.remove(fid);
        try {
            store.destroy(fid);
        } catch (IOException e) {
            throw io(fid, "destroy", e);
        }
        // What this transaction allocated to it goes with it: charge it, then free it all.
        osd.space().allocated(allocated - (before != null ? before : allocated));
        osd.space().objectDestroyed(allocated);
        return true;
    }

    @Override
    protected void doSetAttr(Fid fid, AttrChange change) throws OsdException {
        ObjectFiles.Known k = existing(fid);
        Attr a = k.stored().attr().apply(change);
        record(fid, k.stored(), change.has(AttrField.CTIME) ? a : a.withCtime(osd.now()));
    }

    @Override
    protected void doWrite(Fid fid, long offset, ByteBuffer src) throws OsdException {
        ObjectFiles.Known k = body(fid, "write");
        long end = offset + src.remaining();
        if (end > osd.capabilities().maxObjectSize()) {
            throw new OsdException(
                    Errno.EFBIG,
                    device(),
                    fid,
                    "write ends at " + end + ", past the largest object "
                            + osd.capabilities().maxObjectSize());
        }
        grow(fid, src.remaining());
        try {
            store.write(fid, offset, src);
        } catch (IOException e) {
            throw io(fid, "write at " + offset, e);
        }
        bodyChanged(fid, k);
    }

    @Override
    protected void doPunch(Fid fid, long offset, long length) throws OsdException {
        osd.capabilities().require(Capability.PUNCH, device(), fid, "punch");
        ObjectFiles.Known k = body(fid, "punch");
        long end = Math.min(k.size(), offset + length);
        if (offset < end) {
            try {
                store.punch(fid, offset, end - offset);
            } catch (IOException e) {
                throw io(fid, "punch [" + offset + ", " + end + ")", e);
            }
        }
        bodyChanged(fid, k);
    }

    @Override
    protected void doTruncate(Fid fid, long size) throws OsdException {
        ObjectFiles.Known k = body(fid, "truncate");
        if (size > osd.capabilities().maxObjectSize()) {
            throw new OsdException(Errno.EFBIG, device(), fid, "truncate to " + size + ", past the largest object");
        }
        try {
            store.truncate(fid, size);
        } catch (IOException e) {
            throw io(fid, "truncate to " + size, e);
        }
        bodyChanged(fid, k);
    }

    @Override
    protected void doSetXattr(Fid fid, String name, byte[] value, XattrFlag flag) throws OsdException {
        osd.xattrRules().requireSupported(fid, "setxattr");
        ObjectFiles.Known k = existing(fid);
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
        record(fid, k.stored(), k.stored().attr().withCtime(osd.now()));
    }

    @Override
    protected void doDeleteXattr(Fid fid, String name) throws OsdException {
        osd.xattrRules().requireSupported(fid, "removexattr");
        ObjectFiles.Known k = existing(fid);
        boolean had;
        try {
            had = store.removeXattr(fid, name);
        } catch (IOException e) {
            throw io(fid, "remove xattr " + name, e);
        }
        if (!had) {
            throw new OsdException(Errno.ENODATA, device(), fid, "no xattr " + name);
        }
        record(fid, k.stored(), k.stored().attr().withCtime(osd.now()));
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
