package dev.spillway.osd.kv;

import dev.spillway.osd.Attr;
import dev.spillway.osd.Fid;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import org.rocksdb.RocksDBException;

/**
 * A transaction's private view of one object: the committed state (read from the database,
 * stable because the transaction holds the object's lock) overlaid with the transaction's own
 * changes. Nothing here is visible to anyone else until the commit writes it as one batch.
 *
 * <p>The body is a delta over the committed block map: {@link #body} maps a start block to the
 * piece that replaces blocks {@code [start, end)} (a {@link Piece.Hole} hides what was there),
 * and {@link #cut} hides every committed block at or past it (truncate, destroy).
 */
final class WorkingObject {
    /** Marks a deleted xattr or index key in a delta. */
    static final byte[] TOMBSTONE = new byte[0];

    /** Where the view reads what is committed and what the transaction wrote to files. */
    interface Committed {
        /** Committed pieces of {@code fid} overlapping blocks {@code [from, to)}. */
        List<Piece> pieces(Fid fid, long from, long to) throws RocksDBException;

        ExtentFiles.Source files();

        int blockSize();
    }

    final Fid fid;
    final InodeRecord base;
    boolean exists;
    /** True once the committed records no longer count (created or destroyed in this transaction). */
    boolean fresh;

    Attr attr;
    long alloc;
    long xattrBytes;
    long indexBytes;
    TreeMap<String, byte[]> xattrs;
    TreeMap<byte[], byte[]> index;
    final TreeMap<Long, Piece> body = new TreeMap<>();
    long cut = Long.MAX_VALUE;
    boolean bodyTouched;
    /** The body may hold inline blocks (see {@link InodeRecord#MAY_HAVE_INLINE}). */
    boolean mayHaveInline;
    /** The extent file a run of sequential writes is appending to, or null. */
    OpenExtent open;

    /** A sequential run of writes going to one new extent file. */
    static final class OpenExtent {
        final long startBlock;
        final ExtentFiles.Written file;
        final long sizeBefore;
        long stored;

        OpenExtent(long startBlock, ExtentFiles.Written file, long sizeBefore) {
            this.startBlock = startBlock;
            this.file = file;
            this.sizeBefore = sizeBefore;
        }

        long endByte(int bs) {
            return startBlock * bs + stored;
        }
    }

    WorkingObject(Fid fid, InodeRecord base) {
        this.fid = fid;
        this.base = base;
        this.exists = base != null;
        if (base != null) {
            attr = base.attr();
            alloc = base.allocBlocks();
            xattrBytes = base.xattrBytes();
            indexBytes = base.indexBytes();
            mayHaveInline = base.mayHaveInline();
        }
    }

    boolean existedBefore() {
        return base != null;
    }

    /** Forgets everything committed and everything changed: for create and destroy. */
    void reset() {
        fresh = true;
        xattrs = new TreeMap<>();
        index = new TreeMap<>(Arrays::compareUnsigned);
        body.clear();
        cut = 0;
        open = null;
        alloc = 0;
        xattrBytes = 0;
        indexBytes = 0;
        mayHaveInline = false;
        bodyTouched = true;
    }

    TreeMap<String, byte[]> xattrDelta() {
        if (xattrs == null) {
            xattrs = new TreeMap<>();
        }
        return xattrs;
    }

    TreeMap<byte[], byte[]> indexDelta() {
        if (index == null) {
            index = new TreeMap<>(Arrays::compareUnsigned);
        }
        return index;
    }

    // ---- the body view ---------------------------------------------------------------------

    /** The pieces of the current view overlapping blocks {@code [p, q)}, clipped to it, in order. */
    List<Piece> view(Committed c, long p, long q) throws RocksDBException {
        int bs = c.blockSize();
        List<Piece> out = new ArrayList<>();
        long committedEnd = Math.min(q, cut);
        if (!fresh && p < committedEnd) {
            for (Piece cp : c.pieces(fid, p, committedEnd)) {
                Piece clipped = cp.clip(Math.max(p, cp.start()), Math.min(committedEnd, cp.end()), bs);
                subtractDelta(clipped, out, bs);
            }
        }
        for (Piece d : overlapping(p, q)) {
            out.add(d.clip(p, q, bs));
        }
        out.sort((a, b) -> Long.compare(a.start(), b.start()));
        return out;
    }

