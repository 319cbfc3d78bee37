package dev.spillway.simulator;

/**
 * Least recently used, by bytes, as libCacheSim runs it: a hit moves the object to the head; a
 * miss inserts it (unless it is larger than the whole cache) after evicting from the tail until
 * it fits.
 */
public final class LruPolicy extends SimPolicy {
    private Queues queue;
    private long[] sizes;
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
        int o = t.object(i);
        if (queue == null) {
            queue = new Queues(t.objects(), 1);
            sizes = new long[t.objects()];
        }
        if (queue.queueOf(o) == 0) {
            queue.moveTail(0, o, sizes[o]);
            if (t.isWrite(i)) {
                writeHit(o);
            }
            return true;
        }
        long size = t.size(i);
        if (size > capacity) {
            bypassed(t, i);
            return false;
        }
        while (used + size > capacity) {
            int victim = queue.head(0);
            queue.remove(victim, sizes[victim]);
            used -= sizes[victim];
            evicted(victim, sizes[victim]);
        }
        sizes[o] = size;
        queue.addTail(0, o, size);
        used += size;
        admitted(t, i);
        return false;
    }
}
