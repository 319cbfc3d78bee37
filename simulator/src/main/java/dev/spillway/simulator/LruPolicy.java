package dev.spillway.simulator;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Least recently used, by bytes, as libCacheSim runs it: a hit moves the object to the head; a
 * miss inserts it (unless it is larger than the whole cache) after evicting from the tail until
 * it fits.
 */
public final class LruPolicy extends SimPolicy {
    private final LinkedHashMap<Long, Long> queue = new LinkedHashMap<>(1024, 0.75f, true);
    private long used;

    public LruPolicy(long capacityBytes) {
        super(capacityBytes);
    }

    @Override
    public String name() {
        return "LRU";
    }

    @Override
    protected boolean access(Trace t, int i) {
        long id = t.id(i);
        if (queue.get(id) != null) {
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
        Iterator<Map.Entry<Long, Long>> it = queue.entrySet().iterator();
        while (used + size > capacity) {
            Map.Entry<Long, Long> e = it.next();
            it.remove();
            used -= e.getValue();
            evicted(e.getKey(), e.getValue());
        }
        queue.put(id, size);
        used += size;
        admitted(t, i);
        return false;
    }
}
