package dev.spillway.osd.spi.storage.posix;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The few Linux calls the JDK does not offer: {@code fallocate(PUNCH_HOLE)},
 * {@code lseek(SEEK_DATA/SEEK_HOLE)}, {@code statx} for allocated blocks and {@code truncate} to
 * grow a file with a hole. They go by path, since a {@code FileChannel} does not expose its file
 * descriptor.
 *
 * <p>The implementation uses the Foreign Function &amp; Memory API, final in Java 22. Spillway
 * compiles at {@code --release 21}, where that API is a preview, so {@code FfmNative} is
 * compiled separately at release 22 and loaded only on a Java 22+ runtime ({@link #load()});
 * anywhere else {@link Unavailable} says why, and the device advertises no punch and no sparse
 * seek.
 */
public interface PosixNative {

    /** What this is: "ffm: fallocate, lseek, statx, truncate, getxattr" or why there is nothing. */
    String describe();

    /** True if the calls below work (else they throw {@link UnsupportedOperationException}). */
    boolean available();

    /**
     * Links now the calls a device's mount makes (each call is otherwise linked on its first use,
     * once per JVM): for a start-up that has a core to spare before its devices mount. Nothing if
     * there are no native calls.
     */
    default void prepare() {}

    /** {@code fallocate(PUNCH_HOLE|KEEP_SIZE)}. */
    void punch(Path file, long offset, long length) throws IOException;

    /** {@code lseek(SEEK_DATA)} ({@code data}) or {@code lseek(SEEK_HOLE)}; -1 for ENXIO. */
    long seek(Path file, long offset, boolean data) throws IOException;

    /** {@code st_blocks * 512} from {@code statx}. */
    long allocatedBytes(Path file) throws IOException;

    /** {@code truncate(2)}: sets the size, growing with a hole. */
    void truncate(Path file, long size) throws IOException;

    /**
     * {@code getxattr(2)} of the full name ({@code user.…}): the value, or empty if the file has
     * no such attribute or there is no such file (ENODATA, ENOENT) — answered without an
     * exception, for existence checks.
     *
     * @throws UnsupportedOperationException if the filesystem has no xattrs of that namespace
     */
    Optional<byte[]> findXattr(Path file, String name) throws IOException;

    /** The best implementation this runtime allows. */
    static PosixNative load() {
        int feature = Runtime.version().feature();
        if (feature < 22) {
            return new Unavailable("Java " + feature + " has no final Foreign Function & Memory API (needs 22+)");
        }
        String os = System.getProperty("os.name", "");
        String arch = System.getProperty("os.arch", "");
        if (!os.equals("Linux") || !(arch.equals("amd64") || arch.equals("x86_64") || arch.equals("aarch64"))) {
            return new Unavailable(
                    "the native calls are written for Linux on x86_64/aarch64, this is " + os + "/" + arch);
        }
        try {
            Class<?> c = Class.forName("dev.spillway.osd.spi.storage.posix.FfmNative");
            return (PosixNative) c.getConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            return new Unavailable("the Foreign Function & Memory API is not usable here: " + cause);
        }
    }

    /** No native calls: every one throws {@link UnsupportedOperationException}. */
    record Unavailable(String reason) implements PosixNative {
        @Override
        public String describe() {
            return "no native calls (" + reason + ")";
        }

        @Override
        public boolean available() {
            return false;
        }

        @Override
        public void punch(Path file, long offset, long length) {
            throw new UnsupportedOperationException("punch: " + reason);
        }

        @Override
        public long seek(Path file, long offset, boolean data) {
            throw new UnsupportedOperationException("seek data/hole: " + reason);
        }

        @Override
        public long allocatedBytes(Path file) {
            throw new UnsupportedOperationException("statx: " + reason);
        }

        @Override
        public void truncate(Path file, long size) {
            throw new UnsupportedOperationException("truncate: " + reason);
        }

        @Override
        public Optional<byte[]> findXattr(Path file, String name) {
            throw new UnsupportedOperationException("getxattr: " + reason);
        }
    }
}
