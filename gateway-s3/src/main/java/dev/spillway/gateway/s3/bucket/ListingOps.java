package dev.spillway.gateway.s3.bucket;

import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.http.S3Context;
import dev.spillway.gateway.s3.http.S3Request;
import dev.spillway.gateway.s3.http.S3Response;
import dev.spillway.gateway.s3.naming.UriCodec;
import dev.spillway.gateway.s3.store.Records.BucketRecord;
import dev.spillway.gateway.s3.store.Records.KeyRecord;
import dev.spillway.gateway.s3.store.VersionKeys;
import dev.spillway.gateway.s3.xml.XmlWriter;
import dev.spillway.osd.Fid;
import dev.spillway.osd.IndexCursor;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

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
        ctx.access().checkList(req, c.bucket);
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
        entries(w, c.bucket, page, c.url, owner);
        out.xml(200, w.finish("ListBucketResult"));
    }

    public void listV1(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        Common c = common(req);
        ctx.access().checkList(req, c.bucket);
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
        entries(w, c.bucket, page, c.url, true);
        out.xml(200, w.finish("ListBucketResult"));
    }

    /**
     * ListObjectVersions: for each key in order its current version (from the key index) and
     * then its non-current ones, newest first (from the versions index), delete markers among
     * them; paged by key-marker and version-id-marker.
     */
    public void listVersions(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        Common c = common(req);
        ctx.access().checkList(req, c.bucket);
        int max = Math.min(c.max, 1000);
        String keyMarker = req.param("key-marker");
        String versionMarker = req.param("version-id-marker");
        if (versionMarker != null && !versionMarker.isEmpty() && (keyMarker == null || keyMarker.isEmpty())) {
            throw new S3Exception(
                    S3Error.INVALID_ARGUMENT, "A version-id marker cannot be specified without a key marker.");
        }
        if (versionMarker != null && !versionMarker.isEmpty()) {
            VersionKeys.parse(versionMarker); // InvalidArgument for an id this gateway never issued
        }
        boolean withinMarker =
                keyMarker != null && !keyMarker.isEmpty() && versionMarker != null && !versionMarker.isEmpty();
        byte[] from = withinMarker ? bytes(keyMarker) : after(keyMarker, c.delimiter);
        Osd osd = ctx.namespace().osd();
        Fid versions = c.bucket.meta().versions();
        List<Object[]> entries = new ArrayList<>(); // {key, record} or {prefix, null}
        boolean[] truncated = {false};
        if (max > 0) {
            KeyScan.walk(
                    osd,
                    c.bucket.keys(),
                    c.prefix,
                    c.delimiter,
                    from,
                    e -> {
                        if (e.isPrefix()) {
                            if (entries.size() == max) {
                                truncated[0] = true;
                                return false;
                            }
                            entries.add(new Object[] {e.key(), null});
                            return true;
                        }
                        boolean skipping = withinMarker && Arrays.equals(e.key(), bytes(keyMarker));
                        List<KeyRecord> all = new ArrayList<>();
                        all.add(e.record());
                        if (versions != null) {
                            byte[] vp = VersionKeys.prefix(e.key());
                            try (IndexCursor vc = osd.cursor(versions, vp)) {
                                while (vc.next() && KeyScan.startsWith(vc.key(), vp)) {
                                    all.add(KeyRecord.decode(vc.value()));
                                }
                            }
                        }
                        for (KeyRecord r : all) {
                            if (skipping) {
                                if (r.versionIdText().equals(versionMarker)) {
                                    skipping = false;
                                }
                                continue;
                            }
                            if (entries.size() == max) {
                                truncated[0] = true;
                                return false;
                            }
                            entries.add(new Object[] {e.key(), r});
                        }
                        return true;
                    },
                    true);
        }
        XmlWriter w = XmlWriter.document("ListVersionsResult")
                .element("Name", req.bucket())
                .element("Prefix", text(c.prefix, c.url))
                .element("KeyMarker", keyMarker == null ? "" : text(bytes(keyMarker), c.url))
                .element("VersionIdMarker", versionMarker == null ? "" : versionMarker)
                .element("Delimiter", c.delimiter == null ? null : text(c.delimiter, c.url))
                .element("MaxKeys", max)
                .element("EncodingType", c.url ? "url" : null)
                .element("IsTruncated", truncated[0]);
        if (truncated[0] && !entries.isEmpty()) {
            Object[] last = entries.get(entries.size() - 1);
            w.element("NextKeyMarker", text((byte[]) last[0], c.url));
            if (last[1] != null) {
                w.element("NextVersionIdMarker", ((KeyRecord) last[1]).versionIdText());
            }
        }
        byte[] previousKey = null;
        for (Object[] e : entries) {
            if (e[1] == null) {
                continue;
            }
            byte[] key = (byte[]) e[0];
            KeyRecord r = (KeyRecord) e[1];
            // The first version listed of a key is its current one, unless the page began inside
            // the key's versions (after the version-id marker).
            boolean latest = !Arrays.equals(key, previousKey)
                    && !(withinMarker && Arrays.equals(key, bytes(keyMarker)))
                    && isCurrent(c.bucket, key, r);
            previousKey = key;
            String element = r.deleteMarker() ? "DeleteMarker" : "Version";
            w.start(element)
                    .element("Key", text(key, c.url))
                    .element("VersionId", r.versionIdText())
                    .element("IsLatest", latest)
                    .element("LastModified", Instant.ofEpochMilli(r.mtimeMillis()));
            if (!r.deleteMarker()) {
                w.element("ETag", "\"" + r.etag() + "\"").element("Size", r.size());
                if (r.checksumAlgorithm() != null) {
                    w.element("ChecksumAlgorithm", r.checksumAlgorithm());
                }
            }
            owner(w, c.bucket, r);
            if (!r.deleteMarker()) {
                w.element("StorageClass", r.storageClass());
            }
            w.end(element);
        }
        for (Object[] e : entries) {
            if (e[1] == null) {
                w.start("CommonPrefixes")
                        .element("Prefix", text((byte[]) e[0], c.url))
                        .end("CommonPrefixes");
            }
        }
        out.xml(200, w.finish("ListVersionsResult"));
    }

    private boolean isCurrent(BucketRecord b, byte[] key, KeyRecord r) throws OsdException {
        return ctx.namespace()
                .osd()
                .lookup(b.keys(), key)
                .map(v -> KeyRecord.decode(v).fid().equals(r.fid()))
                .orElse(false);
    }

    private void owner(XmlWriter w, BucketRecord b, KeyRecord r) {
        String id = ctx.access().ownerOf(b, r);
        w.start("Owner").element("ID", id).element("DisplayName", id).end("Owner");
    }

    private void entries(XmlWriter w, BucketRecord b, KeyScan.Page page, boolean url, boolean owner) {
        for (KeyScan.Entry e : page.entries()) {
            if (e.isPrefix()) {
                continue;
            }
            KeyRecord r = e.record();
            w.start("Contents").element("Key", text(e.key(), url));
            w.element("LastModified", Instant.ofEpochMilli(r.mtimeMillis()))
                    .element("ETag", "\"" + r.etag() + "\"")
                    .element("Size", r.size());
            if (r.checksumAlgorithm() != null) {
                w.element("ChecksumAlgorithm", r.checksumAlgorithm());
            }
            if (owner) {
                owner(w, b, r);
            }
            w.element("StorageClass", r.storageClass()).end("Contents");
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
