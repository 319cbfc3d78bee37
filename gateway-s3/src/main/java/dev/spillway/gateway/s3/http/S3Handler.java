package dev.spillway.gateway.s3.http;

import dev.spillway.gateway.s3.auth.AuthResult;
import dev.spillway.gateway.s3.auth.PayloadMode;
import dev.spillway.gateway.s3.auth.SigV4Verifier;
import dev.spillway.gateway.s3.bucket.BucketOps;
import dev.spillway.gateway.s3.bucket.ListingOps;
import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.multipart.MultipartOps;
import dev.spillway.gateway.s3.naming.Names;
import dev.spillway.gateway.s3.naming.UriCodec;
import dev.spillway.gateway.s3.object.ObjectOps;
import dev.spillway.osd.OsdException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Jetty handler: addresses the request (path-style or virtual-host-style), authenticates
 * it, routes it to an operation and turns every failure into S3 error XML. Runs blocking on a
 * virtual thread per request.
 */
public final class S3Handler extends Handler.Abstract {
    private static final Logger LOG = LoggerFactory.getLogger(S3Handler.class);

    private final S3Context ctx;
    private final SigV4Verifier verifier;
    private final BucketOps buckets;
    private final ListingOps listings;
    private final ObjectOps objects;
    private final MultipartOps multipart;
    private final AtomicLong requests = new AtomicLong();
    private final long idBase = System.nanoTime();

    public S3Handler(S3Context ctx) {
        this.ctx = ctx;
        this.verifier = new SigV4Verifier(
                ctx.config().credentials(),
                ctx.config().region(),
                ctx.config().clock(),
                ctx.config().maxClockSkew());
        this.buckets = new BucketOps(ctx);
        this.listings = new ListingOps(ctx);
        this.objects = new ObjectOps(ctx);
        this.multipart = new MultipartOps(ctx);
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        String id = Long.toHexString(idBase + requests.incrementAndGet()).toUpperCase(Locale.ROOT);
        response.getHeaders().put("x-amz-request-id", id);
        response.getHeaders().put("Server", "Spillway");
        response.getHeaders().put("Date", HttpDates.format(ctx.config().clock().instant()));
        S3Response out = new S3Response(response, request.getMethod().equals("HEAD"));
        String resource = request.getHttpURI().getPath();
        try {
            S3Request req = parse(request, id);
            if (req.method().equals("OPTIONS")) {
                // A CORS preflight: browsers send it unsigned, whatever URL it is for.
                preflight(req, out);
                callback.succeeded();
                return true;
            }
            authenticate(req);
            route(req, out);
            callback.succeeded();
        } catch (S3Exception e) {
            drainSmallBody(request);
            fail(out, e, resource, id, callback);
        } catch (OsdException e) {
            drainSmallBody(request);
            fail(out, S3Exception.of(e), resource, id, callback);
        } catch (IOException e) {
            // The client went away or the connection broke: nothing to answer.
            callback.failed(e);
        } catch (RuntimeException e) {
            LOG.warn("request {} {} {} failed", id, request.getMethod(), resource, e);
            fail(out, new S3Exception(S3Error.INTERNAL_ERROR, "internal error: " + e), resource, id, callback);
        }
        return true;
    }

    /**
     * Reads what is left of a small request body before an early error answer, so the client,
     * still sending (or waiting on 100-continue), reads the error instead of a reset connection.
     * A large body is not drained: the connection is closed after the answer, as S3 does.
     */
    private static void drainSmallBody(Request request) {
        long len = request.getLength();
        if (len < 0 || len > (1 << 20)) {
            return;
        }
        try (var in = Content.Source.asInputStream(request)) {
            in.skip(len);
        } catch (IOException | RuntimeException ignored) {
            // The client is gone or the body was already read: nothing to drain.
        }
    }

    private static void fail(S3Response out, S3Exception e, String resource, String id, Callback callback) {
        if (out.committed()) {
            // The status line is gone: break the connection so the client sees a short body.
            callback.failed(e);
            return;
        }
        try {
            out.error(e, resource, id);
            callback.succeeded();
        } catch (IOException | RuntimeException io) {
            callback.failed(io);
        }
    }

