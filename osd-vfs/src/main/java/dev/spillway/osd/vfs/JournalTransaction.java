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
import dev.spillway.osd.vfs.journal.Op;
import dev.spillway.osd.vfs.journal.RecordCodec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A transaction of journal mode. Updates are checked against a private view of each object and
 * collected as {@link Op}s; nothing touches the object files before stop. Stop logs the ops as
 * one record (group commit), and once it is durable applies them to the files under the read
 * guard and fires the callbacks: stop returns with the transaction durable and visible.
 *
 * <p>The body of an object created in the transaction stays in the record up to
 * {@code journal-inline-limit} bytes; past it, the body is written straight into a staging
 * file, forced before the record is logged, and renamed into place when applied — a large new
 * object is written once, not twice.
 */
final class JournalTransaction extends AbstractTransaction {
    private final VfsOsd osd;
    private final Map<Fid, Working> touched = new LinkedHashMap<>();
    // The ops in order; a slot is nulled when its op moved into a staging file.
    private final List<Op> ops = new ArrayList<>();
    private final List<StorageFile> staged = new ArrayList<>();
    private long reservation;
    private long growth;

    /** The transaction's view of one object. */
    private static final class Working {
        final boolean existedBefore;
        final long allocatedBefore;
        boolean exists;
        Attr attr;
        TreeMap<String, byte[]> xattrs;
        int createOp = -1;
        long inlineBytes;
        StorageFile staging;

        Working(boolean existed, Attr attr, long allocated) {
            this.existedBefore = existed;
            this.exists = existed;
            this.attr = attr;
            this.allocatedBefore = allocated;
        }
    }

    JournalTransaction(VfsOsd osd) {
        super(osd.support());
        this.osd = osd;
    }

    // ---- start / end ---------------------------------------------------------------------

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

    @Override
    protected void doDiscard() {
        dropStaged();
        ops.clear();
        touched.clear();
    }

    private void dropStaged() {
        for (StorageFile f : staged) {
            try {
                f.close();
                osd.storage().deleteIfExists(f.path());
            } catch (IOException e) {
                // Left behind: the next mount removes every staging file no record names.
            }
        }
        staged.clear();
    }

    @Override
    protected void doCommit() throws OsdException {
        osd.ensureOpen();
        for (Map.Entry<Fid, Working> e : touched.entrySet()) {
            if (e.getValue().exists) {
                ops.add(new Op.SetAttr(e.getKey(), e.getValue().attr));
            }
        }
        List<Op> record = new ArrayList<>(ops.size());
        for (Op op : ops) {
            if (op != null) {
                record.add(op);
            }
        }
        if (record.isEmpty()) {
            fireCallbacks(null);
            return;
        }
        // Write-ahead: a staged body and its name are durable before the record that needs them.
        try {
            for (StorageFile f : staged) {
                f.force(true);
                f.close();
            }
            if (!staged.isEmpty()) {
                osd.dirty().forceStaging(osd.storage());
            }
        } catch (IOException e) {
            dropStaged();
            throw StorageErrors.toOsd(device(), null, "force the staged bodies of transaction " + id(), e);
        }
        staged.clear();
        long lsn;
        try {
            lsn = osd.journal().commit(RecordCodec.encodeBody(record), record.size(), id());
        } catch (IOException e) {
            throw osd.failed("log transaction " + id() + " in the journal", e);
        }
        ReadGuard.Held published = osd.guard().writeLock(touched.keySet());
        try {
            new Applier(osd.store(), false).apply(record);
        } catch (IOException e) {
            // Durable in the log but not in the files: only a replay can finish it.
            osd.journal().fail(e);
            fireCallbacks(null);
            throw osd.failed(
                    "apply transaction " + id() + " (lsn " + lsn
                            + ", durable in the journal; the next mount replays it)",
                    e);
        } finally {
            published.close();
        }
        account();
        osd.journal().applied(lsn);
        fireCallbacks(null);
    }

    private void account() throws OsdException {
        Space space = osd.space();
        for (Map.Entry<Fid, Working> e : touched.entrySet()) {
            Working w = e.getValue();
            long before = w.existedBefore ? w.allocatedBefore + space.objectOverhead() : 0;
            long after = w.exists ? osd.store().load(e.getKey()).allocated() + space.objectOverhead() : 0;
            if (w.existedBefore && !w.exists) {
                space.objectDestroyed(w.allocatedBefore);
            } else if (!w.existedBefore && w.exists) {
                space.objectCreated();
                space.allocated(after - space.objectOverhead());
            } else {
                space.allocated(after - before);
            }
        }
    }

