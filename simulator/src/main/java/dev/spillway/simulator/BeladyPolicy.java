package dev.spillway.simulator;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Belady's offline optimum (MIN), by bytes, as libCacheSim runs it: every miss is inserted
 * (unless larger than the cache), and to make room the object whose next request is furthest
 * in the future is evicted. Objects never requested again go first, the most recently inserted
 * of them first.
 */
public final class BeladyPolicy extends SimPolicy {
    /** Next request index (or a tie-break above the trace for "never") to object id. */
    private final TreeMap<Long, Long> byNext = new TreeMap<>();

    private final Map<Long, long[]> objects = new HashMap<>(); // id -> {size, nextKey}
    private long used;
    private long never = 0;

    public BeladyPolicy(long capacityBytes) {
        super(capacityBytes);
    }

    @Override
    public String name() {
        return "Belady";
    }

    private long key(Trace t, int i) {
        long n = t.nextAccess(i);
        // Distinct keys for "never again", above every real request index.
        return n == Trace.NEVER ? (1L << 40) + never++ : n;
    }

    @Override
    protected boolean access(Trace t, int i) {
        long id = t.id(i);
        long[] o = objects.get(id);
        if (o != null) {
            byNext.remove(o[1]);
            o[1] = key(t, i);
            byNext.put(o[1], id);
            if (t.isWrite(i)) {
                writeHit(id);
            }
            return true;
        }
        long size = t.size(i);
        if (size > capacity) {
            bypassed(t, i);
            return false;
        }
        while (used + size > capacity) {
            Map.Entry<Long, Long> e = byNext.pollLastEntry();
            long[] v = objects.remove(e.getValue());
            used -= v[0];
            evicted(e.getValue(), v[0]);
        }
        long k = key(t, i);
        objects.put(id, new long[] {size, k});
        byNext.put(k, id);
        used += size;
        admitted(t, i);
        return false;
    }
}
