package dev.spillway.osd.mem;

import dev.spillway.osd.Attr;
import dev.spillway.osd.AttrChange;
import dev.spillway.osd.AttrField;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.XattrFlag;
import dev.spillway.osd.spi.AbstractTransaction;
import dev.spillway.osd.spi.Declare;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * An osd-mem transaction: updates go to private working copies of the objects they touch and
 * are published at stop, one object at a time, with the objects' locks held; a failed or
 * aborted transaction just drops its copies.
 */
final class MemTransaction extends AbstractTransaction {
    // Marks a key deleted in an index delta.
    private static final byte[] TOMBSTONE = new byte[0];

    private final MemOsd osd;
    private final Map<Fid, Working> touched = new LinkedHashMap<>();
    private long reservation;
    private long reservedObjects;
    // Bytes the working copies grew beyond the published objects, for the over-declare check.
    private long growth;

    /** A transaction's private view of one object. */
    private final class Working {
        final MemObject base;
        boolean exists;
        boolean fresh;
        Attr attr;
        TreeMap<String, byte[]> xattrs;
        MemBody body;
        TreeMap<byte[], byte[]> indexDelta;
        ConcurrentSkipListMap<byte[], byte[]> indexBase;

        Working(MemObject base) {
            this.base = base;
            this.exists = base != null;
            if (base != null) {
                attr = base.attr();
                indexBase = base.index();
            }
        }

        TreeMap<String, byte[]> xattrsForWrite() {
            if (xattrs == null) {
                xattrs = new TreeMap<>(base != null && !fresh ? base.xattrs() : Collections.emptySortedMap());
            }
            return xattrs;
        }

        byte[] xattr(String name) {
            if (xattrs != null) {
                return xattrs.get(name);
            }
            return base != null && !fresh ? base.xattrs().get(name) : null;
        }

        MemBody bodyForWrite() {
            if (body == null) {
                body = base != null && !fresh
                        ? base.body().mutableCopy()
                        : MemBody.empty(osd.capabilities().blockSize()).mutableEmpty();
            }
            return body;
        }

        long allocated() {
            if (body != null) {
                return body.allocatedBytes();
            }
            return base != null && !fresh && base.body() != null ? base.body().allocatedBytes() : 0;
        }

        byte[] indexGet(byte[] key) {
            if (indexDelta != null) {
                byte[] v = indexDelta.get(key);
                if (v != null) {
                    return v == TOMBSTONE ? null : v;
                }
            }
            return indexBase == null ? null : indexBase.get(key);
        }

        TreeMap<byte[], byte[]> delta() {
            if (indexDelta == null) {
                indexDelta = new TreeMap<>(Arrays::compareUnsigned);
            }
            return indexDelta;
        }
    }

    MemTransaction(MemOsd osd) {
        super(osd.support);
        this.osd = osd;
    }

    // ---- start / end ---------------------------------------------------------------------

    @Override
    protected void doStart() throws OsdException {
        osd.ensureOpen();
        long creates =
                declares().stream().filter(d -> d.op() == Declare.Op.CREATE).count();
        // Charged as osd-kv charges: bytes written, xattr names and values, index keys and values,
        // and an object's overhead per create (what a stacked pool sizes its reserve by).
        long need = dev.spillway.osd.spi.Reservations.atStart(
                spaceClass(), declaredBytes(0) + creates * MemOsd.OBJECT_OVERHEAD);
        osd.reservations.take(
                need,
                spaceClass(),
                null,
                osd::free,
                avail -> "transaction " + id() + " declares " + need + " bytes, " + avail + " available of "
                        + osd.capacity()
                        + (spaceClass() == dev.spillway.osd.SpaceClass.CLIENT
                                ? " (reserve " + osd.reservations.reserve() + ")"
                                : ""));
        reservation = need;
        if (creates > 0) {
            long total = osd.reservedObjects.addAndGet(creates);
            if (osd.maxObjects() != Long.MAX_VALUE && osd.objects.size() + total > osd.maxObjects()) {
                osd.reservedObjects.addAndGet(-creates);
                osd.reservations.give(need);
                reservation = 0;
                throw new OsdException(
                        Errno.ENOSPC,
                        osd.name(),
                        null,
                        "transaction " + id() + " creates " + creates + " objects, device holds at most "
                                + osd.maxObjects());
            }
            reservedObjects = creates;
        }
    }

