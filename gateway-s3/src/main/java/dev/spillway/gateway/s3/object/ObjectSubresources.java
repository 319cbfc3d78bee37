package dev.spillway.gateway.s3.object;

import dev.spillway.gateway.s3.auth.ChecksumAlgorithm;
import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.http.HttpDates;
import dev.spillway.gateway.s3.http.S3Context;
import dev.spillway.gateway.s3.http.S3Request;
import dev.spillway.gateway.s3.http.S3Response;
import dev.spillway.gateway.s3.naming.Names;
import dev.spillway.gateway.s3.store.BucketObjects;
import dev.spillway.gateway.s3.store.Records.BucketRecord;
import dev.spillway.gateway.s3.store.Records.Header;
import dev.spillway.gateway.s3.store.Records.KeyRecord;
import dev.spillway.gateway.s3.xml.XmlWriter;
import dev.spillway.osd.OsdException;
import java.io.IOException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What an object version carries besides its body, each its own subresource: tagging,
 * GetObjectAttributes, retention and legal hold. Each takes {@code versionId}.
 */
public final class ObjectSubresources {
    private static final Set<String> ATTRIBUTES =
            Set.of("ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize");

    private final S3Context ctx;
    private final BucketObjects store;

    public ObjectSubresources(S3Context ctx) {
        this.ctx = ctx;
        this.store = ctx.objects();
    }

    /** A version that exists and is no delete marker, or S3's error for it. */
    private KeyRecord version(S3Request req, BucketRecord b) throws S3Exception, OsdException {
        String versionId = req.param("versionId");
        try (BucketObjects.Handle h = store.open(b, req.bucket(), req.key(), versionId)) {
            return h.record();
        }
    }

    private static void versionHeader(S3Response out, BucketRecord b, KeyRecord r) {
        if (b.versioned() || r.meta().versionId() != null) {
            out.header("x-amz-version-id", r.versionIdText());
        }
    }

    // ---- tagging -------------------------------------------------------------------------

    public void putTagging(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        ctx.access().checkWrite(req, b);
        List<Header> tags = Tagging.parse(req.smallBody(64 << 10), Tagging.MAX_OBJECT_TAGS);
        KeyRecord r = store.update(
                b,
                req.bucket(),
                req.key(),
                req.param("versionId"),
                cur -> cur.withMeta(cur.meta().withTags(tags)));
        versionHeader(out, b, r);
        out.empty(200);
    }

    public void getTagging(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        KeyRecord r = version(req, b);
        ctx.access().checkRead(req, b, r);
        versionHeader(out, b, r);
        out.xml(200, Tagging.document(r.meta().tags()));
    }

    public void deleteTagging(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        ctx.access().checkWrite(req, b);
        KeyRecord r = store.update(
                b,
                req.bucket(),
                req.key(),
                req.param("versionId"),
                cur -> cur.withMeta(cur.meta().withTags(List.of())));
        versionHeader(out, b, r);
        out.empty(204);
    }

    // ---- GetObjectAttributes -------------------------------------------------------------

    /**
     * GetObjectAttributes: the attributes named in {@code x-amz-object-attributes} (ETag,
     * Checksum, ObjectParts, StorageClass, ObjectSize), the parts paged by
     * {@code x-amz-max-parts} and {@code x-amz-part-number-marker}.
     */
    public void attributes(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        Set<String> wanted = new LinkedHashSet<>();
        for (String v : req.headerValues("x-amz-object-attributes")) {
            for (String a : v.split(",")) {
                String name = a.strip();
                if (name.isEmpty()) {
                    continue;
                }
                if (!ATTRIBUTES.contains(name)) {
                    throw new S3Exception(
                            S3Error.INVALID_ARGUMENT,
                            "Invalid attribute name specified: '" + name + "' (one of " + ATTRIBUTES + ")");
                }
                wanted.add(name);
            }
        }
        if (wanted.isEmpty()) {
            throw new S3Exception(
                    S3Error.INVALID_REQUEST,
                    "GetObjectAttributes needs x-amz-object-attributes naming at least one of " + ATTRIBUTES);
        }
        int maxParts = intHeader(req, "x-amz-max-parts", 1000);
        int marker = intHeader(req, "x-amz-part-number-marker", 0);
        try (BucketObjects.Handle h = store.open(b, req.bucket(), req.key(), req.param("versionId"))) {
            KeyRecord r = h.record();
            ctx.access().checkRead(req, b, r);
            versionHeader(out, b, r);
            out.header("Last-Modified", HttpDates.formatMillis(r.mtimeMillis()));
            XmlWriter w = XmlWriter.document("GetObjectAttributesResponse");
            if (wanted.contains("ETag")) {
                w.element("ETag", r.etag());
            }
            ChecksumAlgorithm alg = ChecksumAlgorithm.of(r.checksumAlgorithm());
            if (wanted.contains("Checksum") && alg != null && r.checksum() != null) {
                w.start("Checksum")
                        .element(alg.element(), r.checksum())
                        .element("ChecksumType", checksumType(r))
                        .end("Checksum");
            }
            if (wanted.contains("ObjectParts") && r.manifest()) {
                List<BucketObjects.PartSpan> parts = h.parts();
                w.start("ObjectParts").element("PartsCount", r.parts()).element("PartNumberMarker", marker);
                int n = 0;
                int last = marker;
                boolean truncated = false;
                for (BucketObjects.PartSpan p : parts) {
                    if (p.number() <= marker) {
                        continue;
                    }
                    if (n == maxParts) {
                        truncated = true;
                        break;
                    }
                    last = p.number();
                    n++;
                }
                w.element("NextPartNumberMarker", last)
                        .element("MaxParts", maxParts)
                        .element("IsTruncated", truncated);
                n = 0;
                for (BucketObjects.PartSpan p : parts) {
                    if (p.number() <= marker || n == maxParts) {
                        continue;
                    }
                    n++;
                    w.start("Part").element("PartNumber", p.number()).element("Size", p.size());
                    if (alg != null && p.checksum() != null) {
                        w.element(alg.element(), p.checksum());
                    }
                    w.end("Part");
                }
                w.end("ObjectParts");
            }
            if (wanted.contains("StorageClass")) {
                w.element("StorageClass", r.storageClass());
            }
            if (wanted.contains("ObjectSize")) {
                w.element("ObjectSize", r.size());
            }
            out.xml(200, w.finish("GetObjectAttributesResponse"));
        }
    }

