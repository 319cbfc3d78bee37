package dev.spillway.gateway.s3.store;

import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.IndexCursor;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * When multipart uploads expire: an abandoned upload (initiated, never completed or aborted)
 * holds its parts' space forever unless something aborts it, which is what S3 lifecycle rules'
 * {@code AbortIncompleteMultipartUpload} is for. Each upload may carry its own expiry time; the
 * expiry index orders them by that time, so finding the expired ones reads only them, never every
 * upload of every bucket.
 *
 * <p>The expiry index ({@code [seq:0x3:0]}) holds two entries per upload that expires, written and
 * removed in the transaction that creates, completes or aborts the upload:
 * <ul>
 * <li>{@code 't' + expiry (u64 BE, ms) + parts FID} → bucket name (u16 length + UTF-8) + the
 * upload's key in its bucket's uploads index — the time order;</li>
 * <li>{@code 'u' + parts FID} → expiry — so an upload's entry can be found to cancel it.</li>
 * </ul>
 * The parts index's FID names the upload: it is unique and never reused.
 *
 * <p>The expiry of a new upload comes from a {@link Policy} (the gateway's default age, or a
 * lifecycle rule's); {@link #reschedule} changes it for an upload in progress.
 */
public final class UploadExpiry {
    /** The expiry time of a new upload, or 0 for never. */
    @FunctionalInterface
    public interface Policy {
        long expiresAtMillis(String bucket, byte[] key, long initiatedMillis);

        /** Uploads expire {@code ageMillis} after initiation; 0: never. */
        static Policy afterMillis(long ageMillis) {
            return (bucket, key, initiated) -> ageMillis <= 0 ? 0 : initiated + ageMillis;
        }
    }

    /** One scheduled expiry: the upload (by bucket and uploads-index key), its parts index, its time. */
    public record Entry(String bucket, byte[] uploadKey, Fid parts, long expiresAtMillis) {}

    static final int TIME_KEY_BYTES = 1 + 8 + Fid.BYTES;
    static final int UPLOAD_KEY_BYTES = 1 + Fid.BYTES;

    private final Namespace ns;
    private final Osd osd;
    private volatile Policy policy;

    UploadExpiry(Namespace ns, Policy policy) {
        this.ns = ns;
        this.osd = ns.osd;
        this.policy = policy;
    }

    /** Sets how new uploads are given their expiry (existing ones keep theirs). */
    public void policy(Policy p) {
        this.policy = p;
    }

    /** The expiry a new upload of {@code key} in {@code bucket} gets now (0: never). */
    public long expiryFor(String bucket, byte[] key, long initiatedMillis) {
        return policy.expiresAtMillis(bucket, key, initiatedMillis);
    }

    /** Creates the expiry index of a namespace formatted before it existed. */
    static void ensureIndex(Osd osd, Fid index) throws OsdException {
        if (osd.exists(index)) {
            return;
        }
        try {
            Tx.run(osd, tx -> tx.declareCreate(index, ObjectKind.INDEX), tx -> {
                tx.create(index, ObjectKind.INDEX, AttrChange.none());
                return null;
            });
        } catch (S3Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] timeKey(long at, Fid parts) {
        return ByteBuffer.allocate(TIME_KEY_BYTES)
                .put((byte) 't')
                .putLong(at)
                .put(parts.toBytes())
                .array();
    }

    private static byte[] uploadKey(Fid parts) {
        return ByteBuffer.allocate(UPLOAD_KEY_BYTES)
                .put((byte) 'u')
                .put(parts.toBytes())
                .array();
    }

    private static byte[] target(String bucket, byte[] uploadKey) {
        byte[] b = bucket.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(2 + b.length + uploadKey.length)
                .putShort((short) b.length)
                .put(b)
                .put(uploadKey)
                .array();
    }

    /** Declares a {@link #schedule} of an upload whose key in its uploads index is {@code uploadKeyBytes} long. */
    void declareSchedule(Transaction tx, String bucket, int uploadKeyBytes) throws OsdException {
        tx.declareInsert(
                ns.expiry, TIME_KEY_BYTES, 2 + bucket.getBytes(StandardCharsets.UTF_8).length + uploadKeyBytes);
        tx.declareInsert(ns.expiry, UPLOAD_KEY_BYTES, 8);
    }

    /** Declares a {@link #cancel}. */
    void declareCancel(Transaction tx) throws OsdException {
        tx.declareDelete(ns.expiry, TIME_KEY_BYTES);
        tx.declareDelete(ns.expiry, UPLOAD_KEY_BYTES);
    }

    /** In a started transaction: the upload expires at {@code at} (nothing for {@code at <= 0}). */
    void schedule(Transaction tx, String bucket, byte[] uploadKey, Fid parts, long at) throws OsdException {
        if (at <= 0) {
            return;
        }
        tx.upsert(ns.expiry, timeKey(at, parts), target(bucket, uploadKey));
        tx.upsert(
                ns.expiry, uploadKey(parts), ByteBuffer.allocate(8).putLong(at).array());
    }

    /** In a started transaction: the upload no longer expires (it completed or was aborted). */
    void cancel(Transaction tx, Fid parts) throws OsdException {
        Optional<byte[]> at = osd.lookup(ns.expiry, uploadKey(parts));
        if (at.isEmpty()) {
            return;
        }
        tx.delete(ns.expiry, uploadKey(parts));
        byte[] tk = timeKey(ByteBuffer.wrap(at.get()).getLong(), parts);
        if (osd.lookup(ns.expiry, tk).isPresent()) {
            tx.delete(ns.expiry, tk);
        }
    }

    /** The expiry of the upload whose parts index is {@code parts}; empty if it never expires. */
    public Optional<Long> expiresAt(Fid parts) throws OsdException {
        return osd.lookup(ns.expiry, uploadKey(parts))
                .map(v -> ByteBuffer.wrap(v).getLong());
    }

    /**
     * Changes when an upload in progress expires ({@code at <= 0}: never), e.g. when a lifecycle
     * rule is set on its bucket. Does nothing for an upload that is gone.
     */
    public void reschedule(String bucket, byte[] uploadKey, Fid parts, long at) throws OsdException {
        byte[] tgt = target(bucket, uploadKey);
        try {
            Tx.run(
                    osd,
                    tx -> {
                        declareCancel(tx);
                        tx.declareInsert(ns.expiry, TIME_KEY_BYTES, tgt.length);
                        tx.declareInsert(ns.expiry, UPLOAD_KEY_BYTES, 8);
                    },
                    tx -> {
                        cancel(tx, parts);
                        schedule(tx, bucket, uploadKey, parts, at);
                        return null;
                    });
        } catch (S3Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Scheduled expiries in time order, up to {@code max}, the due ones ({@code <= nowMillis}) only if asked. */
    public List<Entry> scheduled(long dueBy, int max) throws OsdException {
        List<Entry> out = new ArrayList<>();
        try (IndexCursor c = osd.cursor(ns.expiry, new byte[] {'t'})) {
            while (out.size() < max && c.next()) {
                byte[] k = c.key();
                if (k.length != TIME_KEY_BYTES || k[0] != 't') {
                    break;
                }
                ByteBuffer kb = ByteBuffer.wrap(k, 1, k.length - 1);
                long at = kb.getLong();
                if (at > dueBy) {
                    break;
                }
                byte[] fid = new byte[Fid.BYTES];
                kb.get(fid);
                ByteBuffer v = ByteBuffer.wrap(c.value());
                byte[] b = new byte[Short.toUnsignedInt(v.getShort())];
                v.get(b);
                byte[] uk = Arrays.copyOfRange(c.value(), v.position(), c.value().length);
                out.add(new Entry(new String(b, StandardCharsets.UTF_8), uk, Fid.fromBytes(fid), at));
            }
        }
        return out;
    }

    /** Uploads that expire at some time (tests, status). */
    public long count() throws OsdException {
        long n = 0;
        try (IndexCursor c = osd.cursor(ns.expiry, new byte[] {'u'})) {
            while (c.next() && c.key()[0] == 'u') {
                n++;
            }
        }
        return n;
    }
}
