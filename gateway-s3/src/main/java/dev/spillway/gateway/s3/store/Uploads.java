package dev.spillway.gateway.s3.store;

import dev.spillway.gateway.s3.auth.ChecksumAlgorithm;
import dev.spillway.gateway.s3.auth.Hashing;
import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.naming.Names;
import dev.spillway.gateway.s3.store.Records.BucketRecord;
import dev.spillway.gateway.s3.store.Records.Header;
import dev.spillway.gateway.s3.store.Records.KeyRecord;
import dev.spillway.gateway.s3.store.Records.ManifestEntry;
import dev.spillway.gateway.s3.store.Records.PartRecord;
import dev.spillway.gateway.s3.store.Records.UploadRecord;
import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.IndexCursor;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.XattrFlag;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Multipart uploads. An upload is a record in its bucket's uploads index (key: object key bytes
 * followed by the 16-byte upload id) pointing to a parts INDEX (part number → part body).
 * Completing builds a manifest INDEX keyed by each part's end offset and switches the key to it
 * in one transaction; the parts index, with any part left out, goes to the garbage index.
 */
public final class Uploads {
    /** S3's limits. */
    public static final int MAX_PARTS = 10_000;

    public static final long MAX_PART_SIZE = 5L << 30;
    public static final long MAX_OBJECT_SIZE = 5L << 40;
    private static final int ID_BYTES = 16;

    private final Namespace ns;
    private final Osd osd;
    private final BucketObjects objects;
    private final SecureRandom random = new SecureRandom();

    public Uploads(BucketObjects objects) {
        this.objects = objects;
        this.ns = objects.namespace();
        this.osd = ns.osd;
    }

    /** An upload as listed. */
    public record Upload(byte[] key, String uploadId, UploadRecord record) {
        /** Its key in its bucket's uploads index (object key, then the 16-byte id). */
        public byte[] indexKey() {
            byte[] id = HexFormat.of().parseHex(uploadId);
            byte[] k = Arrays.copyOf(key, key.length + id.length);
            System.arraycopy(id, 0, k, key.length, id.length);
            return k;
        }
    }

    /** A part as listed. */
    public record Part(int number, PartRecord record) {}

    /** A part named in CompleteMultipartUpload, with the checksum the client names for it (or null). */
    public record Chosen(int number, String etag, String checksum) {
        public Chosen(int number, String etag) {
            this(number, etag, null);
        }
    }

    static byte[] uploadKey(byte[] key, String uploadId) throws S3Exception {
        byte[] id;
        try {
            id = HexFormat.of().parseHex(uploadId);
        } catch (IllegalArgumentException e) {
            id = null;
        }
        if (id == null || id.length != ID_BYTES) {
            throw new S3Exception(
                    S3Error.NO_SUCH_UPLOAD,
                    "The specified multipart upload does not exist: upload id '" + uploadId
                            + "' is not one this gateway issued");
        }
        byte[] k = Arrays.copyOf(key, key.length + ID_BYTES);
        System.arraycopy(id, 0, k, key.length, ID_BYTES);
        return k;
    }

    public String create(
            BucketRecord bucket, String bucketName, byte[] key, String checksumAlgorithm, List<Header> headers)
            throws OsdException, S3Exception {
        return create(bucket, bucketName, key, checksumAlgorithm, headers, Records.Meta.NONE);
    }