    @Override
    protected void doRelease() {
        osd.reservations.give(reservation);
        osd.reservedObjects.addAndGet(-reservedObjects);
        reservation = 0;
        reservedObjects = 0;
    }

    @Override
    protected void doDiscard() {
        touched.clear();
    }

    @Override
    protected void doCommit() throws OsdException {
        osd.ensureOpen();
        osd.publishing(() -> {
            // The used bytes take the commit's change as its reservation goes: one step for starts.
            long r = reservation;
            reservation = 0;
            osd.reservations.settle(
                    () -> {
                        for (Map.Entry<Fid, Working> e : touched.entrySet()) {
                            publish(e.getKey(), e.getValue());
                        }
                    },
                    r);
            if (osd.simulated()) {
                osd.awaitDurable(this);
            }
        });
        touched.clear();
        if (!osd.simulated()) {
            fireCallbacks(null);
        } else if (isSync()) {
            osd.syncPoint();
        }
    }

    /** Simulated durability: the sync point that made this transaction durable has passed. */
    void durable() {
        fireCallbacks(null);
    }

    private void publish(Fid fid, Working w) {
        MemObject old = osd.objects.get(fid);
        long oldUsed = old == null ? 0 : old.usedBytes();
        if (!w.exists) {
            if (old != null) {
                osd.objects.remove(fid);
                osd.used.addAndGet(-oldUsed);
            }
            return;
        }
        MemObject src = w.fresh ? null : old;
        TreeMap<String, byte[]> x =
                w.xattrs != null ? w.xattrs : src != null ? new TreeMap<>(src.xattrs()) : new TreeMap<>();
        MemBody body = null;
        ConcurrentSkipListMap<byte[], byte[]> index = null;
        long indexBytes = 0;
        if (w.attr.kind() == ObjectKind.DATA) {
            body = w.body != null
                    ? w.body.publish()
                    : src != null
                            ? src.body()
                            : MemBody.empty(osd.capabilities().blockSize());
        } else {
            index = src != null ? src.index() : MemObject.newIndex();
            indexBytes = src != null ? src.indexBytes() : 0;
            if (w.indexDelta != null) {
                for (Map.Entry<byte[], byte[]> d : w.indexDelta.entrySet()) {
                    byte[] prev =
                            d.getValue() == TOMBSTONE ? index.remove(d.getKey()) : index.put(d.getKey(), d.getValue());
                    if (prev != null) {
                        indexBytes -= d.getKey().length + prev.length;
                    }
                    if (d.getValue() != TOMBSTONE) {
                        indexBytes += d.getKey().length + d.getValue().length;
                    }
                }
            }
        }
        MemObject now = new MemObject(w.attr, Collections.unmodifiableSortedMap(x), body, index, indexBytes);
        osd.objects.put(fid, now);
        osd.used.addAndGet(now.usedBytes() - oldUsed);
    }

    // ---- working copies ------------------------------------------------------------------

    private Working view(Fid fid) {
        return touched.computeIfAbsent(fid, f -> new Working(osd.objects.get(f)));
    }

    private Working existing(Fid fid) throws OsdException {
        Working w = view(fid);
        if (!w.exists) {
            throw new OsdException(Errno.ENOENT, osd.name(), fid, "no such object");
        }
        return w;
    }

    private Working data(Fid fid, String op) throws OsdException {
        Working w = existing(fid);
        if (w.attr.kind() != ObjectKind.DATA) {
            throw new OsdException(Errno.EISDIR, osd.name(), fid, op + " on an index object");
        }
        return w;
    }

    private Working index(Fid fid, String op) throws OsdException {
        Working w = existing(fid);
        if (w.attr.kind() != ObjectKind.INDEX) {
            throw new OsdException(Errno.ENOTDIR, osd.name(), fid, op + " on a data object");
        }
        return w;
    }

