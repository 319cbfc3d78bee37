package dev.spillway.gateway.s3.http;

import dev.spillway.gateway.s3.RequestListener;
import dev.spillway.gateway.s3.access.AclOps;
import dev.spillway.gateway.s3.auth.AuthResult;
import dev.spillway.gateway.s3.auth.PayloadMode;
import dev.spillway.gateway.s3.auth.SigV4Verifier;
import dev.spillway.gateway.s3.bucket.BucketConfigOps;
import dev.spillway.gateway.s3.bucket.BucketOps;
import dev.spillway.gateway.s3.bucket.ListingOps;
import dev.spillway.gateway.s3.cors.CorsConfiguration;
import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.multipart.MultipartOps;
import dev.spillway.gateway.s3.naming.Names;
import dev.spillway.gateway.s3.naming.UriCodec;
import dev.spillway.gateway.s3.object.ObjectOps;
import dev.spillway.gateway.s3.object.ObjectSubresources;
import dev.spillway.gateway.s3.post.PostObjectOps;
import dev.spillway.osd.OsdException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
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
    private final BucketConfigOps bucketConfigs;
    private final ObjectSubresources subresources;
    private final AclOps acls;
    private final PostObjectOps posts;
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
        this.bucketConfigs = new BucketConfigOps(ctx);
        this.subresources = new ObjectSubresources(ctx);
        this.acls = new AclOps(ctx);
        this.posts = new PostObjectOps(ctx);
    }

    private volatile RequestListener listener = RequestListener.NONE;

    /** Sets the listener told about every request (the server's metrics). */
    public void listener(RequestListener l) {
        this.listener = l == null ? RequestListener.NONE : l;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        long t0 = System.nanoTime();
        String[] op = {"unknown"};
        Callback timed = new Callback() {
            @Override
            public void succeeded() {
                callback.succeeded();
                done();
            }

            @Override
            public void failed(Throwable x) {
                callback.failed(x);
                done();
            }

            private void done() {
                try {
                    listener.request(op[0], response.getStatus(), System.nanoTime() - t0);
                } catch (RuntimeException ignored) {
                    // Metrics never fail a request.
                }
            }
        };
        handle(request, response, timed, op);
        return true;
    }

    /** The S3 operation's name, as AWS's API reference spells it, for metrics. */
    static String operation(S3Request req) {
        String m = req.method();
        if (req.bucket() == null || req.bucket().isEmpty()) {
            return "ListBuckets";
        }
        if (req.key() == null || req.key().length == 0) {
            return switch (m) {
                case "PUT" -> "CreateBucket";
                case "DELETE" -> "DeleteBucket";
                case "HEAD" -> "HeadBucket";
                case "POST" -> req.has("delete") ? "DeleteObjects" : "PostBucket";
                default -> req.has("uploads") ? "ListMultipartUploads" : "ListObjects";
            };
        }
        boolean upload = req.has("uploadId");
        return switch (m) {
            case "GET" -> upload ? "ListParts" : "GetObject";
            case "HEAD" -> "HeadObject";
            case "PUT" ->
                upload
                        ? (req.header("x-amz-copy-source") != null ? "UploadPartCopy" : "UploadPart")
                        : (req.header("x-amz-copy-source") != null ? "CopyObject" : "PutObject");
            case "DELETE" -> upload ? "AbortMultipartUpload" : "DeleteObject";
            case "POST" ->
                req.has("uploads") ? "CreateMultipartUpload" : upload ? "CompleteMultipartUpload" : "PostObject";
            default -> m;
        };
    }

    private void handle(Request request, Response response, Callback callback, String[] op) {
        String id = Long.toHexString(idBase + requests.incrementAndGet()).toUpperCase(Locale.ROOT);
        response.getHeaders().put("x-amz-request-id", id);
        response.getHeaders().put("Server", "Spillway");
        response.getHeaders().put("Date", HttpDates.format(ctx.config().clock().instant()));
        S3Response out = new S3Response(response, request.getMethod().equals("HEAD"));
        out.retryAfter(Math.max(1, (ctx.config().retryAfter().toMillis() + 999) / 1000));
        String resource = request.getHttpURI().getPath();
        try {
            S3Request req = parse(request, id);
            op[0] = operation(req);
            if (req.method().equals("OPTIONS")) {
                // A CORS preflight: browsers send it unsigned, whatever URL it is for.
                preflight(req, out);
                callback.succeeded();
                return;
            }
            actualCors(req, out);
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
        String expect = request.getHeaders().get("Expect");
        if (expect != null && expect.equalsIgnoreCase("100-continue")) {
            // The client waits for 100 Continue before it sends the body: reading it would send
            // that, and the client would then send a body the answer refuses. S3 answers the
            // error at once; the unread body then closes the connection.
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
            bucket = end > start ? new String(path, start, end - start, StandardCharsets.UTF_8) : null;
            key = slash < 0 || slash + 1 == path.length ? null : Arrays.copyOfRange(path, slash + 1, path.length);
        } else {
            key = path.length > start ? Arrays.copyOfRange(path, start, path.length) : null;
        }
        var fields = request.getHeaders();
        List<String> names = new ArrayList<>(fields.getFieldNamesCollection());
        S3Request r = new S3Request(
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
        r.connection(Request.getRemoteAddr(request), request.isSecure());
        return r;
    }

    private void preflight(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        String origin = req.header("origin");
        String method = req.header("access-control-request-method");
        if (origin == null || method == null) {
            throw new S3Exception(
                    S3Error.BAD_REQUEST,
                    "Insufficient information. Origin request header needed: an OPTIONS request is a CORS preflight"
                            + " and needs Origin and Access-Control-Request-Method");
        }
        if (req.bucket() == null) {
            throw notAllowed("OPTIONS", "the service");
        }
        ctx.namespace().bucket(req.bucket());
        CorsConfiguration cors = cors(req.bucket());
        if (cors == null) {
            throw new S3Exception(S3Error.CORS_FORBIDDEN, "CORSResponse: CORS is not enabled for this bucket.");
        }
        List<String> asked = requestHeaders(req);
        CorsConfiguration.Rule rule = cors.match(origin, method.strip(), asked);
        if (rule == null) {
            throw new S3Exception(
                    S3Error.CORS_FORBIDDEN,
                    "CORSResponse: This CORS request is not allowed. No rule of bucket " + req.bucket()
                            + " allows origin '" + origin + "' with method " + method
                            + (asked.isEmpty() ? "" : " and headers " + asked));
        }
        corsHeaders(out, rule, origin);
        if (!asked.isEmpty()) {
            out.header("Access-Control-Allow-Headers", String.join(", ", asked));
        }
        if (rule.maxAgeSeconds() != null) {
            out.header("Access-Control-Max-Age", Integer.toString(rule.maxAgeSeconds()));
        }
        out.empty(200);
    }

    private static List<String> requestHeaders(S3Request req) {
        List<String> out = new ArrayList<>();
        for (String v : req.headerValues("access-control-request-headers")) {
            for (String h : v.split(",")) {
                if (!h.isBlank()) {
                    out.add(h.strip());
                }
            }
        }
        return out;
    }

    private CorsConfiguration cors(String bucket) throws S3Exception, OsdException {
        byte[] doc = ctx.namespace().config(bucket, BucketConfigOps.CORS).orElse(null);
        return doc == null ? null : CorsConfiguration.parse(doc);
    }

    private static void corsHeaders(S3Response out, CorsConfiguration.Rule rule, String origin) {
        String allow = rule.allowOrigin(origin);
        out.keep("Access-Control-Allow-Origin", allow);
        out.keep("Access-Control-Allow-Methods", String.join(", ", rule.methods()));
        if (!rule.expose().isEmpty()) {
            out.keep("Access-Control-Expose-Headers", String.join(", ", rule.expose()));
        }
        if (!allow.equals("*")) {
            out.keep("Access-Control-Allow-Credentials", "true");
        }
        out.keep("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method");
    }

    /**
     * A request from a browser (it has an Origin) to a bucket with a CORS configuration gets the
     * headers of the first rule that allows its origin and method (the method it announces in
     * Access-Control-Request-Method, else its own), whatever its outcome.
     */
    private void actualCors(S3Request req, S3Response out) {
        String origin = req.header("origin");
        if (origin == null || req.bucket() == null) {
            return;
        }
        try {
            CorsConfiguration cors = cors(req.bucket());
            if (cors == null) {
                return;
            }
            String announced = req.header("access-control-request-method");
            String method = announced != null ? announced.strip() : req.method();
            CorsConfiguration.Rule rule = cors.match(origin, method, List.of());
            if (rule != null) {
                corsHeaders(out, rule, origin);
            }
        } catch (S3Exception | OsdException | RuntimeException e) {
            // No bucket, or no readable configuration: the request answers for itself.
        }
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
        // Unsigned: an anonymous request, which may do only what ACLs grant to everyone
        // (checked by each operation).
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
                if (req.has("versioning")) {
                    bucketConfigs.putVersioning(req, out);
                } else if (req.has("tagging")) {
                    bucketConfigs.putTagging(req, out);
                } else if (req.has("object-lock")) {
                    bucketConfigs.putObjectLock(req, out);
                } else if (req.has("acl")) {
                    acls.putBucketAcl(req, out);
                } else if (req.has("cors")) {
                    bucketConfigs.putCors(req, out);
                } else if (req.has("lifecycle")) {
                    bucketConfigs.putLifecycle(req, out);
                } else if (req.has("publicAccessBlock")) {
                    acls.putPublicAccessBlock(req, out);
                } else if (req.has("ownershipControls")) {
                    acls.putOwnership(req, out);
                } else if (req.has("policy")) {
                    acls.putPolicy(req, out);
                } else {
                    unsupportedSubresource(req, UNBUILT_BUCKET_SUBRESOURCES);
                    buckets.create(req, out);
                }
            }
            case "HEAD" -> buckets.head(req, out);
            case "DELETE" -> {
                if (req.has("tagging")) {
                    bucketConfigs.deleteTagging(req, out);
                } else if (req.has("cors")) {
                    bucketConfigs.deleteCors(req, out);
                } else if (req.has("lifecycle")) {
                    bucketConfigs.deleteLifecycle(req, out);
                } else if (req.has("publicAccessBlock")) {
                    acls.deletePublicAccessBlock(req, out);
                } else if (req.has("ownershipControls")) {
                    acls.deleteOwnership(req, out);
                } else if (req.has("policy")) {
                    acls.deletePolicy(req, out);
                } else {
                    unsupportedSubresource(req, UNBUILT_BUCKET_SUBRESOURCES);
                    buckets.delete(req, out);
                }
            }
            case "GET" -> {
                if (req.has("location")) {
                    buckets.location(req, out);
                } else if (req.has("versioning")) {
                    bucketConfigs.getVersioning(req, out);
                } else if (req.has("tagging")) {
                    bucketConfigs.getTagging(req, out);
                } else if (req.has("object-lock")) {
                    bucketConfigs.getObjectLock(req, out);
                } else if (req.has("acl")) {
                    acls.getBucketAcl(req, out);
                } else if (req.has("cors")) {
                    bucketConfigs.getCors(req, out);
                } else if (req.has("lifecycle")) {
                    bucketConfigs.getLifecycle(req, out);
                } else if (req.has("publicAccessBlock")) {
                    acls.getPublicAccessBlock(req, out);
                } else if (req.has("ownershipControls")) {
                    acls.getOwnership(req, out);
                } else if (req.has("policyStatus")) {
                    acls.getPolicyStatus(req, out);
                } else if (req.has("policy")) {
                    acls.getPolicy(req, out);
                } else if (req.has("uploads")) {
                    multipart.listUploads(req, out);
                } else if (req.has("versions")) {
                    listings.listVersions(req, out);
                } else {
                    unsupportedSubresource(req, UNBUILT_BUCKET_SUBRESOURCES);
                    if ("2".equals(req.param("list-type"))) {
                        listings.listV2(req, out);
                    } else {
                        listings.listV1(req, out);
                    }
                }
            }
            case "POST" -> {
                if (req.has("delete")) {
                    objects.deleteMany(req, out);
                } else {
                    unsupportedSubresource(req, UNBUILT_BUCKET_SUBRESOURCES);
                    posts.post(req, out);
                }
            }
            default -> throw notAllowed(m, "a bucket");
        }
    }

    /** Bucket subresources this gateway does not build: a clear NotImplemented, never a listing or a create. */
    private static final String[] UNBUILT_BUCKET_SUBRESOURCES = {
        "encryption",
        "website",
        "logging",
        "notification",
        "replication",
        "accelerate",
        "requestPayment",
        "analytics",
        "metrics",
        "inventory",
        "intelligent-tiering"
    };

    private void routeObject(S3Request req, S3Response out, String m) throws S3Exception, OsdException, IOException {
        switch (m) {
            case "PUT" -> {
                if (req.has("acl")) {
                    acls.putObjectAcl(req, out);
                } else if (req.has("tagging")) {
                    subresources.putTagging(req, out);
                } else if (req.has("retention")) {
                    subresources.putRetention(req, out);
                } else if (req.has("legal-hold")) {
                    subresources.putLegalHold(req, out);
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
                unsupportedSubresource(req, "torrent");
                if (req.has("acl")) {
                    acls.getObjectAcl(req, out);
                } else if (req.has("tagging")) {
                    subresources.getTagging(req, out);
                } else if (req.has("attributes")) {
                    subresources.attributes(req, out);
                } else if (req.has("retention")) {
                    subresources.getRetention(req, out);
                } else if (req.has("legal-hold")) {
                    subresources.getLegalHold(req, out);
                } else if (req.has("uploadId")) {
                    multipart.listParts(req, out);
                } else {
                    objects.get(req, out, false);
                }
            }
            case "HEAD" -> objects.get(req, out, true);
            case "DELETE" -> {
                if (req.has("tagging")) {
                    subresources.deleteTagging(req, out);
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
