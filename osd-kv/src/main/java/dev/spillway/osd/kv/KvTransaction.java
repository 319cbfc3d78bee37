package dev.spillway.osd.kv;

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
import dev.spillway.osd.spi.storage.StorageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.rocksdb.RocksDBException;

/**
 * An osd-kv transaction. Updates are checked against and applied to private
 * {@link WorkingObject views}; large writes stream into new extent files as they come. At stop,
 * {@link CommitBuilder} turns the views into one WriteBatch, the new extent files are made
 * durable first, and the batch is published in commit order by the {@link CommitPipeline};
 * the callbacks fire once a WAL sync covers it. A failed or aborted transaction drops its views
 * and deletes its new files: nothing of it was ever in the database.
 */
final class KvTransaction extends AbstractTransaction implements CommitPipeline.Durable, WorkingObject.Committed {
    private final KvOsd osd;
    private final int bs;
    private final Map<Fid, WorkingObject> touched = new LinkedHashMap<>();
    // Extent files this transaction created, by id; deleted unless a commit references them.
    final Map<Long, ExtentFiles.Written> newFiles = new LinkedHashMap<>();
    private Map<Long, Long> freed = Map.of();
    private long reservation;
    // Net bytes the views grew beyond the committed objects, for the over-declare check.
    private long growth;
    // A sync commit not yet waited for: its seq, and the device entered until the wait (awaitDurable).
    private long awaitSeq;
    private KvOsd.Op awaitOp;

    KvTransaction(KvOsd osd) {
        super(osd.support);
        this.osd = osd;
        this.bs = osd.blockSize();
    }

    // ---- WorkingObject.Committed -------------------------------------------------------------

    @Override
    public List<Piece> pieces(Fid fid, long from, long to) throws RocksDBException {
        return osd.committedPieces(null, fid, from, to);
    }

    @Override
    public ExtentFiles.Source files() {
        return id -> {
            ExtentFiles.Written w = newFiles.get(id);
            return w != null ? w.channel() : osd.files.reader(id);
        };
    }

    @Override
    public int blockSize() {
        return bs;
    }

    // ---- start / end -------------------------------------------------------------------------

    @Override
    protected void doStart() throws OsdException {
        try (KvOsd.Op op = osd.enter()) {
            long need = 0;
            for (Declare d : declares()) {
                need += switch (d.op()) {
                    case CREATE -> KvOsd.OBJECT_OVERHEAD;
                    case WRITE ->
                        d.offset() < 0
                                ? roundUp(d.length()) + bs
                                : (ceilDiv(d.offset() + d.length()) - d.offset() / bs) * bs;
                    case SET_XATTR ->
                        (d.name() == null ? 255 : d.name().getBytes(StandardCharsets.UTF_8).length) + d.length();
                    case INSERT -> d.keyLength() + d.length();
                    default -> 0;
                };
            }
            need = dev.spillway.osd.spi.Reservations.atStart(spaceClass(), need);
            osd.space.reserve(need, spaceClass(), id());
            reservation = need;
        }
    }

    @Override
    protected void doRelease() {
        osd.space.release(reservation);
        reservation = 0;
    }

    /** The reservation, handed over to the device's used bytes by the commit (see Space.settle). */
    long handOverReservation() {
        long r = reservation;
        reservation = 0;
        return r;
    }

    @Override
    protected void doDiscard() {
        touched.clear();
        dropNewFiles(java.util.Set.of());
    }

