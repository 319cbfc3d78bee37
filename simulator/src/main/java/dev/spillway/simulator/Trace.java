package dev.spillway.simulator;

import java.util.Arrays;
import java.util.BitSet;

/**
 * A request trace, held as compactly as replay needs: request i asks for object
 * {@code object(i)} (a dense index, 0 .. {@link #objects()}-1, in order of first request) of
 * {@code size(i)} bytes, as a read or a write. The object's id in the trace is {@link #id(int)}.
 * About 8 bytes per request (index and size) plus a bit for writes, and 8 bytes per object:
 * what Belady's policy needs anyway, since it must see the whole future. The next-access column
 * Belady reads is computed on first use.
 *
 * <p>Traces carry no time: placement decides in logical time (the sequence of accesses), so a
 * trace replays to the same decisions at any rate.
 */
public final class Trace {
    /** {@link #nextAccess(int)} of a request whose object is never requested again. */
    public static final int NEVER = Integer.MAX_VALUE;

    private final String name;
    private final int[] object;
    private final int[] size;
    private final long[] ids;
    private final BitSet writes;
    private final long footprintBytes;
    private final long requestBytes;
    private int[] next;

    Trace(String name, int[] object, int[] size, long[] ids, BitSet writes) {
        this.name = name;
        this.object = object;
        this.size = size;
        this.ids = ids;
        this.writes = writes;
        long[] last = new long[ids.length];
        long req = 0;
        for (int i = 0; i < object.length; i++) {
            long s = Integer.toUnsignedLong(size[i]);
            last[object[i]] = s;
            req += s;
        }
        long fp = 0;
        for (long s : last) {
            fp += s;
        }
        this.footprintBytes = fp;
        this.requestBytes = req;
    }

    public String name() {
        return name;
    }

    public int length() {
        return object.length;
    }

    /** The dense index of request i's object. */
    public int object(int i) {
        return object[i];
    }

    /** The id request i's object has in the trace. */
    public long id(int i) {
        return ids[object[i]];
    }

    /** The trace id of the object with dense index {@code o}. */
    public long idOf(int o) {
        return ids[o];
    }

    public long size(int i) {
        return Integer.toUnsignedLong(size[i]);
    }

    public boolean isWrite(int i) {
        return writes.get(i);
    }

    /**
     * The next request for the same object after request i, or {@link #NEVER}. Computed on the
     * first call (one backward pass, 4 bytes per request).
     */
    public synchronized int nextAccess(int i) {
        if (next == null) {
            int[] n = new int[object.length];
            int[] seen = new int[ids.length];
            Arrays.fill(seen, NEVER);
            for (int k = object.length - 1; k >= 0; k--) {
                n[k] = seen[object[k]];
                seen[object[k]] = k;
            }
            next = n;
        }
        return next[i];
    }

    /** Distinct objects. */
    public int objects() {
        return ids.length;
    }

    /** Bytes of all distinct objects (each at its last requested size). */
    public long footprintBytes() {
        return footprintBytes;
    }

    /** Bytes of all requests. */
    public long requestBytes() {
        return requestBytes;
    }

    public long writes() {
        return writes.cardinality();
    }

    /** The first {@code n} requests (or all), as a trace of their own. */
    public Trace prefix(int n) {
        Builder b = new Builder(name + "[:" + n + "]");
        for (int i = 0; i < Math.min(n, length()); i++) {
            b.add(id(i), size(i), isWrite(i));
        }
        return b.build();
    }

    @Override
    public String toString() {
        return String.format(
                "%s: %,d requests, %,d objects, footprint %,d bytes", name, length(), objects(), footprintBytes);
    }

    /** Builds a trace request by request, mapping ids to dense indexes as they come. */
    public static final class Builder {
        private final String name;
        private int[] object = new int[1 << 16];
        private int[] size = new int[1 << 16];
        private final BitSet writes = new BitSet();
        private int n;
        private long[] ids = new long[1 << 12];
        private int distinct;
        // Open addressing from id to dense index + 1 (0 = empty).
        private long[] keys = new long[1 << 13];
        private int[] vals = new int[1 << 13];

        public Builder(String name) {
            this.name = name;
        }

        /** Appends a request; sizes up to 4 GiB - 1 (libCacheSim's uint32). */
        public Builder add(long id, long sizeBytes, boolean write) {
            if (sizeBytes < 0 || sizeBytes > 0xFFFF_FFFFL) {
                throw new IllegalArgumentException(
                        name + ": request " + n + ": size " + sizeBytes + " out of range (0 .. 4 GiB - 1)");
            }
            if (n == object.length) {
                object = Arrays.copyOf(object, n * 2);
                size = Arrays.copyOf(size, n * 2);
            }
            object[n] = index(id);
            size[n] = (int) sizeBytes;
            if (write) {
                writes.set(n);
            }
            n++;
            return this;
        }

        public int length() {
            return n;
        }

        private int index(long id) {
            int mask = keys.length - 1;
            int h = (int) mix(id) & mask;
            while (vals[h] != 0) {
                if (keys[h] == id) {
                    return vals[h] - 1;
                }
                h = (h + 1) & mask;
            }
            if (distinct == ids.length) {
                ids = Arrays.copyOf(ids, distinct * 2);
            }
            ids[distinct] = id;
            keys[h] = id;
            vals[h] = ++distinct;
            if (distinct * 2 > keys.length) {
                rehash();
            }
            return distinct - 1;
        }

        private void rehash() {
            long[] k = new long[keys.length * 2];
            int[] v = new int[k.length];
            int mask = k.length - 1;
            for (int i = 0; i < keys.length; i++) {
                if (vals[i] != 0) {
                    int h = (int) mix(keys[i]) & mask;
                    while (v[h] != 0) {
                        h = (h + 1) & mask;
                    }
                    k[h] = keys[i];
                    v[h] = vals[i];
                }
            }
            keys = k;
            vals = v;
        }

        private static long mix(long x) {
            x ^= x >>> 33;
            x *= 0xff51afd7ed558ccdL;
            x ^= x >>> 33;
            return x;
        }

        public Trace build() {
            return new Trace(
                    name, Arrays.copyOf(object, n), Arrays.copyOf(size, n), Arrays.copyOf(ids, distinct), writes);
        }
    }
}
