package dev.spillway.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Multi-mount protection for a pool's data folder, after ldiskfs MMP: whoever mounts the pool
 * holds an OS lock on {@code spillway.lock} and rewrites it with its pid, host and a heartbeat
 * sequence every {@code interval}. A second mounter on the same host fails at once on the OS
 * lock; one on another host (a shared filesystem where OS locks may not reach) watches the
 * sequence for two intervals and refuses if it moves. A lock left by a killed process (no OS lock
 * held, sequence still) is taken over. The refusal names the holder's pid and host.
 */
public final class PoolLock implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path file;
    private final FileChannel ch;
    private final FileLock lock;
    private final Duration interval;
    private final Thread heartbeat;
    private final Map<String, Object> record = new LinkedHashMap<>();
    private volatile boolean closed;
    private long sequence;

    private PoolLock(Path file, FileChannel ch, FileLock lock, Duration interval, String purpose) throws IOException {
        this.file = file;
        this.ch = ch;
        this.lock = lock;
        this.interval = interval;
        record.put("pid", ProcessHandle.current().pid());
        record.put("host", hostname());
        record.put("purpose", purpose);
        record.put("since", System.currentTimeMillis());
        beat();
        this.heartbeat = Thread.ofPlatform().daemon().name("spillway-mmp").start(this::beatLoop);
    }

    static String hostname() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown-host";
        }
    }

    /** Takes the lock of {@code file} for {@code purpose} ("serve", "fsck", …) or fails naming its holder. */
    public static PoolLock acquire(Path file, String purpose, Duration interval) throws OsdException {
        FileChannel ch = null;
        try {
            ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock l;
            try {
                l = ch.tryLock();
            } catch (OverlappingFileLockException sameProcess) {
                l = null;
            }
            if (l == null) {
                Map<?, ?> holder = read(ch);
                ch.close();
                throw held(file, holder, "holds its lock");
            }
            Map<?, ?> before = read(ch);
            if (before != null && !hostname().equals(String.valueOf(before.get("host")))) {
                // Another host may hold it without our OS lock seeing it: watch its heartbeat.
                Thread.sleep(interval.multipliedBy(2).toMillis());
                Map<?, ?> after = read(ch);
                if (after != null && !String.valueOf(after.get("seq")).equals(String.valueOf(before.get("seq")))) {
                    l.release();
                    ch.close();
                    throw held(file, after, "is heartbeating");
                }
            }
            return new PoolLock(file, ch, l, interval, purpose);
        } catch (IOException e) {
            closeQuietly(ch);
            throw new OsdException(Errno.EIO, null, null, "cannot lock " + file + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeQuietly(ch);
            throw new OsdException(Errno.EINVAL, null, null, "interrupted while checking the lock " + file, e);
        }
    }

    private static OsdException held(Path file, Map<?, ?> holder, String how) {
        String who = holder == null
                ? "another process"
                : "pid " + holder.get("pid") + " on host " + holder.get("host") + " (" + holder.get("purpose") + ")";
        return new OsdException(
                Errno.EBUSY,
                null,
                null,
                "the pool in " + file.getParent() + " is in use: " + who + " " + how + " (" + file + "); stop it first",
                null);
    }

    private static void closeQuietly(FileChannel ch) {
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // Nothing more to do: the error being reported is the one that matters.
            }
        }
    }

    private static Map<?, ?> read(FileChannel ch) throws IOException {
        long n = ch.size();
        if (n == 0 || n > 4096) {
            return null;
        }
        ByteBuffer b = ByteBuffer.allocate((int) n);
        ch.read(b, 0);
        try {
            return JSON.readValue(new String(b.array(), StandardCharsets.UTF_8), Map.class);
        } catch (IOException e) {
            return null;
        }
    }

    private synchronized void beat() throws IOException {
        record.put("seq", ++sequence);
        record.put("heartbeat", System.currentTimeMillis());
        byte[] b = JSON.writeValueAsBytes(record);
        ch.truncate(0);
        ch.write(ByteBuffer.wrap(b), 0);
    }

    private void beatLoop() {
        while (!closed) {
            try {
                Thread.sleep(interval.toMillis());
                if (!closed) {
                    beat();
                }
            } catch (InterruptedException e) {
                return;
            } catch (IOException e) {
                // The next beat retries.
            }
        }
    }

    public Path file() {
        return file;
    }

    @Override
    public void close() {
        closed = true;
        heartbeat.interrupt();
        try {
            lock.release();
            ch.close();
        } catch (IOException ignored) {
            // Releasing a lock we are giving up anyway.
        }
    }
}
