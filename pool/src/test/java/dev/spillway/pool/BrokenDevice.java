package dev.spillway.pool;

import dev.spillway.osd.Attr;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectCursor;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.filter.FilterOsd;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/** A device that can be made to fail every data call with EIO, as a dead disk does. */
final class BrokenDevice extends FilterOsd {
    final AtomicBoolean broken = new AtomicBoolean();
    /** One object whose every call fails (bad sectors), while the rest of the device works. */
    volatile Fid badObject;

    final AtomicInteger failedCalls = new AtomicInteger();
    /** Runs at the start of every per-object sync (a test's hook: fail the device in between). */
    volatile Runnable beforeSync = () -> {};

    BrokenDevice(Osd in) {
        super(in);
    }

    private void check(Fid fid) throws OsdException {
        if (broken.get() || (fid != null && fid.equals(badObject))) {
            failedCalls.incrementAndGet();
            throw new OsdException(Errno.EIO, name(), fid, "injected: the device is dead");
        }
    }

    @Override
    public Attr getAttr(Fid fid) throws OsdException {
        check(fid);
        return super.getAttr(fid);
    }

    @Override
    public int read(Fid fid, long offset, ByteBuffer dst) throws OsdException {
        check(fid);
        return super.read(fid, offset, dst);
    }

    @Override
    public Transaction newTransaction() throws OsdException {
        check(null);
        return super.newTransaction();
    }

    @Override
    public void sync() throws OsdException {
        check(null);
        super.sync();
    }

    @Override
    public void sync(Fid fid) throws OsdException {
        beforeSync.run();
        check(fid);
        in.sync(fid);
    }

    @Override
    public void sync(Collection<Fid> fids) throws OsdException {
        beforeSync.run();
        check(null);
        in.sync(fids);
    }

    @Override
    public ObjectCursor listObjects() throws OsdException {
        check(null);
        return super.listObjects();
    }

    @Override
    public boolean exists(Fid fid) throws OsdException {
        check(fid);
        return in.exists(fid);
    }
}
