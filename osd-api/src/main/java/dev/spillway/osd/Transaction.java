package dev.spillway.osd;

import java.nio.ByteBuffer;

/**
 * A set of updates to one {@link Osd}, as Lustre's {@code thandle}:
 * {@code newTransaction → declare… → start → updates → stop}.
 *
 * <pre>{@code
 * try (Transaction tx = osd.newTransaction()) {
 *     tx.declareCreate(fid, ObjectKind.DATA);
 *     tx.declareWrite(fid, 0, data.remaining());
 *     tx.addCommitCallback((id, err) -> ...);
 *     tx.start();                       // ENOSPC here, never halfway
 *     tx.create(fid, ObjectKind.DATA, AttrChange.none());
 *     tx.write(fid, 0, data);
 * }                                     // close() = stop()
 * }</pre>
 *
 * <h2>Rules</h2>
 * <ul>
 * <li><b>Declare first.</b> Every update is declared before {@link #start()}; declares let the
 * device reserve space and take object locks up front. Declaring after start, updating before
 * start, starting twice and stopping twice fail with {@link Errno#EINVAL}. In the debug mode
 * (device option {@code strict-declares}, or the system property
 * {@code spillway.osd.strictDeclares=true}) an update that was not declared (wrong object, kind
 * of update, range or size) fails with EINVAL; otherwise it is allowed and takes its lock
 * late.</li>
 * <li><b>Start reserves.</b> {@link #start()} reserves the declared space: ENOSPC (or EDQUOT)
 * comes from start, and an update that stays within its declare never fails for lack of space.
 * A {@link SpaceClass#FREEING} transaction reserves nothing at start and takes space as its
 * updates grow the device (see there); its ENOSPC, if any, comes from the update.
 * Start also takes the write lock of every declared object, in FID order so that transactions
 * never deadlock; they are held until stop has committed the updates. A caller that reads an
 * object after start and updates it in the same transaction therefore gets a serializable
 * read-modify-write. A device whose durability keeps a prefix of its commit order (osd-kv, the
 * pool) may release them before a sync stop waits for durability: the next transaction on those
 * objects commits after this one and is never durable without it.</li>
 * <li><b>Stop always.</b> {@link #stop()} is called once for every transaction, also when start
 * or an update failed; {@link #close()} calls it unless it was called. Stop without start
 * releases the transaction; its callbacks get {@link Errno#ECANCELED}.</li>
 * <li><b>No nesting.</b> A thread that has a started, unstopped transaction on a device cannot
 * start another on the same device (EINVAL). A transaction is used by one thread.</li>
 * <li><b>Failure.</b> When an update throws, the transaction is failed: further updates fail with
 * EINVAL, and on a device with {@link Capability#TRANSACTIONS} stop discards every update, so a
 * partial transaction is never visible. {@link #abort()} does the same on purpose. Without
 * TRANSACTIONS, the updates already made stay made.</li>
 * <li><b>Commit callbacks</b> ({@link #addCommitCallback}) fire once per transaction, when it is
 * durable (with {@link Capability#DURABLE_COMMIT}) or at stop (without). With
 * {@link #setSync(boolean) sync} set, stop returns only once the transaction is durable.</li>
 * </ul>
 *
 * <h2>Isolation</h2>
 * On a device with TRANSACTIONS, no reader sees any update of a transaction before its stop
 * publishes it. Each single read call ({@link Osd#getAttr}, one {@link Osd#read}, one
 * {@link Osd#getXattr}, one {@link Osd#lookup}) sees either none or all of a transaction's
 * updates to what it reads. Several calls are not a snapshot: a reader that reads two objects
 * (or two index keys) while a stop is publishing may see one updated and the other not yet, and
 * cursors are weakly consistent. The transaction's own updates are checked against the state its
 * earlier updates made (create, then write the new object), but reads through the {@link Osd}
 * see only committed state, also from the thread running the transaction. Without TRANSACTIONS
 * each update is visible when its call returns.
 */
