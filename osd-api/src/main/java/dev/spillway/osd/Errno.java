package dev.spillway.osd;

/**
 * The errno-like codes an {@link OsdException} carries. Values are the Linux errno numbers so
 * that an engineer reading a log, and the edges that map them (S3 error codes, CLI exit
 * codes), see the names and numbers they already know.
 */
public enum Errno {
    /** Operation not permitted (a rule of the device forbids it). */
    EPERM(1),
    /** No such object, or no such index entry where the call promises ENOENT. */
    ENOENT(2),
    /** Input/output error: the device failed, or data failed its checksum. */
    EIO(5),
    /** Argument list too long: an xattr value or index record larger than the device's limit. */
    E2BIG(7),
    /** Try again later: a transient condition (throttling, a busy device). */
    EAGAIN(11),
    /** Permission denied by the device (credentials, file permissions). */
    EACCES(13),
    /** Device or resource busy: already mounted or opened by someone else. */
    EBUSY(16),
    /** The object (or xattr under {@link XattrFlag#CREATE}) already exists. */
    EEXIST(17),
    /** Not an index object: an index operation on a DATA object. */
    ENOTDIR(20),
    /** An index object: a body operation on an INDEX object. */
    EISDIR(21),
    /** Invalid argument, or a call out of order (a transaction rule broken). */
    EINVAL(22),
    /** File too large: past the device's largest object. */
    EFBIG(27),
    /** No space left on the device: reported at transaction start, never halfway. */
    ENOSPC(28),
    /** The device is read-only. */
    EROFS(30),
    /** Result out of range: a buffer too small for an xattr value, or an xattr name too long. */
    ERANGE(34),
    /** Resource deadlock would occur (an undeclared update could not take its object's lock). */
    EDEADLK(35),
    /** Name too long. */
    ENAMETOOLONG(36),
    /** No data available: no xattr of that name. */
    ENODATA(61),
    /** Protocol error: on-disk or on-wire format not understood. */
    EPROTO(71),
    /** Bad message: a corrupt record (checksum or structure). */
    EBADMSG(74),
    /** No such device or address: seek past the end for data (SEEK_DATA/SEEK_HOLE semantics). */
    ENXIO(6),
    /** Operation not supported: the device does not advertise the capability the call needs. */
    EOPNOTSUPP(95),
    /** Timed out. */
    ETIMEDOUT(110),
    /** Stale handle: the object changed or went away under the caller (a data version moved). */
    ESTALE(116),
    /** Operation cancelled: the transaction was stopped without being started, or aborted. */
    ECANCELED(125),
    /** Disk quota exceeded. */
    EDQUOT(122),
    /** Address already in use: a server's port is taken by another process. */
    EADDRINUSE(98);

    private final int code;

    Errno(int code) {
        this.code = code;
    }

    /** The Linux errno number. */
    public int code() {
        return code;
    }
}
