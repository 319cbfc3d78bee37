package dev.spillway.osd.filter;

import dev.spillway.osd.Attr;
import dev.spillway.osd.Capabilities;
import dev.spillway.osd.Fid;
import dev.spillway.osd.IndexCursor;
import dev.spillway.osd.ObjectCursor;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.StatFs;
import dev.spillway.osd.Transaction;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * An OSD that forwards every call to another, as Lucene's {@code FilterDirectory}: the base of
 * every wrapper (fault injection, crash simulation, latency, metrics), each overriding only what
 * it changes. Transactions are wrapped by {@link #wrap(Transaction)}, by default a
 * {@link FilterTransaction} that forwards everything.
 */
public class FilterOsd implements Osd {
    protected final Osd in;

    public FilterOsd(Osd in) {
        this.in = Objects.requireNonNull(in, "in");
    }

    /** The wrapped OSD. */
    public Osd getDelegate() {
        return in;
    }

    /** The innermost OSD under any number of filters. */
    public static Osd unwrap(Osd osd) {
        Osd o = osd;
        while (o instanceof FilterOsd f) {
            o = f.in;
        }
        return o;
    }

    /** Wraps a transaction of the inner OSD; override to intercept updates. */
    protected Transaction wrap(Transaction tx) {
        return tx;
    }

    @Override
    public String name() {
        return in.name();
    }

    @Override
    public String backend() {
        return in.backend();
    }

    @Override
    public Capabilities capabilities() {
        return in.capabilities();
    }

    @Override
    public StatFs statfs() throws OsdException {
        return in.statfs();
    }

    @Override
    public void sync() throws OsdException {
        in.sync();
    }

    @Override
    public void sync(Fid fid) throws OsdException {
        in.sync(fid);
    }

    @Override
    public void setReserve(long bytes) throws OsdException {
        in.setReserve(bytes);
    }

    @Override
    public void setCapacity(long bytes) throws OsdException {
        in.setCapacity(bytes);
    }

    @Override
    public Transaction newTransaction() throws OsdException {
        return wrap(in.newTransaction());
    }

    @Override
    public Attr getAttr(Fid fid) throws OsdException {
        return in.getAttr(fid);
    }

    @Override
    public boolean exists(Fid fid) throws OsdException {
        return in.exists(fid);
    }

    @Override
    public int read(Fid fid, long offset, ByteBuffer dst) throws OsdException {
        return in.read(fid, offset, dst);
    }

    @Override
    public long seekData(Fid fid, long offset) throws OsdException {
        return in.seekData(fid, offset);
    }

    @Override
    public long seekHole(Fid fid, long offset) throws OsdException {
        return in.seekHole(fid, offset);
    }

    @Override
    public byte[] getXattr(Fid fid, String name) throws OsdException {
        return in.getXattr(fid, name);
    }

    @Override
    public int getXattr(Fid fid, String name, ByteBuffer dst) throws OsdException {
        return in.getXattr(fid, name, dst);
    }

    @Override
    public List<String> listXattrs(Fid fid) throws OsdException {
        return in.listXattrs(fid);
    }

    @Override
    public Optional<byte[]> lookup(Fid index, byte[] key) throws OsdException {
        return in.lookup(index, key);
    }

    @Override
    public IndexCursor cursor(Fid index, byte[] fromKey) throws OsdException {
        return in.cursor(index, fromKey);
    }

    @Override
    public ObjectCursor listObjects() throws OsdException {
        return in.listObjects();
    }

    @Override
    public void close() throws OsdException {
        in.close();
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "(" + in + ")";
    }
}