    /**
     * Accounts {@code bytes} of growth. Growth past what the transaction reserved is reserved now
     * (a FREEING transaction reserves nothing up front and grows only past what it freed); ENOSPC
     * if the device has no room for it.
     */
    private void grow(Fid fid, long bytes) throws OsdException {
        growth += bytes;
        if (growth > reservation) {
            long over = growth - reservation;
            osd.reservations.take(
                    over,
                    spaceClass(),
                    fid,
                    osd::free,
                    avail -> "update exceeds the transaction's declared space by " + over + " bytes and the device has "
                            + avail);
            reservation += over;
        }
    }

    private long blocks(long allocatedBytes) {
        return allocatedBytes / 512;
    }

    // ---- updates -------------------------------------------------------------------------

    @Override
    protected void doCreate(Fid fid, ObjectKind kind, AttrChange a) throws OsdException {
        Working w = view(fid);
        if (w.exists) {
            throw new OsdException(Errno.EEXIST, osd.name(), fid, "object exists");
        }
        long now = osd.now();
        w.exists = true;
        w.fresh = true;
        w.attr = new Attr(
                kind,
                0,
                0,
                a.has(AttrField.MODE) ? a.mode() : 0,
                a.has(AttrField.UID) ? a.uid() : 0,
                a.has(AttrField.GID) ? a.gid() : 0,
                a.has(AttrField.ATIME) ? a.atime() : now,
                a.has(AttrField.MTIME) ? a.mtime() : now,
                a.has(AttrField.CTIME) ? a.ctime() : now,
                a.has(AttrField.FLAGS) ? a.flags() : 0,
                1);
        w.xattrs = new TreeMap<>();
        w.body = kind == ObjectKind.DATA
                ? MemBody.empty(osd.capabilities().blockSize()).mutableEmpty()
                : null;
        w.indexBase = kind == ObjectKind.INDEX ? MemObject.newIndex() : null;
        w.indexDelta = null;
        grow(fid, MemOsd.OBJECT_OVERHEAD);
    }

    @Override
    protected boolean doDestroyIfExists(Fid fid) throws OsdException {
        if (!view(fid).exists) {
            return false;
        }
        doDestroy(fid);
        return true;
    }

    @Override
    protected void doDestroy(Fid fid) throws OsdException {
        Working w = existing(fid);
        // What the object gave back (its index entries are not counted: crediting less is safe).
        long freed = MemOsd.OBJECT_OVERHEAD + w.allocated();
        if (w.xattrs != null || (w.base != null && !w.fresh)) {
            for (Map.Entry<String, byte[]> e : (w.xattrs != null ? w.xattrs : w.base.xattrs()).entrySet()) {
                freed += e.getKey().length() + e.getValue().length;
            }
        }
        growth -= freed;
        w.exists = false;
        w.fresh = true;
        w.xattrs = null;
        w.body = null;
        w.indexDelta = null;
        w.indexBase = null;
    }

    @Override
    protected void doSetAttr(Fid fid, AttrChange change) throws OsdException {
        Working w = existing(fid);
        Attr a = w.attr.apply(change);
        w.attr = change.has(AttrField.CTIME) ? a : a.withCtime(osd.now());
    }

    @Override
    protected void doWrite(Fid fid, long offset, ByteBuffer src) throws OsdException {
        Working w = data(fid, "write");
        long end = offset + src.remaining();
        if (end > osd.capabilities().maxObjectSize()) {
            throw new OsdException(
                    Errno.EFBIG,
                    osd.name(),
                    fid,
                    "write ends at " + end + ", past the largest object "
                            + osd.capabilities().maxObjectSize());
        }
        long before = w.allocated();
        MemBody b = w.bodyForWrite();
        b.write(offset, src);
        grow(fid, b.allocatedBytes() - before);
        w.attr = w.attr.bodyChanged(Math.max(w.attr.size(), end), blocks(b.allocatedBytes()), osd.now());
    }

