package dev.spillway.gateway.s3.object;

import dev.spillway.gateway.s3.auth.ChecksumAlgorithm;
import dev.spillway.gateway.s3.bucket.BucketConfigOps;
import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.http.HttpDates;
import dev.spillway.gateway.s3.http.S3Context;
import dev.spillway.gateway.s3.http.S3Request;
import dev.spillway.gateway.s3.http.S3Response;
import dev.spillway.gateway.s3.naming.Names;
import dev.spillway.gateway.s3.store.BodyInputStream;
import dev.spillway.gateway.s3.store.BucketObjects;
import dev.spillway.gateway.s3.store.Precondition;
import dev.spillway.gateway.s3.store.Records;
import dev.spillway.gateway.s3.store.Records.BucketRecord;
import dev.spillway.gateway.s3.store.Records.Header;
import dev.spillway.gateway.s3.store.Records.KeyRecord;
import dev.spillway.gateway.s3.store.StagedBody;
import dev.spillway.gateway.s3.store.Uploads;
import dev.spillway.gateway.s3.xml.XmlNode;
import dev.spillway.gateway.s3.xml.XmlWriter;
import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

/** PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects, CopyObject. */
public final class ObjectOps {
    /** S3's largest single PUT. */
    public static final long MAX_PUT = 5L << 30;

    private static final int MAX_DELETE_KEYS = 1000;
    private static final List<String> RESPONSE_OVERRIDES = List.of(
            "content-type", "content-language", "expires", "cache-control", "content-disposition", "content-encoding");

    private final S3Context ctx;
    private final BucketObjects store;

    public ObjectOps(S3Context ctx) {
        this.ctx = ctx;
        this.store = ctx.objects();
    }

    static String origin(String bucket, byte[] key) {
        return bucket + "/" + new String(key, StandardCharsets.UTF_8);
    }

    public void put(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        ctx.access().checkWrite(req, b);
        List<Header> headers = req.objectHeaders();
        ChecksumAlgorithm alg = req.checksumAlgorithm();
        Precondition pre = new Precondition(req.header("if-match"), req.header("if-none-match"));
        Records.Meta meta =
                newVersionMeta(req, b, Tagging.parseHeader(req.header("x-amz-tagging"), Tagging.MAX_OBJECT_TAGS));
        if (meta.storageClass() != null) {
            // The version's placement is due work: its bucket needs a due index first.
            b = ctx.namespace().ensureDue(req.bucket());
        }
        if (!pre.isNone()) {
            // An early answer before the body streams in; the switch checks again atomically.
            pre.check(store.lookup(b, req.bucket(), req.key()), req.bucket(), req.key());
        }
        StagedBody body = store.stage(
                req.body(), req.contentLength(), MAX_PUT, alg, req.needsSha256(), origin(req.bucket(), req.key()));
        try {
            req.verify(body, alg);
        } catch (S3Exception e) {
            store.discard(body);
            throw e;
        }
        KeyRecord r = body.record(ctx.config().clock().millis(), alg, headers, meta);
        r = store.commit(b, req.bucket(), req.key(), body, r, origin(req.bucket(), req.key()), pre);
        expirationHeader(out, req.bucket(), req.key(), r);
        out.header("ETag", "\"" + r.etag() + "\"");
        if (alg != null) {
            out.header(alg.header(), body.checksum());
            out.header("x-amz-checksum-type", "FULL_OBJECT");
        }
        versionHeader(out, b, r);
        out.empty(200);
    }

    /**
     * What a new version carries besides its body and headers, from the request: tags, storage
     * class, object lock (the request's, else the bucket's default retention), canned ACL, owner.
     */
    public Records.Meta newVersionMeta(S3Request req, BucketRecord b, List<Header> tags)
            throws S3Exception, OsdException {
        Records.Meta meta = Records.Meta.NONE
                .withTags(tags)
                .withStorageClass(StorageClasses.parse(req.header("x-amz-storage-class"), ctx.namespace()));
        meta = ObjectLock.forNewVersion(
                req,
                meta,
                b.meta().objectLock(),
                b.meta().objectLock() ? defaultRetention(req.bucket()) : null,
                ctx.config().clock().millis());
        return ctx.access().objectAcl(req, b, meta);
    }

    ObjectLock.DefaultRetention defaultRetention(String bucket) throws S3Exception, OsdException {
        byte[] doc = ctx.namespace().config(bucket, BucketConfigOps.OBJECT_LOCK).orElse(null);
        return doc == null ? null : ObjectLock.parseConfiguration(doc);
    }

