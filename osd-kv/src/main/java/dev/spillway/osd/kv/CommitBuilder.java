package dev.spillway.osd.kv;

import dev.spillway.osd.Fid;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/**
 * Turns a transaction's {@link WorkingObject views} into one WriteBatch: the records to put and
 * delete, the extent files it starts referencing (made durable before the batch is written) and
 * the ones it stops referencing (deleted only after the batch is durable, tracked by a
 * {@code 'G'} record in the same batch so that a crash in between leaks nothing).
 */
final class CommitBuilder implements AutoCloseable {
    // Up to this many blocks, inline blocks under a new extent or hole are deleted one by one;
    // beyond, with one range tombstone.
    private static final int POINT_DELETES = 32;

    private final KvOsd osd;
    private final KvTransaction tx;
    private final int bs;
    private final WriteBatch batch = new WriteBatch();
    private long usedDelta;
    private long objectsDelta;
    private boolean empty = true;
    private final Map<Long, Long> freed = new LinkedHashMap<>();
    private final Map<Long, Fid> referencedNew = new LinkedHashMap<>();

    CommitBuilder(KvOsd osd, KvTransaction tx) {
        this.osd = osd;
        this.tx = tx;
        this.bs = osd.blockSize();
    }

    boolean isEmpty() {
        return empty;
    }

    WriteBatch batch() {
        return batch;
    }

    Map<Long, Long> freed() {
        return freed;
    }

    Set<Long> referencedNewFiles() {
        return referencedNew.keySet();
    }

    /** Appends the counters; the space totals change only once the write succeeded. */
    Runnable beforeWrite(WriteBatch b) throws RocksDBException {
        Runnable counters = osd.space.appendCounters(b, usedDelta, objectsDelta);
        long freeing = freed.values().stream().mapToLong(Long::longValue).sum();
        return () -> {
            osd.space.settle(counters, tx.handOverReservation());
            osd.space.freeing(freeing);
        };
    }

    void add(WorkingObject w) throws RocksDBException, dev.spillway.osd.OsdException {
        Fid fid = w.fid;
        boolean existed = w.existedBefore();
        if (!w.exists) {
            if (existed) {
                deleteObject(fid);
                usedDelta -= w.base.usedBytes(bs);
                objectsDelta--;
                empty = false;
            }
            return;
        }
        empty = false;
        if (w.fresh && existed) {
            deleteObject(fid);
        }
        boolean committedMayExist = existed && !w.fresh;
        if (w.xattrs != null) {
            for (Map.Entry<String, byte[]> e : w.xattrs.entrySet()) {
                byte[] key = Keys.xattr(fid, e.getKey());
                if (e.getValue() != WorkingObject.TOMBSTONE) {
                    batch.put(osd.kv.meta, key, e.getValue());
                } else if (committedMayExist) {
                    batch.delete(osd.kv.meta, key);
                }
            }
        }
        if (w.index != null) {
            for (Map.Entry<byte[], byte[]> e : w.index.entrySet()) {
                byte[] key = Keys.index(fid, e.getKey());
                if (e.getValue() != WorkingObject.TOMBSTONE) {
                    batch.put(osd.kv.meta, key, e.getValue());
                } else if (committedMayExist) {
                    batch.delete(osd.kv.meta, key);
                }
            }
        }
        if (w.bodyTouched) {
            body(w, committedMayExist);
        }
        InodeRecord rec = new InodeRecord(
                w.attr.withBlocks(w.alloc * bs / 512),
                w.alloc,
                w.xattrBytes,
                w.indexBytes,
                w.mayHaveInline ? InodeRecord.MAY_HAVE_INLINE : 0,
                w.bodyTouched || !existed ? osd.files.stamp() : w.base.layout());
        batch.put(osd.kv.meta, Keys.attr(fid), rec.encode());
        usedDelta += rec.usedBytes(bs) - (existed ? w.base.usedBytes(bs) : 0);
        if (!existed) {
            objectsDelta++;
        }
    }

    private void deleteObject(Fid fid) throws RocksDBException, dev.spillway.osd.OsdException {
        Set<Long> files = new LinkedHashSet<>();
        for (Piece.Extent e : osd.extents(fid)) {
            files.add(e.fileId());
        }
        for (long id : files) {
            free(id);
        }
        batch.deleteRange(osd.kv.meta, Keys.objectStart(fid), Keys.objectEnd(fid));
        batch.deleteRange(osd.kv.body, Keys.block(fid, 0), Keys.blocksEnd(fid));
    }

