package dev.spillway.osd.s3;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.XattrFlag;
import dev.spillway.osd.spi.AbstractTransaction;
import dev.spillway.osd.spi.Declare;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A transaction on an object store, which has none: each update is its own request, made when the
 * update is called, except an object's body, which is one PUT (or multipart upload) at stop.
 *
 * <ul>
 * <li>create: a PUT of an empty object at once; but if the transaction declared a write (or a
 * truncate) to it, the object appears with its body at stop, so a failed copy never leaves an
 * empty or partial object behind.</li>
 * <li>write: sequential from offset 0 (the first write replaces the body), streamed through a
 * {@link BodyUpload}; anything else is EOPNOTSUPP (no PARTIAL_WRITE). Data version +1 and mtime
 * once per body.</li>
 * <li>truncate: extends the body being written with zeros; to 0 or to the current size on any
 * object; other sizes rewrite the body through the client (read back verified, re-uploaded).</li>
 * <li>setattr / xattrs: a server-side copy of the object onto itself with the new metadata, at
 * once; for an object whose body is pending in this transaction, folded into that body's PUT.</li>
 * <li>destroy: DELETE of the object and its block-sums sidecar.</li>
 * </ul>
 * A transaction that was aborted, or whose update failed for any reason but a refused request
 * (an I/O error, a timeout, a full device), aborts its pending bodies — their multipart uploads —
 * so no partial body ever becomes visible; the updates already made stay made, as
 * {@link dev.spillway.osd.Capability#TRANSACTIONS} says. When an update was merely refused
 * (EEXIST, ENOENT, ENODATA, EOPNOTSUPP, …: nothing went wrong on the wire), the bodies written
 * before it are updates already made too, and are stored at stop as they stand.
 */
final class S3Transaction extends AbstractTransaction {
    private final S3Osd osd;
    // The objects this transaction touched, in order: what the store holds as far as it knows.
    private final Map<Fid, Working> touched = new LinkedHashMap<>();
    private long reservedBytes;
    private long reservedObjects;

    /** An object as this transaction sees it. */
    private static final class Working {
        ObjectMeta meta; // null: does not exist
        long size;
        long publishedSize = -1; // size of the body the store shows now, -1 if none
        boolean deferredCreate; // created in this transaction, appears at stop with its body
        boolean metaPending; // metadata changed while a body is pending: stored with it
        BodyUpload upload;
    }

    S3Transaction(S3Osd osd) {
        super(osd.support);
        this.osd = osd;
    }

    // ---- start / end -------------------------------------------------------------------------

    @Override
    protected void doStart() throws OsdException {
        osd.ensureOpen();
        long need = 0;
        long creates = 0;
        for (Declare d : declares()) {
            if (d.op() == Declare.Op.WRITE) {
                need += d.length();
            } else if (d.op() == Declare.Op.TRUNCATE) {
                need += d.offset();
            } else if (d.op() == Declare.Op.CREATE) {
                creates++;
            }
        }
        S3Settings s = osd.settings();
        long used = osd.counters().bytes();
        long r = osd.reservedBytes.addAndGet(need);
        if (need > 0 && used + r > s.quota()) {
            osd.reservedBytes.addAndGet(-need);
            throw new OsdException(
                    Errno.ENOSPC,
                    osd.name(),
                    null,
                    "transaction " + id() + " declares " + need + " bytes, "
                            + Math.max(0, s.quota() - used - (r - need)) + " available of the quota " + s.quota() + " ("
                            + s.where() + ")");
        }
        reservedBytes = need;
        long o = osd.reservedObjects.addAndGet(creates);
        if (creates > 0 && s.maxObjects() != Long.MAX_VALUE && osd.counters().objects() + o > s.maxObjects()) {
            osd.reservedObjects.addAndGet(-creates);
            throw new OsdException(
                    Errno.ENOSPC,
                    osd.name(),
                    null,
                    "transaction " + id() + " creates " + creates + " objects, the device holds at most "
                            + s.maxObjects());
        }
        reservedObjects = creates;
    }

    @Override
    protected void doRelease() {
        osd.reservedBytes.addAndGet(-reservedBytes);
        osd.reservedObjects.addAndGet(-reservedObjects);
        reservedBytes = 0;
        reservedObjects = 0;
    }

    @Override
    protected void doCommit() throws OsdException {
        osd.ensureOpen();
        try {
            for (Map.Entry<Fid, Working> e : touched.entrySet()) {
                publish(e.getKey(), e.getValue());
            }
        } catch (OsdException | RuntimeException e) {
            try {
                abortAll();
            } catch (OsdException a) {
                e.addSuppressed(a);
            }
            throw e;
        }
        touched.clear();
        fireCallbacks(null);
    }

    private void publish(Fid fid, Working w) throws OsdException {
        if (w.upload != null) {
            osd.store().forget(fid);
            // The body being replaced may have block sums in a sidecar: it goes once the new body is in.
            String oldSidecar = w.publishedSize >= 0 ? BlockSums.token(w.meta.sums()) : null;
            BodyUpload.Finished f = w.upload.finish(w.meta);
            w.upload = null;
            account(w, f.size());
            w.meta = f.meta();
            w.size = f.size();
            if (f.metadataStale()) {
                osd.store().rewriteMetadata(fid, w.meta, w.size);
            } else {
                osd.store().remember(fid, new S3Store.Head(w.meta, w.size));
            }
            if (oldSidecar != null && !oldSidecar.equals(BlockSums.token(w.meta.sums()))) {
                osd.store().deleteKey(fid, osd.keys().sums(fid, oldSidecar));
            }
        } else if (w.deferredCreate) {
            w.meta = osd.store().putEmpty(fid, w.meta);
            account(w, 0);
            w.size = 0;
        } else if (w.metaPending) {
            osd.store().rewriteMetadata(fid, w.meta, w.size);
        }
        w.deferredCreate = false;
        w.metaPending = false;
    }

    /** Counts a body the store now shows in place of what it showed. */
    private void account(Working w, long size) {
        osd.counters().add(size - Math.max(0, w.publishedSize), w.publishedSize < 0 ? 1 : 0);
        w.publishedSize = size;
    }

    @Override
    protected void doDiscard() throws OsdException {
        OsdException why = failure();
        if (why != null && refused(why.errno())) {
            try {
                for (Map.Entry<Fid, Working> e : touched.entrySet()) {
                    publish(e.getKey(), e.getValue());
                }
            } catch (OsdException | RuntimeException e) {
                try {
                    abortAll();
                } catch (OsdException a) {
                    e.addSuppressed(a);
                }
                throw e;
            }
        } else {
            abortAll();
        }
        touched.clear();
    }

    /** An update the device refused without touching the store's data path. */
    private static boolean refused(Errno e) {
        return switch (e) {
            case EEXIST, ENOENT, ENODATA, ENOTDIR, EISDIR, ERANGE, E2BIG, EOPNOTSUPP, EINVAL, EFBIG, EPERM -> true;
            default -> false;
        };
    }

    private void abortAll() throws OsdException {
        OsdException first = null;
        for (Map.Entry<Fid, Working> e : touched.entrySet()) {
            Working w = e.getValue();
            osd.store().forget(e.getKey());
            if (w.upload != null && !w.upload.finished()) {
                try {
                    w.upload.abort();
                } catch (OsdException ae) {
                    if (first == null) {
                        first = ae;
                    } else {
                        first.addSuppressed(ae);
                    }
                }
            }
            w.upload = null;
        }
        if (first != null) {
            throw first;
        }
    }

    // ---- working state -----------------------------------------------------------------------

    private Working view(Fid fid) throws OsdException {
        Working w = touched.get(fid);
        if (w == null) {
            w = new Working();
            Optional<S3Store.Head> h = osd.store().head(fid);
            if (h.isPresent()) {
                w.meta = h.get().meta();
                w.size = h.get().size();
                w.publishedSize = w.size;
            }
            touched.put(fid, w);
        }
        return w;
    }

    private Working existing(Fid fid) throws OsdException {
        Working w = view(fid);
        if (w.meta == null) {
            throw new OsdException(
                    Errno.ENOENT,
                    osd.name(),
                    fid,
                    "no such object (" + osd.keys().object(fid) + ")");
        }
        return w;
    }

    private boolean bodyDeclared(Fid fid) {
        for (Declare d : declares()) {
            if (d.fid().equals(fid)
                    && ((d.op() == Declare.Op.WRITE && d.length() > 0)
                            || (d.op() == Declare.Op.TRUNCATE && d.offset() > 0))) {
                return true;
            }
        }
        return false;
    }

    /** The metadata changed: stored at once, or with the body pending in this transaction. */
    private void metadataChanged(Fid fid, Working w) throws OsdException {
        if (w.deferredCreate || w.upload != null) {
            w.metaPending = true;
        } else {
            osd.store().rewriteMetadata(fid, w.meta, w.size);
        }
    }

    private OsdException notSequential(Fid fid, String what, long expected) {
        return new OsdException(
                Errno.EOPNOTSUPP,
                osd.name(),
                fid,
                what + ": an object store replaces whole bodies (no PARTIAL_WRITE); "
                        + (expected < 0
                                ? "a transaction's first write to an object starts at offset 0"
                                : "this transaction's next write to the object must start at " + expected));
    }

    private void checkEnd(Fid fid, long end, String what) throws OsdException {
        if (end > S3Osd.MAX_OBJECT) {
            throw new OsdException(
                    Errno.EFBIG,
                    osd.name(),
                    fid,
                    what + " ends at " + end + ", past S3's largest object " + S3Osd.MAX_OBJECT);
        }
    }

    // ---- updates -------------------------------------------------------------------------------

    @Override
    protected void doCreate(Fid fid, ObjectKind kind, AttrChange attrs) throws OsdException {
        if (kind != ObjectKind.DATA) {
            throw new OsdException(
                    Errno.EOPNOTSUPP,
                    osd.name(),
                    fid,
                    "create " + kind + " needs INDEX, which an object store device does not advertise");
        }
        Working w = view(fid);
        if (w.meta != null) {
            throw new OsdException(
                    Errno.EEXIST,
                    osd.name(),
                    fid,
                    "object exists (" + osd.keys().object(fid) + ")");
        }
        w.meta = ObjectMeta.created(attrs, osd.now());
        w.size = 0;
        if (bodyDeclared(fid)) {
            w.deferredCreate = true;
        } else {
            w.meta = osd.store().putEmpty(fid, w.meta);
            account(w, 0);
        }
    }

    @Override
    protected boolean doDestroyIfExists(Fid fid) throws OsdException {
        if (view(fid).meta == null) {
            return false;
        }
        doDestroy(fid);
        return true;
    }

    @Override
    protected void doDestroy(Fid fid) throws OsdException {
        Working w = existing(fid);
        if (w.upload != null) {
            BodyUpload u = w.upload;
            w.upload = null;
            u.abort();
        }
        if (w.publishedSize >= 0) {
            // The store's object may carry older metadata than w.meta, but the same sidecar token
            // unless a body pending here replaced it, which was aborted just above.
            osd.store().deleteObject(fid, w.meta);
            osd.counters().add(-w.publishedSize, -1);
        }
        w.meta = null;
        w.size = 0;
        w.publishedSize = -1;
        w.deferredCreate = false;
        w.metaPending = false;
    }

    @Override
    protected void doSetAttr(Fid fid, AttrChange change) throws OsdException {
        Working w = existing(fid);
        w.meta = w.meta.apply(change, osd.now());
        metadataChanged(fid, w);
    }

    private void startBody(Working w) {
        Fid fid = keyFid(w);
        long expected = 0;
        for (Declare d : declares()) {
            if (d.fid().equals(fid) && d.op() == Declare.Op.WRITE && d.offset() <= 0) {
                expected = Math.max(expected, d.length());
            }
        }
        w.upload = new BodyUpload(osd.store(), fid, expected);
        w.meta = w.meta.bodyChanged(osd.now());
    }

    private Fid keyFid(Working w) {
        for (Map.Entry<Fid, Working> e : touched.entrySet()) {
            if (e.getValue() == w) {
                return e.getKey();
            }
        }
        throw new IllegalStateException("untracked object");
    }

    @Override
    protected void doWrite(Fid fid, long offset, ByteBuffer src) throws OsdException {
        Working w = existing(fid);
        checkEnd(fid, offset + src.remaining(), "write");
        if (w.upload == null) {
            if (offset != 0) {
                throw notSequential(fid, "write at " + offset, -1);
            }
            startBody(w);
        } else if (offset != w.upload.position()) {
            throw notSequential(fid, "write at " + offset, w.upload.position());
        }
        w.upload.append(src, w.meta);
        w.size = w.upload.position();
    }

    @Override
    protected void doPunch(Fid fid, long offset, long length) throws OsdException {
        existing(fid);
        throw new OsdException(
                Errno.EOPNOTSUPP,
                osd.name(),
                fid,
                "punch needs PUNCH, which an object store device does not advertise");
    }

    @Override
    protected void doTruncate(Fid fid, long size) throws OsdException {
        Working w = existing(fid);
        checkEnd(fid, size, "truncate");
        if (w.upload != null) {
            long pos = w.upload.position();
            if (size >= pos) {
                w.upload.appendZeros(size - pos, w.meta);
            } else if (size == 0) {
                BodyUpload old = w.upload;
                w.upload = null;
                old.abort();
                startBody(w);
            } else {
                throw new OsdException(
                        Errno.EOPNOTSUPP,
                        osd.name(),
                        fid,
                        "truncate to " + size + " below the " + pos
                                + " bytes this transaction already streamed: an object store cannot take them back");
            }
            w.size = w.upload.position();
            return;
        }
        if (size == w.size) {
            // The body is unchanged but the contract bumps the data version all the same.
            w.meta = w.meta.bodyChanged(osd.now());
            metadataChanged(fid, w);
            return;
        }
        long keep = Math.min(size, w.size);
        startBody(w);
        if (keep > 0) {
            copyBack(fid, keep, w);
        }
        w.upload.appendZeros(size - keep, w.meta);
        w.size = size;
    }

    /** Streams the first {@code n} bytes of the stored body (verified) into the new body. */
    private void copyBack(Fid fid, long n, Working w) throws OsdException {
        ByteBuffer b = ByteBuffer.allocate(BlockSums.BLOCK);
        long off = 0;
        while (off < n) {
            b.clear().limit((int) Math.min(b.capacity(), n - off));
            int got = osd.read(fid, off, b);
            if (got <= 0) {
                throw new OsdException(
                        Errno.EIO, osd.name(), fid, "body ended at " + off + " while rewriting it to truncate");
            }
            b.flip();
            w.upload.append(b, w.meta);
            off += got;
        }
    }

    @Override
    protected void doSetXattr(Fid fid, String name, byte[] value, XattrFlag flag) throws OsdException {
        Working w = existing(fid);
        if (name.getBytes(StandardCharsets.UTF_8).length > ObjectMeta.MAX_NAME) {
            throw new OsdException(
                    Errno.ERANGE, osd.name(), fid, "xattr name longer than " + ObjectMeta.MAX_NAME + " bytes");
        }
        if (value.length > ObjectMeta.MAX_VALUE) {
            throw new OsdException(
                    Errno.E2BIG,
                    osd.name(),
                    fid,
                    "xattr " + name + " value of " + value.length + " bytes exceeds the limit of "
                            + ObjectMeta.MAX_VALUE + " (S3 user metadata holds 2 KB per object)");
        }
        byte[] old = w.meta.xattrs().get(name);
        if (flag == XattrFlag.CREATE && old != null) {
            throw new OsdException(Errno.EEXIST, osd.name(), fid, "xattr " + name + " exists (CREATE)");
        }
        if (flag == XattrFlag.REPLACE && old == null) {
            throw new OsdException(Errno.ENODATA, osd.name(), fid, "no xattr " + name + " to replace (REPLACE)");
        }
        ObjectMeta next = w.meta.withXattr(name, value, osd.now());
        int bytes = next.xattrBytes();
        if (bytes > ObjectMeta.USER_METADATA_LIMIT - ObjectMeta.RESERVED) {
            throw new OsdException(
                    Errno.E2BIG,
                    osd.name(),
                    fid,
                    "xattrs would take " + bytes + " bytes of user metadata; S3 keeps 2048 per object, "
                            + ObjectMeta.RESERVED + " of them for the object's attributes and block sums");
        }
        w.meta = next;
        metadataChanged(fid, w);
    }

    @Override
    protected void doDeleteXattr(Fid fid, String name) throws OsdException {
        Working w = existing(fid);
        if (!w.meta.xattrs().containsKey(name)) {
            throw new OsdException(Errno.ENODATA, osd.name(), fid, "no xattr " + name);
        }
        w.meta = w.meta.withXattr(name, null, osd.now());
        metadataChanged(fid, w);
    }

    @Override
    protected void doInsert(Fid index, byte[] key, byte[] value, boolean replace) throws OsdException {
        throw new OsdException(
                Errno.EOPNOTSUPP,
                osd.name(),
                index,
                "insert needs INDEX, which an object store device does not advertise");
    }

    @Override
    protected void doDelete(Fid index, byte[] key) throws OsdException {
        throw new OsdException(
                Errno.EOPNOTSUPP,
                osd.name(),
                index,
                "delete needs INDEX, which an object store device does not advertise");
    }
}
