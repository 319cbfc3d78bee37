package dev.spillway.gateway.s3.store;

import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.store.Records.BucketRecord;
import dev.spillway.gateway.s3.store.Records.KeyRecord;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.IndexCursor;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Work that falls due at a time, per bucket: lifecycle expirations and transitions, the prompt
 * placement of a version written with a storage class, aborting an upload left incomplete. Each
 * bucket that has such work has a due INDEX ordered by time, so the worker reads only what is due
 * — it never walks the keys of a bucket to find it.
 *
 * <p>An entry is written in the transaction that makes it true (the PUT that writes the version,
 * the overwrite that makes it non-current, the CreateMultipartUpload), so a crash cannot lose it.
 * Entries are advice about what may be due, not promises: the worker checks each against the
 * version and the configuration as they are when it runs (a version overwritten, a rule changed)
 * and drops what no longer applies.
 *
 * <p>Key: due time (u64, ms) · kind (u8) · version FID (16 bytes; an upload's parts index for
 * an abort) · object key (or an upload's key in its uploads index). Value: rule id, storage class.
 */
public final class DueWork {
    private static final Logger LOG = LoggerFactory.getLogger(DueWork.class);

    /** What is due. */
    public enum Kind {
        /** Expire the current version (a DELETE: a delete marker in a versioned bucket). */
        EXPIRE(0),
        /** Move the version's body to the storage class's tier. */
        TRANSITION(1),
        /** Remove a non-current version for good. */
        EXPIRE_NONCURRENT(2),
        /** Move a non-current version's body to the storage class's tier. */
        TRANSITION_NONCURRENT(3),
        /** Place a version written with a storage class on its tier (due at once). */
        PLACE(4),
        /** Remove a delete marker that is a key's only version. */
        EXPIRE_MARKER(5),
        /** Abort a multipart upload left incomplete. */
        ABORT_UPLOAD(6),
        /** Schedule the work of a new lifecycle configuration for what the bucket already holds. */
        BACKFILL(7);

        /** The kind's byte in an entry's key: fixed forever, whatever the order of the constants. */
        final int code;

        Kind(int code) {
            this.code = code;
        }

        /** The kind a stored byte names, or null for one this build does not know. */
        static Kind fromCode(int code) {
            for (Kind k : values()) {
                if (k.code == code) {
                    return k;
                }
            }
            return null;
        }
    }

    /** One entry. {@code key} is the object's key (for an abort, the upload's uploads-index key). */
    public record Entry(long dueMillis, Kind kind, Fid version, byte[] key, String ruleId, String storageClass) {
        byte[] indexKey() {
            byte[] f = version.toBytes();
            ByteBuffer b = ByteBuffer.allocate(8 + 1 + f.length + key.length);
            b.putLong(dueMillis).put((byte) kind.code).put(f).put(key);
            return b.array();
        }

        byte[] value() {
            return Records.write(out -> {
                out.writeByte(1);
                out.writeUTF(ruleId == null ? "" : ruleId);
                out.writeUTF(storageClass == null ? "" : storageClass);
            });
        }

        /**
         * The entry an index key and value hold, or null when the key is too short or names a
         * kind this build does not know (a damaged entry, or one a newer build wrote): the worker
         * skips it and leaves it where it is, so that it never blocks the entries after it.
         */
        static Entry decode(byte[] k, byte[] v) {
            if (k.length < 8 + 1 + Fid.BYTES) {
                return null;
            }
            ByteBuffer b = ByteBuffer.wrap(k);
            long due = b.getLong();
            Kind kind = Kind.fromCode(Byte.toUnsignedInt(b.get()));
            if (kind == null) {
                return null;
            }
            byte[] f = new byte[Fid.BYTES];
            b.get(f);
            byte[] key = Arrays.copyOfRange(k, 8 + 1 + Fid.BYTES, k.length);
            String[] rv = Records.read(v, in -> {
                in.readUnsignedByte();
                return new String[] {in.readUTF(), in.readUTF()};
            });
            return new Entry(
                    due, kind, Fid.fromBytes(f), key, rv[0].isEmpty() ? null : rv[0], rv[1].isEmpty() ? null : rv[1]);
        }
    }

    /**
     * Decides what becomes due when a version changes (the lifecycle package implements it from
     * the bucket's configuration and the version's storage class).
     */
    public interface Planner {
        /** Work for a version that became current. */
        List<Entry> current(String bucket, byte[] key, KeyRecord r) throws S3Exception, OsdException;

        /** Work for a version that became non-current at {@code sinceMillis}. */
        List<Entry> noncurrent(String bucket, byte[] key, KeyRecord r, long sinceMillis)
                throws S3Exception, OsdException;

        /** Work for a multipart upload begun at {@code initiatedMillis} ({@code uploadKey}: its uploads-index key). */
        List<Entry> upload(String bucket, byte[] key, byte[] uploadKey, Fid parts, long initiatedMillis)
                throws S3Exception, OsdException;

        /** No work at all. */
        Planner NONE = new Planner() {
            @Override
            public List<Entry> current(String bucket, byte[] key, KeyRecord r) {
                return List.of();
            }

            @Override
            public List<Entry> noncurrent(String bucket, byte[] key, KeyRecord r, long sinceMillis) {
                return List.of();
            }

            @Override
            public List<Entry> upload(String bucket, byte[] key, byte[] uploadKey, Fid parts, long initiatedMillis) {
                return List.of();
            }
        };
    }

    private final Namespace ns;

    // Made while the namespace is constructed: the device is read when used.
    DueWork(Namespace ns) {
        this.ns = ns;
    }

    private Osd osd() {
        return ns.osd;
    }

    /** The longest entry key: due, kind, FID and a key of 1,024 bytes plus an upload id. */
    static final int MAX_KEY = 8 + 1 + Fid.BYTES + 1024 + 16;

    static final int MAX_VALUE = 1024;

    void declare(Transaction tx, BucketRecord b) throws OsdException {
        if (b.meta().due() != null) {
            tx.declareInsert(b.meta().due(), MAX_KEY, MAX_VALUE);
        }
    }

    void schedule(Transaction tx, BucketRecord b, List<Entry> entries) throws OsdException {
        if (b.meta().due() == null) {
            return;
        }
        for (Entry e : entries) {
            tx.upsert(b.meta().due(), e.indexKey(), e.value());
        }
    }

    /** Adds entries in a transaction of their own (a backfill, a reschedule). */
    public void schedule(BucketRecord b, List<Entry> entries) throws OsdException, S3Exception {
        if (b.meta().due() == null || entries.isEmpty()) {
            return;
        }
        Tx.run(osd(), tx -> declare(tx, b), tx -> {
            if (osd().exists(b.meta().due())) {
                schedule(tx, b, entries);
            }
            return null;
        });
    }

    /** Up to {@code max} entries due at {@code nowMillis}, earliest first. */
    public List<Entry> due(BucketRecord b, long nowMillis, int max) throws OsdException {
        List<Entry> out = new ArrayList<>();
        if (b.meta().due() == null) {
            return out;
        }
        try (IndexCursor c = osd().cursor(b.meta().due(), null)) {
            while (out.size() < max && c.next()) {
                Entry e = Entry.decode(c.key(), c.value());
                if (e == null) {
                    LOG.warn(
                            "due index {}: skipped an entry this build cannot read (key {} bytes, kind byte {});"
                                    + " it stays in the bucket's due index",
                            b.meta().due(),
                            c.key().length,
                            c.key().length > 8 ? Byte.toUnsignedInt(c.key()[8]) : -1);
                    continue;
                }
                if (e.dueMillis() > nowMillis) {
                    break;
                }
                out.add(e);
            }
        } catch (OsdException e) {
            if (!e.is(Errno.ENOENT)) {
                throw e;
            }
        }
        return out;
    }

    /** The earliest entry of the bucket, or null. */
    public Entry next(BucketRecord b) throws OsdException {
        List<Entry> e = due(b, Long.MAX_VALUE, 1);
        return e.isEmpty() ? null : e.get(0);
    }

    /** Removes a done (or no longer valid) entry. */
    public void remove(BucketRecord b, Entry e) throws OsdException, S3Exception {
        byte[] k = e.indexKey();
        Tx.run(osd(), tx -> tx.declareDelete(b.meta().due(), k.length), tx -> {
            if (osd().exists(b.meta().due()) && osd().lookup(b.meta().due(), k).isPresent()) {
                tx.delete(b.meta().due(), k);
            }
            return null;
        });
    }

    /** Entries waiting in a bucket (tests, the admin view). */
    public long pending(BucketRecord b) throws OsdException {
        long n = 0;
        if (b.meta().due() == null) {
            return 0;
        }
        try (IndexCursor c = osd().cursor(b.meta().due(), null)) {
            while (c.next()) {
                n++;
            }
        }
        return n;
    }
}
