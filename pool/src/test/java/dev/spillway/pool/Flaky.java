package dev.spillway.pool;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.filter.FilterOsd;
import dev.spillway.osd.filter.FilterTransaction;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A device whose writes, or body reads, can be made to fail with EIO (a pool device's failing disk,
 * for the pool's tests).
 */
final class Flaky extends FilterOsd {
    final AtomicBoolean failWrites = new AtomicBoolean();
    final AtomicBoolean failReads = new AtomicBoolean();
    /** Body reads that failed (injected). */
    final AtomicLong failedReads = new AtomicLong();

    Flaky(Osd in) {
        super(in);
    }

    @Override
    public int read(Fid fid, long offset, ByteBuffer dst) throws OsdException {
        if (failReads.get()) {
            failedReads.incrementAndGet();
            throw new OsdException(Errno.EIO, name(), fid, "injected read error at " + offset);
        }
        return super.read(fid, offset, dst);
    }

    @Override
    protected Transaction wrap(Transaction tx) {
        return new FilterTransaction(tx) {
            @Override
            public void write(Fid fid, long offset, ByteBuffer src) throws OsdException {
                if (failWrites.get()) {
                    throw new OsdException(Errno.EIO, name(), fid, "injected write error at " + offset);
                }
                super.write(fid, offset, src);
            }
        };
    }
}