    /** Adds to {@code out} the parts of committed piece {@code cp} not replaced by the delta. */
    private void subtractDelta(Piece cp, List<Piece> out, int bs) {
        long pos = cp.start();
        for (Piece d : overlapping(cp.start(), cp.end())) {
            if (d.start() > pos) {
                out.add(cp.clip(pos, d.start(), bs));
            }
            pos = Math.max(pos, d.end());
        }
        if (pos < cp.end()) {
            out.add(cp.clip(pos, cp.end(), bs));
        }
    }

    /** Delta pieces overlapping {@code [p, q)}, in order. */
    List<Piece> overlapping(long p, long q) {
        List<Piece> out = new ArrayList<>();
        Map.Entry<Long, Piece> before = body.lowerEntry(p);
        if (before != null && before.getValue().end() > p) {
            out.add(before.getValue());
        }
        out.addAll(body.subMap(p, true, q, false).values());
        return out;
    }

    /** Allocated blocks in the view over {@code [p, q)}. */
    long allocated(Committed c, long p, long q) throws RocksDBException {
        long n = 0;
        for (Piece x : view(c, p, q)) {
            n += x.allocated();
        }
        return n;
    }

    /** Reads view bytes {@code [pos, pos + n)} into {@code dst} (zeros where nothing is stored). */
    void read(Committed c, long pos, int n, ByteBuffer dst) throws RocksDBException, IOException {
        int bs = c.blockSize();
        long p = pos / bs;
        long q = (pos + n + bs - 1) / bs;
        BodyIo.fill(BodyIo.Pieces.of(view(c, p, q).iterator()), pos, n, dst, bs, c.files());
    }

    /** The stored bytes of block {@code k}: up to the object's size, at most a block. */
    byte[] blockBytes(Committed c, long k) throws RocksDBException, IOException {
        int bs = c.blockSize();
        long start = k * bs;
        int n = (int) Math.max(0, Math.min(bs, attr.size() - start));
        byte[] b = new byte[n];
        if (n > 0) {
            read(c, start, n, ByteBuffer.wrap(b));
        }
        return b;
    }

    /**
     * Replaces blocks {@code [p, q)} of the view with {@code pieces} (inside the range, in
     * order; gaps become holes) and returns the change in allocated blocks.
     */
    long replace(Committed c, long p, long q, List<Piece> pieces) throws RocksDBException {
        int bs = c.blockSize();
        long before = allocated(c, p, q);
        // Cut the delta's pieces that overlap [p, q), keeping their outside parts.
        List<Piece> keep = new ArrayList<>();
        for (Piece d : overlapping(p, q)) {
            body.remove(d.start());
            if (d.start() < p) {
                keep.add(d.clip(d.start(), p, bs));
            }
            if (d.end() > q) {
                keep.add(d.clip(q, d.end(), bs));
            }
        }
        for (Piece k : keep) {
            body.put(k.start(), k);
        }
        long after = 0;
        long pos = p;
        for (Piece n : pieces) {
            if (n instanceof Piece.Inline) {
                mayHaveInline = true;
            }
            hide(pos, n.start());
            body.put(n.start(), n);
            after += n.allocated();
            pos = n.end();
        }
        hide(pos, q);
        bodyTouched = true;
        alloc += after - before;
        return after - before;
    }

    /** Hides committed blocks {@code [from, to)} (only where something committed can be). */
    private void hide(long from, long to) {
        long end = Math.min(to, cut);
        if (!fresh && from < end) {
            body.put(from, new Piece.Hole(from, end - from));
        }
    }

    /** Drops every block at or past {@code c}; returns the change in allocated blocks. */
    long dropFrom(Committed co, long c) throws RocksDBException {
        int bs = co.blockSize();
        long before = allocated(co, c, Long.MAX_VALUE);
        NavigableMap<Long, Piece> tail = body.tailMap(c, true);
        tail.clear();
        Map.Entry<Long, Piece> last = body.lowerEntry(c);
        if (last != null && last.getValue().end() > c) {
            Piece l = last.getValue();
            body.put(l.start(), l.clip(l.start(), c, bs));
        }
        cut = Math.min(cut, c);
        bodyTouched = true;
        alloc -= before;
        return -before;
    }
}
