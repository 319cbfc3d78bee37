package dev.spillway.pool.meta;

import dev.spillway.osd.Fid;
import dev.spillway.osd.IndexCursor;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import java.util.ArrayList;
import java.util.List;

/**
 * The persistent work index on the metadata device (striped by object FID): pending copies,
 * garbage to delete, stale copies to resync, parked moves. Recovery reads it and nothing else,
 * so its cost grows with the work in flight, never with the number of objects.
 */
public final class WorkIndex {
    private WorkIndex() {}

    public static void declareAdd(Transaction tx, Fid object) throws OsdException {
        tx.declareInsert(PoolFids.workFor(object), Job.KEY_BYTES, Job.MAX_VALUE_BYTES);
    }

    public static void declareRemove(Transaction tx, Fid object) throws OsdException {
        tx.declareDelete(PoolFids.workFor(object), Job.KEY_BYTES);
    }

    public static void add(Transaction tx, Job job) throws OsdException {
        tx.upsert(PoolFids.workFor(job.fid()), job.keyBytes(), job.valueBytes());
    }

    public static void remove(Transaction tx, Job job) throws OsdException {
        tx.delete(PoolFids.workFor(job.fid()), job.keyBytes());
    }

    /** True if {@code job} (same kind, object and key) is recorded. */
    public static boolean contains(Osd md, Job job) throws OsdException {
        return md.lookup(PoolFids.workFor(job.fid()), job.keyBytes()).isPresent();
    }

    /** Every job, stripe by stripe. */
    public static List<Job> all(Osd md) throws OsdException {
        List<Job> out = new ArrayList<>();
        for (int s = 0; s < PoolFids.STRIPES; s++) {
            try (IndexCursor c = md.cursor(PoolFids.work(s), null)) {
                while (c.next()) {
                    out.add(Job.decode(md.name(), c.key(), c.value()));
                }
            }
        }
        return out;
    }

    /** The COPY jobs of the stripes of one striped copy of {@code object} (its key {@code copy}). */
    public static List<Job> stripesOf(Osd md, Fid object, Fid copy) throws OsdException {
        return of(md, object).stream()
                .filter(j -> j.kind() == Job.Kind.COPY && j.copy().equals(copy))
                .toList();
    }

    /** The jobs of one object. */
    public static List<Job> of(Osd md, Fid object) throws OsdException {
        List<Job> out = new ArrayList<>();
        for (Job.Kind k : Job.Kind.values()) {
            byte[] from = new Job(k, object, 0, Job.NO_KEY, 0, 0, 0, 0).keyBytes();
            try (IndexCursor c = md.cursor(PoolFids.workFor(object), from)) {
                while (c.next()) {
                    Job j = Job.decode(md.name(), c.key(), c.value());
                    if (j.kind() != k || !j.fid().equals(object)) {
                        break;
                    }
                    out.add(j);
                }
            }
        }
        return out;
    }
}
