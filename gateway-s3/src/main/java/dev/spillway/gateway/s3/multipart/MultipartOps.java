package dev.spillway.gateway.s3.multipart;

import dev.spillway.gateway.s3.auth.ChecksumAlgorithm;
import dev.spillway.gateway.s3.auth.CredentialStore;
import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.http.S3Context;
import dev.spillway.gateway.s3.http.S3Request;
import dev.spillway.gateway.s3.http.S3Response;
import dev.spillway.gateway.s3.naming.Names;
import dev.spillway.gateway.s3.naming.UriCodec;
import dev.spillway.gateway.s3.object.CopySource;
import dev.spillway.gateway.s3.object.ObjectOps;
import dev.spillway.gateway.s3.object.Tagging;
import dev.spillway.gateway.s3.store.BucketObjects;
import dev.spillway.gateway.s3.store.Precondition;
import dev.spillway.gateway.s3.store.Records;
import dev.spillway.gateway.s3.store.Records.BucketRecord;
import dev.spillway.gateway.s3.store.Records.KeyRecord;
import dev.spillway.gateway.s3.store.Records.PartRecord;
import dev.spillway.gateway.s3.store.Records.UploadRecord;
import dev.spillway.gateway.s3.store.StagedBody;
import dev.spillway.gateway.s3.store.Uploads;
import dev.spillway.gateway.s3.xml.XmlNode;
import dev.spillway.gateway.s3.xml.XmlWriter;
import dev.spillway.osd.OsdException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** CreateMultipartUpload, UploadPart, UploadPartCopy, CompleteMultipartUpload, AbortMultipartUpload, ListParts, ListMultipartUploads. */
public final class MultipartOps {
    private final S3Context ctx;
    private final Uploads uploads;
    private final BucketObjects store;

    private final ObjectOps objectOps;

    public MultipartOps(S3Context ctx) {
        this.ctx = ctx;
        this.objectOps = new ObjectOps(ctx);
        this.uploads = ctx.uploads();
        this.store = ctx.objects();
    }

    private static String text(byte[] key, boolean url) {
        return url ? UriCodec.encode(key, true) : new String(key, StandardCharsets.UTF_8);
    }

