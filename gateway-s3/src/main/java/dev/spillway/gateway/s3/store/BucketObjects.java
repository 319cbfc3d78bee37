package dev.spillway.gateway.s3.store;

import dev.spillway.gateway.s3.auth.ChecksumAlgorithm;
import dev.spillway.gateway.s3.auth.Hashing;
import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.error.S3StreamException;
import dev.spillway.gateway.s3.naming.Names;
import dev.spillway.gateway.s3.store.Records.BucketRecord;
import dev.spillway.gateway.s3.store.Records.KeyRecord;
import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Capability;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.IndexCursor;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.PlacementHint;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.WriteCommitHint;
import dev.spillway.osd.XattrFlag;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Object bodies and key records: stage a body under a fresh FID, switch a key to it in one
 * transaction, delete, and open for reading.
 *
 * <p>Why overwrites and deletes are atomic for clients: a key record is replaced by one index
 * upsert in the transaction that also records the previous body in the garbage index; a reader
 * sees the old record or the new one. The old body is destroyed later by the
 * {@link GarbageSweeper}, and only once no reader holds it in {@link InUse}.
 */
public final class BucketObjects {
    private static final Logger LOG = LoggerFactory.getLogger(BucketObjects.class);

    private final Namespace ns;
    private final Osd osd;
    private final KeyVersions versions;

    public BucketObjects(Namespace ns) {
        this.ns = ns;
        this.osd = ns.osd;
        this.versions = new KeyVersions(ns);
    }

    public Namespace namespace() {
        return ns;
    }

    // ---- staging -------------------------------------------------------------------------

    /**
     * Streams {@code in} (until it returns -1) into a new, invisible body.
     *
     * @param expectedLength the length the client announced, or -1
     * @param maxSize EntityTooLarge past this
     * @param checksum an additional checksum to compute, or null
     * @param sha256 also compute the SHA-256 (signed payloads)
     * @param origin the bucket/key it is written for, kept in an xattr of the DATA object
     */
    public StagedBody stage(
            InputStream in,
            long expectedLength,
            long maxSize,
            ChecksumAlgorithm checksum,
            boolean sha256,
            String origin)
            throws OsdException, S3Exception {
        if (expectedLength > maxSize) {
            throw new S3Exception(
                    S3Error.ENTITY_TOO_LARGE,
                    "Your proposed upload of " + expectedLength + " bytes exceeds the maximum allowed size of "
                            + maxSize + " bytes");
        }
        Fid fid = ns.allocator.next();
        if (!ns.inUse.acquire(fid)) {
            // A fresh FID the sweeper is destroying was handed out before: never write over it.
            throw new OsdException(
                    Errno.EEXIST,
                    osd.name(),
                    fid,
                    "the S3 gateway's FID allocator handed out " + fid + " for " + origin
                            + " while the garbage sweeper destroys an object of that FID (a FID used twice; a server bug)");
        }
        Digests d = new Digests(checksum, sha256);
        String wc = ns.writeCommitFor(origin);
        byte[] originBytes = origin.getBytes(StandardCharsets.UTF_8);
        byte[] buf = new byte[ns.ioChunk];
        boolean created = false;
        boolean done = false;
        try {
            int n = readFully(in, buf);
            d.update(buf, n);
            if (n < buf.length) {
                StagedBody s = d.finish(fid, n, Arrays.copyOf(buf, n), wc);
                done = true;
                return s;
            }
            long size;
            if (osd.capabilities().has(Capability.PARTIAL_WRITE)) {
                createStaged(fid, originBytes);
                created = true;
                size = writeSegments(fid, in, buf, n, expectedLength, maxSize, d, wc);
            } else {
                size = writeWhole(fid, in, buf, n, originBytes, expectedLength, maxSize, d, wc);
                created = true;
            }
            StagedBody s = d.finish(fid, size, null, wc);
            done = true;
            return s;
        } catch (S3StreamException e) {
            throw e.s3();
        } catch (IOException e) {
            throw new S3Exception(
                    S3Error.INCOMPLETE_BODY,
                    "the request body ended early or the client went away: " + e.getMessage(),
                    e);
        } finally {
            if (!done) {
                if (created) {
                    destroyStaged(fid);
                }
                ns.inUse.release(fid);
            }
        }
    }

