package dev.spillway.osd.spi;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.CommitCallback;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.SpaceClass;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.XattrFlag;
import dev.spillway.osd.spi.Declare.Op;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The rules of {@link Transaction} written once: the state machine, declares and the strict
 * declare check, argument checks, object locks, nesting, failure poisoning and commit callbacks.
 * A device extends it and implements the {@code do*} hooks, which run only in a valid state with
 * valid arguments and the object's lock held.
 */
public abstract class AbstractTransaction implements Transaction {
    private static final System.Logger LOG = System.getLogger(AbstractTransaction.class.getName());

    /** Where a transaction is in its life. */
    protected enum State {
        NEW,
        STARTED,
        STOPPED
    }

    private static final int INDEXED_DECLARES = 16;

    protected final TransactionSupport support;
    private final long id;
    private final List<Declare> declares = new ArrayList<>();
    // The declares by object, made at start when there are many: each update looks for the
    // declare that covers it, and a scan of them all made a transaction of N updates O(N^2)
    // (the pool's roll-back deletes a thousand copies in one).
    private Map<Fid, List<Declare>> declaresByFid;
    private final List<CommitCallback> callbacks = Collections.synchronizedList(new ArrayList<>());
    private final AtomicBoolean fired = new AtomicBoolean();
    private final ObjectLocks.Held locks;
    private State state = State.NEW;
    private OsdException failure;
    private boolean sync;
    private SpaceClass spaceClass = SpaceClass.CLIENT;

    protected AbstractTransaction(TransactionSupport support) {
        this.support = support;
        this.id = support.nextId();
        this.locks = support.locks().newHolder();
    }

    @Override
    public final long id() {
        return id;
    }

    protected final String device() {
        return support.device();
    }

    protected final State state() {
        return state;
    }

    /** The declares, in order. */
    protected final List<Declare> declares() {
        return Collections.unmodifiableList(declares);
    }

    protected final boolean isSync() {
        return sync;
    }

    /** Whose space this transaction may take (see {@link SpaceClass}). */
    protected final SpaceClass spaceClass() {
        return spaceClass;
    }

    /** The failure that poisoned this transaction, or null. */
    protected final OsdException failure() {
        return failure;
    }

    /** Bytes the declares may consume: written bytes, values, keys, plus {@code perUpdate} each. */
    protected final long declaredBytes(long perUpdate) {
        long sum = 0;
        for (Declare d : declares) {
            sum += perUpdate;
            switch (d.op()) {
                case WRITE -> sum += d.length();
                case SET_XATTR ->
                    sum += d.length() + (d.name() == null ? 0 : d.name().length());
                case INSERT -> sum += d.length() + d.keyLength();
                default -> {}
            }
        }
        return sum;
    }

    // ---- declares ------------------------------------------------------------------------

    private void declare(Declare d) throws OsdException {
        if (state != State.NEW) {
            throw new OsdException(Errno.EINVAL, device(), d.fid(), "declare " + d + " after start");
        }
        Objects.requireNonNull(d.fid(), "fid");
        declares.add(d);
    }

    @Override
    public void declareCreate(Fid fid, ObjectKind kind) throws OsdException {
        declare(new Declare(Op.CREATE, fid, Objects.requireNonNull(kind, "kind"), 0, 0, 0, null));
    }

    @Override
    public void declareDestroy(Fid fid) throws OsdException {
        declare(new Declare(Op.DESTROY, fid, null, 0, 0, 0, null));
    }

    @Override
    public void declareWrite(Fid fid, long offset, long length) throws OsdException {
        checkRange(fid, offset < 0 && offset != -1 ? offset : 0, length, "declare write");
        declare(new Declare(Op.WRITE, fid, null, offset, length, 0, null));
    }

    @Override
    public void declarePunch(Fid fid, long offset, long length) throws OsdException {
        checkRange(fid, offset < 0 && offset != -1 ? offset : 0, length, "declare punch");
        declare(new Declare(Op.PUNCH, fid, null, offset, length, 0, null));
    }

    @Override
    public void declareTruncate(Fid fid, long size) throws OsdException {
        checkRange(fid, size, 0, "declare truncate");
        declare(new Declare(Op.TRUNCATE, fid, null, size, 0, 0, null));
    }

    @Override
    public void declareSetAttr(Fid fid) throws OsdException {
        declare(new Declare(Op.SET_ATTR, fid, null, 0, 0, 0, null));
    }

