package dev.spillway.osd.testkit.fault;

import dev.spillway.osd.Attr;
import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.IndexCursor;
import dev.spillway.osd.ObjectCursor;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.StatFs;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.XattrFlag;
import dev.spillway.osd.filter.FilterOsd;
import dev.spillway.osd.filter.FilterTransaction;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;

/**
 * Injects a crash point below the code under test: every call to the wrapped device ticks a
 * shared {@link CrashSwitch}, and from the crash point on nothing reaches the device. What the
 * device had made durable by then is what survives; a test reopens the device on that (e.g.
 * osd-mem's {@code crash()} with {@code durability: simulated}) and checks recovery.
 */
public class CrashingOsd extends FilterOsd {
    private final CrashSwitch sw;

    public CrashingOsd(Osd in, CrashSwitch sw) {
        super(in);
        this.sw = sw;
    }

    private void tick(String what) {
        sw.tick(name() + ": " + what);
    }

    @Override
    protected Transaction wrap(Transaction tx) {
        return new FilterTransaction(tx) {
            private boolean stopped;

            @Override
            public void start() throws OsdException {
                tick("start");
                super.start();
            }

            @Override
            public void create(Fid fid, ObjectKind kind, AttrChange attrs) throws OsdException {
                tick("create " + fid);
                super.create(fid, kind, attrs);
            }

            @Override
            public void destroy(Fid fid) throws OsdException {
                tick("destroy " + fid);
                super.destroy(fid);
            }

            @Override
            public boolean destroyIfExists(Fid fid) throws OsdException {
                tick("destroy " + fid);
                return super.destroyIfExists(fid);
            }

            @Override
            public void setAttr(Fid fid, AttrChange change) throws OsdException {
                tick("setattr " + fid);
                super.setAttr(fid, change);
            }

            @Override
            public void write(Fid fid, long offset, ByteBuffer src) throws OsdException {
                tick("write " + fid + " at " + offset);
                super.write(fid, offset, src);
            }

            @Override
            public void punch(Fid fid, long offset, long length) throws OsdException {
                tick("punch " + fid);
                super.punch(fid, offset, length);
            }

            @Override
            public void truncate(Fid fid, long size) throws OsdException {
                tick("truncate " + fid);
                super.truncate(fid, size);
            }

            @Override
            public void setXattr(Fid fid, String name, byte[] value, XattrFlag flag) throws OsdException {
                tick("setxattr " + fid + " " + name);
                super.setXattr(fid, name, value, flag);
            }

            @Override
            public void deleteXattr(Fid fid, String name) throws OsdException {
                tick("delxattr " + fid);
                super.deleteXattr(fid, name);
            }

            @Override
            public void insert(Fid index, byte[] key, byte[] value) throws OsdException {
                tick("insert " + index);
                super.insert(index, key, value);
            }

            @Override
            public void upsert(Fid index, byte[] key, byte[] value) throws OsdException {
                tick("upsert " + index);
                super.upsert(index, key, value);
            }

            @Override
            public void delete(Fid index, byte[] key) throws OsdException {
                tick("delete " + index);
                super.delete(index, key);
            }

            @Override
            public void stop() throws OsdException {
                stopped = true;
                tick("stop");
                super.stop();
            }

            @Override
            public void close() throws OsdException {
                if (!stopped) {
                    stop();
                }
            }
        };
    }

    @Override
    public StatFs statfs() throws OsdException {
        tick("statfs");
        return super.statfs();
    }

    @Override
    public void sync() throws OsdException {
        tick("sync");
        super.sync();
    }

    @Override
    public void sync(Fid fid) throws OsdException {
        tick("sync " + fid);
        super.sync(fid);
    }

    @Override
    public Transaction newTransaction() throws OsdException {
        tick("new transaction");
        return super.newTransaction();
    }

    @Override
    public Attr getAttr(Fid fid) throws OsdException {
        tick("getattr " + fid);
        return super.getAttr(fid);
    }

    @Override
    public int read(Fid fid, long offset, ByteBuffer dst) throws OsdException {
        tick("read " + fid + " at " + offset);
        return super.read(fid, offset, dst);
    }

    @Override
    public byte[] getXattr(Fid fid, String name) throws OsdException {
        tick("getxattr " + fid + " " + name);
        return super.getXattr(fid, name);
    }

    @Override
    public List<String> listXattrs(Fid fid) throws OsdException {
        tick("listxattr " + fid);
        return super.listXattrs(fid);
    }

    @Override
    public Optional<byte[]> lookup(Fid index, byte[] key) throws OsdException {
        tick("lookup " + index);
        return super.lookup(index, key);
    }

    @Override
    public IndexCursor cursor(Fid index, byte[] fromKey) throws OsdException {
        tick("cursor " + index);
        return super.cursor(index, fromKey);
    }

    @Override
    public ObjectCursor listObjects() throws OsdException {
        tick("list");
        return super.listObjects();
    }

    @Override
    public void close() {
        // Closing after a crash must not reach the device either; the test discards it.
    }
}
