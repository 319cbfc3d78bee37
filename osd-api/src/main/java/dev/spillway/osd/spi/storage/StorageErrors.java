package dev.spillway.osd.spi.storage;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.Locale;

/** The one table from a {@link Storage}'s {@link IOException}s to an {@link Errno}. */
public final class StorageErrors {
    private StorageErrors() {}

    /** The errno an I/O failure stands for; EIO when it says nothing more precise. */
    public static Errno errno(IOException e) {
        if (e instanceof NoSuchFileException) {
            return Errno.ENOENT;
        }
        if (e instanceof AccessDeniedException) {
            return Errno.EACCES;
        }
        if (e instanceof FileAlreadyExistsException) {
            return Errno.EEXIST;
        }
        if (e instanceof NotDirectoryException) {
            return Errno.ENOTDIR;
        }
        if (e instanceof DirectoryNotEmptyException) {
            return Errno.EEXIST;
        }
        String reason =
                e instanceof FileSystemException fse && fse.getReason() != null ? fse.getReason() : e.getMessage();
        if (reason != null) {
            String r = reason.toLowerCase(Locale.ROOT);
            if (r.contains("no space left")) {
                return Errno.ENOSPC;
            }
            if (r.contains("quota")) {
                return Errno.EDQUOT;
            }
            if (r.contains("read-only file system")) {
                return Errno.EROFS;
            }
            if (r.contains("file too large")) {
                return Errno.EFBIG;
            }
            if (r.contains("permission denied")) {
                return Errno.EACCES;
            }
            if (r.contains("operation not permitted")) {
                return Errno.EPERM;
            }
            if (r.contains("not supported")) {
                return Errno.EOPNOTSUPP;
            }
            if (r.contains("argument list too long")) {
                return Errno.E2BIG;
            }
            if (r.contains("not a directory")) {
                return Errno.ENOTDIR;
            }
            if (r.contains("locked")) {
                return Errno.EBUSY;
            }
        }
        return Errno.EIO;
    }

    /** An {@link OsdException} for {@code e}: the mapped errno, "doing: cause", {@code e} as cause. */
    public static OsdException toOsd(String device, Fid fid, String doing, IOException e) {
        return new OsdException(errno(e), device, fid, doing + ": " + describe(e), e);
    }

    /** A one-line description of an I/O failure: the exception's kind, file and reason. */
    public static String describe(IOException e) {
        if (e instanceof FileSystemException fse) {
            StringBuilder sb = new StringBuilder(e.getClass().getSimpleName());
            if (fse.getFile() != null) {
                sb.append(' ').append(fse.getFile());
            }
            if (fse.getOtherFile() != null) {
                sb.append(" -> ").append(fse.getOtherFile());
            }
            if (fse.getReason() != null) {
                sb.append(": ").append(fse.getReason());
            }
            return sb.toString();
        }
        return e.getClass().getSimpleName() + (e.getMessage() != null ? ": " + e.getMessage() : "");
    }
}
