/**
 * The one small storage interface a file-backed device does all its file I/O through, as
 * Lucene's {@code Directory}: {@link dev.spillway.osd.spi.storage.Storage} (a directory tree:
 * open, rename, delete, list, force a directory, xattrs, lock, space) and
 * {@link dev.spillway.osd.spi.storage.StorageFile} (one open file: positional read and write,
 * size, truncate, force, punch, seek data/hole).
 *
 * <p>A real implementation sits on a POSIX directory (osd-vfs); a fault-injecting one in the test
 * kit keeps what was written but not forced and "crashes" at a chosen operation, so crash
 * recovery is tested below the code under test, never inside it. Because the fault model is the
 * one of a real filesystem, the rules are the POSIX ones a crash-safe device must follow:
 * <ul>
 * <li>written bytes are durable only after {@link dev.spillway.osd.spi.storage.StorageFile#force}
 *     of their file;</li>
 * <li>a created, renamed or deleted name is durable only after
 *     {@link dev.spillway.osd.spi.storage.Storage#forceDirectory} of the directory holding it (both
 *     directories for a rename), and a new directory only after its parent is forced;</li>
 * <li>an open file is an inode: it keeps its bytes when renamed or unlinked.</li>
 * </ul>
 * Failures are {@link java.io.IOException}s of the JDK's kinds
 * ({@link java.nio.file.NoSuchFileException}, {@link java.nio.file.AccessDeniedException}, …);
 * {@link dev.spillway.osd.spi.storage.StorageErrors} maps them to an {@code Errno} in one place.
 */
package dev.spillway.osd.spi.storage;
