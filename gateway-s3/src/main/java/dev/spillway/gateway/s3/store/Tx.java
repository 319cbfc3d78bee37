package dev.spillway.gateway.s3.store;

import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.SpaceClass;
import dev.spillway.osd.Transaction;

/**
 * Runs one OSD transaction: declare, start, updates, stop — aborted if the updates throw.
 *
 * <p>Every transaction is a sync one: its stop returns only once it is durable, so a request is
 * answered (a PUT's 200, a DELETE's 204, a Complete's ETag) only after everything it changed would
 * survive a power cut — what S3 clients take a 200 to mean. The devices group concurrent sync
 * commits (osd-kv's commit pipeline: one WAL sync for all waiting), so the price is latency, not a
 * sync per request. A body staged over several transactions is durable segment by segment, so
 * the final transaction never names data that a power cut could take back, whatever order the
 * device makes its commits durable in ({@code PowerLossAckTest}).
 */
final class Tx {
    private Tx() {}

    interface Declares {
        void declare(Transaction tx) throws OsdException;
    }

    interface Updates<T> {
        T apply(Transaction tx) throws OsdException, S3Exception;
    }

    static <T> T run(Osd osd, Declares declares, Updates<T> updates) throws OsdException, S3Exception {
        return run(osd, SpaceClass.CLIENT, declares, updates);
    }

    /**
     * As {@link #run(Osd, Declares, Updates)} for work that gives space back (a delete, an abort, a
     * sweep): {@link SpaceClass#FREEING}, so it works on a full device. Its updates must free
     * before they add (delete the key, then record the garbage).
     */
    static <T> T freeing(Osd osd, Declares declares, Updates<T> updates) throws OsdException, S3Exception {
        return run(osd, SpaceClass.FREEING, declares, updates);
    }

    private static <T> T run(Osd osd, SpaceClass space, Declares declares, Updates<T> updates)
            throws OsdException, S3Exception {
        try (Transaction tx = osd.newTransaction()) {
            declares.declare(tx);
            tx.setSpaceClass(space);
            tx.setSync(true);
            tx.start();
            try {
                return updates.apply(tx);
            } catch (OsdException | S3Exception | RuntimeException | Error e) {
                tx.abort();
                throw e;
            }
        }
    }
}