    @Override
    public void declareSetXattr(Fid fid, String name, int valueLength) throws OsdException {
        declare(new Declare(Op.SET_XATTR, fid, null, 0, Math.max(0, valueLength), 0, name));
    }

    @Override
    public void declareDeleteXattr(Fid fid, String name) throws OsdException {
        declare(new Declare(Op.DELETE_XATTR, fid, null, 0, 0, 0, name));
    }

    @Override
    public void declareInsert(Fid index, int keyLength, int valueLength) throws OsdException {
        declare(new Declare(Op.INSERT, index, null, 0, Math.max(0, valueLength), Math.max(0, keyLength), null));
    }

    @Override
    public void declareDelete(Fid index, int keyLength) throws OsdException {
        declare(new Declare(Op.DELETE, index, null, 0, 0, Math.max(0, keyLength), null));
    }

    @Override
    public void setSync(boolean sync) {
        this.sync = sync;
    }

    @Override
    public void setSpaceClass(SpaceClass spaceClass) throws OsdException {
        Objects.requireNonNull(spaceClass, "spaceClass");
        if (state != State.NEW) {
            throw new OsdException(Errno.EINVAL, device(), "transaction " + id + ": space class set after start");
        }
        this.spaceClass = spaceClass;
    }

    @Override
    public void addCommitCallback(CommitCallback callback) {
        Objects.requireNonNull(callback, "callback");
        if (state == State.STOPPED) {
            throw new IllegalStateException(device() + ": transaction " + id + " already stopped");
        }
        callbacks.add(callback);
    }

    // ---- start ---------------------------------------------------------------------------

    @Override
    public final void start() throws OsdException {
        if (state != State.NEW) {
            throw new OsdException(Errno.EINVAL, device(), "transaction " + id + " already started");
        }
        if (failure != null) {
            throw new OsdException(
                    Errno.EINVAL, device(), "transaction " + id + " failed to start: " + failure.errno());
        }
        Long other = support.running().get();
        if (other != null) {
            throw new OsdException(
                    Errno.EINVAL,
                    device(),
                    "nested transaction: this thread's transaction " + other + " is still running");
        }
        Set<Fid> fids = new LinkedHashSet<>();
        for (Declare d : declares) {
            fids.add(d.fid());
        }
        if (declares.size() > INDEXED_DECLARES) {
            declaresByFid = new HashMap<>();
            for (Declare d : declares) {
                declaresByFid.computeIfAbsent(d.fid(), f -> new ArrayList<>(2)).add(d);
            }
        }
        locks.lockAll(fids);
        try {
            doStart();
        } catch (OsdException | RuntimeException e) {
            locks.unlockAll();
            failure = asOsd(e, "start");
            throw failure;
        }
        state = State.STARTED;
        support.running().set(id);
    }

    // ---- updates -------------------------------------------------------------------------

    @FunctionalInterface
    private interface Body {
        void run() throws OsdException;
    }

    private void update(Declare u, Body body) throws OsdException {
        if (state != State.STARTED) {
            throw new OsdException(
                    Errno.EINVAL,
                    device(),
                    u.fid(),
                    u.op().name().toLowerCase() + " " + (state == State.NEW ? "before start" : "after stop"));
        }
        if (failure != null) {
            throw new OsdException(
                    Errno.EINVAL,
                    device(),
                    u.fid(),
                    "transaction " + id + " already failed (" + failure.errno() + "); stop it");
        }
        try {
            if (!declared(u)) {
                if (support.strictDeclares()) {
                    throw new OsdException(Errno.EINVAL, device(), u.fid(), "undeclared update: " + u);
                }
                locks.lockLate(u.fid());
            }
            body.run();
        } catch (OsdException | RuntimeException e) {
            failure = asOsd(e, u.toString());
            throw failure;
        }
    }

    private boolean declared(Declare u) {
        List<Declare> candidates = declares;
        if (declaresByFid != null) {
            candidates = declaresByFid.getOrDefault(u.fid(), List.of());
        }
        for (Declare d : candidates) {
            if (d.covers(u)) {
                return true;
            }
        }
        return false;
    }

    private OsdException asOsd(Throwable e, String what) {
        if (e instanceof OsdException oe) {
            return oe;
        }
        return new OsdException(Errno.EIO, device(), null, what + " failed: " + e, e);
    }

    private void checkRange(Fid fid, long offset, long length, String what) throws OsdException {
        Objects.requireNonNull(fid, "fid");
        if (offset < 0 || length < 0) {
            throw new OsdException(
                    Errno.EINVAL, device(), fid, what + ": negative offset or length (" + offset + ", " + length + ")");
        }
        if (offset + length < 0) {
            throw new OsdException(Errno.EFBIG, device(), fid, what + ": offset + length overflows");
        }
    }

