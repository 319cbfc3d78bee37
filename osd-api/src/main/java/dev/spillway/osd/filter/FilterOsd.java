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
 *
 * <p>The methods {@link Osd} defines on top of others — {@link #exists}, {@link #sync(Fid)} and
 * {@link #getXattr(Fid, String, ByteBuffer)} — are not forwarded: they run the interface's
 * default on this filter's own methods, so a wrapper that intercepts {@code getAttr},
 * {@code sync} or {@code getXattr} (a crash point, say) sees them too. A wrapper that intercepts
 * nothing there and wants the inner device's own version (a per-object sync) forwards it itself.
 */
public abstract class FilterOsd implements Osd {
    protected final Osd in;

    protected FilterOsd(Osd in) {
        this.in = Objects.requireNonNull(in, "in");
    }

    /** The wrapped OSD. */
    public final Osd delegate() {
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