    private static long checkSize(long size, long maxSize) throws S3Exception {
        if (size > maxSize) {
            throw new S3Exception(
                    S3Error.ENTITY_TOO_LARGE, "Your upload exceeds the maximum allowed size of " + maxSize + " bytes");
        }
        return size;
    }

    /**
     * The most a staging transaction writes when the body's length is known: a body up to this
     * size is one transaction (one extent file and one flush on osd-kv, one record and layout
     * update on the pool); a larger one is one per segment, so that no transaction declares
     * more than a fast tier can make room for while the daemon spills.
     */
    static final long SEGMENT = 64L << 20;

    /** The same for a body of unknown length (chunked without a decoded length): what is declared up front. */
    static final long SEGMENT_UNKNOWN = 16L << 20;

    /**
     * Creates the DATA object with its PENDING garbage entry and origin xattr. A short
     * transaction of its own: it locks the garbage index, which every PUT shares, so the body
     * itself goes in later transactions that lock only the new object.
     */
    private void createStaged(Fid fid, byte[] origin) throws OsdException, S3Exception {
        byte[] gkey = fid.toBytes();
        byte[] gval = Garbage.value(Garbage.PENDING, ns.now());
        Tx.run(
                osd,
                tx -> {
                    tx.declareCreate(fid, ObjectKind.DATA);
                    tx.declareInsert(ns.garbage, gkey.length, gval.length);
                    tx.declareSetXattr(fid, Namespace.ORIGIN_XATTR, origin.length);
                },
                tx -> {
                    tx.create(fid, ObjectKind.DATA, AttrChange.none());
                    tx.upsert(ns.garbage, gkey, gval);
                    tx.setXattr(fid, Namespace.ORIGIN_XATTR, origin, XattrFlag.UPSERT);
                    return null;
                });
    }

    /**
     * Streams the body into the created object, one transaction per {@link #SEGMENT} (so a body of
     * up to 64 MiB is one), each declaring exactly what it will write when the length is known.
     * {@code buf} holds the first {@code first} bytes, already digested. Every transaction
     * continues the access the create began: a PUT is one access for placement.
     *
     * <p>A write-commit policy {@code wc} (non-null) is set in the transaction that writes the last
     * segment, so that the body's copies are made once, whole, before the PUT is acknowledged; a
     * body of unknown length sets it in every segment (each one may be the last).
     *
     * @return the body's size
     */
    private long writeSegments(
            Fid fid, InputStream in, byte[] buf, int first, long expectedLength, long maxSize, Digests d, String wc)
            throws OsdException, S3Exception, IOException {
        Segments seg = new Segments(first);
        while (true) {
            if (seg.pending == 0) {
                // A segment ended at its limit: the body may end here too (read on to the end of
                // the stream either way, so an aws-chunked body's trailer is read and checked).
                if (seg.eof || (seg.pending = readFully(in, buf)) == 0) {
                    break;
                }
                checkSize(seg.size + seg.pending, maxSize);
                d.update(buf, seg.pending);
            }
            long start = seg.size;
            long window = expectedLength >= 0
                    ? Math.max(seg.pending, Math.min(SEGMENT, expectedLength - start))
                    : SEGMENT_UNKNOWN;
            boolean commitPolicy = wc != null && (expectedLength < 0 || start + window >= expectedLength);
            // More segments follow (or may: the length is unknown): the pool keeps the body where
            // they land instead of writing this one around its fast tier.
            boolean continues = expectedLength < 0 || start + window < expectedLength;
            Tx.run(
                    osd,
                    tx -> {
                        tx.declareWrite(fid, start, window);
                        tx.continuesAccess(fid);
                        if (continues) {
                            tx.bodyContinues(fid);
                        }
                        if (commitPolicy) {
                            tx.declareSetXattr(fid, WriteCommitHint.XATTR, wc.length());
                        }
                    },
                    tx -> {
                        if (commitPolicy) {
                            tx.setXattr(fid, WriteCommitHint.XATTR, ascii(wc), XattrFlag.UPSERT);
                        }
                        try {
                            seg.fill(tx, fid, in, buf, start + window, maxSize, d);
                        } catch (S3StreamException e) {
                            throw e.s3();
                        } catch (IOException e) {
                            throw new S3Exception(
                                    S3Error.INCOMPLETE_BODY,
                                    "the request body ended early or the client went away: " + e.getMessage(),
                                    e);
                        }
                        return null;
                    });
        }
        return seg.size;
    }

