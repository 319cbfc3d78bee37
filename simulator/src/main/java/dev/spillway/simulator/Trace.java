package dev.spillway.simulator;

import java.util.HashMap;
import java.util.Map;

/**
 * A request trace held in primitive arrays: request i asks for object {@code id(i)} of
 * {@code size(i)} bytes at {@code timeSeconds(i)}, as a read or a write, and the same object is
 * next asked for at request {@code nextAccess(i)} ({@link #NEVER} if it is not). The next-access
 * column is what lets Belady's policy run in one pass.
 */
public final class Trace {
    /** {@link #nextAccess(int)} of a request whose object is never requested again. */
    public static final long NEVER = Long.MAX_VALUE;

    private final String name;
    private final long[] time;
    private final long[] id;
    private final long[] size;
    private final boolean[] write;
    private final long[] next;
    private final long objects;
    private final long footprintBytes;
    private final long requestBytes;

    Trace(String name, long[] time, long[] id, long[] size, boolean[] write, long[] next) {
        this.name = name;
        this.time = time;
        this.id = id;
        this.size = size;
        this.write = write;
        this.next = next;
        Map<Long, Long> last = new HashMap<>();
        long req = 0;
        for (int i = 0; i < id.length; i++) {
            last.put(id[i], size[i]);
            req += size[i];
        }
        long fp = 0;
        for (long s : last.values()) {
            fp += s;
        }
        this.objects = last.size();
        this.footprintBytes = fp;
        this.requestBytes = req;
    }

    /**
     * A trace whose next-access column is computed here (for formats that do not carry it).
     */
    static Trace withComputedNextAccess(String name, long[] time, long[] id, long[] size, boolean[] write) {
        long[] next = new long[id.length];
        Map<Long, Integer> seen = new HashMap<>();
        for (int i = id.length - 1; i >= 0; i--) {
            Integer n = seen.put(id[i], i);
            next[i] = n == null ? NEVER : n;
        }
        return new Trace(name, time, id, size, write, next);
    }

    public String name() {
        return name;
    }

    public int length() {
        return id.length;
    }

    public long timeSeconds(int i) {
        return time[i];
    }

    public long id(int i) {
        return id[i];
    }

    public long size(int i) {
        return size[i];
    }

    public boolean isWrite(int i) {
        return write[i];
    }

    public long nextAccess(int i) {
        return next[i];
    }

    /** Distinct objects. */
    public long objects() {
        return objects;
    }

    /** Bytes of all distinct objects (each at its last recorded size). */
    public long footprintBytes() {
        return footprintBytes;
    }

    /** Bytes of all requests. */
    public long requestBytes() {
        return requestBytes;
    }

    public long writes() {
        long n = 0;
        for (boolean w : write) {
            n += w ? 1 : 0;
        }
        return n;
    }

    @Override
    public String toString() {
        return String.format(
                "%s: %,d requests, %,d objects, footprint %,d bytes", name, length(), objects, footprintBytes);
    }
}
