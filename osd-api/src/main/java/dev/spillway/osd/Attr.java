package dev.spillway.osd;

/**
 * An object's attributes, as Lustre's {@code struct lu_attr}: what {@link Osd#getAttr} returns.
 *
 * <p>Times are nanoseconds since the epoch. {@code blocks} counts 512-byte units actually
 * allocated (as {@code st_blocks}), so a sparse or released object has {@code blocks} well below
 * {@code size / 512}. {@code dataVersion} is strictly greater after every change of the body
 * (write, punch, truncate), and unchanged by attribute and xattr updates, so a caller can tell
 * "the bytes are the ones I copied" by comparing it (Lustre's data version, used by HSM).
 *
 * @param kind DATA or INDEX, fixed at create
 * @param size the logical size in bytes (for an INDEX object: unspecified, usually 0)
 * @param blocks allocated space in 512-byte units
 * @param mode permission and type bits, opaque to the OSD
 * @param uid owner, opaque to the OSD
 * @param gid group, opaque to the OSD
 * @param atime last access, ns since the epoch (not updated by reads unless the device says so)
 * @param mtime last body change, ns since the epoch
 * @param ctime last attribute, xattr or body change, ns since the epoch
 * @param flags object flags ({@code LUSTRE_*_FL}-like), opaque to the OSD
 * @param dataVersion bumped by every body change
 */
public record Attr(
        ObjectKind kind,
        long size,
        long blocks,
        int mode,
        int uid,
        int gid,
        long atime,
        long mtime,
        long ctime,
        int flags,
        long dataVersion) {

    /** A copy with the fields that {@code change} marks valid replaced by its values. */
    public Attr apply(AttrChange change) {
        return new Attr(
                kind,
                size,
                blocks,
                change.has(AttrField.MODE) ? change.mode() : mode,
                change.has(AttrField.UID) ? change.uid() : uid,
                change.has(AttrField.GID) ? change.gid() : gid,
                change.has(AttrField.ATIME) ? change.atime() : atime,
                change.has(AttrField.MTIME) ? change.mtime() : mtime,
                change.has(AttrField.CTIME) ? change.ctime() : ctime,
                change.has(AttrField.FLAGS) ? change.flags() : flags,
                dataVersion);
    }

    public Attr withSize(long newSize, long newBlocks) {
        return new Attr(kind, newSize, newBlocks, mode, uid, gid, atime, mtime, ctime, flags, dataVersion);
    }

    public Attr withBlocks(long newBlocks) {
        return new Attr(kind, size, newBlocks, mode, uid, gid, atime, mtime, ctime, flags, dataVersion);
    }

    /** After a body change at time {@code now}: size and blocks as given, mtime/ctime now, version + 1. */
    public Attr bodyChanged(long newSize, long newBlocks, long now) {
        return new Attr(kind, newSize, newBlocks, mode, uid, gid, atime, now, now, flags, dataVersion + 1);
    }

    public Attr withCtime(long now) {
        return new Attr(kind, size, blocks, mode, uid, gid, atime, mtime, now, flags, dataVersion);
    }

    public Attr withDataVersion(long version) {
        return new Attr(kind, size, blocks, mode, uid, gid, atime, mtime, ctime, flags, version);
    }
}