    private S3Request parse(Request request, String id) throws S3Exception {
        HttpURI uri = request.getHttpURI();
        String rawPath = uri.getPath() == null ? "/" : uri.getPath();
        byte[] path;
        List<String[]> query = new ArrayList<>();
        try {
            path = UriCodec.decode(rawPath, false);
            String q = uri.getQuery();
            if (q != null && !q.isEmpty()) {
                for (String pair : q.split("&")) {
                    if (pair.isEmpty()) {
                        continue;
                    }
                    int eq = pair.indexOf('=');
                    String name = eq < 0 ? pair : pair.substring(0, eq);
                    String value = eq < 0 ? "" : pair.substring(eq + 1);
                    query.add(new String[] {UriCodec.decodeString(name, true), UriCodec.decodeString(value, true)});
                }
            }
        } catch (IllegalArgumentException e) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, "bad URI: " + e.getMessage());
        }
        String host = request.getHeaders().get("Host");
        if (host == null) {
            host = uri.getHost();
        }
        String bucket = virtualBucket(host);
        int start = path.length > 0 && path[0] == '/' ? 1 : 0;
        byte[] key;
        if (bucket == null) {
            int slash = indexOf(path, (byte) '/', start);
            int end = slash < 0 ? path.length : slash;
            bucket = end > start ? new String(path, start, end - start, java.nio.charset.StandardCharsets.UTF_8) : null;
            key = slash < 0 || slash + 1 == path.length ? null : Arrays.copyOfRange(path, slash + 1, path.length);
        } else {
            key = path.length > start ? Arrays.copyOfRange(path, start, path.length) : null;
        }
        var fields = request.getHeaders();
        List<String> names = new ArrayList<>(fields.getFieldNamesCollection());
        return new S3Request(
                request.getMethod(),
                rawPath,
                path,
                bucket,
                key,
                query,
                fields::getValuesList,
                names,
                Content.Source.asInputStream(request),
                id);
    }

    private void preflight(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        if (req.header("origin") == null || req.header("access-control-request-method") == null) {
            throw new S3Exception(
                    S3Error.BAD_REQUEST,
                    "Insufficient information. Origin request header needed: an OPTIONS request is a CORS preflight"
                            + " and needs Origin and Access-Control-Request-Method");
        }
        if (req.bucket() == null) {
            throw notAllowed("OPTIONS", "the service");
        }
        ctx.namespace().bucket(req.bucket());
        // No bucket has a CORS configuration yet (PutBucketCors is not built): S3's answer then.
        throw new S3Exception(S3Error.CORS_FORBIDDEN, "CORSResponse: CORS is not enabled for this bucket.");
    }

    private String virtualBucket(String host) {
        if (host == null) {
            return null;
        }
        String h = host.toLowerCase(Locale.ROOT);
        int colon = h.lastIndexOf(':');
        if (colon > 0 && h.indexOf(']') < colon) {
            h = h.substring(0, colon);
        }
        for (String domain : ctx.config().virtualHostDomains()) {
            if (h.endsWith("." + domain) && h.length() > domain.length() + 1) {
                return h.substring(0, h.length() - domain.length() - 1);
            }
        }
        return null;
    }

    private void authenticate(S3Request req) throws S3Exception {
        SigV4Verifier.Request vr = new SigV4Verifier.Request(
                req.method(), rawPathOf(req), decodedPathOf(req), queryOf(req), req::headerValues);
        if (SigV4Verifier.isSigned(vr)) {
            req.auth(verifier.verify(vr));
            return;
        }
        if (!ctx.config().allowAnonymous()) {
            throw new S3Exception(
                    S3Error.ACCESS_DENIED,
                    "Access Denied: anonymous access is off; sign requests with AWS4-HMAC-SHA256");
        }
        String sha = req.header("x-amz-content-sha256");
        PayloadMode mode = PayloadMode.of(sha);
        if (mode != null && mode.signedChunks()) {
            throw new S3Exception(S3Error.ACCESS_DENIED, "signed aws-chunked payload without a signature");
        }
        req.auth(AuthResult.anonymous(
                mode == null || mode == PayloadMode.SIGNED && !sha.matches("[0-9a-f]{64}")
                        ? PayloadMode.UNSIGNED
                        : mode,
                sha));
    }

    private static int indexOf(byte[] a, byte b, int from) {
        for (int i = from; i < a.length; i++) {
            if (a[i] == b) {
                return i;
            }
        }
        return -1;
    }

    // The verifier needs the request as received; S3Request keeps it.
    private static String rawPathOf(S3Request r) {
        return r.rawPath();
    }

    private static byte[] decodedPathOf(S3Request r) {
        return r.decodedPath();
    }

    private static List<String[]> queryOf(S3Request r) {
        return r.query();
    }

    private void route(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        String m = req.method();
        if (req.bucket() == null) {
            if (m.equals("GET")) {
                buckets.listBuckets(req, out);
                return;
            }
            throw notAllowed(m, "the service");
        }
        if (req.key() == null) {
            routeBucket(req, out, m);
        } else {
            Names.checkKey(req.key());
            routeObject(req, out, m);
        }
    }

    private void routeBucket(S3Request req, S3Response out, String m) throws S3Exception, OsdException, IOException {
        switch (m) {
            case "PUT" -> {
                unsupportedSubresource(
                        req,
                        "versioning",
                        "acl",
                        "policy",
                        "cors",
                        "lifecycle",
                        "tagging",
                        "encryption",
                        "website",
                        "logging",
                        "notification",
                        "replication",
                        "object-lock",
                        "ownershipControls",
                        "publicAccessBlock",
                        "accelerate",
                        "requestPayment");
                buckets.create(req, out);
            }
            case "HEAD" -> buckets.head(req, out);
            case "DELETE" -> {
                unsupportedSubresource(
                        req,
                        "policy",
                        "cors",
                        "lifecycle",
                        "tagging",
                        "encryption",
                        "website",
                        "replication",
                        "ownershipControls",
                        "publicAccessBlock");
                buckets.delete(req, out);
            }
            case "GET" -> {
                if (req.has("location")) {
                    buckets.location(req, out);
                } else if (req.has("versioning")) {
                    buckets.versioning(req, out);
                } else if (req.has("uploads")) {
                    multipart.listUploads(req, out);
                } else if (req.has("versions")) {
                    listings.listVersions(req, out);
                } else if ("2".equals(req.param("list-type"))) {
                    unsupportedSubresource(req, "acl");
                    listings.listV2(req, out);
                } else {
                    unsupportedSubresource(
                            req,
                            "acl",
                            "policy",
                            "cors",
                            "lifecycle",
                            "tagging",
                            "encryption",
                            "website",
                            "logging",
                            "notification",
                            "replication",
                            "object-lock",
                            "ownershipControls",
                            "publicAccessBlock",
                            "accelerate",
                            "requestPayment",
                            "policyStatus",
                            "analytics",
                            "metrics",
                            "inventory",
                            "intelligent-tiering");
                    listings.listV1(req, out);
                }
            }
            case "POST" -> {
                if (req.has("delete")) {
                    objects.deleteMany(req, out);
                } else {
                    throw notAllowed(m, "a bucket");
                }
            }
            default -> throw notAllowed(m, "a bucket");
        }
    }

    private void routeObject(S3Request req, S3Response out, String m) throws S3Exception, OsdException, IOException {
        switch (m) {
            case "PUT" -> {
                unsupportedSubresource(req, "acl", "retention", "legal-hold");
                if (req.has("tagging")) {
                    objects.putTagging(req, out);
                } else if (req.has("uploadId") || req.has("partNumber")) {
                    if (req.header("x-amz-copy-source") != null) {
                        multipart.uploadPartCopy(req, out);
                    } else {
                        multipart.uploadPart(req, out);
                    }
                } else if (req.header("x-amz-copy-source") != null) {
                    objects.copy(req, out);
                } else {
                    objects.put(req, out);
                }
            }
            case "GET" -> {
                unsupportedSubresource(req, "acl", "retention", "legal-hold", "torrent", "attributes");
                if (req.has("tagging")) {
                    objects.getTagging(req, out);
                } else if (req.has("uploadId")) {
                    multipart.listParts(req, out);
                } else {
                    objects.get(req, out, false);
                }
            }
            case "HEAD" -> objects.get(req, out, true);
            case "DELETE" -> {
                if (req.has("tagging")) {
                    objects.deleteTagging(req, out);
                } else if (req.has("uploadId")) {
                    multipart.abort(req, out);
                } else {
                    objects.delete(req, out);
                }
            }
            case "POST" -> {
                if (req.has("uploads")) {
                    multipart.create(req, out);
                } else if (req.has("uploadId")) {
                    multipart.complete(req, out);
                } else {
                    throw notAllowed(m, "an object");
                }
            }
            default -> throw notAllowed(m, "an object");
        }
    }

    private static void unsupportedSubresource(S3Request req, String... names) throws S3Exception {
        for (String n : names) {
            if (req.has(n)) {
                throw new S3Exception(
                        S3Error.NOT_IMPLEMENTED,
                        "the ?" + n + " subresource is not implemented by the Spillway gateway");
            }
        }
    }

    private static S3Exception notAllowed(String method, String what) {
        return new S3Exception(
                S3Error.METHOD_NOT_ALLOWED, "The specified method " + method + " is not allowed against " + what);
    }
}
