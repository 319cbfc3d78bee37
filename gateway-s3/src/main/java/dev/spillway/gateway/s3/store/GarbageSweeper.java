package dev.spillway.gateway.s3.store;

import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.osd.Fid;
import dev.spillway.osd.IndexCursor;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Destroys what the garbage index lists: bodies no key points to, manifests and parts indexes
 * with the part bodies they point to, and PENDING bodies of uploads that never committed
 * (after a crash, all of them: the gateway's in-use set starts empty). An object a reader or
 * writer holds in {@link InUse} is skipped and retried on a later pass.
 *
 * <p>{@link #runOnce()} is one pass; the gateway runs it at mount, after commits that retired a
 * body, and on a timer. Each object's destruction is its own transaction (a large index in
 * batches), so a crash mid-pass leaves the remaining entries for the next pass.
 */
public final class GarbageSweeper {
    private static final int BATCH = 128;

    private final Namespace ns;
    private final Osd osd;

    public GarbageSweeper(Namespace ns) {
        this.ns = ns;
        this.osd = ns.osd;
    }

    /**
     * One pass over the garbage index; returns the number of objects destroyed. Passes never
     * overlap (the timer's and an explicit one): a pass that found an entry claimed by the other
     * would otherwise skip it and end with it still pending.
     */
    public synchronized int runOnce() throws OsdException {
        int destroyed = 0;
        byte[] from = null;
        while (true) {
            List<byte[][]> entries = new ArrayList<>();
            try (IndexCursor c = osd.cursor(ns.garbage, from)) {
                while (entries.size() < BATCH && c.next()) {
                    entries.add(new byte[][] {c.key(), c.value()});
                }
            }
            if (entries.isEmpty()) {
                return destroyed;
            }
            for (byte[][] e : entries) {
                Fid fid = Fid.fromBytes(e[0]);
                if (!ns.inUse.claim(fid)) {
                    continue;
                }
                try {
                    // The batch was read before the claim: a PENDING body listed then may have
                    // been committed since (its writer holds it in InUse until the commit landed,
                    // so once the claim succeeded the garbage index says the truth, and nothing
                    // but this sweeper removes an entry whose FID nobody holds).
                    if (stillGarbage(e[0], e[1]) && destroy(fid, Garbage.kind(e[1]), e[0])) {
                        destroyed++;
                    }
                } finally {
                    ns.inUse.unclaim(fid);
                }
            }
            if (entries.size() < BATCH) {
                return destroyed;
            }
            byte[] last = entries.get(entries.size() - 1)[0];
            from = Arrays.copyOf(last, last.length + 1);
        }
    }

    /** Whether the garbage index still lists {@code gkey} as the kind the pass read. */
    private boolean stillGarbage(byte[] gkey, byte[] read) throws OsdException {
        return osd.lookup(ns.garbage, gkey)
                .filter(v -> Garbage.kind(v) == Garbage.kind(read))
                .isPresent();
    }

    /** Destroys a claimed garbage object; false if its entry went meanwhile (nothing destroyed). */
    private boolean destroy(Fid fid, byte kind, byte[] gkey) throws OsdException {
        try {
            if (kind == Garbage.MANIFEST || kind == Garbage.PARTS) {
                emptyIndex(fid);
            }
            return Tx.freeing(
                    osd,
                    tx -> {
                        tx.declareDestroy(fid);
                        tx.declareDelete(ns.garbage, gkey.length);
                    },
                    tx -> {
                        // Checked again under the garbage index's lock: only an entry still there
                        // makes the object garbage.
                        if (osd.lookup(ns.garbage, gkey).isEmpty()) {
                            return false;
                        }
                        if (osd.exists(fid)) {
                            tx.destroy(fid);
                        }
                        tx.delete(ns.garbage, gkey);
                        return true;
                    });
        } catch (S3Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Destroys the bodies an index points to (each value starts with a FID), a batch per transaction. */
    private void emptyIndex(Fid index) throws OsdException, S3Exception {
        if (!osd.exists(index)) {
            return;
        }
        while (true) {
            List<byte[]> keys = new ArrayList<>();
            List<Fid> bodies = new ArrayList<>();
            try (IndexCursor c = osd.cursor(index, null)) {
                while (keys.size() < BATCH && c.next()) {
                    keys.add(c.key());
                    bodies.add(Fid.fromBytes(c.value(), 0));
                }
            }
            if (keys.isEmpty()) {
                return;
            }
            Tx.freeing(
                    osd,
                    tx -> {
                        for (int i = 0; i < keys.size(); i++) {
                            tx.declareDestroy(bodies.get(i));
                            tx.declareDelete(index, keys.get(i).length);
                        }
                    },
                    tx -> {
                        for (int i = 0; i < keys.size(); i++) {
                            if (osd.exists(bodies.get(i))) {
                                tx.destroy(bodies.get(i));
                            }
                            tx.delete(index, keys.get(i));
                        }
                        return null;
                    });
        }
    }

    /** Entries waiting in the garbage index (tests, metrics). */
    public long pending() throws OsdException {
        long n = 0;
        try (IndexCursor c = osd.cursor(ns.garbage, null)) {
            while (c.next()) {
                n++;
            }
        }
        return n;
    }
}