    @Override
    protected void doPunch(Fid fid, long offset, long length) throws OsdException {
        Working w = data(fid, "punch");
        long before = w.allocated();
        MemBody b = w.bodyForWrite();
        long end = Math.min(w.attr.size(), offset + length);
        if (offset < end) {
            b.punch(offset, end);
        }
        growth += b.allocatedBytes() - before;
        w.attr = w.attr.bodyChanged(w.attr.size(), blocks(b.allocatedBytes()), osd.now());
    }

    @Override
    protected void doTruncate(Fid fid, long size) throws OsdException {
        Working w = data(fid, "truncate");
        if (size > osd.capabilities().maxObjectSize()) {
            throw new OsdException(Errno.EFBIG, osd.name(), fid, "truncate to " + size + ", past the largest object");
        }
        long before = w.allocated();
        MemBody b = w.bodyForWrite();
        if (size < w.attr.size()) {
            b.truncate(size);
        }
        growth += b.allocatedBytes() - before;
        w.attr = w.attr.bodyChanged(size, blocks(b.allocatedBytes()), osd.now());
    }

    @Override
    protected void doSetXattr(Fid fid, String name, byte[] value, XattrFlag flag) throws OsdException {
        Working w = existing(fid);
        if (name.getBytes(StandardCharsets.UTF_8).length > osd.capabilities().maxXattrName()) {
            throw new OsdException(
                    Errno.ERANGE,
                    osd.name(),
                    fid,
                    "xattr name longer than " + osd.capabilities().maxXattrName() + " bytes");
        }
        if (value.length > osd.capabilities().maxXattrValue()) {
            throw new OsdException(
                    Errno.E2BIG,
                    osd.name(),
                    fid,
                    "xattr " + name + " value of " + value.length + " bytes exceeds the limit of "
                            + osd.capabilities().maxXattrValue());
        }
        byte[] old = w.xattr(name);
        if (flag == XattrFlag.CREATE && old != null) {
            throw new OsdException(Errno.EEXIST, osd.name(), fid, "xattr " + name + " exists (CREATE)");
        }
        if (flag == XattrFlag.REPLACE && old == null) {
            throw new OsdException(Errno.ENODATA, osd.name(), fid, "no xattr " + name + " to replace (REPLACE)");
        }
        grow(fid, value.length - (old == null ? -name.length() : old.length));
        w.xattrsForWrite().put(name, value.clone());
        w.attr = w.attr.withCtime(osd.now());
    }

    @Override
    protected void doDeleteXattr(Fid fid, String name) throws OsdException {
        Working w = existing(fid);
        byte[] old = w.xattr(name);
        if (old == null) {
            throw new OsdException(Errno.ENODATA, osd.name(), fid, "no xattr " + name);
        }
        growth -= name.length() + old.length;
        w.xattrsForWrite().remove(name);
        w.attr = w.attr.withCtime(osd.now());
    }

    @Override
    protected void doInsert(Fid indexFid, byte[] key, byte[] value, boolean replace) throws OsdException {
        Working w = index(indexFid, "insert");
        if (key.length > osd.capabilities().maxIndexKey()
                || value.length > osd.capabilities().maxIndexValue()) {
            throw new OsdException(
                    Errno.E2BIG,
                    osd.name(),
                    indexFid,
                    "index record of key " + key.length + " / value " + value.length + " bytes exceeds the limits "
                            + osd.capabilities().maxIndexKey() + " / "
                            + osd.capabilities().maxIndexValue());
        }
        byte[] old = w.indexGet(key);
        if (old != null && !replace) {
            throw new OsdException(Errno.EEXIST, osd.name(), indexFid, "index key exists");
        }
        grow(indexFid, old == null ? key.length + value.length : value.length - old.length);
        w.delta().put(key.clone(), value.clone());
    }

    @Override
    protected void doDelete(Fid indexFid, byte[] key) throws OsdException {
        Working w = index(indexFid, "delete");
        byte[] old = w.indexGet(key);
        if (old == null) {
            throw new OsdException(Errno.ENOENT, osd.name(), indexFid, "no such index key");
        }
        growth -= key.length + old.length;
        w.delta().put(key.clone(), TOMBSTONE);
    }
}
