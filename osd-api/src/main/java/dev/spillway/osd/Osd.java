package dev.spillway.osd;

import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * An Object Storage Device: the one API every Spillway device and the pool implement, shaped
 * after Lustre's {@code dt_device} / {@code dt_object} operations.
 *
 * <h2>Objects</h2>
 * Objects are named by {@link Fid} and have a fixed {@link ObjectKind}. A DATA object has a body
 * (a sparse byte stream), attributes and xattrs; an INDEX object has attributes, xattrs and an
 * ordered key/value map instead of a body. Body calls on an INDEX object fail with
 * {@link Errno#EISDIR}; index calls on a DATA object with {@link Errno#ENOTDIR}. Any call on a
 * FID that does not exist fails with {@link Errno#ENOENT}.
 *
 * <h2>Reads and updates</h2>
 * Reads are the methods of this interface; they never lock and never wait for a transaction.
 * Every change goes through a {@link Transaction} from {@link #newTransaction()}; see there for
 * the declare / start / update / stop protocol, commit callbacks and isolation.
 *
 * <h2>Capabilities</h2>
 * {@link #capabilities()} says honestly what the device can do. A call that needs a capability
 * the device does not advertise fails with {@link Errno#EOPNOTSUPP}.
 *
 * <h2>Errors</h2>
 * Every failure is an {@link OsdException} whose message names this device ({@link #name()}),
 * the object and the cause. Arguments that are out of range (a negative offset or length) fail
 * with {@link Errno#EINVAL}. After {@link #close()} every call fails with {@link Errno#EIO}.
 *
 * <p>Implementations are thread-safe: many threads read and run transactions at once.
 */
public interface Osd extends AutoCloseable {

    /** The device's name, as configured; it prefixes every error message of this device. */
    String name();

    /** The backend's registered name ({@code mem}, {@code kv}, {@code vfs}, {@code s3}, {@code pool}). */
    String backend();

    /** What this device can do and its limits; fixed for the life of the mount. */
    Capabilities capabilities();

    /** Space and object counts now; a pool adds one row per device. */
    StatFs statfs() throws OsdException;

    /**
     * Makes every update whose transaction has stopped durable, and fires the commit callbacks
     * that were waiting for it. After it returns, a crash loses none of them ({@code dt_sync}).
     */
    void sync() throws OsdException;

    /**
     * Makes one object's stopped updates durable ({@code do_object_sync}). A device may do more
     * (a whole {@link #sync()}); it never does less.
     *
     * @throws OsdException ENOENT if the object does not exist
     */
    default void sync(Fid fid) throws OsdException {
        getAttr(fid);
        sync();
    }

    /**
     * Makes several objects' stopped updates durable, as {@link #sync(Fid)} on each, in one go: a
     * device that forces files may issue their fsyncs together and force each directory once (the
     * pool syncs a batch of spilled copies this way before their flip names them). When it returns
     * every one of them is durable; on an error, none may be taken as durable.
     *
     * @throws OsdException ENOENT if one of the objects does not exist
     */
    default void sync(Collection<Fid> fids) throws OsdException {
        for (Fid f : fids) {
            sync(f);
        }
    }

    /**
     * Keeps {@code bytes} of the device for {@link SpaceClass#RESERVED} and
     * {@link SpaceClass#FREEING} transactions: {@link SpaceClass#CLIENT} transactions, and the
     * {@code availableBytes} of {@link #statfs()}, see the device full that much earlier (ext4's
     * reserved blocks, ZFS's slop space). Not persisted: whoever stacks on the device sets it after
     * each open (the pool does at mount, before recovery). Space already used beyond the new
     * boundary stays used; clients just find no more.
     *
     * @throws OsdException EOPNOTSUPP if the device keeps no space accounting of its own; EINVAL
     *     if negative
     */
    default void setReserve(long bytes) throws OsdException {
        throw new OsdException(Errno.EOPNOTSUPP, name(), null, "a " + backend() + " device keeps no reserve");
    }

    /**
     * Changes the device's {@code capacity} setting while it is open. Not persisted: the
     * configuration that opens the device next must say the same. A capacity below what is used
     * leaves the device over-full: client transactions find no room, {@link SpaceClass#FREEING}
     * ones still run.
     *
     * @throws OsdException EOPNOTSUPP if the device has no capacity setting; EINVAL if the value
     *     is not one the setting accepts
     */
    default void setCapacity(long bytes) throws OsdException {
        throw new OsdException(
                Errno.EOPNOTSUPP, name(), null, "a " + backend() + " device's capacity cannot change while it is open");
    }

    /**
     * A new transaction, not yet started ({@code dt_trans_create}). The caller declares its
     * updates, {@link Transaction#start() starts} it, makes them and {@link Transaction#stop()
     * stops} it, always, also after a failure.
     *
     * @throws OsdException EROFS if the device is read-only
     */
    Transaction newTransaction() throws OsdException;

    /** The object's attributes. @throws OsdException ENOENT if it does not exist */
    Attr getAttr(Fid fid) throws OsdException;

    /** True if the object exists. */
    default boolean exists(Fid fid) throws OsdException {
        try {
            getAttr(fid);
            return true;
        } catch (OsdException e) {
            if (e.is(Errno.ENOENT)) {
                return false;
            }
            throw e;
        }
    }

    /**
     * Reads up to {@code dst.remaining()} bytes of the body starting at {@code offset} into
     * {@code dst}, advancing its position. Holes (never written, punched, or past a truncate
     * that grew the object) read as zeros. Fewer bytes are read only when the end of the object
     * is reached; at or past the end, 0 is returned (never -1).
     *
     * @return the number of bytes read
     * @throws OsdException ENOENT, EISDIR for an INDEX object, EINVAL for a negative offset,
     *     EIO if the device failed or (with {@link Capability#CHECKSUMS}) the data is corrupt
     */
    int read(Fid fid, long offset, ByteBuffer dst) throws OsdException;

    /**
     * The first offset at or after {@code offset} that holds data, as {@code lseek(SEEK_DATA)}.
     * Without {@link Capability#SPARSE_SEEK} the whole body counts as data, so this returns
     * {@code offset} itself. Data regions are reported at {@link Capabilities#blockSize()}
     * granularity: a region reported as a hole reads as zeros; a region reported as data may
     * still contain zeros.
     *
     * @throws OsdException ENXIO if {@code offset >= size} or no data follows it
     */
    long seekData(Fid fid, long offset) throws OsdException;

    /**
     * The first offset at or after {@code offset} that is in a hole, as
     * {@code lseek(SEEK_HOLE)}; the end of the object counts as a hole, so this returns at most
     * the size.
     *
     * @throws OsdException ENXIO if {@code offset >= size}
     */
    long seekHole(Fid fid, long offset) throws OsdException;

    /**
     * The value of xattr {@code name}.
     *
     * @throws OsdException ENODATA if the object has no such xattr, ENOENT if no such object,
     *     EOPNOTSUPP without {@link Capability#XATTRS}
     */
    byte[] getXattr(Fid fid, String name) throws OsdException;

    /**
     * Lustre's {@code xattr_get} with a caller's buffer: with {@code dst == null} returns the
     * value's size without copying it (the size query); otherwise copies the value into
     * {@code dst} (advancing its position) and returns its size.
     *
     * @throws OsdException ERANGE if {@code dst.remaining()} is smaller than the value, and then
     *     {@code dst} is untouched; ENODATA, ENOENT, EOPNOTSUPP as {@link #getXattr(Fid, String)}
     */
    default int getXattr(Fid fid, String name, ByteBuffer dst) throws OsdException {
        byte[] v = getXattr(fid, name);
        if (dst == null) {
            return v.length;
        }
        if (dst.remaining() < v.length) {
            throw new OsdException(
                    Errno.ERANGE,
                    name(),
                    fid,
                    "xattr " + name + " is " + v.length + " bytes, buffer holds " + dst.remaining());
        }
        dst.put(v);
        return v.length;
    }

    /**
     * The names of the object's xattrs, sorted by their UTF-8 bytes.
     *
     * @throws OsdException ENOENT, EOPNOTSUPP without {@link Capability#XATTRS}
     */
    List<String> listXattrs(Fid fid) throws OsdException;

    /**
     * The value stored under {@code key} in index object {@code index}, or empty if the key is
     * absent.
     *
     * @throws OsdException ENOENT if the index object does not exist, ENOTDIR for a DATA object,
     *     EOPNOTSUPP without {@link Capability#INDEX}
     */
    Optional<byte[]> lookup(Fid index, byte[] key) throws OsdException;

    /**
     * An ordered cursor over the index's entries whose key is {@code >= fromKey} (unsigned byte
     * order; an empty or null {@code fromKey} starts at the first entry). The cursor is weakly
     * consistent: it returns each key at most once, in order, with a value that was committed at
     * some moment of the iteration; entries committed while it runs may or may not appear.
     * Close it when done.
     *
     * @throws OsdException ENOENT, ENOTDIR, EOPNOTSUPP as {@link #lookup}
     */
    IndexCursor cursor(Fid index, byte[] fromKey) throws OsdException;

    /**
     * Every object on the device, in an order the device chooses, weakly consistent like
     * {@link #cursor}. For fsck and full-scan mounts, never for the data path.
     *
     * @throws OsdException EOPNOTSUPP without {@link Capability#LIST_OBJECTS}
     */
    ObjectCursor listObjects() throws OsdException;

    /**
     * Unmounts: waits for stopped transactions to become durable (firing their callbacks),
     * releases the device. Transactions still running fail. Idempotent.
     */
    @Override
    void close() throws OsdException;
}
