package dev.spillway.osd;

/**
 * The attributes {@link Transaction#setAttr} may change: the valid mask of an
 * {@link AttrChange}, as Lustre's {@code LA_*} bits. Size is not among them: size changes go
 * through {@link Transaction#truncate} and {@link Transaction#write}, which also bump the data
 * version; the data version, blocks and kind are the OSD's own.
 */
public enum AttrField {
    MODE,
    UID,
    GID,
    ATIME,
    MTIME,
    CTIME,
    FLAGS
}
