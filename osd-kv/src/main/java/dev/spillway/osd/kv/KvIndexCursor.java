package dev.spillway.osd.kv;

import dev.spillway.osd.Errno;
import dev.spillway.osd.IndexCursor;
import dev.spillway.osd.OsdException;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;

/**
 * An ordered cursor over one index object: a RocksDB iterator bounded to the object's
 * {@code 'I'} range, on the snapshot taken when the cursor was opened (so it is consistent, which
 * is more than the weak consistency the API promises). Closing the device closes it.
 */
final class KvIndexCursor implements IndexCursor {
    private final KvOsd osd;
    private final KvOsd.Snap snap;
    private final Slice lower;
    private final Slice upper;
    private final ReadOptions ro;
    private final RocksIterator it;
    private boolean started;
    private boolean closed;
    private byte[] key;
    private byte[] value;

    KvIndexCursor(KvOsd osd, KvOsd.Snap snap, byte[] from, byte[] end) {
        this.osd = osd;
        this.snap = snap;
        this.lower = new Slice(from);
        this.upper = new Slice(end);
        this.ro = new ReadOptions()
                .setSnapshot(snap.snapshot)
                .setIterateLowerBound(lower)
                .setIterateUpperBound(upper);
        this.it = osd.kv.db.newIterator(osd.kv.meta, ro);
    }

    @Override
    public synchronized boolean next() throws OsdException {
        if (closed) {
            throw new OsdException(Errno.EIO, osd.name(), "index cursor is closed");
        }
        if (!started) {
            it.seekToFirst();
            started = true;
        } else if (it.isValid()) {
            it.next();
        }
        if (!it.isValid()) {
            try {
                it.status();
            } catch (RocksDBException e) {
                throw new OsdException(Errno.EIO, osd.name(), null, "index cursor failed: " + e.getMessage(), e);
            }
            key = null;
            value = null;
            return false;
        }
        key = Keys.suffix(it.key());
        value = it.value();
        return true;
    }

    @Override
    public synchronized byte[] key() {
        return key == null ? null : key.clone();
    }

    @Override
    public synchronized byte[] value() {
        return value == null ? null : value.clone();
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
        snap.close();
        osd.forget(this);
    }
}
