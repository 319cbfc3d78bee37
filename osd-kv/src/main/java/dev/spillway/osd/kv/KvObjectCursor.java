package dev.spillway.osd.kv;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectCursor;
import dev.spillway.osd.OsdException;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;

/**
 * Every object, in FID order: a RocksDB iterator over the {@code 'O'} range that jumps from
 * each object's first record to the next object's, so it reads one record per object.
 */
final class KvObjectCursor implements ObjectCursor {
    private final KvOsd osd;
    private final Slice lower = new Slice(Keys.single(Keys.OBJECT));
    private final Slice upper = new Slice(Keys.single((byte) (Keys.OBJECT + 1)));
    private final ReadOptions ro = new ReadOptions().setIterateLowerBound(lower).setIterateUpperBound(upper);
    private final RocksIterator it;
    private Fid fid;
    private boolean started;
    private boolean done;
    private boolean closed;

    KvObjectCursor(KvOsd osd) {
        this.osd = osd;
        this.it = osd.kv.db.newIterator(osd.kv.meta, ro);
    }

    @Override
    public synchronized boolean next() throws OsdException {
        if (closed) {
            throw new OsdException(Errno.EIO, osd.name(), "object cursor is closed");
        }
        if (done) {
            return false;
        }
        if (!started) {
            it.seekToFirst();
            started = true;
        } else {
            byte[] after = Keys.nextObject(fid);
            if (after == null) {
                done = true;
                fid = null;
                return false;
            }
            it.seek(after);
        }
        if (!it.isValid()) {
            try {
                it.status();
            } catch (RocksDBException e) {
                throw new OsdException(Errno.EIO, osd.name(), null, "object listing failed: " + e.getMessage(), e);
            }
            done = true;
            fid = null;
            return false;
        }
        fid = Keys.objectFid(it.key());
        return true;
    }

    @Override
    public synchronized Fid fid() {
        return fid;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        it.close();
        ro.close();
        lower.close();
        upper.close();
        osd.forget(this);
    }
}