    /** Starts an upload whose object will carry {@code meta} (storage class, checksum type, tags, lock, ACL). */
    public String create(
            BucketRecord bucket,
            String bucketName,
            byte[] key,
            String checksumAlgorithm,
            List<Header> headers,
            Records.Meta meta)
            throws OsdException, S3Exception {
        Names.checkKey(key);
        byte[] id = new byte[ID_BYTES];
        random.nextBytes(id);
        String uploadId = HexFormat.of().formatHex(id);
        Fid parts = ns.allocator.next();
        byte[] k = uploadKey(key, uploadId);
        long now = ns.now();
        byte[] v = new UploadRecord(parts, now, checksumAlgorithm, headers, meta).encode();
        long expires = ns.uploadExpiry.expiryFor(bucketName, key, now);
        try {
            Tx.run(
                    osd,
                    tx -> {
                        tx.declareCreate(parts, ObjectKind.INDEX);
                        tx.declareInsert(bucket.uploads(), k.length, v.length);
                        ns.dueWork.declare(tx, bucket);
                        ns.uploadExpiry.declareSchedule(tx, bucketName, k.length);
                    },
                    tx -> {
                        tx.create(parts, ObjectKind.INDEX, AttrChange.none());
                        tx.insert(bucket.uploads(), k, v);
                        if (bucket.meta().due() != null) {
                            ns.dueWork.schedule(tx, bucket, ns.planner.upload(bucketName, key, k, parts, ns.now()));
                        }
                        ns.uploadExpiry.schedule(tx, bucketName, k, parts, expires);
                        return null;
                    });
        } catch (OsdException e) {
            throw noBucket(e, bucketName);
        }
        return uploadId;
    }

    public UploadRecord find(BucketRecord bucket, String bucketName, byte[] key, String uploadId)
            throws OsdException, S3Exception {
        try {
            return osd.lookup(bucket.uploads(), uploadKey(key, uploadId))
                    .map(UploadRecord::decode)
                    .orElseThrow(() -> noUpload(bucketName, key, uploadId));
        } catch (OsdException e) {
            throw noBucket(e, bucketName);
        }
    }

    /** Makes a staged body part {@code number} of the upload, replacing an earlier one. */
    public PartRecord commitPart(
            BucketRecord bucket,
            String bucketName,
            byte[] key,
            String uploadId,
            int number,
            StagedBody body,
            String origin)
            throws OsdException, S3Exception {
        UploadRecord up = find(bucket, bucketName, key, uploadId);
        byte[] uk = uploadKey(key, uploadId);
        PartRecord part = new PartRecord(body.fid(), body.size(), Hashing.hex(body.md5()), ns.now(), body.checksum());
        byte[] pk = Records.u32(number);
        byte[] pv = part.encode();
        byte[] gkey = body.fid().toBytes();
        byte[] originBytes = origin.getBytes(StandardCharsets.UTF_8);
        try {
            Tx.run(
                    osd,
                    tx -> {
                        if (body.isInline()) {
                            tx.declareCreate(body.fid(), ObjectKind.DATA);
                            tx.declareSetXattr(body.fid(), Namespace.ORIGIN_XATTR, originBytes.length);
                            tx.declareWrite(body.fid(), 0, body.size());
                            BucketObjects.declareWriteCommit(tx, body);
                        } else {
                            tx.declareDelete(ns.garbage, gkey.length);
                        }
                        tx.declareInsert(up.parts(), pk.length, pv.length);
                        tx.declareInsert(ns.garbage, Fid.BYTES, Garbage.VALUE_BYTES);
                    },
                    tx -> {
                        // The parts index's lock is held: an abort or complete cannot slip in between
                        // this check and the insert.
                        if (osd.lookup(bucket.uploads(), uk).isEmpty()) {
                            throw noUpload(bucketName, key, uploadId);
                        }
                        if (body.isInline()) {
                            tx.create(body.fid(), ObjectKind.DATA, AttrChange.none());
                            tx.setXattr(body.fid(), Namespace.ORIGIN_XATTR, originBytes, XattrFlag.UPSERT);
                            BucketObjects.writeCommit(tx, body);
                            if (body.size() > 0) {
                                tx.write(body.fid(), 0, ByteBuffer.wrap(body.inline()));
                            }
                        } else {
                            tx.delete(ns.garbage, gkey);
                        }
                        Optional<byte[]> old = osd.lookup(up.parts(), pk);
                        tx.upsert(up.parts(), pk, pv);
                        if (old.isPresent()) {
                            tx.upsert(
                                    ns.garbage,
                                    PartRecord.decode(old.get()).fid().toBytes(),
                                    Garbage.value(Garbage.DATA, ns.now()));
                        }
                        return null;
                    });
        } catch (OsdException | S3Exception | RuntimeException e) {
            objects.discard(body);
            if (e instanceof OsdException oe) {
                throw noBucket(oe, bucketName);
            }
            throw e;
        }
        ns.inUse.release(body.fid());
        return part;
    }

