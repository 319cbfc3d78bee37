package dev.spillway.simulator;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * ARC (Megiddo and Modha, FAST 2003) with byte sizes: T1 (seen once recently) and T2 (seen at
 * least twice) hold data, ghosts B1 and B2 remember what each evicted; the target size of T1,
 * p (bytes), grows on a B1 ghost hit and shrinks on a B2 ghost hit, by the object's size scaled
 * by the ghosts' ratio, as the paper's unit steps scale to bytes.
 */
public final class ArcPolicy extends SimPolicy {
    private final LinkedHashMap<Integer, Long> t1 = new LinkedHashMap<>();
    private final LinkedHashMap<Integer, Long> t2 = new LinkedHashMap<>();
    private final LinkedHashMap<Integer, Long> b1 = new LinkedHashMap<>();
    private final LinkedHashMap<Integer, Long> b2 = new LinkedHashMap<>();
    private long t1b;
    private long t2b;
    private long b1b;
    private long b2b;
    private double p;

    public ArcPolicy(long capacityBytes) {
        super(capacityBytes);
    }

    @Override
    public String name() {
        return "ARC";
    }

    @Override
    protected boolean access(Trace t, int i) {
        int id = t.object(i);
        long size = t.size(i);
        Long s = t1.remove(id);
        if (s != null) {
            t1b -= s;
            t2.put(id, s);
            t2b += s;
            if (t.isWrite(i)) {
                writeHit(id);
            }
            return true;
        }
        s = t2.remove(id);
        if (s != null) {
            t2.put(id, s); // to MRU
            if (t.isWrite(i)) {
                writeHit(id);
            }
            return true;
        }
        if (size > capacity) {
            bypassed(t, i);
            return false;
        }
        Long g1 = b1.remove(id);
        Long g2 = g1 == null ? b2.remove(id) : null;
        if (g1 != null) {
            b1b -= g1;
            p = Math.min(capacity, p + Math.max(size, (double) size * b2b / Math.max(1, b1b)));
            makeRoom(size, false);
            t2.put(id, size);
            t2b += size;
        } else if (g2 != null) {
            b2b -= g2;
            p = Math.max(0, p - Math.max(size, (double) size * b1b / Math.max(1, b2b)));
            makeRoom(size, true);
            t2.put(id, size);
            t2b += size;
        } else {
            makeRoom(size, false);
            t1.put(id, size);
            t1b += size;
            // Ghost bounds: |T1|+|B1| <= c and the whole directory <= 2c.
            while (t1b + b1b > capacity && !b1.isEmpty()) {
                b1b -= pollFirst(b1);
            }
            while (t1b + t2b + b1b + b2b > 2 * capacity && !b2.isEmpty()) {
                b2b -= pollFirst(b2);
            }
        }
        admitted(t, i);
        return false;
    }

    private void makeRoom(long size, boolean ghostHitInB2) {
        while (t1b + t2b + size > capacity) {
            boolean fromT1 = !t1.isEmpty() && (t1b > p || (ghostHitInB2 && t1b >= p) || t2.isEmpty());
            if (fromT1) {
                Map.Entry<Integer, Long> e = first(t1);
                t1.remove(e.getKey());
                t1b -= e.getValue();
                b1.put(e.getKey(), e.getValue());
                b1b += e.getValue();
                evicted(e.getKey(), e.getValue());
            } else {
                Map.Entry<Integer, Long> e = first(t2);
                t2.remove(e.getKey());
                t2b -= e.getValue();
                b2.put(e.getKey(), e.getValue());
                b2b += e.getValue();
                evicted(e.getKey(), e.getValue());
            }
        }
        while (b1b + b2b > capacity + capacity && (!b1.isEmpty() || !b2.isEmpty())) {
            if (b1b >= b2b) {
                b1b -= pollFirst(b1);
            } else {
                b2b -= pollFirst(b2);
            }
        }
    }

    private static Map.Entry<Integer, Long> first(LinkedHashMap<Integer, Long> m) {
        return m.entrySet().iterator().next();
    }

    private static long pollFirst(LinkedHashMap<Integer, Long> m) {
        Iterator<Map.Entry<Integer, Long>> it = m.entrySet().iterator();
        long v = it.next().getValue();
        it.remove();
        return v;
    }
}
