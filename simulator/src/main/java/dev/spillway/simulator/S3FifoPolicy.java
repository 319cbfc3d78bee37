package dev.spillway.simulator;

import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * S3-FIFO (Yang et al., SOSP 2023) with byte sizes and libCacheSim's settings: a small FIFO of
 * 10% of the bytes takes new objects, a main FIFO the rest, a ghost FIFO of 90% of the bytes
 * remembers objects dropped from the small one. Hits count up a frequency. Leaving the small
 * FIFO, an object read at least twice there moves to main, else it goes to the ghost; an object
 * found in the ghost goes straight to main. Main is a CLOCK with frequency capped at 3.
 */
public final class S3FifoPolicy extends SimPolicy {
    private static final int MOVE_TO_MAIN = 2;
    private final long smallCap;
    private final long mainCap;
    private final long ghostCap;
    private final LinkedHashMap<Integer, long[]> small = new LinkedHashMap<>(); // id -> {size, freq}
    private final LinkedHashMap<Integer, long[]> main = new LinkedHashMap<>();
    private final LinkedHashMap<Integer, Long> ghost = new LinkedHashMap<>();
    private final Map<Integer, long[]> where = new HashMap<>();
    private long smallB;
    private long mainB;
    private long ghostB;

    public S3FifoPolicy(long capacityBytes) {
        super(capacityBytes);
        this.smallCap = (long) (capacityBytes * 0.10);
        this.mainCap = capacityBytes - smallCap;
        this.ghostCap = (long) (capacityBytes * 0.90);
    }

    @Override
    public String name() {
        return "S3-FIFO";
    }

    @Override
    protected boolean access(Trace t, int i) {
        int id = t.object(i);
        long[] o = where.get(id);
        if (o != null) {
            o[1]++;
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
        boolean wasGhost = ghost.containsKey(id);
        if (wasGhost) {
            ghostB -= ghost.remove(id);
        }
        if (!wasGhost && size >= smallCap) {
            bypassed(t, i);
            return false;
        }
        while (smallB + mainB + size > capacity) {
            evict();
        }
        long[] n = {size, 0};
        if (wasGhost) {
            main.put(id, n);
            mainB += size;
        } else {
            small.put(id, n);
            smallB += size;
        }
        where.put(id, n);
        admitted(t, i);
        return false;
    }

    private void evict() {
        if (mainB > mainCap || small.isEmpty()) {
            evictMain();
        } else {
            evictSmall();
        }
    }

    private void evictSmall() {
        while (!small.isEmpty()) {
            Iterator<Map.Entry<Integer, long[]>> it = small.entrySet().iterator();
            Map.Entry<Integer, long[]> e = it.next();
            it.remove();
            long[] o = e.getValue();
            smallB -= o[0];
            if (o[1] >= MOVE_TO_MAIN) {
                o[1] = 0;
                main.put(e.getKey(), o);
                mainB += o[0];
            } else {
                where.remove(e.getKey());
                evicted(e.getKey(), o[0]);
                ghost.put(e.getKey(), o[0]);
                ghostB += o[0];
                while (ghostB > ghostCap && !ghost.isEmpty()) {
                    Iterator<Map.Entry<Integer, Long>> g = ghost.entrySet().iterator();
                    ghostB -= g.next().getValue();
                    g.remove();
                }
                return;
            }
        }
    }

    private void evictMain() {
        while (!main.isEmpty()) {
            Iterator<Map.Entry<Integer, long[]>> it = main.entrySet().iterator();
            Map.Entry<Integer, long[]> e = it.next();
            it.remove();
            long[] o = e.getValue();
            if (o[1] >= 1) {
                o[1] = Math.min(o[1], 3) - 1;
                main.put(e.getKey(), o);
            } else {
                mainB -= o[0];
                where.remove(e.getKey());
                evicted(e.getKey(), o[0]);
                return;
            }
        }
    }
}
