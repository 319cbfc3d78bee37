package dev.spillway.osd.spi.storage.posix;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * {@link PosixNative} through the Foreign Function &amp; Memory API (Java 22+), calling glibc.
 * Compiled at release 22 from {@code src/main/java22} and loaded reflectively by
 * {@link PosixNative#load()}; the constants are Linux's (x86_64 and aarch64 agree on all of them).
 */
// Restricted methods (downcall handles, reinterpret) are the point of this class; the launcher and
// the tests pass --enable-native-access=ALL-UNNAMED, and PosixNative.load() falls back without them.
@SuppressWarnings("restricted")
public final class FfmNative implements PosixNative {
    private static final int O_RDONLY = 0;
    private static final int O_WRONLY = 1;
    private static final int O_CLOEXEC = 0x80000;
    private static final int SEEK_DATA = 3;
    private static final int SEEK_HOLE = 4;
    private static final int FALLOC_FL_KEEP_SIZE = 0x01;
    private static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    private static final int AT_FDCWD = -100;
    private static final int AT_SYMLINK_NOFOLLOW = 0x100;
    private static final int STATX_BLOCKS = 0x400;
    // struct statx is architecture-independent: stx_mask at 0, stx_blocks at 48, 256 bytes long.
    private static final long STATX_SIZE = 256;
    private static final long STATX_BLOCKS_OFFSET = 48;
    private static final int ENOENT = 2;
    private static final int ENXIO = 6;
    private static final int EINTR = 4;
    private static final int EACCES = 13;
    private static final int EPERM = 1;
    private static final int EOPNOTSUPP = 95;

    private static final int ENODATA = 61;
    private static final int ERANGE = 34;
    // A first getxattr buffer: fits every record Spillway keeps in an xattr; a larger value is asked
    // for its size and read again.
    private static final int XATTR_GUESS = 256;

    /**
     * Each downcall is linked on its first use, not when a device opens: linking spins method
     * handles and a native stub per call (tens of milliseconds each on a busy machine, the first
     * one more), and a mount uses few of them or none. A holder class per call links it once per
     * JVM, thread-safely, when first touched.
     */
    private static final class Native {
        static final Linker LINKER = Linker.nativeLinker();
        static final SymbolLookup LIBC = LINKER.defaultLookup();
        static final MemoryLayout STATE = Linker.Option.captureStateLayout();
        static final VarHandle ERRNO = STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
        static final long STATE_SIZE = STATE.byteSize();
        static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;
        static final ValueLayout.OfLong L = ValueLayout.JAVA_LONG;
        static final ValueLayout A = ValueLayout.ADDRESS;

        static MethodHandle link(String name, FunctionDescriptor d, Linker.Option... options) {
            return LINKER.downcallHandle(LIBC.find(name).orElseThrow(), d, options);
        }

        static Linker.Option errno() {
            return Linker.Option.captureCallState("errno");
        }
    }

    private static final class Open {
        static final MethodHandle H = Native.link(
                "open",
                FunctionDescriptor.of(Native.I, Native.A, Native.I, Native.I),
                Native.errno(),
                Linker.Option.firstVariadicArg(2));
    }

    private static final class Close {
        static final MethodHandle H = Native.link("close", FunctionDescriptor.of(Native.I, Native.I));
    }

    private static final class Fallocate {
        static final MethodHandle H = Native.link(
                "fallocate", FunctionDescriptor.of(Native.I, Native.I, Native.I, Native.L, Native.L), Native.errno());
    }

    private static final class Lseek {
        static final MethodHandle H =
                Native.link("lseek", FunctionDescriptor.of(Native.L, Native.I, Native.L, Native.I), Native.errno());
    }

    private static final class Statx {
        static final MethodHandle H = Native.link(
                "statx",
                FunctionDescriptor.of(Native.I, Native.I, Native.A, Native.I, Native.I, Native.A),
                Native.errno());
    }

    private static final class Truncate {
        static final MethodHandle H =
                Native.link("truncate", FunctionDescriptor.of(Native.I, Native.A, Native.L), Native.errno());
    }

    private static final class Getxattr {
        static final MethodHandle H = Native.link(
                "getxattr", FunctionDescriptor.of(Native.L, Native.A, Native.A, Native.A, Native.L), Native.errno());
    }

    private static final class Strerror {
        static final MethodHandle H = Native.link("strerror", FunctionDescriptor.of(Native.A, Native.I));
    }

    /**
     * @throws IllegalCallerException if native access is not enabled for this code (the launcher
     *     and the tests pass {@code --enable-native-access=ALL-UNNAMED}): {@link PosixNative#load()}
     *     then falls back to no native calls, as the linking of every call here used to decide
     */
    public FfmNative() {
        if (!FfmNative.class.getModule().isNativeAccessEnabled()) {
            throw new IllegalCallerException("native access is not enabled (--enable-native-access=ALL-UNNAMED)");
        }
    }

    @Override
    public String describe() {
        return "ffm (fallocate PUNCH_HOLE, lseek SEEK_DATA/SEEK_HOLE, statx, truncate, getxattr)";
    }

    @Override
    public boolean available() {
        return true;
    }

    @Override
    public void prepare() {
        // Touching a holder links its call (thread-safe: class initialisation). These are the
        // calls every osd-vfs mount makes (its probe punches a hole and seeks); the others stay lazy.
        for (MethodHandle h : new MethodHandle[] {Open.H, Close.H, Fallocate.H, Lseek.H}) {
            Objects.requireNonNull(h);
        }
    }

    private static int errno(MemorySegment st) {
        return (int) Native.ERRNO.get(st, 0L);
    }

    private String strerror(int e) {
        try {
            MemorySegment s = (MemorySegment) Strerror.H.invokeExact(e);
            return s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "errno " + e;
        }
    }

    private IOException fail(Path file, String call, int e) {
        String reason = call + ": " + strerror(e) + " (errno " + e + ")";
        return switch (e) {
            case ENOENT -> new NoSuchFileException(file.toString(), null, reason);
            case EACCES, EPERM -> new AccessDeniedException(file.toString(), null, reason);
            default -> new FileSystemException(file.toString(), null, reason);
        };
    }

    private int openFd(Arena arena, MemorySegment st, Path file, int flags) throws IOException {
        MemorySegment p = arena.allocateFrom(file.toString());
        while (true) {
            int fd;
            try {
                fd = (int) Open.H.invokeExact(st, p, flags | O_CLOEXEC, 0);
            } catch (Throwable t) {
                throw new IOException("open " + file + " failed in the native call", t);
            }
            if (fd >= 0) {
                return fd;
            }
            int e = errno(st);
            if (e != EINTR) {
                throw fail(file, "open", e);
            }
        }
    }

    private void closeFd(int fd) {
        try {
            // close(2) of a descriptor opened only for fallocate/lseek: nothing to flush or report.
            int ignored = (int) Close.H.invokeExact(fd);
        } catch (Throwable t) {
            throw new IllegalStateException("close(" + fd + ") failed in the native call", t);
        }
    }

    @Override
    public void punch(Path file, long offset, long length) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Native.STATE_SIZE);
            int fd = openFd(arena, st, file, O_WRONLY);
            try {
                while (true) {
                    int r;
                    try {
                        r = (int) Fallocate.H.invokeExact(st, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length);
                    } catch (Throwable t) {
                        throw new IOException("fallocate " + file + " failed in the native call", t);
                    }
                    if (r == 0) {
                        return;
                    }
                    int e = errno(st);
                    if (e == EOPNOTSUPP) {
                        throw new UnsupportedOperationException("fallocate(PUNCH_HOLE) on " + file + ": " + strerror(e));
                    }
                    if (e != EINTR) {
                        throw fail(file, "fallocate(PUNCH_HOLE)", e);
                    }
                }
            } finally {
                closeFd(fd);
            }
        }
    }

    @Override
    public long seek(Path file, long offset, boolean data) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Native.STATE_SIZE);
            int fd = openFd(arena, st, file, O_RDONLY);
            try {
                long r;
                try {
                    r = (long) Lseek.H.invokeExact(st, fd, offset, data ? SEEK_DATA : SEEK_HOLE);
                } catch (Throwable t) {
                    throw new IOException("lseek " + file + " failed in the native call", t);
                }
                if (r >= 0) {
                    return r;
                }
                int e = errno(st);
                if (e == ENXIO) {
                    return -1;
                }
                throw fail(file, data ? "lseek(SEEK_DATA)" : "lseek(SEEK_HOLE)", e);
            } finally {
                closeFd(fd);
            }
        }
    }

    @Override
    public long allocatedBytes(Path file) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Native.STATE_SIZE);
            MemorySegment p = arena.allocateFrom(file.toString());
            MemorySegment buf = arena.allocate(STATX_SIZE, 8);
            int r;
            try {
                r = (int) Statx.H.invokeExact(st, AT_FDCWD, p, AT_SYMLINK_NOFOLLOW, STATX_BLOCKS, buf);
            } catch (Throwable t) {
                throw new IOException("statx " + file + " failed in the native call", t);
            }
            if (r != 0) {
                throw fail(file, "statx", errno(st));
            }
            if ((buf.get(ValueLayout.JAVA_INT, 0) & STATX_BLOCKS) == 0) {
                throw new UnsupportedOperationException("statx on " + file + " did not report blocks");
            }
            return buf.get(ValueLayout.JAVA_LONG, STATX_BLOCKS_OFFSET) * 512;
        }
    }

    @Override
    public void truncate(Path file, long size) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Native.STATE_SIZE);
            MemorySegment p = arena.allocateFrom(file.toString());
            while (true) {
                int r;
                try {
                    r = (int) Truncate.H.invokeExact(st, p, size);
                } catch (Throwable t) {
                    throw new IOException("truncate " + file + " failed in the native call", t);
                }
                if (r == 0) {
                    return;
                }
                int e = errno(st);
                if (e != EINTR) {
                    throw fail(file, "truncate", e);
                }
            }
        }
    }

    @Override
    public Optional<byte[]> findXattr(Path file, String name) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Native.STATE_SIZE);
            MemorySegment p = arena.allocateFrom(file.toString());
            MemorySegment n = arena.allocateFrom(name);
            long size = XATTR_GUESS;
            for (int attempt = 0; ; attempt++) {
                MemorySegment buf = size == 0 ? MemorySegment.NULL : arena.allocate(size);
                long r = getxattr(file, st, p, n, buf, size);
                if (r >= 0) {
                    return Optional.of(buf.asSlice(0, r).toArray(ValueLayout.JAVA_BYTE));
                }
                int e = errno(st);
                switch (e) {
                    case ENOENT, ENODATA -> {
                        return Optional.empty();
                    }
                    case EINTR -> {}
                    case ERANGE -> {
                        // Larger than the guess (or grown since the size was asked): ask its size.
                        if (attempt >= 8) {
                            throw fail(file, "getxattr " + name, e);
                        }
                        long want = getxattr(file, st, p, n, MemorySegment.NULL, 0);
                        if (want < 0) {
                            int e2 = errno(st);
                            if (e2 == ENOENT || e2 == ENODATA) {
                                return Optional.empty();
                            }
                            if (e2 != EINTR) {
                                throw fail(file, "getxattr " + name, e2);
                            }
                        } else {
                            size = want;
                        }
                    }
                    case EOPNOTSUPP -> throw new UnsupportedOperationException(
                            "user xattrs are not supported on " + file + ": " + strerror(e));
                    default -> throw fail(file, "getxattr " + name, e);
                }
            }
        }
    }

    private static long getxattr(Path file, MemorySegment st, MemorySegment p, MemorySegment n, MemorySegment buf, long size)
            throws IOException {
        try {
            return (long) Getxattr.H.invokeExact(st, p, n, buf, size);
        } catch (Throwable t) {
            throw new IOException("getxattr " + file + " failed in the native call", t);
        }
    }
}