    private void checkName(Fid fid, String name) throws OsdException {
        if (name == null || name.isEmpty()) {
            throw new OsdException(Errno.EINVAL, device(), fid, "empty xattr name");
        }
    }

    private void checkKey(Fid fid, byte[] key) throws OsdException {
        if (key == null || key.length == 0) {
            throw new OsdException(Errno.EINVAL, device(), fid, "empty index key");
        }
    }

    @Override
    public final void create(Fid fid, ObjectKind kind, AttrChange attrs) throws OsdException {
        Objects.requireNonNull(kind, "kind");
        update(
                new Declare(Op.CREATE, fid, kind, 0, 0, 0, null),
                () -> doCreate(fid, kind, attrs == null ? AttrChange.none() : attrs));
    }

    @Override
    public final void destroy(Fid fid) throws OsdException {
        update(new Declare(Op.DESTROY, fid, null, 0, 0, 0, null), () -> doDestroy(fid));
    }

    @Override
    public final boolean destroyIfExists(Fid fid) throws OsdException {
        boolean[] existed = {false};
        update(new Declare(Op.DESTROY, fid, null, 0, 0, 0, null), () -> existed[0] = doDestroyIfExists(fid));
        return existed[0];
    }

    @Override
    public final void setAttr(Fid fid, AttrChange change) throws OsdException {
        update(
                new Declare(Op.SET_ATTR, fid, null, 0, 0, 0, null),
                () -> doSetAttr(fid, Objects.requireNonNull(change, "change")));
    }

    @Override
    public final void write(Fid fid, long offset, ByteBuffer src) throws OsdException {
        long len = src.remaining();
        update(new Declare(Op.WRITE, fid, null, offset, len, 0, null), () -> {
            checkRange(fid, offset, len, "write");
            doWrite(fid, offset, src);
        });
    }

    @Override
    public final void punch(Fid fid, long offset, long length) throws OsdException {
        update(new Declare(Op.PUNCH, fid, null, offset, length, 0, null), () -> {
            checkRange(fid, offset, length, "punch");
            doPunch(fid, offset, length);
        });
    }

    @Override
    public final void truncate(Fid fid, long size) throws OsdException {
        update(new Declare(Op.TRUNCATE, fid, null, size, 0, 0, null), () -> {
            checkRange(fid, size, 0, "truncate");
            doTruncate(fid, size);
        });
    }

    @Override
    public final void setXattr(Fid fid, String name, byte[] value, XattrFlag flag) throws OsdException {
        Objects.requireNonNull(value, "value");
        update(new Declare(Op.SET_XATTR, fid, null, 0, value.length, 0, name), () -> {
            checkName(fid, name);
            doSetXattr(fid, name, value, flag == null ? XattrFlag.UPSERT : flag);
        });
    }

    @Override
    public final void deleteXattr(Fid fid, String name) throws OsdException {
        update(new Declare(Op.DELETE_XATTR, fid, null, 0, 0, 0, name), () -> {
            checkName(fid, name);
            doDeleteXattr(fid, name);
        });
    }

    @Override
    public final void insert(Fid index, byte[] key, byte[] value) throws OsdException {
        Objects.requireNonNull(value, "value");
        update(new Declare(Op.INSERT, index, null, 0, value.length, key == null ? 0 : key.length, null), () -> {
            checkKey(index, key);
            doInsert(index, key, value, false);
        });
    }

    @Override
    public final void upsert(Fid index, byte[] key, byte[] value) throws OsdException {
        Objects.requireNonNull(value, "value");
        update(new Declare(Op.INSERT, index, null, 0, value.length, key == null ? 0 : key.length, null), () -> {
            checkKey(index, key);
            doInsert(index, key, value, true);
        });
    }

    @Override
    public final void delete(Fid index, byte[] key) throws OsdException {
        update(new Declare(Op.DELETE, index, null, 0, 0, key == null ? 0 : key.length, null), () -> {
            checkKey(index, key);
            doDelete(index, key);
        });
    }

    // ---- end -----------------------------------------------------------------------------

    @Override
    public final void abort() {
        if (state != State.STOPPED && failure == null) {
            failure = new OsdException(Errno.ECANCELED, device(), "transaction " + id + " aborted");
        }
    }