    @Override
    protected void doCommit() throws OsdException {
        KvOsd.Op op = osd.enter();
        boolean waitLater = false;
        try {
            for (WorkingObject w : touched.values()) {
                closeOpen(w);
            }
            CommitBuilder b = new CommitBuilder(osd, this);
            long seq;
            boolean written = false;
            try {
                for (WorkingObject w : touched.values()) {
                    b.add(w);
                }
                freed = b.freed();
                b.makeNewFilesDurable();
                if (b.isEmpty()) {
                    seq = osd.pipeline.commitEmpty(this, isSync());
                } else {
                    // Readers that reuse what they loaded under a change stamp must see this
                    // commit coming before its batch is visible, and settled once it is.
                    java.util.BitSet stamped = osd.stamps.begin(touched.keySet());
                    try {
                        seq = osd.pipeline.commit(b.batch(), b::beforeWrite, this, isSync());
                    } finally {
                        osd.stamps.end(stamped);
                    }
                }
                written = true;
            } catch (RocksDBException | IOException e) {
                throw new OsdException(
                        Errno.EIO, osd.name(), null, "commit of transaction " + id() + " failed: " + e, e);
            } finally {
                b.close();
                dropNewFiles(written ? b.referencedNewFiles() : java.util.Set.of());
                touched.clear();
            }
            if (isSync()) {
                // Waited for in awaitDurable, once the locks are released (early lock release: a
                // crash keeps a prefix of the commit order, so whoever takes these objects next is
                // durable only with this commit); the device stays entered until then.
                awaitSeq = seq;
                awaitOp = op;
                waitLater = true;
            }
        } finally {
            if (!waitLater) {
                op.close();
            }
        }
    }

    @Override
    protected void awaitDurable() throws OsdException {
        KvOsd.Op op = awaitOp;
        if (op == null) {
            return;
        }
        awaitOp = null;
        try {
            osd.pipeline.await(awaitSeq);
        } finally {
            op.close();
        }
    }

    /** Closes this transaction's new files and deletes those the commit does not reference. */
    private void dropNewFiles(java.util.Set<Long> keep) {
        for (ExtentFiles.Written w : newFiles.values()) {
            try {
                w.channel().close();
                if (!keep.contains(w.id())) {
                    osd.files.delete(w.id());
                }
            } catch (IOException e) {
                // An unreferenced file left behind is found and deleted at the next mount after a
                // crash; here the device says so instead of failing a transaction that is done.
                osd.noteLeak(w.id(), e);
            }
        }
        newFiles.clear();
    }

    // ---- CommitPipeline.Durable ----------------------------------------------------------------

    @Override
    public void durable() {
        fireCallbacks(null);
    }

    @Override
    public void failed(OsdException error) {
        fireCallbacks(error);
    }

    @Override
    public Map<Long, Long> freedFiles() {
        return freed;
    }

    // ---- views -------------------------------------------------------------------------------

    private WorkingObject view(Fid fid) throws OsdException {
        WorkingObject w = touched.get(fid);
        if (w == null) {
            w = new WorkingObject(fid, osd.record(null, fid));
            touched.put(fid, w);
        }
        return w;
    }

    private WorkingObject existing(Fid fid) throws OsdException {
        WorkingObject w = view(fid);
        if (!w.exists) {
            throw new OsdException(Errno.ENOENT, osd.name(), fid, "no such object");
        }
        return w;
    }

    private WorkingObject data(Fid fid, String op) throws OsdException {
        WorkingObject w = existing(fid);
        if (w.attr.kind() != ObjectKind.DATA) {
            throw new OsdException(Errno.EISDIR, osd.name(), fid, op + " on an index object");
        }
        return w;
    }

