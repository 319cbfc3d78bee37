package dev.spillway.pool;

import dev.spillway.osd.Fid;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which reads are new accesses (the rule in {@link PoolListener}): the open read streams of the
 * pool, each an (object, data version, offset where its last read ended) with a count of
 * streams waiting there. A read at offset 0 always starts a new access; a read at {@code o}
 * continues a stream waiting at {@code o}. A read that reaches the end of the body closes its
 * stream; one that does not leaves it waiting at its end.
 *
 * <p>Bounded: at most {@value #STREAMS} streams, in {@value #STRIPES} independently locked
 * stripes (by FID hash, so readers of different objects rarely contend), each dropping its least
 * recently continued stream when full. Nothing here depends on time: a stream lasts until it
 * ends or is pushed out.
 */
final class ReadStreams {
    static final int STREAMS = 4096;
    static final int STRIPES = 16;

    private record Key(Fid fid, long dataVersion, long offset) {
        // Not the record's hash: that one adds the offset's own hash last, and offsets are
        // multiples of the read size (4 KiB and up), whose low bits are zero, so a stripe's table
        // put every stream of one object read at random into a handful of buckets (HashMap's
        // removeNode was 12-15% of a 4 KiB read's Java time, session 9 profile).
        @Override
        public int hashCode() {
            long h = (fid.hashCode() * 0x9E3779B97F4A7C15L) ^ (dataVersion * 0xC2B2AE3D27D4EB4FL) ^ offset;
            h *= 0x9E3779B97F4A7C15L;
            return (int) (h ^ (h >>> 32));
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.offset == offset && k.dataVersion == dataVersion && k.fid.equals(fid);
        }
    }

    private final Stripe[] stripes = new Stripe[STRIPES];

    ReadStreams() {
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new Stripe();
        }
    }

    /** Open streams in one stripe, least recently continued first; guarded by the stripe. */
    private static final class Stripe extends LinkedHashMap<Key, Integer> {
        Stripe() {
            super(64, 0.75f, true);
        }

        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, Integer> eldest) {
            return size() > STREAMS / STRIPES;
        }
    }

    /**
     * Notes a read of {@code n} bytes at {@code offset} of {@code fid} (a body of {@code size}
     * bytes at {@code dataVersion}) and says whether it is a new access.
     */
    boolean read(Fid fid, long dataVersion, long offset, int n, long size) {
        Stripe s = stripes[(fid.hashCode() & 0x7fffffff) % STRIPES];
        synchronized (s) {
            boolean continues = false;
            if (offset > 0) {
                Key k = new Key(fid, dataVersion, offset);
                Integer waiting = s.remove(k);
                if (waiting != null) {
                    continues = true;
                    if (waiting > 1) {
                        s.put(k, waiting - 1);
                    }
                }
            }
            long end = offset + Math.max(0, n);
            if (n > 0 && end < size) {
                s.merge(new Key(fid, dataVersion, end), 1, Integer::sum);
            }
            return !continues;
        }
    }

    /** Streams open now (for tests). */
    int open() {
        int n = 0;
        for (Stripe s : stripes) {
            synchronized (s) {
                for (int c : s.values()) {
                    n += c;
                }
            }
        }
        return n;
    }
}
