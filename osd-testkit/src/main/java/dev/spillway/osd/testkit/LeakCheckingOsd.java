package dev.spillway.osd.testkit;

import dev.spillway.osd.Fid;
import dev.spillway.osd.IndexCursor;
import dev.spillway.osd.ObjectCursor;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.filter.FilterOsd;
import dev.spillway.osd.filter.FilterTransaction;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An OSD that remembers every transaction, index cursor and object cursor opened on it until it
 * ends — a transaction at its {@code stop} or {@code close}, a cursor at its {@code close} — as
 * Lucene's {@code MockDirectoryWrapper} remembers open files. A test's teardown calls
 * {@link #assertNothingOpen()}: a handle left open fails it, naming what was opened and where
 * (the stack of the opening call).
 *
 * <p>It changes nothing else: every call, and the per-object {@code sync}, {@code exists} and
 * buffer {@code getXattr} the interface defines on top of others, goes to the device as it was.
 * One instance per device; it may be used from any number of threads.
 */
public final class LeakCheckingOsd extends FilterOsd {
    /** What is open now: the handle's wrapper, and where it was opened. */
    private final Map<Object, Opened> open = new ConcurrentHashMap<>();

    private record Opened(String what, Throwable where) {}

    public LeakCheckingOsd(Osd in) {
        super(in);
    }

    /** How many transactions and cursors are open on this device now. */
    public int openHandles() {
        return open.size();
    }

    /**
     * Fails if any transaction or cursor opened on this device is still open.
     *
     * @throws AssertionError naming each open handle and the stack that opened it
     */
    public void assertNothingOpen() {
        if (open.isEmpty()) {
            return;
        }
        StringBuilder b = new StringBuilder();
        b.append(in.name()).append(": ").append(open.size()).append(" left open");
        for (Opened o : List.copyOf(open.values())) {
            StringWriter w = new StringWriter();
            o.where().printStackTrace(new PrintWriter(w));
            b.append("\n- ").append(o.what()).append(", opened at\n").append(w);
        }
        throw new AssertionError(b.toString());
    }

    /** As {@link #assertNothingOpen()} for each of {@code devices}. */
    public static void assertNothingOpen(Collection<LeakCheckingOsd> devices) {
        for (LeakCheckingOsd d : devices) {
            d.assertNothingOpen();
        }
    }

    private void opened(Object handle, String what) {
        open.put(handle, new Opened(what, new Throwable("opened")));
    }

    @Override
    protected Transaction wrap(Transaction tx) {
        Transaction t = new FilterTransaction(tx) {
            @Override
            public void stop() throws OsdException {
                try {
                    super.stop();
                } finally {
                    open.remove(this);
                }
            }

            @Override
            public void close() throws OsdException {
                try {
                    super.close();
                } finally {
                    open.remove(this);
                }
            }
        };
        opened(t, "transaction " + tx.id());
        return t;
    }

    @Override
    public IndexCursor cursor(Fid index, byte[] fromKey) throws OsdException {
        IndexCursor c = in.cursor(index, fromKey);
        IndexCursor tracked = new IndexCursor() {
            @Override
            public boolean next() throws OsdException {
                return c.next();
            }

            @Override
            public byte[] key() {
                return c.key();
            }

            @Override
            public byte[] value() {
                return c.value();
            }

            @Override
            public void close() {
                try {
                    c.close();
                } finally {
                    open.remove(this);
                }
            }
        };
        opened(tracked, "cursor on index " + index);
        return tracked;
    }

    @Override
    public ObjectCursor listObjects() throws OsdException {
        ObjectCursor c = in.listObjects();
        ObjectCursor tracked = new ObjectCursor() {
            @Override
            public boolean next() throws OsdException {
                return c.next();
            }

            @Override
            public Fid fid() {
                return c.fid();
            }

            @Override
            public void close() {
                try {
                    c.close();
                } finally {
                    open.remove(this);
                }
            }
        };
        opened(tracked, "object listing");
        return tracked;
    }

    // The device's own versions, not the interface's defaults over this filter: nothing here is
    // intercepted, and a device's per-object sync is cheaper than its whole sync.

    @Override
    public void sync(Fid fid) throws OsdException {
        in.sync(fid);
    }

    @Override
    public void sync(Collection<Fid> fids) throws OsdException {
        in.sync(fids);
    }

    @Override
    public boolean exists(Fid fid) throws OsdException {
        return in.exists(fid);
    }

    @Override
    public int getXattr(Fid fid, String name, ByteBuffer dst) throws OsdException {
        return in.getXattr(fid, name, dst);
    }
}