    // ---- views ---------------------------------------------------------------------------

    private Working view(Fid fid) throws OsdException {
        Working w = touched.get(fid);
        if (w == null) {
            ObjectFiles.Known k = osd.store().load(fid);
            if (k == null) {
                w = new Working(false, null, 0);
            } else {
                w = new Working(true, k.stored().attr().withSize(k.size(), 0), k.allocated());
            }
            touched.put(fid, w);
        }
        return w;
    }

    private Working existing(Fid fid) throws OsdException {
        Working w = view(fid);
        if (!w.exists) {
            throw new OsdException(Errno.ENOENT, device(), fid, "no such object");
        }
        return w;
    }

    private Working data(Fid fid, String op) throws OsdException {
        Working w = existing(fid);
        if (w.attr.kind() != ObjectKind.DATA) {
            throw new OsdException(Errno.EISDIR, device(), fid, op + " on an index object");
        }
        return w;
    }

    private TreeMap<String, byte[]> xattrs(Fid fid, Working w) throws OsdException {
        if (w.xattrs == null) {
            w.xattrs = new TreeMap<>(osd.store().xattrs(fid));
        }
        return w.xattrs;
    }

    private void grow(Fid fid, long bytes) throws OsdException {
        growth += bytes;
        if (growth > reservation) {
            reservation += osd.space().reserveMore(fid, growth - reservation, spaceClass());
        }
    }

    private OsdException io(Fid fid, String doing, IOException e) {
        return StorageErrors.toOsd(device(), fid, doing, e);
    }

    // ---- updates -------------------------------------------------------------------------

    @Override
    protected void doCreate(Fid fid, ObjectKind kind, AttrChange a) throws OsdException {
        if (kind == ObjectKind.INDEX) {
            osd.capabilities().require(Capability.INDEX, device(), fid, "create of an index object");
        }
        Working w = view(fid);
        if (w.exists) {
            throw new OsdException(Errno.EEXIST, device(), fid, "object exists");
        }
        grow(fid, osd.space().objectOverhead());
        w.exists = true;
        w.attr = osd.initialAttr(kind, a);
        w.xattrs = new TreeMap<>();
        w.inlineBytes = 0;
        w.staging = null;
        ops.add(new Op.Create(fid, kind));
        w.createOp = ops.size() - 1;
    }

    @Override
    protected void doDestroy(Fid fid) throws OsdException {
        if (!doDestroyIfExists(fid)) {
            throw new OsdException(Errno.ENOENT, device(), fid, "no such object");
        }
    }

    @Override
    protected boolean doDestroyIfExists(Fid fid) throws OsdException {
        Working w = touched.get(fid);
        if (w == null) {
            // Whatever damage left of it: a record no slot of which is valid does not stop a destroy.
            long allocated = osd.store().allocatedForDestroy(fid);
            w = allocated < 0
                    ? new Working(false, null, 0)
                    : new Working(true, osd.initialAttr(ObjectKind.DATA, AttrChange.none()), allocated);
            touched.put(fid, w);
        }
        if (!w.exists) {
            return false;
        }
        w.exists = false;
        w.createOp = -1;
        w.staging = null;
        w.xattrs = null;
        ops.add(new Op.Destroy(fid));
        return true;
    }

    @Override
    protected void doSetAttr(Fid fid, AttrChange change) throws OsdException {
        Working w = existing(fid);
        Attr a = w.attr.apply(change);
        w.attr = change.has(AttrField.CTIME) ? a : a.withCtime(osd.now());
    }

    /** Moves the body of an object created in this transaction into a staging file. */
    private void stage(Fid fid, Working w) throws OsdException {
        String path = osd.stagingPath();
        try {
            StorageFile f = osd.storage()
                    .open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
            staged.add(f);
            for (int i = w.createOp + 1; i < ops.size(); i++) {
                Op op = ops.get(i);
                if (op == null || !op.fid().equals(fid)) {
                    continue;
                }
                switch (op) {
                    case Op.Write x -> f.write(ByteBuffer.wrap(x.data()), x.offset());
                    case Op.Punch x -> f.punch(x.offset(), x.length());
                    case Op.Truncate x -> f.truncate(x.size());
                    default -> {
                        continue;
                    }
                }
                ops.set(i, null);
            }
            ops.set(w.createOp, new Op.Install(fid, w.attr.kind(), path));
            w.staging = f;
        } catch (IOException e) {
            throw io(fid, "stage the body in " + path, e);
        }
    }