    /** Where staging is: bytes written, and bytes read into the buffer but not yet written. */
    private static final class Segments {
        long size;
        int pending;
        boolean eof;

        Segments(int first) {
            this.pending = first;
        }

        /**
         * Writes the pending bytes and what follows until the segment ends at {@code limit} or the
         * body does; a buffer that would cross {@code limit} stays pending for the next segment.
         */
        void fill(Transaction tx, Fid fid, InputStream in, byte[] buf, long limit, long maxSize, Digests d)
                throws OsdException, S3Exception, IOException {
            while (pending > 0 && size + pending <= limit) {
                tx.write(fid, size, ByteBuffer.wrap(buf, 0, pending));
                size += pending;
                pending = 0;
                if (size == limit) {
                    return;
                }
                int n = readFully(in, buf);
                if (n == 0) {
                    eof = true;
                    return;
                }
                checkSize(size + n, maxSize);
                d.update(buf, n);
                pending = n;
            }
        }
    }

    /**
     * A device without in-place writes takes a body in one transaction, written sequentially
     * from 0 (the whole-object PUT of an object store); that needs the length up front.
     */
    private long writeWhole(
            Fid fid,
            InputStream in,
            byte[] buf,
            int first,
            byte[] origin,
            long expectedLength,
            long maxSize,
            Digests d,
            String wc)
            throws OsdException, S3Exception, IOException {
        if (expectedLength < 0) {
            throw new S3Exception(
                    S3Error.MISSING_CONTENT_LENGTH,
                    "device " + osd.name()
                            + " has no in-place writes, so a body needs its length up front (Content-Length or x-amz-decoded-content-length)");
        }
        byte[] gkey = fid.toBytes();
        byte[] gval = Garbage.value(Garbage.PENDING, ns.now());
        long[] size = {first};
        Tx.run(
                osd,
                tx -> {
                    tx.declareCreate(fid, ObjectKind.DATA);
                    tx.declareInsert(ns.garbage, gkey.length, gval.length);
                    tx.declareSetXattr(fid, Namespace.ORIGIN_XATTR, origin.length);
                    tx.declareWrite(fid, 0, expectedLength);
                    if (wc != null) {
                        tx.declareSetXattr(fid, WriteCommitHint.XATTR, wc.length());
                    }
                },
                tx -> {
                    tx.create(fid, ObjectKind.DATA, AttrChange.none());
                    tx.upsert(ns.garbage, gkey, gval);
                    tx.setXattr(fid, Namespace.ORIGIN_XATTR, origin, XattrFlag.UPSERT);
                    if (wc != null) {
                        tx.setXattr(fid, WriteCommitHint.XATTR, ascii(wc), XattrFlag.UPSERT);
                    }
                    tx.write(fid, 0, ByteBuffer.wrap(buf, 0, first));
                    try {
                        while (true) {
                            int n = readFully(in, buf);
                            if (n == 0) {
                                break;
                            }
                            if (size[0] + n > expectedLength) {
                                throw new S3Exception(
                                        S3Error.INVALID_REQUEST,
                                        "the body is longer than its declared " + expectedLength + " bytes");
                            }
                            checkSize(size[0] + n, maxSize);
                            d.update(buf, n);
                            tx.write(fid, size[0], ByteBuffer.wrap(buf, 0, n));
                            size[0] += n;
                        }
                    } catch (S3StreamException e) {
                        throw e.s3();
                    } catch (IOException e) {
                        throw new S3Exception(
                                S3Error.INCOMPLETE_BODY, "the request body ended early: " + e.getMessage(), e);
                    }
                    return null;
                });
        return size[0];
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * Declares, for an inline body written in this transaction, its write-commit xattr (if its
     * bucket or prefix has a rule): the transaction that writes the body sets the policy, so the
     * pool makes its copies before the transaction is acknowledged.
     */
    static void declareWriteCommit(Transaction tx, StagedBody body) throws OsdException {
        if (body.writeCommit() != null) {
            tx.declareSetXattr(
                    body.fid(), WriteCommitHint.XATTR, body.writeCommit().length());
        }
    }

    /** Sets what {@link #declareWriteCommit} declared (after the create, before the write). */
    static void writeCommit(Transaction tx, StagedBody body) throws OsdException {
        if (body.writeCommit() != null) {
            tx.setXattr(body.fid(), WriteCommitHint.XATTR, ascii(body.writeCommit()), XattrFlag.UPSERT);
        }
    }

    /** Drops a staged body that will not be committed. */
    public void discard(StagedBody body) {
        if (!body.isInline()) {
            destroyStaged(body.fid());
        }
        ns.inUse.release(body.fid());
    }

    private void destroyStaged(Fid fid) {
        // Best effort now; if the device refuses, the PENDING garbage entry stays and the
        // sweeper frees the body later (after a restart at the latest), so nothing leaks.
        // Only a body whose PENDING entry is still there was never committed: a commit whose
        // transaction landed and then reported an error (extra copies of a write-commit policy
        // that failed after the metadata commit) made it a key's body, which must stay.
        byte[] gkey = fid.toBytes();
        try {
            Tx.freeing(
                    osd,
                    tx -> {
                        tx.declareDestroy(fid);
                        tx.declareDelete(ns.garbage, gkey.length);
                    },
                    tx -> {
                        Optional<byte[]> entry = osd.lookup(ns.garbage, gkey);
                        if (entry.isEmpty() || Garbage.kind(entry.get()) != Garbage.PENDING) {
                            return null;
                        }
                        if (osd.exists(fid)) {
                            tx.destroy(fid);
                        }
                        tx.delete(ns.garbage, gkey);
                        return null;
                    });
        } catch (OsdException | S3Exception e) {
            ns.sweeperHint();
        }
    }

    // ---- key records ---------------------------------------------------------------------

    /** The key's current record (a delete marker too), or empty. */
    public Optional<KeyRecord> lookup(BucketRecord bucket, String bucketName, byte[] key)
            throws OsdException, S3Exception {
        try {
            return versions.current(bucket, key);
        } catch (OsdException e) {
            throw noBucket(e, bucketName);
        }
    }

    /**
     * A version of a key: the current one if {@code versionId} is null, else the one it names
     * ("null" for the null version). Empty if there is none; InvalidArgument for a version id
     * this gateway never issued.
     */
    public Optional<KeyRecord> lookup(BucketRecord bucket, String bucketName, byte[] key, String versionId)
            throws OsdException, S3Exception {
        if (versionId == null) {
            return lookup(bucket, bucketName, key);
        }
        Fid v = VersionKeys.parse(versionId);
        try {
            return versions.find(bucket, key, v).map(KeyVersions.Located::record);
        } catch (OsdException e) {
            throw noBucket(e, bucketName);
        }
    }

    private static OsdException noBucket(OsdException e, String bucketName) throws S3Exception {
        if (e.is(Errno.ENOENT)) {
            throw new S3Exception(S3Error.NO_SUCH_BUCKET, "The specified bucket does not exist: " + bucketName);
        }
        return e;
    }

    /**
     * Makes {@code record} (whose body is {@code body}) the newest version of {@code key}, in
     * one transaction that also writes an inline body and retires or keeps the previous version
     * as the bucket's versioning says. Releases the staged body's in-use mark.
     *
     * @return the record as stored (with its version id)
     */
    public KeyRecord commit(
            BucketRecord bucket, String bucketName, byte[] key, StagedBody body, KeyRecord record, String origin)
            throws OsdException, S3Exception {
        return commit(bucket, bucketName, key, body, record, origin, Precondition.NONE);
    }

    /** As {@link #commit}, if {@code pre} holds for the key's current record at the switch. */
    public KeyRecord commit(
            BucketRecord bucket,
            String bucketName,
            byte[] key,
            StagedBody body,
            KeyRecord record,
            String origin,
            Precondition pre)
            throws OsdException, S3Exception {
        byte[] value = record.encode();
        byte[] originBytes = origin.getBytes(StandardCharsets.UTF_8);
        byte[] gkey = body.fid().toBytes();
        String hint = record.meta().storageClass() == null
                ? null
                : ns.placementHint(record.meta().storageClass());
        KeyVersions.Change change;
        try {
            change = Tx.run(
                    osd,
                    tx -> {
                        if (body.isInline()) {
                            tx.declareCreate(body.fid(), ObjectKind.DATA);
                            tx.declareSetXattr(body.fid(), Namespace.ORIGIN_XATTR, originBytes.length);
                            tx.declareWrite(body.fid(), 0, body.size());
                            declareWriteCommit(tx, body);
                        } else {
                            tx.declareDelete(ns.garbage, gkey.length);
                        }
                        if (hint != null) {
                            tx.declareSetXattr(body.fid(), PlacementHint.XATTR, hint.length());
                        }
                        versions.declare(tx, bucket, key, value.length + 64);
                    },
                    tx -> {
                        if (body.isInline()) {
                            tx.create(body.fid(), ObjectKind.DATA, AttrChange.none());
                            tx.setXattr(body.fid(), Namespace.ORIGIN_XATTR, originBytes, XattrFlag.UPSERT);
                            writeCommit(tx, body);
                            if (body.size() > 0) {
                                tx.write(body.fid(), 0, ByteBuffer.wrap(body.inline()));
                            }
                        } else {
                            tx.delete(ns.garbage, gkey);
                        }
                        if (hint != null) {
                            tx.setXattr(
                                    body.fid(),
                                    PlacementHint.XATTR,
                                    hint.getBytes(StandardCharsets.US_ASCII),
                                    XattrFlag.UPSERT);
                        }
                        return versions.put(tx, bucket, bucketName, key, record, pre);
                    });
        } catch (OsdException | S3Exception | RuntimeException e) {
            discard(body);
            if (e instanceof OsdException oe) {
                throw noBucket(oe, bucketName);
            }
            throw e;
        }
        ns.inUse.release(body.fid());
        changed(change);
        return change.current() != null && change.current().fid().equals(record.fid())
                ? change.current()
                : change.madeNoncurrent().stream()
                        .filter(r -> r.fid().equals(record.fid()))
                        .findFirst()
                        .orElse(record);
    }

    /**
     * In a started transaction that declared {@link #declareSwitch}: makes {@code record} the
     * key's newest version (multipart Complete). The caller calls {@link #changed} after stop.
     */
    KeyVersions.Change switchKey(
            Transaction tx, BucketRecord bucket, String bucketName, byte[] key, KeyRecord record, Precondition pre)
            throws OsdException, S3Exception {
        return versions.put(tx, bucket, bucketName, key, record, pre);
    }

    void declareSwitch(Transaction tx, BucketRecord bucket, byte[] key, int valueLength) throws OsdException {
        versions.declare(tx, bucket, key, valueLength);
    }

    /** After a change committed: wake the sweeper for what was retired, mark the non-current bodies cold. */
    void changed(KeyVersions.Change change) {
        if (!change.retired().isEmpty()) {
            ns.sweeperHint();
        }
        for (KeyRecord r : change.madeNoncurrent()) {
            if (!r.deleteMarker()) {
                ns.advise(r, PlacementHint.COLD);
            }
        }
    }

    /**
     * Rewrites a version's record in place (tags, retention, legal hold: what changes without a
     * new body), in one transaction; NoSuchKey / NoSuchVersion if there is none, MethodNotAllowed
     * for a delete marker.
     */
    public KeyRecord update(BucketRecord bucket, String bucketName, byte[] key, String versionId, RecordChange change)
            throws OsdException, S3Exception {
        Fid v = versionId == null ? null : VersionKeys.parse(versionId);
        return Tx.run(osd, tx -> versions.declare(tx, bucket, key, ns.maxRecordBytes()), tx -> {
            KeyRecord cur;
            boolean current;
            if (versionId == null) {
                cur = versions.current(bucket, key)
                        .filter(r -> !r.deleteMarker())
                        .orElseThrow(() -> noSuchKey(bucketName, key));
                current = true;
            } else {
                KeyVersions.Located l =
                        versions.find(bucket, key, v).orElseThrow(() -> noSuchVersion(bucketName, key, versionId));
                if (l.record().deleteMarker()) {
                    throw markerNotAllowed(l.record());
                }
                cur = l.record();
                current = l.current();
            }
            KeyRecord next = change.apply(cur);
            if (current) {
                tx.upsert(bucket.keys(), key, next.encode());
                // Its tags may have changed what a lifecycle rule selects.
                ns.dueWork.schedule(tx, bucket, ns.planner.current(bucketName, key, next));
            } else {
                tx.upsert(bucket.meta().versions(), VersionKeys.of(key, cur.fid()), next.encode());
            }
            return next;
        });
    }

    /** A change of a version's record; may refuse it by throwing. */
    @FunctionalInterface
    public interface RecordChange {
        KeyRecord apply(KeyRecord current) throws S3Exception;
    }

    /** A non-current version of {@code key} by its FID, if it is still one. */
    public Optional<KeyRecord> noncurrent(BucketRecord bucket, byte[] key, Fid version) throws OsdException {
        if (bucket.meta().versions() == null) {
            return Optional.empty();
        }
        return osd.lookup(bucket.meta().versions(), VersionKeys.of(key, version))
                .map(KeyRecord::decode);
    }

    /** The non-current versions of {@code key}, newest first. */
    public List<KeyRecord> noncurrentVersions(BucketRecord bucket, byte[] key) throws OsdException {
        List<KeyRecord> out = new ArrayList<>();
        if (bucket.meta().versions() == null) {
            return out;
        }
        byte[] prefix = VersionKeys.prefix(key);
        try (IndexCursor c = osd.cursor(bucket.meta().versions(), prefix)) {
            while (c.next() && Namespace.startsWith(c.key(), prefix)) {
                out.add(KeyRecord.decode(c.value()));
            }
        }
        return out;
    }

    /** The DATA objects holding a version's body: itself, or every part of a multipart object. */
    public List<Fid> bodies(KeyRecord r) throws OsdException {
        List<Fid> out = new ArrayList<>();
        if (r.deleteMarker()) {
            return out;
        }
        if (!r.manifest()) {
            out.add(r.fid());
            return out;
        }
        try (IndexCursor c = osd.cursor(r.fid(), null)) {
            while (c.next()) {
                out.add(Fid.fromBytes(c.value(), 0));
            }
        }
        return out;
    }

    /** Advises the pool that a version's body belongs on {@code tier} (its storage class). */
    public void adviseTier(KeyRecord r, String tier) {
        ns.advise(r, PlacementHint.tier(tier));
    }

    /** What a DELETE did, for its response headers. */
    public record Deleted(boolean deleteMarker, String versionId) {}

    /**
     * Deletes a key (DELETE without a version id): the key goes, or in a versioned bucket a
     * delete marker becomes its current version. S3 answers 204 whether or not it existed.
     */
    public Deleted delete(BucketRecord bucket, String bucketName, byte[] key) throws OsdException, S3Exception {
        Fid markerFid = bucket.meta().versioning() != null ? ns.allocator.next() : null;
        KeyRecord marker = markerFid == null ? null : deleteMarker(markerFid);
        KeyVersions.Change change;
        try {
            // Without versioning a delete only gives space back (FREEING: it works on a full pool);
            // a delete marker is a new version and needs room like any write.
            Tx.Updates<KeyVersions.Change> del = tx -> versions.delete(tx, bucket, bucketName, key, marker);
            Tx.Declares decl = tx -> versions.declare(tx, bucket, key, ns.maxRecordBytes());
            change = marker == null ? Tx.freeing(osd, decl, del) : Tx.run(osd, decl, del);
        } catch (OsdException e) {
            throw noBucket(e, bucketName);
        }
        changed(change);
        if (marker == null) {
            return new Deleted(false, null);
        }
        return new Deleted(
                true, change.current() == null ? null : change.current().versionIdText());
    }

    /**
     * Removes one version for good (DELETE with a version id); AccessDenied under object lock
     * unless GOVERNANCE and {@code bypassGovernance}. A version that does not exist is no error.
     */
    public Deleted deleteVersion(
            BucketRecord bucket, String bucketName, byte[] key, String versionId, boolean bypassGovernance)
            throws OsdException, S3Exception {
        Fid v = VersionKeys.parse(versionId);
        KeyVersions.Change change;
        try {
            change = Tx.freeing(
                    osd,
                    tx -> versions.declare(tx, bucket, key, ns.maxRecordBytes()),
                    tx -> versions.deleteVersion(tx, bucket, bucketName, key, v, bypassGovernance));
        } catch (OsdException e) {
            throw noBucket(e, bucketName);
        }
        changed(change);
        boolean marker = !change.retired().isEmpty() && change.retired().get(0).deleteMarker();
        return new Deleted(marker, versionId);
    }

    KeyRecord deleteMarker(Fid fid) {
        return new KeyRecord(
                fid, false, 0, ns.now(), "", 0, null, null, List.of(), Records.Meta.NONE.withDeleteMarker(true));
    }

    static S3Exception noSuchKey(String bucketName, byte[] key) {
        return new S3Exception(
                S3Error.NO_SUCH_KEY, "The specified key does not exist: " + bucketName + "/" + Names.show(key));
    }

    static S3Exception noSuchVersion(String bucketName, byte[] key, String versionId) {
        return new S3Exception(
                        S3Error.NO_SUCH_VERSION,
                        "The specified version does not exist: " + bucketName + "/" + Names.show(key) + " version "
                                + versionId)
                .header("x-amz-version-id", versionId);
    }

    /** S3's answer to a GET/HEAD (or a change) of a version that is a delete marker. */
    static S3Exception markerNotAllowed(KeyRecord marker) {
        return new S3Exception(
                        S3Error.METHOD_NOT_ALLOWED,
                        "The specified method is not allowed against this resource: version " + marker.versionIdText()
                                + " is a delete marker")
                .header("x-amz-delete-marker", "true")
                .header("x-amz-version-id", marker.versionIdText())
                .header("Allow", "DELETE");
    }

    // ---- reading -------------------------------------------------------------------------

    /** A part of an object: its number, where it starts, its size and its checksum (or null). */
    public record PartSpan(int number, long start, long size, String checksum) {}

    /** An object held for reading: its body cannot be destroyed until {@link #close()}. */
    public final class Handle implements AutoCloseable {
        private final KeyRecord record;
        private boolean closed;

        Handle(KeyRecord record) {
            this.record = record;
        }

        public KeyRecord record() {
            return record;
        }

        /**
         * The parts of a multipart object in order (from its manifest); one part, the whole
         * body with the object's checksum, for any other object.
         */
        public List<PartSpan> parts() throws OsdException {
            List<PartSpan> out = new ArrayList<>();
            if (!record.manifest()) {
                out.add(new PartSpan(1, 0, record.size(), record.checksum()));
                return out;
            }
            try (IndexCursor c = osd.cursor(record.fid(), null)) {
                while (c.next()) {
                    Records.ManifestEntry e = Records.ManifestEntry.decode(c.value());
                    long end = ByteBuffer.wrap(c.key()).getLong();
                    out.add(new PartSpan(e.partNumber(), end - e.size(), e.size(), e.checksum()));
                }
            }
            return out;
        }

        /** The body's bytes {@code [start, start+length)}. */
        public BodyInputStream open(long start, long length) {
            return new BodyInputStream(osd, record, start, length, ns.ioChunk);
        }

        /** The chunk {@link BodyInputStream#send} of a range of {@code length} bytes reads at a time. */
        public int chunkSize(long length) {
            return BodyInputStream.chunkSize(ns.ioChunk, length);
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                ns.inUse.release(record.fid());
            }
        }
    }

