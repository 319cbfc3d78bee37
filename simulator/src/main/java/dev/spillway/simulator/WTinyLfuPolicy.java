package dev.spillway.simulator;

/**
 * W-TinyLFU as Caffeine designs it (Einziger, Friedman, Manes, "TinyLFU", ACM ToS 2017; Einziger
 * et al., "Adaptive Software Cache Management", Middleware 2018), by bytes, written here so that
 * it replays deterministically (Caffeine's own cache breaks some admission ties with a random
 * draw, its defence against hash flooding, so its figures move by a hair between runs).
 *
 * <ul>
 * <li>A new object enters the <b>window</b> (LRU, 1% of the bytes to start with). What the window
 * pushes out becomes a <b>candidate</b> for the main space, a segmented LRU: <b>probation</b> and
 * <b>protected</b> (80% of main); a hit in probation moves to protected, whose overflow goes back
 * to probation.</li>
 * <li>When main is full, the candidate meets probation's LRU <b>victim</b>: the one with the lower
 * TinyLFU frequency leaves, the victim staying on a tie. Frequencies come from a
 * {@link FrequencySketch} sized to the entries, created once the cache is half full, incremented
 * on every request.</li>
 * <li>The window's share is <b>hill-climbed</b>: every sample (the sketch's sample size in
 * requests) the hit rate is compared with the previous sample's; the window keeps moving the way
 * that helped by a step that starts at 6.25% of the capacity, decays by 0.98 per sample, and
 * restarts when the hit rate moves by 5 points or more.</li>
 * </ul>
 */
public final class WTinyLfuPolicy extends SimPolicy {
    private static final int WINDOW = 0;
    private static final int PROBATION = 1;
    private static final int PROTECTED = 2;
    private static final double STEP_PERCENT = 0.0625;
    private static final double STEP_DECAY = 0.98;
    private static final double RESTART = 0.05;

    private Queues q;
    private long[] sizes;
    private Trace trace;
    private final FrequencySketch sketch = new FrequencySketch();
    private long windowMax;
    private long protectedMax;
    private long used;

    private long sampleHits;
    private long sampleMisses;
    private double previousHitRate;
    private double stepSize;
    private long adjustment;

    public WTinyLfuPolicy(long capacityBytes) {
        super(capacityBytes);
        windowMax = capacityBytes - (long) (0.99 * capacityBytes);
        protectedMax = (long) (0.80 * (capacityBytes - windowMax));
        stepSize = -STEP_PERCENT * capacityBytes;
    }

    @Override
    public String name() {
        return "W-TinyLFU";
    }

    private long key(int o) {
        return trace.idOf(o);
    }

    @Override
    protected boolean access(Trace t, int i) {
        if (q == null) {
            q = new Queues(t.objects(), 3);
            sizes = new long[t.objects()];
            trace = t;
        }
        int o = t.object(i);
        long key = t.id(i);
        sketch.increment(key);
        int where = q.queueOf(o);
        boolean hit = where != Queues.NONE;
        if (hit) {
            sampleHits++;
            if (where == PROBATION) {
                q.moveTail(PROTECTED, o, sizes[o]);
                demoteFromProtected();
            } else {
                q.moveTail(where, o, sizes[o]);
            }
            if (t.isWrite(i)) {
                writeHit(o);
            }
        } else {
            sampleMisses++;
            long size = t.size(i);
            if (size > capacity) {
                bypassed(t, i);
            } else {
                sizes[o] = size;
                q.addTail(WINDOW, o, size);
                used += size;
                admitted(t, i);
                if (used >= capacity >>> 1) {
                    sketch.ensureCapacity(q.count(WINDOW) + q.count(PROBATION) + q.count(PROTECTED));
                }
                evict();
            }
        }
        climb();
        return hit;
    }

    private void demoteFromProtected() {
        while (q.bytes(PROTECTED) > protectedMax) {
            int v = q.head(PROTECTED);
            q.moveTail(PROBATION, v, sizes[v]);
        }
    }