    /** x-amz-expiration: when a lifecycle rule will expire the current version, and which. */
    void expirationHeader(S3Response out, String bucket, byte[] key, KeyRecord r) throws S3Exception, OsdException {
        out.header("x-amz-expiration", ctx.lifecycle().expirationHeader(bucket, key, r));
    }

    /** x-amz-version-id on a write: the new version's id in a bucket with versioning enabled. */
    static void versionHeader(S3Response out, BucketRecord b, KeyRecord r) {
        if (b.versioningEnabled()) {
            out.header("x-amz-version-id", r.versionIdText());
        }
    }

    public void get(S3Request req, S3Response out, boolean head) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        String versionId = req.param("versionId");
        ctx.access()
                .checkRead(
                        req,
                        b,
                        store.lookup(b, req.bucket(), req.key(), versionId).orElse(null));
        try (BucketObjects.Handle h = store.open(b, req.bucket(), req.key(), versionId)) {
            KeyRecord r = h.record();
            if (b.versioned() || versionId != null) {
                out.header("x-amz-version-id", r.versionIdText());
            }
            if (versionId == null) {
                expirationHeader(out, req.bucket(), req.key(), r);
            }
            try {
                Conditions.check(req::header, "", r);
            } catch (S3Exception e) {
                if (e.error() == S3Error.NOT_MODIFIED) {
                    // RFC 9110 §15.4.5: a 304 carries the validators a 200 would have had.
                    out.header("ETag", "\"" + r.etag() + "\"");
                    out.header("Last-Modified", HttpDates.formatMillis(r.mtimeMillis()));
                    out.empty(304);
                    return;
                }
                throw e;
            }
            long size = r.size();
            long start = 0;
            long length = size;
            boolean partial = false;
            String partChecksum = null;
            String range = req.header("range");
            String partNumber = req.param("partNumber");
            if (partNumber != null) {
                if (range != null) {
                    throw new S3Exception(
                            S3Error.INVALID_REQUEST, "Cannot specify both Range header and partNumber query parameter");
                }
                int n = req.intParam("partNumber", 1, 1, Uploads.MAX_PARTS);
                BucketObjects.PartSpan part = null;
                for (BucketObjects.PartSpan p : h.parts()) {
                    if (p.number() == n) {
                        part = p;
                        break;
                    }
                }
                if (part == null) {
                    throw new S3Exception(
                            S3Error.INVALID_PART,
                            "The requested partnumber is not satisfiable: " + req.bucket() + "/" + Names.show(req.key())
                                    + " has no part " + n);
                }
                start = part.start();
                length = part.size();
                partChecksum = part.checksum();
                if (r.manifest()) {
                    partial = true;
                    out.header("Content-Range", "bytes " + start + "-" + (start + length - 1) + "/" + size);
                }
                out.header("x-amz-mp-parts-count", Integer.toString(Math.max(1, r.parts())));
            } else if (range != null) {
                long[] rg = Ranges.parse(range, size);
                if (rg != null) {
                    start = rg[0];
                    length = rg[1] - rg[0] + 1;
                    partial = true;
                    out.header("Content-Range", "bytes " + rg[0] + "-" + rg[1] + "/" + size);
                }
            }
            objectHeaders(req, out, r, partial && partNumber == null);
            if (partChecksum != null && checksumMode(req)) {
                ChecksumAlgorithm alg = ChecksumAlgorithm.of(r.checksumAlgorithm());
                if (alg != null) {
                    out.header(alg.header(), partChecksum);
                    out.header(
                            "x-amz-checksum-type",
                            r.meta().checksumType() == null
                                    ? "FULL_OBJECT"
                                    : r.meta().checksumType());
                }
            }
            int status = partial ? 206 : 200;
            if (head) {
                out.headOnly(status, length);
                return;
            }
            try (BodyInputStream in = h.open(start, length)) {
                out.send(status, length, h.chunkSize(length), (chunk, sink) -> {
                    // The first chunk is read before the status goes out: an object no copy of
                    // which can be read (its device failed) is answered with a clear error, not a
                    // cut body.
                    try {
                        in.prefetch(chunk);
                    } catch (OsdException e) {
                        if (!e.is(Errno.EIO)) {
                            throw e;
                        }
                        throw new S3Exception(
                                S3Error.OBJECT_UNAVAILABLE, origin(req.bucket(), req.key()) + ": " + e.getMessage(), e);
                    }
                    in.send(chunk, sink::write);
                });
            }
        }
    }

    private void objectHeaders(S3Request req, S3Response out, KeyRecord r, boolean partial) {
        out.header("ETag", "\"" + r.etag() + "\"");
        out.header("Last-Modified", HttpDates.formatMillis(r.mtimeMillis()));
        out.header("Accept-Ranges", "bytes");
        if (r.header("content-type") == null) {
            out.header("Content-Type", "binary/octet-stream");
        }
        for (Header hd : r.headers()) {
            out.header(hd.name(), hd.value());
        }
        for (String o : RESPONSE_OVERRIDES) {
            String v = req.param("response-" + o);
            if (v != null) {
                out.header(o, v);
            }
        }
        if (r.parts() > 0) {
            out.header("x-amz-mp-parts-count", Integer.toString(r.parts()));
        }
        if (!r.meta().tags().isEmpty()) {
            out.header("x-amz-tagging-count", Integer.toString(r.meta().tags().size()));
        }
        if (r.meta().storageClass() != null) {
            out.header("x-amz-storage-class", r.meta().storageClass());
        }
        ObjectLock.headers(r.meta(), out::header);
        if (!partial && req.param("partNumber") == null && r.checksum() != null && checksumMode(req)) {
            ChecksumAlgorithm alg = ChecksumAlgorithm.of(r.checksumAlgorithm());
            if (alg != null) {
                out.header(alg.header(), r.checksum());
                out.header(
                        "x-amz-checksum-type",
                        r.meta().checksumType() != null
                                ? r.meta().checksumType()
                                : r.parts() > 0 ? "COMPOSITE" : "FULL_OBJECT");
            }
        }
    }

    static boolean checksumMode(S3Request req) {
        return "ENABLED".equalsIgnoreCase(req.header("x-amz-checksum-mode"));
    }

    public void delete(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        ctx.access().checkWrite(req, b);
        String versionId = req.param("versionId");
        BucketObjects.Deleted d = versionId == null
                ? store.delete(b, req.bucket(), req.key())
                : store.deleteVersion(b, req.bucket(), req.key(), versionId, bypassGovernance(req));
        if (d.deleteMarker()) {
            out.header("x-amz-delete-marker", "true");
        }
        if (d.versionId() != null) {
            out.header("x-amz-version-id", d.versionId());
        }
        out.empty(204);
    }

    static boolean bypassGovernance(S3Request req) {
        return "true".equalsIgnoreCase(req.header("x-amz-bypass-governance-retention"));
    }

    public void deleteMany(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        // Without a bucket policy one check covers every key; with one, each key is judged on
        // its own (a Deny on some keys fails those keys only, as an <Error> each).
        boolean perKey = ctx.access().policy(req.bucket()) != null;
        if (!perKey) {
            ctx.access().checkWrite(req, b);
        }
        XmlNode doc = XmlNode.parse(req.smallBody(4 << 20), "Delete");
        if (!doc.name().equals("Delete")) {
            throw new S3Exception(S3Error.MALFORMED_XML, "expected <Delete>, got <" + doc.name() + ">");
        }
        List<XmlNode> objects = doc.all("Object");
        if (objects.isEmpty() || objects.size() > MAX_DELETE_KEYS) {
            throw new S3Exception(
                    S3Error.MALFORMED_XML,
                    "a Delete request names 1 to " + MAX_DELETE_KEYS + " objects, got " + objects.size());
        }
        boolean quiet = "true".equalsIgnoreCase(doc.childText("Quiet"));
        boolean bypass = bypassGovernance(req);
        XmlWriter w = XmlWriter.document("DeleteResult");
        for (XmlNode o : objects) {
            String key = o.childRawText("Key");
            if (key == null) {
                throw new S3Exception(S3Error.MALFORMED_XML, "an <Object> of the Delete request has no <Key>");
            }
            String versionId = o.childText("VersionId");
            byte[] k = key.getBytes(StandardCharsets.UTF_8);
            S3Exception failed = null;
            try {
                Names.checkKey(k);
                if (perKey) {
                    ctx.access()
                            .checkWrite(req, b, k, versionId == null ? "s3:DeleteObject" : "s3:DeleteObjectVersion");
                }
                BucketObjects.Deleted d = versionId == null
                        ? store.delete(b, req.bucket(), k)
                        : store.deleteVersion(b, req.bucket(), k, versionId, bypass);
                if (!quiet) {
                    w.start("Deleted").element("Key", key).element("VersionId", versionId);
                    if (d.deleteMarker()) {
                        w.element("DeleteMarker", true);
                        w.element("DeleteMarkerVersionId", d.versionId());
                    }
                    w.end("Deleted");
                }
            } catch (S3Exception e) {
                failed = e;
            } catch (OsdException e) {
                failed = S3Exception.of(e);
            }
            if (failed != null) {
                w.start("Error")
                        .element("Key", key)
                        .element("VersionId", versionId)
                        .element("Code", failed.error().code())
                        .element("Message", failed.getMessage())
                        .end("Error");
            }
        }
        out.xml(200, w.finish("DeleteResult"));
    }

    public void copy(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        CopySource src = CopySource.parse(req.header("x-amz-copy-source"));
        BucketRecord srcBucket = ctx.namespace().bucket(src.bucket());
        BucketRecord dst = ctx.namespace().bucket(req.bucket());
        ctx.access().checkWrite(req, dst);
        ctx.access()
                .checkCopySource(
                        req,
                        src.bucket(),
                        src.key(),
                        src.versionId(),
                        srcBucket,
                        store.lookup(srcBucket, src.bucket(), src.key(), src.versionId())
                                .orElse(null));
        String directive = req.header("x-amz-metadata-directive");
        boolean replace = directive != null && directive.strip().equalsIgnoreCase("REPLACE");
        if (directive != null && !replace && !directive.strip().equalsIgnoreCase("COPY")) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, "Unknown metadata directive '" + directive + "'");
        }
        ChecksumAlgorithm wanted = ChecksumAlgorithm.of(req.header("x-amz-checksum-algorithm"));
        try (BucketObjects.Handle h = store.open(srcBucket, src.bucket(), src.key(), src.versionId())) {
            KeyRecord s = h.record();
            Conditions.check(req::header, "x-amz-copy-source-", s);
            if (!replace
                    && wanted == null
                    && src.versionId() == null
                    && req.header("x-amz-storage-class") == null
                    && src.bucket().equals(req.bucket())
                    && Arrays.equals(src.key(), req.key())) {
                throw new S3Exception(
                        S3Error.INVALID_REQUEST,
                        "This copy request is illegal because it is trying to copy an object"
                                + " to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.");
            }
            List<Header> headers = replace ? req.objectHeaders() : s.headers();
            String tagDirective = req.header("x-amz-tagging-directive");
            boolean replaceTags = tagDirective != null && tagDirective.strip().equalsIgnoreCase("REPLACE");
            if (tagDirective != null && !replaceTags && !tagDirective.strip().equalsIgnoreCase("COPY")) {
                throw new S3Exception(S3Error.INVALID_ARGUMENT, "Unknown tagging directive '" + tagDirective + "'");
            }
            List<Header> tags = replaceTags
                    ? Tagging.parseHeader(req.header("x-amz-tagging"), Tagging.MAX_OBJECT_TAGS)
                    : s.meta().tags();
            Records.Meta meta = newVersionMeta(req, dst, tags);
            if (meta.storageClass() != null) {
                dst = ctx.namespace().ensureDue(req.bucket());
            }
            // The copy is one body: it gets a whole-object checksum of the algorithm asked for, else
            // of the source's (a multipart source's composite checksum cannot carry over).
            ChecksumAlgorithm alg = wanted != null ? wanted : ChecksumAlgorithm.of(s.checksumAlgorithm());
            StagedBody body;
            try (InputStream in = h.open(0, s.size())) {
                body = store.stage(in, s.size(), MAX_PUT, alg, false, origin(req.bucket(), req.key()));
            }
            KeyRecord r = body.record(ctx.config().clock().millis(), alg, headers, meta);
            r = store.commit(dst, req.bucket(), req.key(), body, r, origin(req.bucket(), req.key()));
            if (srcBucket.versioned()) {
                out.header("x-amz-copy-source-version-id", s.versionIdText());
            }
            versionHeader(out, dst, r);
            XmlWriter w = XmlWriter.document("CopyObjectResult")
                    .element("LastModified", Instant.ofEpochMilli(r.mtimeMillis()))
                    .element("ETag", "\"" + r.etag() + "\"");
            if (alg != null) {
                w.element(alg.element(), body.checksum());
                w.element("ChecksumType", "FULL_OBJECT");
            }
            out.xml(200, w.finish("CopyObjectResult"));
        }
    }
}