    private void body(WorkingObject w, boolean committedMayExist)
            throws RocksDBException, dev.spillway.osd.OsdException {
        Fid fid = w.fid;
        List<Piece.Extent> committed = committedMayExist ? osd.extents(fid) : List.of();
        if (committedMayExist && w.cut != Long.MAX_VALUE) {
            batch.deleteRange(osd.kv.body, Keys.block(fid, w.cut), Keys.blocksEnd(fid));
        }
        List<Piece.Extent> fin = new ArrayList<>();
        for (Piece d : w.body.values()) {
            switch (d) {
                case Piece.Inline in -> batch.put(osd.kv.body, Keys.block(fid, in.start()), in.data());
                case Piece.Extent e -> {
                    fin.add(e);
                    if (committedMayExist) {
                        deleteInline(fid, e.start(), Math.min(e.end(), w.cut));
                    }
                }
                case Piece.Hole h -> {
                    if (committedMayExist) {
                        deleteInline(fid, h.start(), Math.min(h.end(), w.cut));
                    }
                }
            }
        }
        // What survives of the committed extents: cut at the truncation, minus what the delta replaced.
        for (Piece.Extent c : committed) {
            if (c.start() >= w.cut) {
                continue;
            }
            Piece.Extent cc = (Piece.Extent) c.clip(c.start(), Math.min(c.end(), w.cut), bs);
            long pos = cc.start();
            for (Piece d : w.overlapping(cc.start(), cc.end())) {
                if (d.start() > pos) {
                    fin.add((Piece.Extent) cc.clip(pos, d.start(), bs));
                }
                pos = Math.max(pos, d.end());
            }
            if (pos < cc.end()) {
                fin.add((Piece.Extent) cc.clip(pos, cc.end(), bs));
            }
        }
        Map<Long, Piece.Extent> before = new HashMap<>();
        for (Piece.Extent c : committed) {
            before.put(c.start(), c);
        }
        Map<Long, Piece.Extent> after = new HashMap<>();
        for (Piece.Extent f : fin) {
            after.put(f.start(), f);
        }
        for (Piece.Extent c : committed) {
            if (!after.containsKey(c.start())) {
                batch.delete(osd.kv.meta, Keys.extent(fid, c.start()));
            }
        }
        for (Piece.Extent f : fin) {
            if (!f.equals(before.get(f.start()))) {
                batch.put(osd.kv.meta, Keys.extent(fid, f.start()), f.encode());
            }
        }
        Set<Long> live = new HashSet<>();
        for (Piece.Extent f : fin) {
            live.add(f.fileId());
            if (tx.newFiles.containsKey(f.fileId())) {
                referencedNew.put(f.fileId(), fid);
            }
        }
        Set<Long> dead = new LinkedHashSet<>();
        for (Piece.Extent c : committed) {
            if (!live.contains(c.fileId())) {
                dead.add(c.fileId());
            }
        }
        for (long id : dead) {
            free(id);
        }
    }

    private void deleteInline(Fid fid, long from, long to) throws RocksDBException {
        if (to <= from) {
            return;
        }
        if (to - from <= POINT_DELETES) {
            for (long k = from; k < to; k++) {
                batch.delete(osd.kv.body, Keys.block(fid, k));
            }
        } else {
            batch.deleteRange(osd.kv.body, Keys.block(fid, from), Keys.block(fid, to));
        }
    }

    private void free(long id) throws RocksDBException, dev.spillway.osd.OsdException {
        if (freed.containsKey(id)) {
            return;
        }
        long bytes = osd.fileBytes(id);
        batch.delete(osd.kv.meta, Keys.file(Keys.FILE, id));
        batch.put(
                osd.kv.meta,
                Keys.file(Keys.FREE, id),
                ByteBuffer.allocate(8).putLong(bytes).array());
        freed.put(id, bytes);
    }

    /**
     * Makes the new extent files the batch references durable, and records them, before the
     * batch is written: data is durable before the metadata that points to it.
     */
    void makeNewFilesDurable() throws IOException, RocksDBException {
        if (referencedNew.isEmpty()) {
            return;
        }
        boolean newNames = false;
        for (Map.Entry<Long, Fid> e : referencedNew.entrySet()) {
            ExtentFiles.Written w = tx.newFiles.get(e.getKey());
            w.channel().force(false);
            newNames |= !w.nameDurable();
            batch.put(
                    osd.kv.meta,
                    Keys.file(Keys.FILE, e.getKey()),
                    KvOsd.fileRecord(e.getValue(), w.channel().size()));
        }
        if (newNames) {
            osd.files.syncDir();
        }
    }

    @Override
    public void close() {
        batch.close();
    }
}
