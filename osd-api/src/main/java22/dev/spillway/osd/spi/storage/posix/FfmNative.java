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

    private final MethodHandle open;
    private final MethodHandle close;
    private final MethodHandle fallocate;
    private final MethodHandle lseek;
    private final MethodHandle statx;
    private final MethodHandle truncate;
    private final MethodHandle strerror;
    private final VarHandle errnoHandle;
    private final long stateSize;

    public FfmNative() {
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        Linker.Option errno = Linker.Option.captureCallState("errno");
        MemoryLayout state = Linker.Option.captureStateLayout();
        this.errnoHandle = state.varHandle(MemoryLayout.PathElement.groupElement("errno"));
        this.stateSize = state.byteSize();
        ValueLayout.OfInt i = ValueLayout.JAVA_INT;
        ValueLayout.OfLong l = ValueLayout.JAVA_LONG;
        this.open = linker.downcallHandle(libc.find("open").orElseThrow(),
                FunctionDescriptor.of(i, ValueLayout.ADDRESS, i, i), errno, Linker.Option.firstVariadicArg(2));
        this.close = linker.downcallHandle(libc.find("close").orElseThrow(), FunctionDescriptor.of(i, i));
        this.fallocate = linker.downcallHandle(libc.find("fallocate").orElseThrow(), FunctionDescriptor.of(i, i, i, l, l), errno);
        this.lseek = linker.downcallHandle(libc.find("lseek").orElseThrow(), FunctionDescriptor.of(l, i, l, i), errno);
        this.statx = linker.downcallHandle(libc.find("statx").orElseThrow(),
                FunctionDescriptor.of(i, i, ValueLayout.ADDRESS, i, i, ValueLayout.ADDRESS), errno);
        this.truncate = linker.downcallHandle(libc.find("truncate").orElseThrow(), FunctionDescriptor.of(i, ValueLayout.ADDRESS, l), errno);
        this.strerror = linker.downcallHandle(libc.find("strerror").orElseThrow(), FunctionDescriptor.of(ValueLayout.ADDRESS, i));
    }

    @Override
    public String describe() {
        return "ffm (fallocate PUNCH_HOLE, lseek SEEK_DATA/SEEK_HOLE, statx, truncate)";
    }

    @Override
    public boolean available() {
        return true;
    }

    private int errno(MemorySegment st) {
        return (int) errnoHandle.get(st, 0L);
    }

    private String strerror(int e) {
        try {
            MemorySegment s = (MemorySegment) strerror.invokeExact(e);
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
                fd = (int) open.invokeExact(st, p, flags | O_CLOEXEC, 0);
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
            int ignored = (int) close.invokeExact(fd);
        } catch (Throwable t) {
            throw new IllegalStateException("close(" + fd + ") failed in the native call", t);
        }
    }

    @Override
    public void punch(Path file, long offset, long length) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(stateSize);
            int fd = openFd(arena, st, file, O_WRONLY);
            try {
                while (true) {
                    int r;
                    try {
                        r = (int) fallocate.invokeExact(st, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length);
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
            MemorySegment st = arena.allocate(stateSize);
            int fd = openFd(arena, st, file, O_RDONLY);
            try {
                long r;
                try {
                    r = (long) lseek.invokeExact(st, fd, offset, data ? SEEK_DATA : SEEK_HOLE);
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
            MemorySegment st = arena.allocate(stateSize);
            MemorySegment p = arena.allocateFrom(file.toString());
            MemorySegment buf = arena.allocate(STATX_SIZE, 8);
            int r;
            try {
                r = (int) statx.invokeExact(st, AT_FDCWD, p, AT_SYMLINK_NOFOLLOW, STATX_BLOCKS, buf);
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
            MemorySegment st = arena.allocate(stateSize);
            MemorySegment p = arena.allocateFrom(file.toString());
            while (true) {
                int r;
                try {
                    r = (int) truncate.invokeExact(st, p, size);
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
}