    /** Opens a key's current version for reading: NoSuchKey if it has none (or a delete marker). */
    public Handle open(BucketRecord bucket, String bucketName, byte[] key) throws OsdException, S3Exception {
        return open(bucket, bucketName, key, null);
    }

    /**
     * Opens a version for reading ({@code versionId} null: the current one). NoSuchKey if the
     * key has no current version or it is a delete marker (with x-amz-delete-marker), NoSuchVersion
     * for a version that does not exist, MethodNotAllowed for a version that is a delete marker.
     */
    public Handle open(BucketRecord bucket, String bucketName, byte[] key, String versionId)
            throws OsdException, S3Exception {
        while (true) {
            KeyRecord r = readable(bucket, bucketName, key, versionId);
            Fid fid = r.fid();
            if (ns.inUse.acquire(fid)) {
                // The version may have gone between the lookup and the acquire, and its body been
                // swept: read the record again now that the body is held.
                Optional<KeyRecord> again = lookup(bucket, bucketName, key, versionId);
                if (again.isPresent() && again.get().fid().equals(fid)) {
                    return new Handle(again.get());
                }
                ns.inUse.release(fid);
                continue;
            }
            // The sweeper claimed the body: normally a version retired since the lookup. Wait for
            // its decision (however long a loaded machine takes), then look again: a record
            // that still names a body the sweeper destroyed is a server bug, not a busy key.
            try {
                ns.inUse.awaitUnclaimed(fid);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new S3Exception(
                        S3Error.SERVICE_UNAVAILABLE,
                        "the gateway is stopping: the read of " + bucketName + "/" + Names.show(key)
                                + " was interrupted; try again");
            }
            Optional<KeyRecord> again = lookup(bucket, bucketName, key, versionId);
            if (again.isPresent() && again.get().fid().equals(fid) && !osd.exists(fid)) {
                throw lostBody(bucketName, key, again.get());
            }
        }
    }

