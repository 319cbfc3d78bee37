package dev.spillway.gateway.s3.store;

import dev.spillway.gateway.s3.auth.ChecksumAlgorithm;
import dev.spillway.gateway.s3.auth.Hashing;
import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.error.S3StreamException;
import dev.spillway.gateway.s3.store.Records.BucketRecord;
import dev.spillway.gateway.s3.store.Records.ObjectRecord;
import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Capability;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.XattrFlag;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Optional;

/**
 * Object bodies and key records: stage a body under a fresh FID, switch a key to it in one
 * transaction, delete, and open for reading.
 *
 * <p>Why overwrites and deletes are atomic for clients: a key record is replaced by one index
 * upsert in the transaction that also records the previous body in the garbage index; a reader
 * sees the old record or the new one. The old body is destroyed later by the
 * {@link GarbageSweeper}, and only once no reader holds it in {@link InUse}.
 */
public final class ObjectStore {
    private final Namespace ns;
    private final Osd osd;

    public ObjectStore(Namespace ns) {
        this.ns = ns;
        this.osd = ns.osd;
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
        ns.inUse.acquire(fid);
        Digests d = new Digests(checksum, sha256);
        byte[] originBytes = origin.getBytes(StandardCharsets.UTF_8);
        byte[] buf = new byte[ns.ioChunk];
        boolean created = false;
        boolean done = false;
        try {
            int n = readFully(in, buf);
            d.update(buf, n);
            if (n < buf.length) {
                StagedBody s = d.finish(fid, n, Arrays.copyOf(buf, n));
                done = true;
                return s;
            }
            long size;
            if (osd.capabilities().has(Capability.PARTIAL_WRITE)) {
                writeFirst(fid, buf, n, originBytes, -1);
                created = true;
                size = n;
                while (true) {
                    n = readFully(in, buf);
                    if (n == 0) {
                        break;
                    }
                    size = checkSize(size + n, maxSize);
                    d.update(buf, n);
                    long off = size - n;
                    int len = n;
                    Tx.run(osd, tx -> tx.declareWrite(fid, off, len), tx -> {
                        tx.write(fid, off, ByteBuffer.wrap(buf, 0, len));
                        return null;
                    });
                }
            } else {
                size = writeWhole(fid, in, buf, n, originBytes, expectedLength, maxSize, d);
                created = true;
            }
            StagedBody s = d.finish(fid, size, null);
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

    /** Creates the DATA object with its PENDING garbage entry and writes the first chunk. */
    private void writeFirst(Fid fid, byte[] buf, int n, byte[] origin, long declared) throws OsdException, S3Exception {
        byte[] gkey = fid.toBytes();
        byte[] gval = Garbage.value(Garbage.PENDING, ns.now());
        Tx.run(
                osd,
                tx -> {
                    tx.declareCreate(fid, ObjectKind.DATA);
                    tx.declareInsert(ns.garbage, gkey.length, gval.length);
                    tx.declareSetXattr(fid, Namespace.ORIGIN_XATTR, origin.length);
                    tx.declareWrite(fid, 0, declared < 0 ? n : declared);
                },
                tx -> {
                    tx.create(fid, ObjectKind.DATA, AttrChange.none());
                    tx.upsert(ns.garbage, gkey, gval);
                    tx.setXattr(fid, Namespace.ORIGIN_XATTR, origin, XattrFlag.UPSERT);
                    tx.write(fid, 0, ByteBuffer.wrap(buf, 0, n));
                    return null;
                });
    }

    /**
     * A device without in-place writes takes a body in one transaction, written sequentially
     * from 0 (the whole-object PUT of an object store); that needs the length up front.
     */
    private long writeWhole(
            Fid fid, InputStream in, byte[] buf, int first, byte[] origin, long expectedLength, long maxSize, Digests d)
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
                },
                tx -> {
                    tx.create(fid, ObjectKind.DATA, AttrChange.none());
                    tx.upsert(ns.garbage, gkey, gval);
                    tx.setXattr(fid, Namespace.ORIGIN_XATTR, origin, XattrFlag.UPSERT);
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
        byte[] gkey = fid.toBytes();
        try {
            Tx.run(
                    osd,
                    tx -> {
                        tx.declareDestroy(fid);
                        tx.declareDelete(ns.garbage, gkey.length);
                    },
                    tx -> {
                        if (osd.exists(fid)) {
                            tx.destroy(fid);
                        }
                        if (osd.lookup(ns.garbage, gkey).isPresent()) {
                            tx.delete(ns.garbage, gkey);
                        }
                        return null;
                    });
        } catch (OsdException | S3Exception e) {
            ns.sweeperHint();
        }
    }

    // ---- key records ---------------------------------------------------------------------

    public Optional<ObjectRecord> lookup(BucketRecord bucket, String bucketName, byte[] key)
            throws OsdException, S3Exception {
        try {
            return osd.lookup(bucket.keys(), key).map(ObjectRecord::decode);
        } catch (OsdException e) {
            if (e.is(Errno.ENOENT)) {
                throw new S3Exception(S3Error.NO_SUCH_BUCKET, "The specified bucket does not exist: " + bucketName);
            }
            throw e;
        }
    }

    /**
     * Makes {@code record} (whose body is {@code body}) the value of {@code key}, in one
     * transaction that also writes an inline body and moves the previous body to the garbage
     * index. Releases the staged body's in-use mark.
     */
    public void commit(
            BucketRecord bucket, String bucketName, byte[] key, StagedBody body, ObjectRecord record, String origin)
            throws OsdException, S3Exception {
        commit(bucket, bucketName, key, body, record, origin, Precondition.NONE);
    }

    /** As {@link #commit}, if {@code pre} holds for the key's current record at the switch. */
    public void commit(
            BucketRecord bucket,
            String bucketName,
            byte[] key,
            StagedBody body,
            ObjectRecord record,
            String origin,
            Precondition pre)
            throws OsdException, S3Exception {
        byte[] value = record.encode();
        byte[] originBytes = origin.getBytes(StandardCharsets.UTF_8);
        byte[] gkey = body.fid().toBytes();
        try {
            Optional<ObjectRecord> old = Tx.run(
                    osd,
                    tx -> {
                        if (body.isInline()) {
                            tx.declareCreate(body.fid(), ObjectKind.DATA);
                            tx.declareSetXattr(body.fid(), Namespace.ORIGIN_XATTR, originBytes.length);
                            tx.declareWrite(body.fid(), 0, body.size());
                        } else {
                            tx.declareDelete(ns.garbage, gkey.length);
                        }
                        tx.declareInsert(bucket.keys(), key.length, value.length);
                        tx.declareInsert(ns.garbage, Fid.BYTES, Garbage.VALUE_BYTES);
                    },
                    tx -> {
                        if (body.isInline()) {
                            tx.create(body.fid(), ObjectKind.DATA, AttrChange.none());
                            tx.setXattr(body.fid(), Namespace.ORIGIN_XATTR, originBytes, XattrFlag.UPSERT);
                            if (body.size() > 0) {
                                tx.write(body.fid(), 0, ByteBuffer.wrap(body.inline()));
                            }
                        } else {
                            tx.delete(ns.garbage, gkey);
                        }
                        return switchKey(tx, bucket, bucketName, key, value, pre);
                    });
            if (old.isPresent()) {
                ns.sweeperHint();
            }
        } catch (OsdException | S3Exception | RuntimeException e) {
            discard(body);
            throw e;
        }
        ns.inUse.release(body.fid());
    }

    /** In a started transaction holding the key index's lock: upsert the key, retire the old body. */
    Optional<ObjectRecord> switchKey(
            Transaction tx, BucketRecord bucket, String bucketName, byte[] key, byte[] value, Precondition pre)
            throws OsdException, S3Exception {
        Optional<ObjectRecord> old = lookup(bucket, bucketName, key);
        pre.check(old, bucketName, key);
        tx.upsert(bucket.keys(), key, value);
        if (old.isPresent()) {
            retire(tx, old.get());
        }
        return old;
    }

    void retire(Transaction tx, ObjectRecord old) throws OsdException {
        tx.upsert(
                ns.garbage,
                old.fid().toBytes(),
                Garbage.value(old.manifest() ? Garbage.MANIFEST : Garbage.DATA, ns.now()));
    }

    /**
     * Rewrites a key's current record in place (tags, retention, legal hold: what changes
     * without a new body), in one transaction; NoSuchKey if there is none.
     */
    public ObjectRecord update(
            BucketRecord bucket, String bucketName, byte[] key, java.util.function.UnaryOperator<ObjectRecord> change)
            throws OsdException, S3Exception {
        return Tx.run(osd, tx -> tx.declareInsert(bucket.keys(), key.length, ns.maxRecordBytes()), tx -> {
            ObjectRecord cur = lookup(bucket, bucketName, key)
                    .filter(r -> !r.deleteMarker())
                    .orElseThrow(() -> new S3Exception(
                            S3Error.NO_SUCH_KEY,
                            "The specified key does not exist: " + bucketName + "/"
                                    + new String(key, StandardCharsets.UTF_8)));
            ObjectRecord next = change.apply(cur);
            tx.upsert(bucket.keys(), key, next.encode());
            return next;
        });
    }

    /** Deletes a key; true if it existed (S3 answers 204 either way). */
    public boolean delete(BucketRecord bucket, String bucketName, byte[] key) throws OsdException, S3Exception {
        boolean existed = Tx.run(
                osd,
                tx -> {
                    tx.declareDelete(bucket.keys(), key.length);
                    tx.declareInsert(ns.garbage, Fid.BYTES, Garbage.VALUE_BYTES);
                },
                tx -> {
                    Optional<ObjectRecord> old = lookup(bucket, bucketName, key);
                    if (old.isEmpty()) {
                        return false;
                    }
                    tx.delete(bucket.keys(), key);
                    retire(tx, old.get());
                    return true;
                });
        if (existed) {
            ns.sweeperHint();
        }
        return existed;
    }

    // ---- reading -------------------------------------------------------------------------

    /** A part of an object: its number, where it starts, its size and its checksum (or null). */
    public record PartSpan(int number, long start, long size, String checksum) {}

    /** An object held for reading: its body cannot be destroyed until {@link #close()}. */
    public final class Handle implements AutoCloseable {
        private final ObjectRecord record;
        private boolean closed;

        Handle(ObjectRecord record) {
            this.record = record;
        }

        public ObjectRecord record() {
            return record;
        }

        /**
         * The parts of a multipart object in order (from its manifest); one part, the whole
         * body with the object's checksum, for any other object.
         */
        public java.util.List<PartSpan> parts() throws OsdException {
            java.util.List<PartSpan> out = new java.util.ArrayList<>();
            if (!record.manifest()) {
                out.add(new PartSpan(1, 0, record.size(), record.checksum()));
                return out;
            }
            try (dev.spillway.osd.IndexCursor c = osd.cursor(record.fid(), null)) {
                while (c.next()) {
                    Records.ManifestEntry e = Records.ManifestEntry.decode(c.value());
                    long end = ByteBuffer.wrap(c.key()).getLong();
                    out.add(new PartSpan(e.partNumber(), end - e.size(), e.size(), e.checksum()));
                }
            }
            return out;
        }

        /** The body's bytes {@code [start, start+length)}. */
        public InputStream open(long start, long length) {
            return new BodyInputStream(osd, record, start, length, ns.ioChunk);
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                ns.inUse.release(record.fid());
            }
        }
    }

