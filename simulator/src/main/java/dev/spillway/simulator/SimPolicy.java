package dev.spillway.simulator;

import java.util.BitSet;
import java.util.Map;

/**
 * One policy replayed at one fast-tier capacity. Every request counts: it is a hit if the object
 * is on the fast tier when it is asked for. Bytes migrated are what a tiered store copies: a body
 * brought to the fast tier because of a read (a promotion; a write brings its own data), and a
 * dirty body (written while on the fast tier) leaving it; a clean body leaves for free, its copy
 * on the slow tier being still good. Objects are named by their dense index in the trace.
 */
public abstract class SimPolicy {
    protected final long capacity;
    private long requests;
    private long hits;
    private long requestBytes;
    private long hitBytes;
    private long promotedBytes;
    private long spilledBytes;
    private final BitSet dirty = new BitSet();

    protected SimPolicy(long capacityBytes) {
        this.capacity = capacityBytes;
    }

    /** The policy's name in tables and plots. */
    public abstract String name();

    /** Serves request {@code i}; returns true on a hit. */
    protected abstract boolean access(Trace t, int i);

    public final void request(Trace t, int i) {
        long size = t.size(i);
        requests++;
        requestBytes += size;
        if (access(t, i)) {
            hits++;
            hitBytes += size;
        }
    }

    /** An object arrived on the fast tier for request i. */
    protected final void admitted(Trace t, int i) {
        if (t.isWrite(i)) {
            dirty.set(t.object(i));
        } else {
            promotedBytes += t.size(i);
        }
    }

    /** A write hit object {@code o}, already on the fast tier. */
    protected final void writeHit(int o) {
        dirty.set(o);
    }

    /** A write that could not be placed on the fast tier went straight to the slow one. */
    protected final void bypassed(Trace t, int i) {
        if (t.isWrite(i)) {
            spilledBytes += t.size(i);
        }
    }

    /** Object {@code o} left the fast tier. */
    protected final void evicted(int o, long size) {
        if (dirty.get(o)) {
            dirty.clear(o);
            spilledBytes += size;
        }
    }

    public SimResult result(Trace t) {
        return new SimResult(
                name(),
                t.name(),
                capacity,
                requests,
                hits,
                requestBytes,
                hitBytes,
                promotedBytes,
                spilledBytes,
                extra());
    }

    /** Policy-specific counters for the report (e.g. ping-pongs). */
    protected Map<String, Long> extra() {
        return Map.of();
    }
}