    /** A key whose record names a body that is gone: logged, and 500 (retrying cannot help). */
    private S3Exception lostBody(String bucketName, byte[] key, KeyRecord r) {
        String what = bucketName + "/" + Names.show(key) + " version " + r.versionIdText() + " names "
                + (r.manifest() ? "manifest " : "body ") + r.fid() + " on " + osd.name()
                + ", which the garbage sweeper destroyed: a record in use was listed as garbage"
                + " (a server bug; the object's data is lost — run spillway fsck and report it)";
        LOG.error(what);
        return new S3Exception(S3Error.INTERNAL_ERROR, what);
    }

    private KeyRecord readable(BucketRecord bucket, String bucketName, byte[] key, String versionId)
            throws OsdException, S3Exception {
        Optional<KeyRecord> r = lookup(bucket, bucketName, key, versionId);
        if (r.isEmpty()) {
            throw versionId == null
                    ? noSuchKey(bucketName, key).header("x-amz-delete-marker", "false")
                    : noSuchVersion(bucketName, key, versionId);
        }
        if (r.get().deleteMarker()) {
            if (versionId != null) {
                throw markerNotAllowed(r.get());
            }
            throw noSuchKey(bucketName, key)
                    .header("x-amz-delete-marker", "true")
                    .header("x-amz-version-id", r.get().versionIdText());
        }
        return r.get();
    }