    /** Window overflow becomes candidates in probation; then main evicts by frequency. */
    private void evict() {
        int candidate = -1;
        while (q.bytes(WINDOW) > windowMax && !q.isEmpty(WINDOW)) {
            int w = q.head(WINDOW);
            q.moveTail(PROBATION, w, sizes[w]);
            if (candidate < 0) {
                candidate = w;
            }
        }
        evictFromMain(candidate);
    }

    private void evictFromMain(int candidate) {
        int victimQueue = PROBATION;
        int candidateQueue = PROBATION;
        int victim = q.head(PROBATION);
        while (used > capacity) {
            if (candidate < 0 && candidateQueue == PROBATION) {
                candidate = q.head(WINDOW);
                candidateQueue = WINDOW;
            }
            if (candidate < 0 && victim < 0) {
                if (victimQueue == PROBATION) {
                    victim = q.head(PROTECTED);
                    victimQueue = PROTECTED;
                    continue;
                } else if (victimQueue == PROTECTED) {
                    victim = q.head(WINDOW);
                    victimQueue = WINDOW;
                    continue;
                }
                break;
            }
            if (victim < 0) {
                candidate = evictAndAdvance(candidate);
                continue;
            } else if (candidate < 0) {
                victim = evictAndAdvance(victim);
                continue;
            }
            if (candidate == victim) {
                victim = evictAndAdvance(victim);
                candidate = -1;
                continue;
            }
            if (sizes[candidate] > capacity) {
                candidate = evictAndAdvance(candidate);
                continue;
            }
            if (sketch.frequency(key(candidate)) > sketch.frequency(key(victim))) {
                victim = evictAndAdvance(victim);
                candidate = q.next(candidate);
            } else {
                candidate = evictAndAdvance(candidate);
            }
        }
    }

    private int evictAndAdvance(int o) {
        int n = q.next(o);
        q.remove(o, sizes[o]);
        used -= sizes[o];
        evicted(o, sizes[o]);
        return n;
    }

    private void climb() {
        if (!sketch.initialized()) {
            previousHitRate = 0;
            sampleHits = 0;
            sampleMisses = 0;
            return;
        }
        long requests = sampleHits + sampleMisses;
        int entries = q.count(WINDOW) + q.count(PROBATION) + q.count(PROTECTED);
        if (requests < 10L * Math.max(8, entries)) {
            return;
        }
        double hitRate = (double) sampleHits / requests;
        double change = hitRate - previousHitRate;
        double amount = change >= 0 ? stepSize : -stepSize;
        double next =
                Math.abs(change) >= RESTART ? STEP_PERCENT * capacity * (amount >= 0 ? 1 : -1) : STEP_DECAY * amount;
        previousHitRate = hitRate;
        adjustment = (long) amount;
        stepSize = next;
        sampleHits = 0;
        sampleMisses = 0;
        demoteFromProtected();
        if (adjustment > 0) {
            long quota = Math.min(adjustment, protectedMax);
            protectedMax -= quota;
            windowMax += quota;
            demoteFromProtected();
            while (quota > 0) {
                int c = !q.isEmpty(PROBATION) ? q.head(PROBATION) : q.head(PROTECTED);
                if (c < 0 || sizes[c] > quota) {
                    break;
                }
                quota -= sizes[c];
                q.moveTail(WINDOW, c, sizes[c]);
            }
            protectedMax += quota;
            windowMax -= quota;
        } else if (adjustment < 0) {
            long quota = Math.min(-adjustment, Math.max(0, windowMax - 1));
            protectedMax += quota;
            windowMax -= quota;
            while (quota > 0) {
                int c = q.head(WINDOW);
                if (c < 0 || sizes[c] > quota) {
                    break;
                }
                quota -= sizes[c];
                q.moveTail(PROBATION, c, sizes[c]);
            }
            protectedMax -= quota;
            windowMax += quota;
        }
        adjustment = 0;
    }
}