public interface Transaction extends AutoCloseable {

    /** A number unique among this device's transactions since mount; callbacks receive it. */
    long id();

    // ---- declares ------------------------------------------------------------------------

    /** Declares {@link #create} of {@code fid}. */
    void declareCreate(Fid fid, ObjectKind kind) throws OsdException;

    /** Declares {@link #destroy} of {@code fid}. */
    void declareDestroy(Fid fid) throws OsdException;

    /**
     * Declares a {@link #write} of {@code length} bytes at {@code offset}; {@code offset == -1}
     * means "somewhere", as Lustre's declare_write with an unknown position.
     */
    void declareWrite(Fid fid, long offset, long length) throws OsdException;

    /** Declares a {@link #punch} of {@code [offset, offset+length)}. */
    void declarePunch(Fid fid, long offset, long length) throws OsdException;

    /** Declares a {@link #truncate} to {@code size}. */
    void declareTruncate(Fid fid, long size) throws OsdException;

    /** Declares a {@link #setAttr}. */
    void declareSetAttr(Fid fid) throws OsdException;

    /** Declares a {@link #setXattr} of a value up to {@code valueLength} bytes. */
    void declareSetXattr(Fid fid, String name, int valueLength) throws OsdException;

    /** Declares a {@link #deleteXattr}. */
    void declareDeleteXattr(Fid fid, String name) throws OsdException;

    /** Declares an {@link #insert} or {@link #upsert} of a key and value of these sizes. */
    void declareInsert(Fid index, int keyLength, int valueLength) throws OsdException;

    /** Declares a {@link #delete} of a key of this size. */
    void declareDelete(Fid index, int keyLength) throws OsdException;

    /** If set before stop, stop returns only once the transaction is durable. */
    void setSync(boolean sync);

    /**
     * Says that this transaction's updates of {@code fid} continue one access of the caller's
     * that an earlier transaction began: a body too large for one transaction, staged in
     * several (the S3 gateway's PUT, a client writing in chunks). A device that counts accesses
     * for placement (the pool) then counts {@code fid} once for the whole run, at the transaction
     * that began it; every other device ignores it. It needs no declare, changes nothing stored
     * and may be called until stop.
     */
    default void continuesAccess(Fid fid) {}

    /**
     * Says that later transactions go on writing {@code fid}'s body past what this one writes: a
     * body staged in several transactions (the S3 gateway's PUT of more than one 64 MiB segment, or
     * of unknown length). A device that may place a new body elsewhere than where its later writes
     * would land (the pool's write-around, docs/design.md) then keeps it where they go; every other
     * device ignores it. It needs no declare, changes nothing stored, and counts only when called
     * before {@link #start()}.
     */
    default void bodyContinues(Fid fid) {}

    /**
     * Whose space this transaction may take (see {@link SpaceClass}); {@link SpaceClass#CLIENT}
     * unless set. Set it before {@link #start()}: later it fails with EINVAL.
     */
    void setSpaceClass(SpaceClass spaceClass) throws OsdException;

    /** Adds a callback; allowed until stop. See {@link CommitCallback}. */
    void addCommitCallback(CommitCallback callback);

    /**
     * Starts the transaction: reserves the declared space and takes the declared objects' locks.
     *
     * @throws OsdException ENOSPC / EDQUOT if the declared space is not available, EROFS if
     *     the device is read-only, EINVAL if already started or nested
     */
    void start() throws OsdException;

    // ---- updates -------------------------------------------------------------------------

    /**
     * Creates an object of {@code kind} with attributes {@code attrs} (unset fields 0, times now,
     * size 0, data version 1).
     *
     * @throws OsdException EEXIST if it exists
     */
    void create(Fid fid, ObjectKind kind, AttrChange attrs) throws OsdException;