    private WorkingObject index(Fid fid, String op) throws OsdException {
        WorkingObject w = existing(fid);
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
            osd.space.reserveMore(over, spaceClass(), fid);
            reservation += over;
        }
    }

    private long roundUp(long n) {
        return ceilDiv(n) * bs;
    }

    private long ceilDiv(long n) {
        return (n + bs - 1) / bs;
    }

    private OsdException io(Fid fid, String what, Exception e) {
        return new OsdException(Errno.EIO, osd.name(), fid, what + " failed: " + e, e);
    }

    // ---- updates -----------------------------------------------------------------------------

    @Override
    protected void doCreate(Fid fid, ObjectKind kind, AttrChange a) throws OsdException {
        try (KvOsd.Op op = osd.enter()) {
            WorkingObject w = view(fid);
            if (w.exists) {
                throw new OsdException(Errno.EEXIST, osd.name(), fid, "object exists");
            }
            long now = osd.now();
            w.reset();
            w.exists = true;
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
            grow(fid, KvOsd.OBJECT_OVERHEAD);
        }
    }

    @Override
    protected boolean doDestroyIfExists(Fid fid) throws OsdException {
        try (KvOsd.Op op = osd.enter()) {
            if (!view(fid).exists) {
                return false;
            }
        }
        doDestroy(fid);
        return true;
    }

    @Override
    protected void doDestroy(Fid fid) throws OsdException {
        try (KvOsd.Op op = osd.enter()) {
            WorkingObject w = existing(fid);
            long used = KvOsd.OBJECT_OVERHEAD + w.alloc * bs + w.xattrBytes + w.indexBytes;
            w.reset();
            w.exists = false;
            growth -= used;
        }
    }

    @Override
    protected void doSetAttr(Fid fid, AttrChange change) throws OsdException {
        try (KvOsd.Op op = osd.enter()) {
            WorkingObject w = existing(fid);
            Attr a = w.attr.apply(change);
            w.attr = change.has(AttrField.CTIME) ? a : a.withCtime(osd.now());
        }
    }

    @Override
    protected void doWrite(Fid fid, long offset, ByteBuffer src) throws OsdException {
        try (KvOsd.Op op = osd.enter()) {
            WorkingObject w = data(fid, "write");
            int len = src.remaining();
            long end = offset + len;
            if (end > osd.capabilities().maxObjectSize()) {
                throw new OsdException(
                        Errno.EFBIG,
                        osd.name(),
                        fid,
                        "write ends at " + end + ", past the largest object "
                                + osd.capabilities().maxObjectSize());
            }
            try {
                if (len > 0) {
                    WorkingObject.OpenExtent oe = w.open;
                    if (oe != null && oe.endByte(bs) == offset) {
                        append(w, oe, src);
                    } else {
                        closeOpen(w);
                        if (osd.inlineMax() > 0 && (len >= osd.inlineMax() || declaredWrite(fid) >= osd.inlineMax())) {
                            append(w, openExtent(w, offset), src);
                        } else {
                            inlineWrite(w, offset, src);
                        }
                    }
                }
            } catch (RocksDBException | IOException e) {
                throw io(fid, "write at " + offset, e);
            }
            w.attr = w.attr.bodyChanged(Math.max(w.attr.size(), end), 0, osd.now());
        }
    }

    /** Bytes this transaction declared writing to {@code fid}. */
    private long declaredWrite(Fid fid) {
        long n = 0;
        for (Declare d : declares()) {
            if (d.op() == Declare.Op.WRITE && d.fid().equals(fid)) {
                n += d.length();
            }
        }
        return n;
    }

    private void inlineWrite(WorkingObject w, long offset, ByteBuffer src)
            throws OsdException, RocksDBException, IOException {
        long end = offset + src.remaining();
        long first = offset / bs;
        long last = (end - 1) / bs;
        List<Piece> pieces = new ArrayList<>();
        for (long k = first; k <= last; k++) {
            long blockStart = k * bs;
            int from = (int) (Math.max(offset, blockStart) - blockStart);
            int to = (int) (Math.min(end, blockStart + bs) - blockStart);
            byte[] old = from == 0 && to == bs ? new byte[0] : w.blockBytes(this, k);
            byte[] img = Arrays.copyOf(old, Math.max(old.length, to));
            src.get(img, from, to - from);
            pieces.add(new Piece.Inline(k, img));
        }
        grow(w.fid, w.replace(this, first, last + 1, pieces) * bs);
    }

    private WorkingObject.OpenExtent openExtent(WorkingObject w, long offset)
            throws IOException, RocksDBException, OsdException {
        long startBlock = offset / bs;
        ExtentFiles.Written f = osd.files.create();
        newFiles.put(f.id(), f);
        WorkingObject.OpenExtent oe = new WorkingObject.OpenExtent(startBlock, f, w.attr.size());
        int head = (int) (offset - startBlock * bs);
        if (head > 0) {
            growth += bs;
            // The extent starts at a block boundary: carry the block's bytes before the write.
            ByteBuffer b = ByteBuffer.allocate(head);
            w.read(this, startBlock * bs, head, b);
            writeFully(f.channel(), b.flip(), 0);
            oe.stored = head;
        }
        w.open = oe;
        return oe;
    }

    private void append(WorkingObject w, WorkingObject.OpenExtent oe, ByteBuffer src) throws IOException, OsdException {
        long coveredBefore = ceilDiv(oe.stored);
        int n = src.remaining();
        writeFully(oe.file.channel(), src, oe.stored);
        oe.stored += n;
        // Upper bound until the extent closes and replaces what it covers.
        grow(w.fid, (ceilDiv(oe.stored) - coveredBefore) * bs);
    }

    private static void writeFully(StorageFile ch, ByteBuffer src, long position) throws IOException {
        ch.write(src, position);
    }

    /** Ends a run of sequential writes: the extent replaces the blocks it covers. */
    private void closeOpen(WorkingObject w) throws OsdException {
        WorkingObject.OpenExtent oe = w.open;
        if (oe == null) {
            return;
        }
        w.open = null;
        try {
            long end = oe.endByte(bs);
            long tailEnd = Math.min(ceilDiv(end) * bs, oe.sizeBefore);
            if (tailEnd > end) {
                // Keep the old bytes after the write in its last block.
                ByteBuffer b = ByteBuffer.allocate((int) (tailEnd - end));
                w.read(this, end, b.capacity(), b);
                writeFully(oe.file.channel(), b.flip(), oe.stored);
                oe.stored += b.capacity();
            }
            long blocks = ceilDiv(oe.stored);
            growth -= blocks * bs;
            long delta = w.replace(
                    this,
                    oe.startBlock,
                    oe.startBlock + blocks,
                    List.of(new Piece.Extent(oe.startBlock, blocks, oe.file.id(), 0, oe.stored)));
            grow(w.fid, delta * bs);
        } catch (RocksDBException | IOException e) {
            throw io(w.fid, "extent of the write at " + oe.startBlock * bs, e);
        }
    }

    @Override
    protected void doPunch(Fid fid, long offset, long length) throws OsdException {
        try (KvOsd.Op op = osd.enter()) {
            WorkingObject w = data(fid, "punch");
            closeOpen(w);
            long size = w.attr.size();
            long end = Math.min(size, offset + length);
            try {
                if (offset < end) {
                    long firstFull = ceilDiv(offset);
                    long endFull = end / bs;
                    if (firstFull > endFull) {
                        zeroInBlock(w, offset / bs, offset, end);
                    } else {
                        if (offset % bs != 0) {
                            zeroInBlock(w, offset / bs, offset, firstFull * bs);
                        }
                        if (end % bs != 0) {
                            zeroInBlock(w, endFull, endFull * bs, end);
                        }
                        if (firstFull < endFull) {
                            grow(fid, w.replace(this, firstFull, endFull, List.of()) * bs);
                        }
                    }
                }
            } catch (RocksDBException | IOException e) {
                throw io(fid, "punch at " + offset, e);
            }
            w.attr = w.attr.bodyChanged(size, 0, osd.now());
        }
    }

    /** Zeroes body bytes {@code [from, to)} inside block {@code k}, if it holds anything. */
    private void zeroInBlock(WorkingObject w, long k, long from, long to)
            throws OsdException, RocksDBException, IOException {
        if (w.allocated(this, k, k + 1) == 0) {
            return;
        }
        byte[] img = w.blockBytes(this, k);
        int a = (int) Math.min(img.length, from - k * bs);
        int b = (int) Math.min(img.length, to - k * bs);
        Arrays.fill(img, a, b, (byte) 0);
        grow(w.fid, w.replace(this, k, k + 1, List.of(new Piece.Inline(k, img))) * bs);
    }

    @Override
    protected void doTruncate(Fid fid, long size) throws OsdException {
        try (KvOsd.Op op = osd.enter()) {
            WorkingObject w = data(fid, "truncate");
            if (size > osd.capabilities().maxObjectSize()) {
                throw new OsdException(
                        Errno.EFBIG, osd.name(), fid, "truncate to " + size + ", past the largest object");
            }
            closeOpen(w);
            try {
                if (size < w.attr.size()) {
                    long k = size / bs;
                    int keep = (int) (size - k * bs);
                    byte[] tail = null;
                    if (keep > 0 && w.allocated(this, k, k + 1) > 0) {
                        tail = Arrays.copyOf(w.blockBytes(this, k), keep);
                    }
                    grow(fid, w.dropFrom(this, ceilDiv(size)) * bs);
                    if (tail != null) {
                        grow(fid, w.replace(this, k, k + 1, List.of(new Piece.Inline(k, tail))) * bs);
                    }
                }
            } catch (RocksDBException | IOException e) {
                throw io(fid, "truncate to " + size, e);
            }
            w.attr = w.attr.bodyChanged(size, 0, osd.now());
        }
    }

    @Override
    protected void doSetXattr(Fid fid, String name, byte[] value, XattrFlag flag) throws OsdException {
        try (KvOsd.Op op = osd.enter()) {
            WorkingObject w = existing(fid);
            int nameLen = name.getBytes(StandardCharsets.UTF_8).length;
            if (nameLen > osd.capabilities().maxXattrName()) {
                throw new OsdException(
                        Errno.ERANGE,
                        osd.name(),
                        fid,
                        "xattr name of " + nameLen + " bytes is longer than "
                                + osd.capabilities().maxXattrName());
            }
            if (value.length > osd.capabilities().maxXattrValue()) {
                throw new OsdException(
                        Errno.E2BIG,
                        osd.name(),
                        fid,
                        "xattr " + name + " value of " + value.length + " bytes exceeds the limit of "
                                + osd.capabilities().maxXattrValue());
            }
            byte[] old = xattr(w, name);
            if (flag == XattrFlag.CREATE && old != null) {
                throw new OsdException(Errno.EEXIST, osd.name(), fid, "xattr " + name + " exists (CREATE)");
            }
            if (flag == XattrFlag.REPLACE && old == null) {
                throw new OsdException(Errno.ENODATA, osd.name(), fid, "no xattr " + name + " to replace (REPLACE)");
            }
            long d = value.length - (old == null ? -nameLen : old.length);
            grow(fid, d);
            w.xattrBytes += d;
            w.xattrDelta().put(name, value.clone());
            w.attr = w.attr.withCtime(osd.now());
        }
    }

    @Override
    protected void doDeleteXattr(Fid fid, String name) throws OsdException {
        try (KvOsd.Op op = osd.enter()) {
            WorkingObject w = existing(fid);
            byte[] old = xattr(w, name);
            if (old == null) {
                throw new OsdException(Errno.ENODATA, osd.name(), fid, "no xattr " + name);
            }
            long d = -(old.length + name.getBytes(StandardCharsets.UTF_8).length);
            growth += d;
            w.xattrBytes += d;
            w.xattrDelta().put(name, WorkingObject.TOMBSTONE);
            w.attr = w.attr.withCtime(osd.now());
        }
    }

    private byte[] xattr(WorkingObject w, String name) throws OsdException {
        if (w.xattrs != null) {
            byte[] v = w.xattrs.get(name);
            if (v != null) {
                return v == WorkingObject.TOMBSTONE ? null : v;
            }
        }
        return w.fresh ? null : osd.get(null, Keys.xattr(w.fid, name), w.fid);
    }

    @Override
    protected void doInsert(Fid indexFid, byte[] key, byte[] value, boolean replace) throws OsdException {
        try (KvOsd.Op op = osd.enter()) {
            WorkingObject w = index(indexFid, "insert");
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
            byte[] old = indexGet(w, key);
            if (old != null && !replace) {
                throw new OsdException(Errno.EEXIST, osd.name(), indexFid, "index key exists");
            }
            long d = old == null ? key.length + value.length : value.length - old.length;
            grow(indexFid, d);
            w.indexBytes += d;
            w.indexDelta().put(key.clone(), value.clone());
        }
    }

    @Override
    protected void doDelete(Fid indexFid, byte[] key) throws OsdException {
        try (KvOsd.Op op = osd.enter()) {
            WorkingObject w = index(indexFid, "delete");
            byte[] old = indexGet(w, key);
            if (old == null) {
                throw new OsdException(Errno.ENOENT, osd.name(), indexFid, "no such index key");
            }
            long d = -(key.length + old.length);
            growth += d;
            w.indexBytes += d;
            w.indexDelta().put(key.clone(), WorkingObject.TOMBSTONE);
        }
    }

    private byte[] indexGet(WorkingObject w, byte[] key) throws OsdException {
        if (w.index != null) {
            byte[] v = w.index.get(key);
            if (v != null) {
                return v == WorkingObject.TOMBSTONE ? null : v;
            }
        }
        return w.fresh ? null : osd.get(null, Keys.index(w.fid, key), w.fid);
    }
}
