package dev.spillway.osd.testkit.fault;

import dev.spillway.osd.spi.storage.StorageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NonWritableChannelException;

/** An open file of a {@link FaultInjectingStorage}: an inode; every call is one counted operation. */
final class SimHandle implements StorageFile {
    private final FaultInjectingStorage st;
    private final String path;
    private final SimFile f;
    private final boolean writable;
    private boolean closed;

    SimHandle(FaultInjectingStorage st, String path, SimFile f, boolean writable) {
        this.st = st;
        this.path = path;
        this.f = f;
        this.writable = writable;
    }

    private void check(FaultInjectingStorage.Op op, boolean write) throws IOException {
        st.op(op, path);
        if (closed) {
            throw new ClosedChannelException();
        }
        if (write && !writable) {
            throw new NonWritableChannelException();
        }
    }

    SimFile inode() {
        return f;
    }

    @Override
    public String path() {
        return path;
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        synchronized (st) {
            check(FaultInjectingStorage.Op.READ, false);
            return f.current.read(dst, position);
        }
    }

    @Override
    public void write(ByteBuffer src, long position) throws IOException {
        synchronized (st) {
            check(FaultInjectingStorage.Op.WRITE, true);
            byte[] b = new byte[src.remaining()];
            src.get(b);
            st.checkRoom(path, Math.max(0, position + b.length - f.current.size()) > 0 ? b.length : 0);
            f.apply(new SimFile.Change.Write(position, b));
        }
    }

    @Override
    public long size() throws IOException {
        synchronized (st) {
            check(FaultInjectingStorage.Op.SIZE, false);
            return f.current.size();
        }
    }

    @Override
    public void truncate(long size) throws IOException {
        synchronized (st) {
            check(FaultInjectingStorage.Op.TRUNCATE, true);
            f.apply(new SimFile.Change.Truncate(size));
        }
    }

    @Override
    public void force(boolean metadata) throws IOException {
        synchronized (st) {
            check(FaultInjectingStorage.Op.FORCE, false);
            f.force(metadata);
        }
    }

    @Override
    public void punch(long offset, long length) throws IOException {
        synchronized (st) {
            check(FaultInjectingStorage.Op.PUNCH, true);
            if (!st.features().punch()) {
                throw new UnsupportedOperationException("punch is not supported on " + st.describe());
            }
            f.apply(new SimFile.Change.Punch(offset, length));
        }
    }

    @Override
    public long seekData(long offset) throws IOException {
        synchronized (st) {
            check(FaultInjectingStorage.Op.SEEK, false);
            if (!st.features().sparseSeek()) {
                throw new UnsupportedOperationException("SEEK_DATA is not supported on " + st.describe());
            }
            return f.current.seekData(offset);
        }
    }

    @Override
    public long seekHole(long offset) throws IOException {
        synchronized (st) {
            check(FaultInjectingStorage.Op.SEEK, false);
            if (!st.features().sparseSeek()) {
                throw new UnsupportedOperationException("SEEK_HOLE is not supported on " + st.describe());
            }
            return f.current.seekHole(offset);
        }
    }

    @Override
    public void close() throws IOException {
        synchronized (st) {
            if (closed) {
                return;
            }
            closed = true;
            st.op(FaultInjectingStorage.Op.CLOSE, path);
        }
    }
}
