package dev.spillway.pool.device;

import dev.spillway.osd.Attr;
import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.XattrFlag;
import dev.spillway.osd.filter.FilterOsd;
import dev.spillway.osd.filter.FilterTransaction;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A filter over a pool's spill device that counts its I/O errors. Every read, write,
 * transaction step and sync that fails with EIO adds one to the consecutive count, every one that
 * succeeds resets it. At {@code failAfter} it trips once: {@link Tripped#tripped} is called with
 * the last error, and the pool gives the device up (marks it failed and its copies lost). A device
 * that fails every call — a dead disk, an unplugged mount — trips within {@code failAfter} calls
 * whatever else runs concurrently; one that fails now and then never does (bad sectors: reads
 * fail over to another copy and the daemon resyncs it), but its errors are counted for the operator
 * all the same, read and write apart since the mount, as {@code zpool status} counts them
 * ({@code failAfter} 0: count only, never trip). Calls that do no I/O on the data (statfs,
 * capabilities, listing) neither count nor reset.
 *
 * <p>The callback runs on the thread whose call failed, which may hold object locks: it must
 * only hand the failure over (the pool runs the lost-marking pass on a thread of its own).
 */
public final class DeviceHealth extends FilterOsd {
    /** Called once when the device trips. */
    @FunctionalInterface
    public interface Tripped {
        void tripped(DeviceHealth device, OsdException last);
    }

    @FunctionalInterface
    private interface Io<T> {
        T run() throws OsdException;
    }

    @FunctionalInterface
    private interface VoidIo {
        void run() throws OsdException;
    }

    private final int failAfter;
    private final AtomicInteger consecutive = new AtomicInteger();
    private final AtomicLong readErrors = new AtomicLong();
    private final AtomicLong writeErrors = new AtomicLong();
    private volatile Tripped onTrip = (d, e) -> {};
    // Set once, when the count first reaches failAfter; cleared when the device is back in service.
    private volatile boolean tripped;

    /** @param failAfter consecutive EIOs that trip the device; 0: count errors, never trip */
    public DeviceHealth(Osd in, int failAfter) {
        super(in);
        if (failAfter < 0) {
            throw new IllegalArgumentException("failAfter must be >= 0");
        }
        this.failAfter = failAfter;
    }

    /** Who is told when the device trips (the pool, once mounted). */
    public void onTrip(Tripped t) {
        this.onTrip = t;
    }

    /** Consecutive I/O errors now. */
    public int consecutiveErrors() {
        return consecutive.get();
    }

    public int failAfter() {
        return failAfter;
    }

    /** Reads (read, seek, getattr, getxattr, exists) that failed with EIO since the mount. */
    public long readErrors() {
        return readErrors.get();
    }

    /** Writes, transaction steps and syncs that failed with EIO since the mount. */
    public long writeErrors() {
        return writeErrors.get();
    }

    /** Forgets the errors and re-arms the trip (the device was brought back into service). */
    public void reset() {
        consecutive.set(0);
        tripped = false;
    }

    /** A read-side call. */
    private <T> T io(Io<T> call) throws OsdException {
        return io(call, readErrors);
    }

    private <T> T io(Io<T> call, AtomicLong errors) throws OsdException {
        try {
            T r = call.run();
            consecutive.set(0);
            return r;
        } catch (OsdException e) {
            failed(e, errors);
            throw e;
        }
    }

    /** A write-side call (writes, transaction steps, syncs). */
    private void vio(VoidIo call) throws OsdException {
        io(
                () -> {
                    call.run();
                    return null;
                },
                writeErrors);
    }

    private void failed(OsdException e, AtomicLong errors) {
        if (!e.is(Errno.EIO)) {
            return;
        }
        errors.incrementAndGet();
        if (consecutive.incrementAndGet() >= failAfter && failAfter > 0 && !tripped) {
            synchronized (this) {
                if (tripped) {
                    return;
                }
                tripped = true;
            }
            onTrip.tripped(this, e);
        }
    }

    @Override
    public void sync() throws OsdException {
        vio(in::sync);
    }

    @Override
    public void sync(Fid fid) throws OsdException {
        vio(() -> in.sync(fid));
    }

    @Override
    public void sync(Collection<Fid> fids) throws OsdException {
        vio(() -> in.sync(fids));
    }

    @Override
    public boolean exists(Fid fid) throws OsdException {
        return io(() -> in.exists(fid));
    }

    @Override
    public Attr getAttr(Fid fid) throws OsdException {
        return io(() -> in.getAttr(fid));
    }

    @Override
    public int read(Fid fid, long offset, ByteBuffer dst) throws OsdException {
        return io(() -> in.read(fid, offset, dst));
    }

    @Override
    public long seekData(Fid fid, long offset) throws OsdException {
        return io(() -> in.seekData(fid, offset));
    }

    @Override
    public long seekHole(Fid fid, long offset) throws OsdException {
        return io(() -> in.seekHole(fid, offset));
    }

    @Override
    public byte[] getXattr(Fid fid, String name) throws OsdException {
        return io(() -> in.getXattr(fid, name));
    }

    @Override
    public Transaction newTransaction() throws OsdException {
        return new Counted(io(in::newTransaction, writeErrors));
    }

    /** A transaction whose steps that touch the device count. */
    private final class Counted extends FilterTransaction {
        Counted(Transaction in) {
            super(in);
        }

        @Override
        public void start() throws OsdException {
            vio(in::start);
        }

        @Override
        public void create(Fid fid, ObjectKind kind, AttrChange attrs) throws OsdException {
            vio(() -> in.create(fid, kind, attrs));
        }

        @Override
        public void destroy(Fid fid) throws OsdException {
            vio(() -> in.destroy(fid));
        }

        @Override
        public boolean destroyIfExists(Fid fid) throws OsdException {
            return io(() -> in.destroyIfExists(fid), writeErrors);
        }

        @Override
        public void setAttr(Fid fid, AttrChange change) throws OsdException {
            vio(() -> in.setAttr(fid, change));
        }

        @Override
        public void write(Fid fid, long offset, ByteBuffer src) throws OsdException {
            vio(() -> in.write(fid, offset, src));
        }

        @Override
        public void punch(Fid fid, long offset, long length) throws OsdException {
            vio(() -> in.punch(fid, offset, length));
        }

        @Override
        public void truncate(Fid fid, long size) throws OsdException {
            vio(() -> in.truncate(fid, size));
        }

        @Override
        public void setXattr(Fid fid, String name, byte[] value, XattrFlag flag) throws OsdException {
            vio(() -> in.setXattr(fid, name, value, flag));
        }

        @Override
        public void stop() throws OsdException {
            vio(in::stop);
        }

        @Override
        public void close() throws OsdException {
            vio(in::close);
        }
    }
}
