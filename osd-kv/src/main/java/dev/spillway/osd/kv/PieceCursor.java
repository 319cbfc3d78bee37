package dev.spillway.osd.kv;

import dev.spillway.osd.Fid;
import java.util.ArrayList;
import java.util.List;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
import org.rocksdb.Snapshot;

/**
 * The committed block map of one body, in block order, from a given block: a merge of the
 * object's extent records (meta column family) and its inline blocks (body column family). The
 * two never overlap. Both iterators read one snapshot, so a cursor sees one committed state.
 */
final class PieceCursor implements AutoCloseable {
    private final List<AutoCloseable> natives = new ArrayList<>();
    private final RocksIterator ext;
    private final RocksIterator blk;
    private final Fid fid;
    private Piece.Extent nextExt;
    private Piece.Inline nextBlk;

    /**
     * @param snapshot the snapshot to read (null: the latest state, for a transaction that holds
     *     the object's lock)
     */
    PieceCursor(RocksDB db, ColumnFamilyHandle meta, ColumnFamilyHandle body, Snapshot snapshot, Fid fid, long from)
            throws RocksDBException {
        this.fid = fid;
        try {
            ReadOptions eo = ro(snapshot, Keys.subStart(fid, Keys.EXTENT), Keys.subEnd(fid, Keys.EXTENT));
            ext = track(db.newIterator(meta, eo));
            byte[] at = Keys.extent(fid, from);
            ext.seekForPrev(at);
            if (!ext.isValid()) {
                ext.status();
                ext.seek(at);
            }
            nextExt = readExt();
            if (nextExt != null && nextExt.end() <= from) {
                ext.next();
                nextExt = readExt();
            }
            ReadOptions bo = ro(snapshot, Keys.block(fid, from), Keys.blocksEnd(fid));
            blk = track(db.newIterator(body, bo));
            blk.seek(Keys.block(fid, from));
            nextBlk = readBlk();
        } catch (RocksDBException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private ReadOptions ro(Snapshot snapshot, byte[] lower, byte[] upper) {
        ReadOptions r = track(new ReadOptions());
        if (snapshot != null) {
            r.setSnapshot(snapshot);
        }
        r.setIterateLowerBound(track(new Slice(lower)));
        r.setIterateUpperBound(track(new Slice(upper)));
        return r;
    }

    private <T extends AutoCloseable> T track(T t) {
        natives.add(t);
        return t;
    }

    private Piece.Extent readExt() throws RocksDBException {
        if (!ext.isValid()) {
            ext.status();
            return null;
        }
        try {
            return Piece.Extent.decode(Keys.extentBlock(ext.key()), ext.value());
        } catch (CorruptRecord e) {
            // every caller already turns a failed read into EIO naming the device and the object
            throw new RocksDBException("corrupt extent record: " + e.getMessage());
        }
    }

    private Piece.Inline readBlk() throws RocksDBException {
        if (!blk.isValid()) {
            blk.status();
            return null;
        }
        return new Piece.Inline(Keys.blockOf(blk.key()), blk.value());
    }

    /** The next piece (the first one may start before {@code from}), or null at the end. */
    Piece next() throws RocksDBException {
        if (nextExt == null && nextBlk == null) {
            return null;
        }
        if (nextBlk == null || (nextExt != null && nextExt.start() < nextBlk.start())) {
            Piece p = nextExt;
            ext.next();
            nextExt = readExt();
            return p;
        }
        Piece p = nextBlk;
        blk.next();
        nextBlk = readBlk();
        return p;
    }

    Fid fid() {
        return fid;
    }

    @Override
    public void close() {
        for (int i = natives.size() - 1; i >= 0; i--) {
            try {
                natives.get(i).close();
            } catch (Exception e) {
                throw new IllegalStateException("closing a RocksDB handle failed", e);
            }
        }
        natives.clear();
    }
}