    static String checksumType(KeyRecord r) {
        return r.meta().checksumType() != null ? r.meta().checksumType() : r.parts() > 0 ? "COMPOSITE" : "FULL_OBJECT";
    }

    private static int intHeader(S3Request req, String name, int dflt) throws S3Exception {
        String v = req.header(name);
        if (v == null) {
            return dflt;
        }
        try {
            int i = Integer.parseInt(v.strip());
            if (i < 0) {
                throw new NumberFormatException();
            }
            return Math.min(i, 1000);
        } catch (NumberFormatException e) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, name + " must be a non-negative integer, got '" + v + "'");
        }
    }

    // ---- object lock ---------------------------------------------------------------------

    private static void requireLock(BucketRecord b, String bucket) throws S3Exception {
        if (!b.meta().objectLock()) {
            throw new S3Exception(
                    S3Error.INVALID_REQUEST,
                    "Bucket is missing Object Lock Configuration: " + bucket
                            + " was not created with object lock (nor given it with PutObjectLockConfiguration)");
        }
    }

    public void putRetention(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        ctx.access().checkWrite(req, b);
        requireLock(b, req.bucket());
        ObjectLock.Retention ret = ObjectLock.parseRetention(req.smallBody(64 << 10));
        boolean bypass = ObjectOps.bypassGovernance(req);
        long now = ctx.config().clock().millis();
        KeyRecord r = store.update(
                b,
                req.bucket(),
                req.key(),
                req.param("versionId"),
                cur -> cur.withMeta(ObjectLock.changeRetention(
                        cur.meta(),
                        ret,
                        bypass,
                        now,
                        req.bucket() + "/" + Names.show(req.key()) + " version " + cur.versionIdText())));
        versionHeader(out, b, r);
        out.empty(200);
    }

    public void getRetention(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        requireLock(b, req.bucket());
        KeyRecord r = version(req, b);
        ctx.access().checkRead(req, b, r);
        if (r.meta().lockMode() == null) {
            throw new S3Exception(
                    S3Error.NO_SUCH_OBJECT_LOCK_CONFIGURATION,
                    "The specified object does not have a ObjectLock configuration: " + req.bucket() + "/"
                            + Names.show(req.key()) + " version " + r.versionIdText() + " has no retention");
        }
        out.xml(200, ObjectLock.retentionDocument(r.meta()));
    }

    public void putLegalHold(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        ctx.access().checkWrite(req, b);
        requireLock(b, req.bucket());
        boolean on = ObjectLock.parseLegalHold(req.smallBody(64 << 10));
        KeyRecord r = store.update(
                b,
                req.bucket(),
                req.key(),
                req.param("versionId"),
                cur -> cur.withMeta(cur.meta().withLegalHold(on)));
        versionHeader(out, b, r);
        out.empty(200);
    }

    public void getLegalHold(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        requireLock(b, req.bucket());
        KeyRecord r = version(req, b);
        ctx.access().checkRead(req, b, r);
        out.xml(200, ObjectLock.legalHoldDocument(r.meta().legalHold()));
    }
}