    public void create(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        ctx.access().checkWrite(req, b);
        String named = req.header("x-amz-checksum-algorithm");
        ChecksumAlgorithm alg = ChecksumAlgorithm.of(named);
        if (named != null && alg == null) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, "unsupported x-amz-checksum-algorithm '" + named + "'");
        }
        String type = req.header("x-amz-checksum-type");
        if (type != null) {
            type = type.strip().toUpperCase(Locale.ROOT);
            if (alg == null || !alg.allows(type)) {
                throw new S3Exception(
                        S3Error.INVALID_REQUEST,
                        "x-amz-checksum-type " + type + " is not allowed with checksum algorithm " + alg
                                + " (FULL_OBJECT needs a CRC, COMPOSITE is not offered for CRC64NVME)");
            }
        } else if (alg != null) {
            type = alg.defaultMultipartType();
        }
        Records.Meta meta = objectOps
                .newVersionMeta(req, b, Tagging.parseHeader(req.header("x-amz-tagging"), Tagging.MAX_OBJECT_TAGS))
                .withChecksumType(type);
        String id =
                uploads.create(b, req.bucket(), req.key(), alg == null ? null : alg.name(), req.objectHeaders(), meta);
        if (alg != null) {
            out.header("x-amz-checksum-algorithm", alg.name());
            out.header("x-amz-checksum-type", type);
        }
        out.xml(
                200,
                XmlWriter.document("InitiateMultipartUploadResult")
                        .element("Bucket", req.bucket())
                        .element("Key", new String(req.key(), StandardCharsets.UTF_8))
                        .element("UploadId", id)
                        .finish("InitiateMultipartUploadResult"));
    }

    private int partNumber(S3Request req) throws S3Exception {
        if (req.param("uploadId") == null || req.param("partNumber") == null) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, "an upload part needs both uploadId and partNumber");
        }
        return req.intParam("partNumber", 0, 1, Uploads.MAX_PARTS);
    }

    public void uploadPart(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        int n = partNumber(req);
        String id = req.param("uploadId");
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        ctx.access().checkWrite(req, b);
        UploadRecord up = uploads.find(b, req.bucket(), req.key(), id);
        ChecksumAlgorithm alg = req.checksumAlgorithm();
        if (alg == null) {
            alg = ChecksumAlgorithm.of(up.checksumAlgorithm());
        }
        String origin =
                req.bucket() + "/" + new String(req.key(), StandardCharsets.UTF_8) + " upload " + id + " part " + n;
        StagedBody body =
                store.stage(req.body(), req.contentLength(), Uploads.MAX_PART_SIZE, alg, req.needsSha256(), origin);
        try {
            req.verify(body, alg);
        } catch (S3Exception e) {
            store.discard(body);
            throw e;
        }
        PartRecord p = uploads.commitPart(b, req.bucket(), req.key(), id, n, body, origin);
        out.header("ETag", "\"" + p.md5Hex() + "\"");
        if (alg != null && body.checksum() != null) {
            out.header(alg.header(), body.checksum());
        }
        out.empty(200);
    }

    public void uploadPartCopy(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        int n = partNumber(req);
        String id = req.param("uploadId");
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        UploadRecord up = uploads.find(b, req.bucket(), req.key(), id);
        CopySource src = CopySource.parse(req.header("x-amz-copy-source"));
        BucketRecord sb = ctx.namespace().bucket(src.bucket());
        ctx.access().checkWrite(req, b);
        ctx.access()
                .checkCopySource(
                        req,
                        src.bucket(),
                        src.key(),
                        src.versionId(),
                        sb,
                        store.lookup(sb, src.bucket(), src.key(), src.versionId())
                                .orElse(null));
        ChecksumAlgorithm alg = ChecksumAlgorithm.of(up.checksumAlgorithm());
        String origin =
                req.bucket() + "/" + new String(req.key(), StandardCharsets.UTF_8) + " upload " + id + " part " + n;
        try (BucketObjects.Handle h = store.open(sb, src.bucket(), src.key(), src.versionId())) {
            KeyRecord s = h.record();
            long start = 0;
            long length = s.size();
            String range = req.header("x-amz-copy-source-range");
            if (range != null) {
                Matcher m = Pattern.compile("bytes=(\\d{1,18})-(\\d{1,18})").matcher(range.strip());
                if (!m.matches()) {
                    throw new S3Exception(
                            S3Error.INVALID_ARGUMENT,
                            "x-amz-copy-source-range must be bytes=first-last, got '" + range + "'");
                }
                long first = Long.parseLong(m.group(1));
                long last = Long.parseLong(m.group(2));
                // Unlike a GET's Range, a copy range is never clipped to the source: all of it must exist.
                if (first > last || last >= s.size()) {
                    throw new S3Exception(
                            S3Error.INVALID_RANGE,
                            "The x-amz-copy-source-range " + range + " is not within the source object "
                                    + src.bucket() + "/" + Names.show(src.key()) + " of "
                                    + s.size() + " bytes");
                }
                start = first;
                length = last - first + 1;
            }
            StagedBody body;
            try (InputStream in = h.open(start, length)) {
                body = store.stage(in, length, Uploads.MAX_PART_SIZE, alg, false, origin);
            }
            PartRecord p = uploads.commitPart(b, req.bucket(), req.key(), id, n, body, origin);
            if (sb.versioned()) {
                out.header("x-amz-copy-source-version-id", s.versionIdText());
            }
            out.xml(
                    200,
                    XmlWriter.document("CopyPartResult")
                            .element("LastModified", Instant.ofEpochMilli(p.mtimeMillis()))
                            .element("ETag", "\"" + p.md5Hex() + "\"")
                            .element(alg == null ? "ChecksumCRC32" : alg.element(), alg == null ? null : p.checksum())
                            .finish("CopyPartResult"));
        }
    }

    public void complete(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        String id = req.param("uploadId");
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        ctx.access().checkWrite(req, b);
        try {
            uploads.find(b, req.bucket(), req.key(), id);
        } catch (S3Exception e) {
            if (e.error() == S3Error.NO_SUCH_UPLOAD) {
                // S3 answers a repeated Complete of an upload it finished as it did the first time.
                req.smallBody(8 << 20);
                KeyRecord done = store.lookup(b, req.bucket(), req.key()).orElse(null);
                if (done != null && id.equals(done.meta().uploadId())) {
                    completed(req, out, done);
                    return;
                }
            }
            throw e;
        }
        XmlNode doc = XmlNode.parse(req.smallBody(8 << 20), "CompleteMultipartUpload");
        if (!doc.name().equals("CompleteMultipartUpload")) {
            throw new S3Exception(
                    S3Error.MALFORMED_XML, "expected <CompleteMultipartUpload>, got <" + doc.name() + ">");
        }
        UploadRecord up = uploads.find(b, req.bucket(), req.key(), id);
        if (up.meta().storageClass() != null) {
            b = ctx.namespace().ensureDue(req.bucket());
        }
        ChecksumAlgorithm upAlg = ChecksumAlgorithm.of(up.checksumAlgorithm());
        List<Uploads.Chosen> chosen = new ArrayList<>();
        for (XmlNode p : doc.all("Part")) {
            String num = p.childText("PartNumber");
            int n;
            try {
                n = Integer.parseInt(num);
            } catch (NumberFormatException e) {
                throw new S3Exception(S3Error.MALFORMED_XML, "a <Part> has PartNumber '" + num + "'");
            }
            chosen.add(new Uploads.Chosen(n, p.childText("ETag"), upAlg == null ? null : p.childText(upAlg.element())));
        }
        String expected = upAlg == null ? null : req.header(upAlg.header());
        KeyRecord r = uploads.complete(
                b,
                req.bucket(),
                req.key(),
                id,
                chosen,
                ctx.config().minPartSize(),
                expected,
                m -> m,
                new Precondition(req.header("if-match"), req.header("if-none-match")));
        completed(req, out, r);
    }

    private static void completed(S3Request req, S3Response out, KeyRecord r) throws IOException {
        XmlWriter w = XmlWriter.document("CompleteMultipartUploadResult")
                .element("Location", "/" + req.bucket() + "/" + UriCodec.encode(req.key(), true))
                .element("Bucket", req.bucket())
                .element("Key", new String(req.key(), StandardCharsets.UTF_8))
                .element("ETag", "\"" + r.etag() + "\"");
        ChecksumAlgorithm alg = ChecksumAlgorithm.of(r.checksumAlgorithm());
        if (alg != null && r.checksum() != null) {
            w.element(alg.element(), r.checksum());
            w.element("ChecksumType", r.meta().checksumType());
        }
        if (r.meta().versionId() != null) {
            out.header("x-amz-version-id", r.meta().versionId());
        }
        out.xml(200, w.finish("CompleteMultipartUploadResult"));
    }

    /** Who started an upload: the owner its object will have. */
    private CredentialStore.User initiator(BucketRecord b, UploadRecord up) {
        return up.meta().owner() == null
                ? ctx.access().bucketOwner(b)
                : ctx.access().user(up.meta().owner());
    }

    public void abort(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        ctx.access().checkWrite(req, b);
        uploads.abort(b, req.bucket(), req.key(), req.param("uploadId"));
        out.empty(204);
    }

    public void listParts(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        String id = req.param("uploadId");
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        ctx.access().checkWrite(req, b);
        UploadRecord up = uploads.find(b, req.bucket(), req.key(), id);
        int marker = req.intParam("part-number-marker", 0, 0, Uploads.MAX_PARTS);
        int max = Math.min(req.intParam("max-parts", 1000, 0, Integer.MAX_VALUE), 1000);
        List<Uploads.Part> parts = uploads.parts(up, marker, max + 1);
        boolean truncated = parts.size() > max;
        if (truncated) {
            parts = parts.subList(0, max);
        }
        boolean url = "url".equals(req.param("encoding-type"));
        XmlWriter w = XmlWriter.document("ListPartsResult")
                .element("Bucket", req.bucket())
                .element("Key", text(req.key(), url))
                .element("UploadId", id)
                .start("Initiator")
                .element("ID", initiator(b, up).id())
                .element("DisplayName", initiator(b, up).displayName())
                .end("Initiator")
                .start("Owner")
                .element("ID", initiator(b, up).id())
                .element("DisplayName", initiator(b, up).displayName())
                .end("Owner")
                .element(
                        "StorageClass",
                        up.meta().storageClass() == null
                                ? "STANDARD"
                                : up.meta().storageClass())
                .element("PartNumberMarker", marker)
                .element(
                        "NextPartNumberMarker",
                        parts.isEmpty() ? marker : parts.get(parts.size() - 1).number())
                .element("MaxParts", max)
                .element("IsTruncated", truncated);
        if (up.checksumAlgorithm() != null) {
            w.element("ChecksumAlgorithm", up.checksumAlgorithm());
            w.element("ChecksumType", up.meta().checksumType());
        }
        ChecksumAlgorithm alg = ChecksumAlgorithm.of(up.checksumAlgorithm());
        for (Uploads.Part p : parts) {
            w.start("Part")
                    .element("PartNumber", p.number())
                    .element("LastModified", Instant.ofEpochMilli(p.record().mtimeMillis()))
                    .element("ETag", "\"" + p.record().md5Hex() + "\"")
                    .element("Size", p.record().size());
            if (alg != null && p.record().checksum() != null) {
                w.element(alg.element(), p.record().checksum());
            }
            w.end("Part");
        }
        out.xml(200, w.finish("ListPartsResult"));
    }

    public void listUploads(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        ctx.access().checkList(req, b);
        String prefix = req.param("prefix") == null ? "" : req.param("prefix");
        String keyMarker = req.param("key-marker");
        int max = Math.min(req.intParam("max-uploads", 1000, 0, Integer.MAX_VALUE), 1000);
        byte[] from = keyMarker == null || keyMarker.isEmpty()
                ? null
                : Arrays.copyOf(
                        keyMarker.getBytes(StandardCharsets.UTF_8),
                        keyMarker.getBytes(StandardCharsets.UTF_8).length + 17);
        List<Uploads.Upload> list = uploads.list(b, prefix.getBytes(StandardCharsets.UTF_8), from, max + 1);
        boolean truncated = list.size() > max;
        if (truncated) {
            list = list.subList(0, max);
        }
        boolean url = "url".equals(req.param("encoding-type"));
        XmlWriter w = XmlWriter.document("ListMultipartUploadsResult")
                .element("Bucket", req.bucket())
                .element("KeyMarker", keyMarker == null ? "" : keyMarker)
                .element("UploadIdMarker", req.param("upload-id-marker") == null ? "" : req.param("upload-id-marker"))
                .element("Prefix", prefix)
                .element("MaxUploads", max)
                .element("EncodingType", url ? "url" : null)
                .element("IsTruncated", truncated);
        if (truncated && !list.isEmpty()) {
            Uploads.Upload last = list.get(list.size() - 1);
            w.element("NextKeyMarker", text(last.key(), url)).element("NextUploadIdMarker", last.uploadId());
        }
        for (Uploads.Upload u : list) {
            w.start("Upload")
                    .element("Key", text(u.key(), url))
                    .element("UploadId", u.uploadId())
                    .start("Initiator")
                    .element("ID", initiator(b, u.record()).id())
                    .element("DisplayName", initiator(b, u.record()).displayName())
                    .end("Initiator")
                    .start("Owner")
                    .element("ID", initiator(b, u.record()).id())
                    .element("DisplayName", initiator(b, u.record()).displayName())
                    .end("Owner")
                    .element(
                            "StorageClass",
                            u.record().meta().storageClass() == null
                                    ? "STANDARD"
                                    : u.record().meta().storageClass())
                    .element("Initiated", Instant.ofEpochMilli(u.record().initiatedMillis()))
                    .end("Upload");
        }
        out.xml(200, w.finish("ListMultipartUploadsResult"));
    }
}