    public List<Part> parts(UploadRecord up, int afterPart, int max) throws OsdException {
        List<Part> out = new ArrayList<>();
        try (IndexCursor c = osd.cursor(up.parts(), Records.u32(afterPart + 1))) {
            while (out.size() < max && c.next()) {
                out.add(new Part(ByteBuffer.wrap(c.key()).getInt(), PartRecord.decode(c.value())));
            }
        }
        return out;
    }

    /** Uploads whose key starts with {@code prefix}, from {@code fromKey} on, at most {@code max}. */
    public List<Upload> list(BucketRecord bucket, byte[] prefix, byte[] fromKey, int max) throws OsdException {
        List<Upload> out = new ArrayList<>();
        byte[] from = fromKey != null && Arrays.compareUnsigned(fromKey, prefix) > 0 ? fromKey : prefix;
        try (IndexCursor c = osd.cursor(bucket.uploads(), from)) {
            while (out.size() < max && c.next()) {
                byte[] k = c.key();
                if (!Namespace.startsWith(k, prefix)) {
                    break;
                }
                byte[] key = Arrays.copyOf(k, k.length - ID_BYTES);
                String id = HexFormat.of().formatHex(k, k.length - ID_BYTES, k.length);
                out.add(new Upload(key, id, UploadRecord.decode(c.value())));
            }
        }
        return out;
    }

    public void abort(BucketRecord bucket, String bucketName, byte[] key, String uploadId)
            throws OsdException, S3Exception {
        UploadRecord up = find(bucket, bucketName, key, uploadId);
        byte[] uk = uploadKey(key, uploadId);
        Tx.freeing(
                osd,
                tx -> {
                    tx.declareSetAttr(up.parts()); // only for its lock: serializes with UploadPart
                    tx.declareDelete(bucket.uploads(), uk.length);
                    tx.declareInsert(ns.garbage, Fid.BYTES, Garbage.VALUE_BYTES);
                    ns.uploadExpiry.declareCancel(tx);
                },
                tx -> {
                    if (osd.lookup(bucket.uploads(), uk).isEmpty()) {
                        throw noUpload(bucketName, key, uploadId);
                    }
                    tx.delete(bucket.uploads(), uk);
                    ns.uploadExpiry.cancel(tx, up.parts());
                    tx.upsert(ns.garbage, up.parts().toBytes(), Garbage.value(Garbage.PARTS, ns.now()));
                    return null;
                });
        ns.sweeperHint();
    }

    /**
     * Aborts the upload at {@code uploadKey} of the bucket's uploads index if it is still the one
     * whose parts index is {@code parts} (a lifecycle rule's AbortIncompleteMultipartUpload).
     *
     * @return true if it was aborted, false if it had completed or been aborted already
     */
    public boolean abortExpired(BucketRecord bucket, byte[] uploadKey, Fid parts) throws OsdException, S3Exception {
        boolean done = Tx.freeing(
                osd,
                tx -> {
                    tx.declareSetAttr(parts); // its lock: serializes with UploadPart and Complete
                    tx.declareDelete(bucket.uploads(), uploadKey.length);
                    tx.declareInsert(ns.garbage, Fid.BYTES, Garbage.VALUE_BYTES);
                },
                tx -> {
                    Optional<byte[]> rec = osd.lookup(bucket.uploads(), uploadKey);
                    if (rec.isEmpty() || !UploadRecord.decode(rec.get()).parts().equals(parts)) {
                        return false;
                    }
                    tx.delete(bucket.uploads(), uploadKey);
                    tx.upsert(ns.garbage, parts.toBytes(), Garbage.value(Garbage.PARTS, ns.now()));
                    return true;
                });
        if (done) {
            ns.sweeperHint();
        }
        return done;
    }