    @Override
    public final void stop() throws OsdException {
        switch (state) {
            case STOPPED -> throw new OsdException(Errno.EINVAL, device(), "transaction " + id + " already stopped");
            case NEW -> {
                state = State.STOPPED;
                try {
                    doRelease();
                } finally {
                    fireCallbacks(
                            failure != null
                                    ? failure
                                    : new OsdException(
                                            Errno.ECANCELED, device(), "transaction " + id + " stopped without start"));
                }
                return;
            }
            case STARTED -> {}
        }
        state = State.STOPPED;
        boolean committed = false;
        try {
            if (failure != null) {
                try {
                    doDiscard();
                } finally {
                    fireCallbacks(failure);
                }
                return;
            }
            try {
                doCommit();
                committed = true;
            } catch (OsdException | RuntimeException e) {
                OsdException err = asOsd(e, "commit of transaction " + id);
                fireCallbacks(err);
                throw err;
            }
        } finally {
            try {
                locks.unlockAll();
                support.running().remove();
                doRelease();
            } finally {
                if (committed) {
                    awaitDurable();
                }
            }
        }
    }

    @Override
    public final void close() throws OsdException {
        if (state != State.STOPPED) {
            stop();
        }
    }

    /**
     * Fires the callbacks once, in the order added. Devices call it with null once the
     * transaction is committed (durable, for DURABLE_COMMIT devices); the base class calls it
     * with the error for failed, aborted and never-started transactions.
     */
    protected final void fireCallbacks(OsdException error) {
        if (!fired.compareAndSet(false, true)) {
            return;
        }
        List<CommitCallback> copy;
        synchronized (callbacks) {
            copy = List.copyOf(callbacks);
        }
        for (CommitCallback cb : copy) {
            try {
                cb.committed(id, error);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, device() + ": commit callback of transaction " + id + " threw", e);
            }
        }
    }

    /** True once the callbacks have fired. */
    protected final boolean callbacksFired() {
        return fired.get();
    }

    // ---- hooks ---------------------------------------------------------------------------

    /** Reserves the declared space (see {@link #declaredBytes}); throws ENOSPC, EROFS. */
    protected abstract void doStart() throws OsdException;

    protected abstract void doCreate(Fid fid, ObjectKind kind, AttrChange attrs) throws OsdException;

    protected abstract void doDestroy(Fid fid) throws OsdException;

    /**
     * {@link #doDestroy} if the object exists, else false with nothing changed and nothing thrown:
     * the transaction stays usable.
     */
    protected abstract boolean doDestroyIfExists(Fid fid) throws OsdException;

    protected abstract void doSetAttr(Fid fid, AttrChange change) throws OsdException;

    protected abstract void doWrite(Fid fid, long offset, ByteBuffer src) throws OsdException;

    protected abstract void doPunch(Fid fid, long offset, long length) throws OsdException;

    protected abstract void doTruncate(Fid fid, long size) throws OsdException;

    protected abstract void doSetXattr(Fid fid, String name, byte[] value, XattrFlag flag) throws OsdException;

    protected abstract void doDeleteXattr(Fid fid, String name) throws OsdException;

    protected abstract void doInsert(Fid index, byte[] key, byte[] value, boolean replace) throws OsdException;

    protected abstract void doDelete(Fid index, byte[] key) throws OsdException;

    /**
     * Publishes the updates and arranges for {@link #fireCallbacks fireCallbacks(null)} once
     * they are committed (durable for DURABLE_COMMIT devices); with {@link #isSync()} it returns
     * only after that, or leaves the wait to {@link #awaitDurable}. Runs with the locks held.
     */
    protected abstract void doCommit() throws OsdException;

    /**
     * Runs once after a successful {@link #doCommit}, with the locks already released and {@link
     * #doRelease} done: a device whose durability keeps a prefix of its commit order (a later
     * commit is never durable without an earlier one) may wait here, rather than in {@code
     * doCommit}, for a {@link #isSync() sync} transaction to become durable — early lock release.
     * A transaction that takes the objects next commits after this one and is durable only with
     * it, so nothing it does can outlive a crash that loses this one; and concurrent sync
     * transactions on one object (an index every writer updates) share a force instead of
     * holding the object through one force each. Stop still returns only once the transaction is
     * durable. The default does nothing (a device that waits in {@code doCommit}).
     */
    protected void awaitDurable() throws OsdException {}

    /** Throws the updates away (TRANSACTIONS devices) or leaves them (others). Locks held. */
    protected abstract void doDiscard() throws OsdException;

    /** Releases the reservation; called once at stop after commit or discard, also if never started. */
    protected void doRelease() {}
}
