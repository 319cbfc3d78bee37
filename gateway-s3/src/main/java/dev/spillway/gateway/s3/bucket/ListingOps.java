package dev.spillway.gateway.s3.bucket;

import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.http.S3Context;
import dev.spillway.gateway.s3.http.S3Request;
import dev.spillway.gateway.s3.http.S3Response;
import dev.spillway.gateway.s3.naming.UriCodec;
import dev.spillway.gateway.s3.store.Records.BucketRecord;
import dev.spillway.gateway.s3.store.Records.ObjectRecord;
import dev.spillway.gateway.s3.xml.XmlWriter;
import dev.spillway.osd.OsdException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;

/** ListObjectsV2, ListObjects (v1) and ListObjectVersions over a bucket's key index. */
public final class ListingOps {
    private final S3Context ctx;

    public ListingOps(S3Context ctx) {
        this.ctx = ctx;
    }

    private record Common(BucketRecord bucket, byte[] prefix, byte[] delimiter, int max, boolean url) {}

    private Common common(S3Request req) throws S3Exception, OsdException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        String et = req.param("encoding-type");
        if (et != null && !et.equals("url")) {
            throw new S3Exception(
                    S3Error.INVALID_ARGUMENT, "Invalid Encoding Method specified in Request: '" + et + "'");
        }
        String d = req.param("delimiter");
        return new Common(
                b,
                bytes(req.param("prefix")),
                d == null || d.isEmpty() ? null : bytes(d),
                req.intParam(req.has("max-uploads") ? "max-uploads" : "max-keys", 1000, 0, Integer.MAX_VALUE),
                et != null);
    }

    public void listV2(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        Common c = common(req);
        int max = Math.min(c.max, 1000);
        byte[] from = null;
        String token = req.param("continuation-token");
        String startAfter = req.param("start-after");
        if (token != null) {
            from = decodeToken(token);
        } else if (startAfter != null && !startAfter.isEmpty()) {
            from = KeyScan.successor(bytes(startAfter));
        }
        KeyScan.Page page = KeyScan.scan(ctx.namespace().osd(), c.bucket.keys(), c.prefix, c.delimiter, from, max);
        XmlWriter w = XmlWriter.document("ListBucketResult")
                .element("Name", req.bucket())
                .element("Prefix", text(c.prefix, c.url))
                .element("Delimiter", c.delimiter == null ? null : text(c.delimiter, c.url))
                .element("MaxKeys", max)
                .element("EncodingType", c.url ? "url" : null)
                .element("KeyCount", page.entries().size())
                .element("IsTruncated", page.truncated())
                .element("ContinuationToken", token)
                .element("StartAfter", startAfter == null ? null : text(bytes(startAfter), c.url));
        if (page.truncated()) {
            w.element("NextContinuationToken", encodeToken(page.last()));
        }
        boolean owner = "true".equals(req.param("fetch-owner"));
        entries(w, page, c.url, owner, false);
        out.xml(200, w.finish("ListBucketResult"));
    }

    public void listV1(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        Common c = common(req);
        int max = Math.min(c.max, 1000);
        String marker = req.param("marker");
        byte[] from = after(marker, c.delimiter);
        KeyScan.Page page = KeyScan.scan(ctx.namespace().osd(), c.bucket.keys(), c.prefix, c.delimiter, from, max);
        XmlWriter w = XmlWriter.document("ListBucketResult")
                .element("Name", req.bucket())
                // ListObjects (v1) encodes keys, markers and the delimiter, not the prefix (what
                // S3 answers and SDKs decode).
                .element("Prefix", text(c.prefix, false))
                .element("Marker", marker == null ? "" : text(bytes(marker), c.url))
                .element("Delimiter", c.delimiter == null ? null : text(c.delimiter, c.url))
                .element("MaxKeys", max)
                .element("EncodingType", c.url ? "url" : null)
                .element("IsTruncated", page.truncated());
        if (page.truncated()) {
            w.element("NextMarker", text(page.last().key(), c.url));
        }
        entries(w, page, c.url, true, false);
        out.xml(200, w.finish("ListBucketResult"));
    }

    /** Buckets are unversioned: each key is its one version, "null", and the latest. */
    public void listVersions(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        Common c = common(req);
        int max = Math.min(c.max, 1000);
        String keyMarker = req.param("key-marker");
        byte[] from = after(keyMarker, c.delimiter);
        KeyScan.Page page = KeyScan.scan(ctx.namespace().osd(), c.bucket.keys(), c.prefix, c.delimiter, from, max);
        XmlWriter w = XmlWriter.document("ListVersionsResult")
                .element("Name", req.bucket())
                .element("Prefix", text(c.prefix, c.url))
                .element("KeyMarker", keyMarker == null ? "" : text(bytes(keyMarker), c.url))
                .element(
                        "VersionIdMarker", req.param("version-id-marker") == null ? "" : req.param("version-id-marker"))
                .element("Delimiter", c.delimiter == null ? null : text(c.delimiter, c.url))
                .element("MaxKeys", max)
                .element("EncodingType", c.url ? "url" : null)
                .element("IsTruncated", page.truncated());
        if (page.truncated()) {
            w.element("NextKeyMarker", text(page.last().key(), c.url)).element("NextVersionIdMarker", "null");
        }
        entries(w, page, c.url, true, true);
        out.xml(200, w.finish("ListVersionsResult"));
    }

    private static void entries(XmlWriter w, KeyScan.Page page, boolean url, boolean owner, boolean versions) {
        for (KeyScan.Entry e : page.entries()) {
            if (e.isPrefix()) {
                continue;
            }
            ObjectRecord r = e.record();
            w.start(versions ? "Version" : "Contents").element("Key", text(e.key(), url));
            if (versions) {
                w.element("VersionId", "null").element("IsLatest", true);
            }
            w.element("LastModified", Instant.ofEpochMilli(r.mtimeMillis()))
                    .element("ETag", "\"" + r.etag() + "\"")
                    .element("Size", r.size());
            if (r.checksumAlgorithm() != null && !versions) {
                w.element("ChecksumAlgorithm", r.checksumAlgorithm());
            }
            if (owner) {
                w.start("Owner")
                        .element("ID", S3Context.OWNER_ID)
                        .element("DisplayName", S3Context.OWNER_ID)
                        .end("Owner");
            }
            w.element("StorageClass", "STANDARD").end(versions ? "Version" : "Contents");
        }
        for (KeyScan.Entry e : page.entries()) {
            if (e.isPrefix()) {
                w.start("CommonPrefixes").element("Prefix", text(e.key(), url)).end("CommonPrefixes");
            }
        }
    }

    /** Where a listing after {@code marker} starts; a marker that is a common prefix skips all under it. */
    private static byte[] after(String marker, byte[] delimiter) {
        if (marker == null || marker.isEmpty()) {
            return null;
        }
        byte[] m = bytes(marker);
        if (delimiter != null
                && m.length >= delimiter.length
                && KeyScan.indexOf(m, delimiter, m.length - delimiter.length) >= 0) {
            byte[] next = KeyScan.prefixSuccessor(m);
            return next != null ? next : new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff};
        }
        return KeyScan.successor(m);
    }

    static byte[] bytes(String s) {
        return s == null ? new byte[0] : s.getBytes(StandardCharsets.UTF_8);
    }

    static String text(byte[] b, boolean url) {
        return url ? UriCodec.encode(b, true) : new String(b, StandardCharsets.UTF_8);
    }

    /** A continuation token: where the next page starts, opaque to clients. */
    private static String encodeToken(KeyScan.Entry last) {
        byte[] next = last.isPrefix() ? KeyScan.prefixSuccessor(last.key()) : KeyScan.successor(last.key());
        if (next == null) {
            next = new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff};
        }
        return Base64.getUrlEncoder().withoutPadding().encodeToString(next);
    }

    private static byte[] decodeToken(String token) throws S3Exception {
        try {
            return Base64.getUrlDecoder().decode(token);
        } catch (IllegalArgumentException e) {
            throw new S3Exception(
                    S3Error.INVALID_ARGUMENT, "The continuation token provided is incorrect: '" + token + "'");
        }
    }
}