    /**
     * Aborts every upload whose expiry is due at {@code nowMillis}, at most {@code max} of them:
     * each in its own transaction (FREEING: it gives the parts' space back), its parts index to
     * the garbage index as an abort does. An entry whose upload is already gone is just removed.
     *
     * @return the uploads aborted
     */
    public int expire(long nowMillis, int max) throws OsdException {
        int aborted = 0;
        for (UploadExpiry.Entry e : ns.uploadExpiry.scheduled(nowMillis, max)) {
            Optional<BucketRecord> b = ns.findBucket(e.bucket());
            try {
                boolean done = Tx.freeing(
                        osd,
                        tx -> {
                            tx.declareSetAttr(e.parts()); // its lock: serializes with UploadPart
                            if (b.isPresent()) {
                                tx.declareDelete(b.get().uploads(), e.uploadKey().length);
                            }
                            tx.declareInsert(ns.garbage, Fid.BYTES, Garbage.VALUE_BYTES);
                            ns.uploadExpiry.declareCancel(tx);
                        },
                        tx -> {
                            boolean live = false;
                            if (b.isPresent()) {
                                Optional<byte[]> rec = osd.lookup(b.get().uploads(), e.uploadKey());
                                live = rec.isPresent()
                                        && UploadRecord.decode(rec.get())
                                                .parts()
                                                .equals(e.parts());
                                if (live) {
                                    tx.delete(b.get().uploads(), e.uploadKey());
                                }
                            }
                            ns.uploadExpiry.cancel(tx, e.parts());
                            if (live) {
                                tx.upsert(ns.garbage, e.parts().toBytes(), Garbage.value(Garbage.PARTS, ns.now()));
                            }
                            return live;
                        });
                if (done) {
                    aborted++;
                }
            } catch (S3Exception x) {
                throw new IllegalStateException(x);
            }
        }
        if (aborted > 0) {
            ns.sweeperHint();
        }
        return aborted;
    }

    /** Multipart uploads in progress and what their parts hold, over every bucket. */
    public record Summary(long uploads, long parts, long bytes, long oldestInitiatedMillis, long nextExpiryMillis) {}

    /** Counts every upload in progress and its parts (a walk of the uploads, not of the objects). */
    public Summary summary() throws OsdException {
        long n = 0;
        long parts = 0;
        long bytes = 0;
        long oldest = 0;
        for (BucketRecord b : ns.buckets().values()) {
            try (IndexCursor c = osd.cursor(b.uploads(), null)) {
                while (c.next()) {
                    UploadRecord up = UploadRecord.decode(c.value());
                    n++;
                    oldest = oldest == 0 ? up.initiatedMillis() : Math.min(oldest, up.initiatedMillis());
                    try (IndexCursor p = osd.cursor(up.parts(), null)) {
                        while (p.next()) {
                            parts++;
                            bytes += PartRecord.decode(p.value()).size();
                        }
                    } catch (OsdException e) {
                        if (!e.is(Errno.ENOENT)) {
                            throw e;
                        }
                    }
                }
            }
        }
        List<UploadExpiry.Entry> next = ns.uploadExpiry.scheduled(Long.MAX_VALUE, 1);
        return new Summary(
                n, parts, bytes, oldest, next.isEmpty() ? 0 : next.get(0).expiresAtMillis());
    }

    /** Completes an upload: the key then names the concatenation of the chosen parts. */
    public KeyRecord complete(
            BucketRecord bucket, String bucketName, byte[] key, String uploadId, List<Chosen> chosen, long minPartSize)
            throws OsdException, S3Exception {
        return complete(bucket, bucketName, key, uploadId, chosen, minPartSize, null, m -> m, Precondition.NONE);
    }

