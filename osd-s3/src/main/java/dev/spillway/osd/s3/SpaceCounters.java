package dev.spillway.osd.s3;

import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes and objects a device holds, for statfs: an object store has no size and listing a
 * bucket to count is out of the question, so the device counts what it PUTs and DELETEs and
 * persists the counters as one small object under its prefix ({@code .spillway/statfs}): at
 * close, and at most {@link #INTERVAL_NS} after a change — by a {@link dev.spillway.osd.Osd#sync()}
 * that comes later than that, or else by the device's flusher. Concurrent flushes share one PUT.
 * (The pool syncs a spill device after every copy: one counters PUT per copy would cost a round
 * trip per object for a number nobody reads that often.)
 *
 * <p>After a crash the counters are those of the last flush: the changes of the last second or
 * so are not counted. The objects themselves are never at risk.
 */
final class SpaceCounters {
    interface Store {
        void write(byte[] body) throws OsdException;
    }

    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong objects = new AtomicLong();
    // Bumped by every change; the persisted snapshot's generation is written under flushLock.
    private final AtomicLong generation = new AtomicLong();
    private final Object flushLock = new Object();
    private volatile long persisted;
    private volatile long lastFlushNs = System.nanoTime();
    /** How stale the persisted counters may get while the device is mounted. */
    static final long INTERVAL_NS = 1_000_000_000L;

    boolean dirty() {
        return persisted < generation.get();
    }

    /** True if a change waits and the last flush is older than {@link #INTERVAL_NS}. */
    boolean due() {
        return dirty() && System.nanoTime() - lastFlushNs >= INTERVAL_NS;
    }

    long bytes() {
        return bytes.get();
    }

    long objects() {
        return objects.get();
    }

    void add(long deltaBytes, long deltaObjects) {
        if (deltaBytes == 0 && deltaObjects == 0) {
            return;
        }
        bytes.addAndGet(deltaBytes);
        objects.addAndGet(deltaObjects);
        generation.incrementAndGet();
    }

    byte[] encode() {
        return ("spillway osd-s3 statfs 1\nbytes " + Math.max(0, bytes.get()) + "\nobjects "
                        + Math.max(0, objects.get()) + "\n")
                .getBytes(StandardCharsets.UTF_8);
    }

    void load(byte[] body, String device, String key) throws OsdException {
        String[] lines = new String(body, StandardCharsets.UTF_8).split("\n");
        try {
            if (lines.length < 3
                    || !lines[0].equals("spillway osd-s3 statfs 1")
                    || !lines[1].startsWith("bytes ")
                    || !lines[2].startsWith("objects ")) {
                throw new IllegalArgumentException("unknown format");
            }
            bytes.set(Long.parseLong(lines[1].substring(6).trim()));
            objects.set(Long.parseLong(lines[2].substring(8).trim()));
        } catch (IllegalArgumentException e) {
            throw new OsdException(
                    Errno.EPROTO, device, null, "counters object " + key + " is not understood: " + e.getMessage(), e);
        }
    }

    /** Persists the counters if they changed since the last flush. */
    void flush(Store store) throws OsdException {
        long want = generation.get();
        synchronized (flushLock) {
            if (persisted >= want) {
                return;
            }
            long g = generation.get();
            store.write(encode());
            persisted = g;
            lastFlushNs = System.nanoTime();
        }
    }
}
