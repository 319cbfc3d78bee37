package dev.spillway.gateway.s3.object;

import dev.spillway.gateway.s3.auth.ChecksumAlgorithm;
import dev.spillway.gateway.s3.auth.Hashing;
import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.http.HttpDates;
import dev.spillway.gateway.s3.http.S3Context;
import dev.spillway.gateway.s3.http.S3Request;
import dev.spillway.gateway.s3.http.S3Response;
import dev.spillway.gateway.s3.naming.Names;
import dev.spillway.gateway.s3.store.ObjectStore;
import dev.spillway.gateway.s3.store.Precondition;
import dev.spillway.gateway.s3.store.Records;
import dev.spillway.gateway.s3.store.Records.BucketRecord;
import dev.spillway.gateway.s3.store.Records.Header;
import dev.spillway.gateway.s3.store.Records.ObjectRecord;
import dev.spillway.gateway.s3.store.StagedBody;
import dev.spillway.gateway.s3.store.Uploads;
import dev.spillway.gateway.s3.xml.XmlNode;
import dev.spillway.gateway.s3.xml.XmlWriter;
import dev.spillway.osd.OsdException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
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
    private final ObjectStore store;

    public ObjectOps(S3Context ctx) {
        this.ctx = ctx;
        this.store = ctx.objects();
    }

    static String origin(String bucket, byte[] key) {
        return bucket + "/" + new String(key, StandardCharsets.UTF_8);
    }

    public void put(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        List<Header> headers = req.objectHeaders();
        ChecksumAlgorithm alg = req.checksumAlgorithm();
        Precondition pre = new Precondition(req.header("if-match"), req.header("if-none-match"));
        Records.Meta meta =
                Records.Meta.NONE.withTags(Tagging.parseHeader(req.header("x-amz-tagging"), Tagging.MAX_OBJECT_TAGS));
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
        ObjectRecord r = new ObjectRecord(
                body.fid(),
                false,
                body.size(),
                ctx.config().clock().millis(),
                Hashing.hex(body.md5()),
                0,
                alg == null ? null : alg.name(),
                body.checksum(),
                headers,
                meta);
        store.commit(b, req.bucket(), req.key(), body, r, origin(req.bucket(), req.key()), pre);
        out.header("ETag", "\"" + r.etag() + "\"");
        if (alg != null) {
            out.header(alg.header(), body.checksum());
        }
        out.empty(200);
    }

    public void get(S3Request req, S3Response out, boolean head) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        try (ObjectStore.Handle h = store.open(b, req.bucket(), req.key())) {
            ObjectRecord r = h.record();
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
                ObjectStore.PartSpan part = null;
                for (ObjectStore.PartSpan p : h.parts()) {
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
            OutputStream os = out.stream(status, length);
            try (InputStream in = h.open(start, length)) {
                in.transferTo(os);
            }
            os.close();
        }
    }

    private void objectHeaders(S3Request req, S3Response out, ObjectRecord r, boolean partial) {
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

    public void putTagging(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        List<Header> tags = Tagging.parse(req.smallBody(64 << 10), Tagging.MAX_OBJECT_TAGS);
        ObjectRecord r = store.update(
                b, req.bucket(), req.key(), cur -> cur.withMeta(cur.meta().withTags(tags)));
        versionHeader(out, r);
        out.empty(200);
    }

    public void getTagging(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        ObjectRecord r = store.lookup(b, req.bucket(), req.key())
                .filter(x -> !x.deleteMarker())
                .orElseThrow(() -> new S3Exception(
                        S3Error.NO_SUCH_KEY,
                        "The specified key does not exist: " + req.bucket() + "/" + Names.show(req.key())));
        versionHeader(out, r);
        out.xml(200, Tagging.document(r.meta().tags()));
    }

    public void deleteTagging(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        ObjectRecord r = store.update(
                b, req.bucket(), req.key(), cur -> cur.withMeta(cur.meta().withTags(List.of())));
        versionHeader(out, r);
        out.empty(204);
    }

    static void versionHeader(S3Response out, ObjectRecord r) {
        if (r.meta().versionId() != null) {
            out.header("x-amz-version-id", r.meta().versionId());
        }
    }

    public void delete(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        store.delete(b, req.bucket(), req.key());
        out.empty(204);
    }

    public void deleteMany(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
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
        XmlWriter w = XmlWriter.document("DeleteResult");
        for (XmlNode o : objects) {
            String key = o.childRawText("Key");
            if (key == null) {
                throw new S3Exception(S3Error.MALFORMED_XML, "an <Object> of the Delete request has no <Key>");
            }
            byte[] k = key.getBytes(StandardCharsets.UTF_8);
            try {
                Names.checkKey(k);
                store.delete(b, req.bucket(), k);
                if (!quiet) {
                    w.start("Deleted").element("Key", key).end("Deleted");
                }
            } catch (S3Exception e) {
                w.start("Error")
                        .element("Key", key)
                        .element("Code", e.error().code())
                        .element("Message", e.getMessage())
                        .end("Error");
            } catch (OsdException e) {
                S3Exception s = S3Exception.of(e);
                w.start("Error")
                        .element("Key", key)
                        .element("Code", s.error().code())
                        .element("Message", s.getMessage())
                        .end("Error");
            }
        }
        out.xml(200, w.finish("DeleteResult"));
    }

    public void copy(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        CopySource src = CopySource.parse(req.header("x-amz-copy-source"));
        BucketRecord srcBucket = ctx.namespace().bucket(src.bucket());
        BucketRecord dst = ctx.namespace().bucket(req.bucket());
        String directive = req.header("x-amz-metadata-directive");
        boolean replace = directive != null && directive.strip().equalsIgnoreCase("REPLACE");
        if (directive != null && !replace && !directive.strip().equalsIgnoreCase("COPY")) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, "Unknown metadata directive '" + directive + "'");
        }
        ChecksumAlgorithm wanted = ChecksumAlgorithm.of(req.header("x-amz-checksum-algorithm"));
        try (ObjectStore.Handle h = store.open(srcBucket, src.bucket(), src.key())) {
            ObjectRecord s = h.record();
            Conditions.check(req::header, "x-amz-copy-source-", s);
            if (!replace
                    && wanted == null
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
            ChecksumAlgorithm alg =
                    wanted != null ? wanted : s.parts() == 0 ? ChecksumAlgorithm.of(s.checksumAlgorithm()) : null;
            StagedBody body;
            try (InputStream in = h.open(0, s.size())) {
                body = store.stage(in, s.size(), MAX_PUT, alg, false, origin(req.bucket(), req.key()));
            }
            ObjectRecord r = new ObjectRecord(
                    body.fid(),
                    false,
                    body.size(),
                    ctx.config().clock().millis(),
                    Hashing.hex(body.md5()),
                    0,
                    alg == null ? null : alg.name(),
                    body.checksum(),
                    headers,
                    Records.Meta.NONE.withTags(tags));
            store.commit(dst, req.bucket(), req.key(), body, r, origin(req.bucket(), req.key()));
            XmlWriter w = XmlWriter.document("CopyObjectResult")
                    .element("LastModified", Instant.ofEpochMilli(r.mtimeMillis()))
                    .element("ETag", "\"" + r.etag() + "\"");
            if (alg != null) {
                w.element(alg.element(), body.checksum());
            }
            out.xml(200, w.finish("CopyObjectResult"));
        }
    }
}