    /** Destroys the object, its body, xattrs and index entries. @throws OsdException ENOENT */
    void destroy(Fid fid) throws OsdException;

    /**
     * Destroys the object if it exists, as {@link #destroy}; if it does not, changes nothing and
     * returns false — not a failure: the transaction goes on (where {@link #destroy}'s ENOENT fails
     * it). Declared by {@link #declareDestroy}. For deleting many objects some of which may never
     * have been written (the pool's roll-back of copies in flight) in one transaction, and without
     * building an exception per missing one.
     *
     * @return true if the object existed and is destroyed
     */
    boolean destroyIfExists(Fid fid) throws OsdException;

    /** Applies the valid fields of {@code change}; sets ctime unless it is among them. */
    void setAttr(Fid fid, AttrChange change) throws OsdException;

    /**
     * Writes all of {@code src}'s remaining bytes at {@code offset}, growing the size if the write
     * ends past it (the gap reads as zeros), bumping the data version and mtime.
     *
     * <p>The bytes are taken before this returns: the caller may refill or reuse {@code src} at once
     * (the pool's copies write chunk after chunk through one buffer), and the transaction commits
     * what {@code src} held when it was written, whatever the buffer holds later. A backend that
     * writes lazily copies the bytes first. The conformance suite checks it (heap and direct
     * buffers, small and large writes).
     *
     * @throws OsdException EFBIG past {@link Capabilities#maxObjectSize()}; EOPNOTSUPP for a
     *     write that is not sequential from 0 without {@link Capability#PARTIAL_WRITE}
     */
    void write(Fid fid, long offset, ByteBuffer src) throws OsdException;

    /**
     * Deallocates {@code [offset, offset+length)}: it reads as zeros, the size is unchanged and
     * allocation shrinks by the whole blocks inside the range. Bumps the data version.
     *
     * @throws OsdException EOPNOTSUPP without {@link Capability#PUNCH}
     */
    void punch(Fid fid, long offset, long length) throws OsdException;

    /** Sets the size: cuts the body or extends it with a hole. Bumps the data version. */
    void truncate(Fid fid, long size) throws OsdException;

    /**
     * Sets xattr {@code name} to {@code value} (which may be empty).
     *
     * @throws OsdException EEXIST (CREATE on an existing name), ENODATA (REPLACE on a missing
     *     one), E2BIG for a value over {@link Capabilities#maxXattrValue()}, ERANGE for a name over
     *     {@link Capabilities#maxXattrName()} bytes, EINVAL for an empty name
     */
    void setXattr(Fid fid, String name, byte[] value, XattrFlag flag) throws OsdException;

    /** Deletes xattr {@code name}. @throws OsdException ENODATA if missing */
    void deleteXattr(Fid fid, String name) throws OsdException;

    /**
     * Inserts {@code key → value} into an index object.
     *
     * @throws OsdException EEXIST if the key is present, E2BIG over the device's key or value
     *     limit, EINVAL for an empty key
     */
    void insert(Fid index, byte[] key, byte[] value) throws OsdException;

    /** Inserts or replaces {@code key → value}; otherwise as {@link #insert}. */
    void upsert(Fid index, byte[] key, byte[] value) throws OsdException;

    /** Deletes {@code key}. @throws OsdException ENOENT if the key is absent */
    void delete(Fid index, byte[] key) throws OsdException;

    // ---- end -----------------------------------------------------------------------------

    /** Marks the transaction failed on purpose: stop will discard it (see the class comment). */
    void abort();

    /**
     * Ends the transaction: commits it (publishing its updates to readers) or, if it failed or
     * was aborted, discards it; releases its reservation and locks. Must be called once.
     *
     * @throws OsdException EIO if the device failed to commit (callbacks then get the error too);
     *     EINVAL if already stopped
     */
    void stop() throws OsdException;

    /** Stops the transaction unless {@link #stop()} was already called. */
    @Override
    void close() throws OsdException;
}
