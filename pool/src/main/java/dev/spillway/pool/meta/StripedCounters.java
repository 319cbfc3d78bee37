package dev.spillway.pool.meta;

import dev.spillway.osd.Fid;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import java.util.HashMap;
import java.util.Map;

/**
 * The counter deltas of one metadata transaction that touches several objects: one
 * {@link Counters} per counters stripe the objects fall in, flushed together before the
 * transaction stops. Each object's stripe must have been declared ({@link Counters#declare}).
 */
public final class StripedCounters {
    private final Map<Integer, Counters> byStripe = new HashMap<>();

    /** The deltas of {@code object}'s stripe. */
    public Counters of(Fid object) {
        return byStripe.computeIfAbsent(PoolFids.stripe(object), s -> new Counters(object));
    }

    /** Writes every stripe's deltas (read committed + delta, upsert). */
    public void flush(Transaction tx, Osd md) throws OsdException {
        for (Counters c : byStripe.values()) {
            c.flush(tx, md);
        }
    }
}