    /** Opens a key for reading, or NoSuchKey. */
    public Handle open(BucketRecord bucket, String bucketName, byte[] key) throws OsdException, S3Exception {
        for (int attempt = 0; attempt < 100; attempt++) {
            Optional<ObjectRecord> r = lookup(bucket, bucketName, key);
            if (r.isEmpty()) {
                throw new S3Exception(
                        S3Error.NO_SUCH_KEY,
                        "The specified key does not exist: " + bucketName + "/"
                                + new String(key, StandardCharsets.UTF_8));
            }
            Fid fid = r.get().fid();
            if (ns.inUse.acquire(fid)) {
                // The key may have moved on between the lookup and the acquire, and the old body
                // been swept: read the record again now that the body is held.
                Optional<ObjectRecord> again = lookup(bucket, bucketName, key);
                if (again.isPresent() && again.get().fid().equals(fid)) {
                    return new Handle(again.get());
                }
                ns.inUse.release(fid);
            }
            Thread.onSpinWait();
        }
        throw new S3Exception(
                S3Error.SERVICE_UNAVAILABLE,
                "key " + bucketName + "/" + new String(key, StandardCharsets.UTF_8)
                        + " is being overwritten too fast to read; try again");
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
        final MessageDigest md5 = Hashing.md5();
        final MessageDigest sha256;
        final ChecksumAlgorithm.Hasher checksum;

        Digests(ChecksumAlgorithm alg, boolean sha) {
            this.sha256 = sha ? Hashing.sha256() : null;
            this.checksum = alg == null ? null : alg.newHasher();
        }

        void update(byte[] b, int n) {
            md5.update(b, 0, n);
            if (sha256 != null) {
                sha256.update(b, 0, n);
            }
            if (checksum != null) {
                checksum.update(b, 0, n);
            }
        }

        StagedBody finish(Fid fid, long size, byte[] inline) {
            return new StagedBody(
                    fid,
                    size,
                    md5.digest(),
                    sha256 == null ? null : Hashing.hex(sha256.digest()),
                    checksum == null ? null : checksum.base64(),
                    inline);
        }
    }
}
