package dev.spillway.simulator;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;

/**
 * W-TinyLFU from the Caffeine library itself, as a check on {@link WTinyLfuPolicy} (our deterministic
 * rendering of its design): Caffeine implements it (window LRU, TinyLFU admission with a count-min sketch,
 * segmented-LRU main, hill-climbed window size), weighted by object bytes, with maintenance run
 * on the calling thread so the replay is sequential. Caffeine breaks some admission ties with a
 * random draw (its defence against hash flooding), so figures can vary by a hair between runs.
 */
public final class CaffeinePolicy extends SimPolicy {
    private final Cache<Integer, Long> cache;

    public CaffeinePolicy(long capacityBytes) {
        super(capacityBytes);
        this.cache = Caffeine.newBuilder()
                .maximumWeight(capacityBytes)
                .weigher((Integer k, Long v) -> (int) Math.min(Integer.MAX_VALUE, v))
                .executor(Runnable::run)
                .evictionListener((Integer k, Long v, RemovalCause c) -> evicted(k, v))
                .build();
    }

    @Override
    public String name() {
        return "Caffeine";
    }

    @Override
    protected boolean access(Trace t, int i) {
        int id = t.object(i);
        if (cache.getIfPresent(id) != null) {
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
        cache.put(id, size);
        cache.cleanUp();
        admitted(t, i);
        return false;
    }
}