    /**
     * Completes an upload: the key then names the concatenation of the chosen parts.
     *
     * @param expectedChecksum the whole object's checksum the client sent (x-amz-checksum-*), or null
     * @param meta adds what the request decides to the record's meta (its version id, say)
     * @param pre the If-Match / If-None-Match the key must satisfy when it switches
     */
    public KeyRecord complete(
            BucketRecord bucket,
            String bucketName,
            byte[] key,
            String uploadId,
            List<Chosen> listed,
            long minPartSize,
            String expectedChecksum,
            UnaryOperator<Records.Meta> meta,
            Precondition pre)
            throws OsdException, S3Exception {
        UploadRecord up = find(bucket, bucketName, key, uploadId);
        // Checked now for an early answer, and again where the key switches.
        pre.check(objects.lookup(bucket, bucketName, key), bucketName, key);
        if (listed.isEmpty()) {
            throw new S3Exception(S3Error.MALFORMED_XML, "CompleteMultipartUpload names no parts");
        }
        if (listed.size() > MAX_PARTS) {
            throw new S3Exception(
                    S3Error.INVALID_ARGUMENT, "an upload has at most " + MAX_PARTS + " parts, got " + listed.size());
        }
        List<PartRecord> records = new ArrayList<>(listed.size());
        MessageDigest md5s = Hashing.md5();
        ChecksumAlgorithm alg = ChecksumAlgorithm.of(up.checksumAlgorithm());
        String checksumType = alg == null
                ? null
                : up.meta().checksumType() != null ? up.meta().checksumType() : alg.defaultMultipartType();
        boolean fullObject = "FULL_OBJECT".equals(checksumType);
        ChecksumAlgorithm.Hasher composite = alg == null || fullObject ? null : alg.newHasher();
        String combined = null;
        boolean everyPartSummed = true;
        long size = 0;
        int prev = 0;
        for (Chosen c : listed) {
            if (c.number() < 1 || c.number() > MAX_PARTS) {
                throw new S3Exception(
                        S3Error.INVALID_ARGUMENT,
                        "Part number must be an integer between 1 and 10000, inclusive: got " + c.number());
            }
            if (c.number() < prev) {
                throw new S3Exception(
                        S3Error.INVALID_PART_ORDER,
                        "The list of parts was not in ascending order: part " + c.number() + " after part " + prev);
            }
            prev = c.number();
        }
        // A part listed twice (a client that retried an UploadPart and kept both answers): the
        // last entry names the part as it is now, as S3 takes it.
        List<Chosen> unique = new ArrayList<>(listed.size());
        for (Chosen c : listed) {
            if (!unique.isEmpty() && unique.get(unique.size() - 1).number() == c.number()) {
                unique.set(unique.size() - 1, c);
            } else {
                unique.add(c);
            }
        }
        List<Chosen> chosen = unique;
        for (int i = 0; i < chosen.size(); i++) {
            Chosen c = chosen.get(i);
            PartRecord p = osd.lookup(up.parts(), Records.u32(c.number()))
                    .map(PartRecord::decode)
                    .orElseThrow(() -> new S3Exception(
                            S3Error.INVALID_PART,
                            "part " + c.number() + " of upload " + uploadId + " was never uploaded"));
            String etag = c.etag() == null ? "" : c.etag().replace("\"", "").strip();
            if (!etag.equals(p.md5Hex())) {
                throw new S3Exception(
                        S3Error.INVALID_PART,
                        "part " + c.number() + " of upload " + uploadId + " has ETag \"" + p.md5Hex()
                                + "\", the request names \"" + etag + "\"");
            }
            if (i < chosen.size() - 1 && p.size() < minPartSize) {
                throw new S3Exception(
                        S3Error.ENTITY_TOO_SMALL,
                        "part " + c.number() + " is " + p.size() + " bytes; every part but the last must be at least "
                                + minPartSize + " bytes");
            }
            md5s.update(HexFormat.of().parseHex(p.md5Hex()));
            if (alg != null && p.checksum() == null) {
                everyPartSummed = false;
            } else if (composite != null) {
                byte[] raw = Base64.getDecoder().decode(p.checksum());
                composite.update(raw, 0, raw.length);
            } else if (fullObject) {
                combined = combined == null ? p.checksum() : alg.combine(combined, p.checksum(), p.size());
            }
            size += p.size();
            records.add(p);
        }
        if (size > MAX_OBJECT_SIZE) {
            throw new S3Exception(
                    S3Error.ENTITY_TOO_LARGE, "the parts add up to " + size + " bytes, over S3's " + MAX_OBJECT_SIZE);
        }
        String checksum = alg == null || !everyPartSummed
                ? null
                : fullObject ? combined : composite.base64() + "-" + chosen.size();
        if (expectedChecksum != null) {
            String want = expectedChecksum.strip().replaceFirst("-\\d+$", "");
            if (checksum == null || !want.equals(checksum.replaceFirst("-\\d+$", ""))) {
                throw new S3Exception(
                        S3Error.BAD_DIGEST,
                        "The " + (alg == null ? "checksum" : alg.name()) + " you specified for upload " + uploadId
                                + " (" + expectedChecksum + ") did not match the calculated checksum (" + checksum
                                + ")");
            }
        }
        for (int i = 0; i < chosen.size(); i++) {
            String named = chosen.get(i).checksum();
            String stored = records.get(i).checksum();
            if (named != null && stored != null && !named.strip().equals(stored)) {
                throw new S3Exception(
                        S3Error.INVALID_PART,
                        "part " + chosen.get(i).number() + " of upload " + uploadId + " has " + alg + " " + stored
                                + ", the request names " + named);
            }
        }
        String etag = Hashing.hex(md5s.digest()) + "-" + chosen.size();
        Fid manifest = ns.allocator.next();
        KeyRecord rec = new KeyRecord(
                manifest,
                true,
                size,
                ns.now(),
                etag,
                chosen.size(),
                checksum == null ? null : up.checksumAlgorithm(),
                checksum,
                up.headers(),
                meta.apply(up.meta().withUploadId(uploadId).withChecksumType(checksum == null ? null : checksumType)));
        byte[] value = rec.encode();
        byte[] uk = uploadKey(key, uploadId);
        KeyVersions.Change change = Tx.run(
                osd,
                tx -> {
                    tx.declareCreate(manifest, ObjectKind.INDEX);
                    tx.declareInsert(manifest, 8, 128);
                    tx.declareDelete(up.parts(), 4);
                    tx.declareDelete(bucket.uploads(), uk.length);
                    tx.declareInsert(ns.garbage, Fid.BYTES, Garbage.VALUE_BYTES);
                    objects.declareSwitch(tx, bucket, key, value.length + 64);
                    ns.uploadExpiry.declareCancel(tx);
                },
                tx -> {
                    if (osd.lookup(bucket.uploads(), uk).isEmpty()) {
                        throw noUpload(bucketName, key, uploadId);
                    }
                    tx.create(manifest, ObjectKind.INDEX, AttrChange.none());
                    long end = 0;
                    for (int i = 0; i < chosen.size(); i++) {
                        byte[] pk = Records.u32(chosen.get(i).number());
                        PartRecord now = osd.lookup(up.parts(), pk)
                                .map(PartRecord::decode)
                                .orElse(null);
                        PartRecord p = records.get(i);
                        if (now == null || !now.fid().equals(p.fid())) {
                            throw new S3Exception(
                                    S3Error.INVALID_PART,
                                    "part " + chosen.get(i).number() + " changed while the upload completed");
                        }
                        if (p.size() > 0) {
                            end += p.size();
                            tx.insert(
                                    manifest,
                                    Records.u64(end),
                                    new ManifestEntry(
                                                    p.fid(),
                                                    p.size(),
                                                    chosen.get(i).number(),
                                                    p.checksum())
                                            .encode());
                        }
                        tx.delete(up.parts(), pk);
                    }
                    tx.delete(bucket.uploads(), uk);
                    ns.uploadExpiry.cancel(tx, up.parts());
                    tx.upsert(ns.garbage, up.parts().toBytes(), Garbage.value(Garbage.PARTS, ns.now()));
                    return objects.switchKey(tx, bucket, bucketName, key, rec, pre);
                });
        ns.sweeperHint();
        objects.changed(change);
        return change.current() != null && change.current().fid().equals(manifest)
                ? change.current()
                : rec.withMeta(
                        rec.meta().withVersionId(bucket.versioningEnabled() ? VersionKeys.versionId(manifest) : null));
    }

    private static S3Exception noUpload(String bucketName, byte[] key, String uploadId) {
        return new S3Exception(
                S3Error.NO_SUCH_UPLOAD,
                "The specified multipart upload does not exist: " + bucketName + "/" + Names.show(key) + " upload "
                        + uploadId);
    }

    private static OsdException noBucket(OsdException e, String bucketName) throws S3Exception {
        if (e.is(Errno.ENOENT)) {
            throw new S3Exception(S3Error.NO_SUCH_BUCKET, "The specified bucket does not exist: " + bucketName);
        }
        return e;
    }
}