    @Override
    protected void doWrite(Fid fid, long offset, ByteBuffer src) throws OsdException {
        Working w = data(fid, "write");
        int len = src.remaining();
        long end = offset + len;
        if (end > osd.capabilities().maxObjectSize()) {
            throw new OsdException(
                    Errno.EFBIG,
                    device(),
                    fid,
                    "write ends at " + end + ", past the largest object "
                            + osd.capabilities().maxObjectSize());
        }
        grow(fid, len);
        if (w.staging == null
                && w.createOp >= 0
                && w.inlineBytes + len > osd.settings().inlineLimit()) {
            stage(fid, w);
        }
        if (w.staging != null) {
            try {
                w.staging.write(src, offset);
            } catch (IOException e) {
                throw io(fid, "write at " + offset + " into the staged body", e);
            }
        } else {
            byte[] copy = new byte[len];
            src.get(copy);
            ops.add(new Op.Write(fid, offset, copy));
            w.inlineBytes += len;
        }
        w.attr = w.attr.bodyChanged(Math.max(w.attr.size(), end), 0, osd.now());
    }

    @Override
    protected void doPunch(Fid fid, long offset, long length) throws OsdException {
        osd.capabilities().require(Capability.PUNCH, device(), fid, "punch");
        Working w = data(fid, "punch");
        long end = Math.min(w.attr.size(), offset + length);
        if (offset < end) {
            if (w.staging != null) {
                try {
                    w.staging.punch(offset, end - offset);
                } catch (IOException e) {
                    throw io(fid, "punch the staged body", e);
                }
            } else {
                ops.add(new Op.Punch(fid, offset, end - offset));
            }
        }
        w.attr = w.attr.bodyChanged(w.attr.size(), 0, osd.now());
    }

    @Override
    protected void doTruncate(Fid fid, long size) throws OsdException {
        Working w = data(fid, "truncate");
        if (size > osd.capabilities().maxObjectSize()) {
            throw new OsdException(Errno.EFBIG, device(), fid, "truncate to " + size + ", past the largest object");
        }
        if (w.staging != null) {
            try {
                w.staging.truncate(size);
            } catch (IOException e) {
                throw io(fid, "truncate the staged body", e);
            }
        } else {
            ops.add(new Op.Truncate(fid, size));
        }
        w.attr = w.attr.bodyChanged(size, 0, osd.now());
    }

    @Override
    protected void doSetXattr(Fid fid, String name, byte[] value, XattrFlag flag) throws OsdException {
        osd.xattrRules().requireSupported(fid, "setxattr");
        Working w = existing(fid);
        osd.xattrRules().checkSet(fid, name, value.length);
        TreeMap<String, byte[]> x = xattrs(fid, w);
        byte[] old = x.get(name);
        if (flag == XattrFlag.CREATE && old != null) {
            throw new OsdException(Errno.EEXIST, device(), fid, "xattr " + name + " exists (CREATE)");
        }
        if (flag == XattrFlag.REPLACE && old == null) {
            throw new OsdException(Errno.ENODATA, device(), fid, "no xattr " + name + " to replace (REPLACE)");
        }
        Map<String, Integer> sizes = new TreeMap<>();
        x.forEach((k, v) -> sizes.put(k, v.length));
        sizes.put(name, value.length);
        osd.xattrRules().checkBudget(fid, name, sizes);
        byte[] v = value.clone();
        x.put(name, v);
        ops.add(new Op.SetXattr(fid, name, v));
        w.attr = w.attr.withCtime(osd.now());
    }

    @Override
    protected void doDeleteXattr(Fid fid, String name) throws OsdException {
        osd.xattrRules().requireSupported(fid, "removexattr");
        Working w = existing(fid);
        if (xattrs(fid, w).remove(name) == null) {
            throw new OsdException(Errno.ENODATA, device(), fid, "no xattr " + name);
        }
        ops.add(new Op.RemoveXattr(fid, name));
        w.attr = w.attr.withCtime(osd.now());
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
