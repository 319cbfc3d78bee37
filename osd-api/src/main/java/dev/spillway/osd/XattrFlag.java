package dev.spillway.osd;

/** How {@link Transaction#setXattr} treats an existing name, as {@code setxattr(2)}'s flags. */
public enum XattrFlag {
    /** Create the name or replace its value. */
    UPSERT,
    /** Create only: {@link Errno#EEXIST} if the name exists ({@code XATTR_CREATE}). */
    CREATE,
    /** Replace only: {@link Errno#ENODATA} if the name is missing ({@code XATTR_REPLACE}). */
    REPLACE
}