    static int readFully(InputStream in, byte[] buf) throws IOException {
        int off = 0;
        while (off < buf.length) {
            int n = in.read(buf, off, buf.length - off);
            if (n < 0) {
                break;
            }
            off += n;
        }
        return off;
    }

    /** The digests computed while a body streams in. */
    private static final class Digests {
        // Well inside a core's L2 cache, large enough that the per-call cost does not show.
        private static final int SLICE = 64 << 10;
        final MessageDigest md5 = Hashing.md5();
        final MessageDigest sha256;
        final ChecksumAlgorithm.Hasher checksum;

        Digests(ChecksumAlgorithm alg, boolean sha) {
            this.sha256 = sha ? Hashing.sha256() : null;
            this.checksum = alg == null ? null : alg.newHasher();
        }

        /**
         * One pass over the buffer: each digest takes a slice while it is still in the CPU's
         * cache, instead of each digest walking the whole (1 MiB or more) buffer from memory.
         */
        void update(byte[] b, int n) {
            for (int off = 0; off < n; off += SLICE) {
                int len = Math.min(SLICE, n - off);
                md5.update(b, off, len);
                if (sha256 != null) {
                    sha256.update(b, off, len);
                }
                if (checksum != null) {
                    checksum.update(b, off, len);
                }
            }
        }

        StagedBody finish(Fid fid, long size, byte[] inline, String writeCommit) {
            return new StagedBody(
                    fid,
                    size,
                    md5.digest(),
                    sha256 == null ? null : Hashing.hex(sha256.digest()),
                    checksum == null ? null : checksum.base64(),
                    inline,
                    writeCommit);
        }
    }
}
