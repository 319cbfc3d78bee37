package dev.spillway.gateway.s3.post;

import dev.spillway.gateway.s3.auth.ChecksumAlgorithm;
import dev.spillway.gateway.s3.auth.CredentialStore;
import dev.spillway.gateway.s3.auth.Hashing;
import dev.spillway.gateway.s3.bucket.BucketConfigOps;
import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.http.S3Context;
import dev.spillway.gateway.s3.http.S3Request;
import dev.spillway.gateway.s3.http.S3Response;
import dev.spillway.gateway.s3.naming.Names;
import dev.spillway.gateway.s3.naming.UriCodec;
import dev.spillway.gateway.s3.object.ObjectLock;
import dev.spillway.gateway.s3.object.ObjectOps;
import dev.spillway.gateway.s3.object.StorageClasses;
import dev.spillway.gateway.s3.object.Tagging;
import dev.spillway.gateway.s3.store.Records;
import dev.spillway.gateway.s3.store.Records.BucketRecord;
import dev.spillway.gateway.s3.store.Records.Header;
import dev.spillway.gateway.s3.store.Records.KeyRecord;
import dev.spillway.gateway.s3.store.StagedBody;
import dev.spillway.gateway.s3.xml.XmlWriter;
import dev.spillway.osd.OsdException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.eclipse.jetty.http.MultiPart;

/**
 * PostObject: a browser form upload to a bucket ({@code POST /bucket}, multipart/form-data). The
 * form is signed by a POST policy — Signature Version 4 ({@code x-amz-algorithm},
 * {@code x-amz-credential}, {@code x-amz-date}, {@code x-amz-signature}: the policy's HMAC-SHA256
 * with the request's signing key) or, as S3 still takes for forms, Version 2
 * ({@code AWSAccessKeyId}, {@code signature}: the policy's HMAC-SHA1 with the secret key) — or
 * unsigned (anonymous, allowed only into a bucket whose ACL lets everyone write). The policy's
 * conditions are checked before the file is read, its content-length-range after.
 */
public final class PostObjectOps {
    private static final List<String> STORED = List.of(
            "cache-control", "content-disposition", "content-encoding", "content-language", "content-type", "expires");

    private final S3Context ctx;
    private final ObjectOps objects;

    public PostObjectOps(S3Context ctx) {
        this.ctx = ctx;
        this.objects = new ObjectOps(ctx);
    }

    public void post(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        String type = req.header("content-type");
        if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
            throw new S3Exception(
                    S3Error.PRECONDITION_FAILED,
                    "At least one of the pre-conditions you specified did not hold: a POST to a bucket is a form"
                            + " upload (Content-Type multipart/form-data), got " + type);
        }
        String boundary = MultiPart.extractBoundary(type);
        if (boundary == null || boundary.isEmpty()) {
            throw new S3Exception(S3Error.MALFORMED_POST_REQUEST, "multipart/form-data without a boundary");
        }
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        FormReader form = new FormReader(req.body(), boundary);
        form.readFields();
        if (form.fileName() == null) {
            throw new S3Exception(
                    S3Error.INVALID_ARGUMENT, "POST requires exactly one file upload per request (a field named file)");
        }
        Map<String, String> fields = new LinkedHashMap<>();
        form.fields().forEach((k, v) -> fields.putIfAbsent(k.toLowerCase(Locale.ROOT), v));
        if (fields.containsKey("key")) {
            // The policy's conditions see the key as it will be stored.
            fields.put("key", fields.get("key").replace("${filename}", form.fileName()));
        }

        CredentialStore.User user = authenticate(req, fields);
        PostPolicy policy = null;
        if (fields.containsKey("policy")) {
            policy = PostPolicy.parse(fields.get("policy"));
            policy.check(fields, req.bucket(), ctx.config().clock().instant());
        }
        String keyField = fields.get("key");
        if (keyField == null || keyField.isEmpty()) {
            ctx.access().checkWrite(req, b);
            throw new S3Exception(
                    S3Error.INVALID_ARGUMENT,
                    "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.");
        }
        byte[] key = keyField.getBytes(StandardCharsets.UTF_8);
        Names.checkKey(key);
        ctx.access().checkWrite(req, b, key, "s3:PutObject");

        List<Header> headers = headers(fields);
        List<Header> tags = fields.containsKey("tagging")
                ? Tagging.parse(fields.get("tagging").getBytes(StandardCharsets.UTF_8), Tagging.MAX_OBJECT_TAGS)
                : List.of();
        Records.Meta meta = Records.Meta.NONE
                .withTags(tags)
                .withStorageClass(StorageClasses.parse(fields.get("x-amz-storage-class"), ctx.namespace()));
        meta = ctx.access()
                .objectAcl(h -> h.equals("x-amz-acl") ? fields.get("acl") : fields.get(h), user, req.bucket(), b, meta);
        if (b.meta().objectLock()) {
            var d = ctx.namespace().config(req.bucket(), BucketConfigOps.OBJECT_LOCK);
            ObjectLock.DefaultRetention dr = d.isPresent() ? ObjectLock.parseConfiguration(d.get()) : null;
            if (dr != null) {
                meta = meta.withRetention(
                        dr.mode(), dr.untilMillis(ctx.config().clock().millis()));
            }
        }

        if (meta.storageClass() != null) {
            b = ctx.namespace().ensureDue(req.bucket());
        }
        ChecksumAlgorithm alg = null;
        String expectedSum = null;
        for (ChecksumAlgorithm a : ChecksumAlgorithm.values()) {
            if (fields.containsKey(a.header())) {
                alg = a;
                expectedSum = fields.get(a.header()).strip();
            }
        }
        String origin = req.bucket() + "/" + new String(key, StandardCharsets.UTF_8);
        long max = policy == null ? ObjectOps.MAX_PUT : Math.min(ObjectOps.MAX_PUT, policy.maxLength());
        StagedBody body = ctx.objects().stage(form.file(), -1, max, alg, false, origin);
        try {
            if (policy != null) {
                policy.checkLength(body.size());
            }
            if (expectedSum != null && !expectedSum.equals(body.checksum())) {
                throw new S3Exception(
                        S3Error.BAD_DIGEST,
                        "The " + alg + " you specified (" + expectedSum + ") did not match the calculated checksum ("
                                + body.checksum() + ")");
            }
        } catch (S3Exception e) {
            ctx.objects().discard(body);
            throw e;
        }
        KeyRecord r = body.record(ctx.config().clock().millis(), alg, headers, meta);
        r = ctx.objects().commit(b, req.bucket(), key, body, r, origin);
        answer(req, out, fields, b, key, r);
    }

    /** The signer of the form (checked against its policy's signature), or null if it is unsigned. */
    private CredentialStore.User authenticate(S3Request req, Map<String, String> fields) throws S3Exception {
        String policy = fields.get("policy");
        String accessKey;
        if (fields.containsKey("x-amz-signature") || fields.containsKey("x-amz-algorithm")) {
            String alg = fields.get("x-amz-algorithm");
            String credential = fields.get("x-amz-credential");
            String signature = fields.get("x-amz-signature");
            if (!"AWS4-HMAC-SHA256".equals(alg) || credential == null || signature == null || policy == null) {
                throw new S3Exception(
                        S3Error.INVALID_ARGUMENT,
                        "a SigV4 POST form needs x-amz-algorithm=AWS4-HMAC-SHA256, x-amz-credential,"
                                + " x-amz-date, x-amz-signature and policy");
            }
            String[] scope = credential.split("/");
            if (scope.length != 5 || !scope[3].equals("s3") || !scope[4].equals("aws4_request")) {
                throw new S3Exception(
                        S3Error.INVALID_ARGUMENT, "x-amz-credential must be KEY/DATE/REGION/s3/aws4_request");
            }
            accessKey = scope[0];
            String secret = secret(accessKey);
            byte[] key = Hashing.signingKey(secret, scope[1], scope[2], "s3");
            String expected = Hashing.hex(Hashing.hmac(key, policy));
            if (!Hashing.sameSignature(expected, signature.strip())) {
                throw new S3Exception(
                        S3Error.SIGNATURE_DOES_NOT_MATCH,
                        "The request signature we calculated does not match the signature you provided: the form's"
                                + " x-amz-signature is not the policy's HMAC-SHA256 with the signing key of "
                                + credential);
            }
        } else if (fields.containsKey("awsaccesskeyid") || fields.containsKey("signature")) {
            accessKey = fields.get("awsaccesskeyid");
            String signature = fields.get("signature");
            if (accessKey == null || signature == null || policy == null) {
                throw new S3Exception(
                        S3Error.INVALID_ARGUMENT,
                        "a signed POST form needs AWSAccessKeyId, signature and policy (missing: "
                                + (accessKey == null ? "AWSAccessKeyId " : "") + (signature == null ? "signature " : "")
                                + (policy == null ? "policy" : "") + ")");
            }
            String secret = secret(accessKey);
            String expected = hmacSha1(secret, policy);
            if (!Hashing.sameSignature(expected, signature.strip())) {
                throw new S3Exception(
                        S3Error.SIGNATURE_DOES_NOT_MATCH,
                        "The request signature we calculated does not match the signature you provided: the form's"
                                + " signature is not the policy's HMAC-SHA1 with the secret of " + accessKey);
            }
        } else {
            if (policy != null) {
                throw new S3Exception(
                        S3Error.INVALID_ARGUMENT,
                        "a POST form with a policy must be signed (x-amz-signature or signature)");
            }
            return null;
        }
        req.authenticateForm(accessKey);
        return ctx.access().users().user(accessKey);
    }

    private String secret(String accessKey) throws S3Exception {
        return ctx.config()
                .credentials()
                .secretKey(accessKey)
                .orElseThrow(() -> new S3Exception(
                        S3Error.INVALID_ACCESS_KEY_ID,
                        "The AWS Access Key Id you provided does not exist in our records: " + accessKey));
    }

    private static String hmacSha1(String secret, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA1");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
            return Base64.getEncoder().encodeToString(mac.doFinal(data.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA1 is missing from this JDK", e);
        }
    }

    /** Content-Type and the other stored headers, and x-amz-meta-*, from the form. */
    private static List<Header> headers(Map<String, String> fields) throws S3Exception {
        List<Header> out = new ArrayList<>();
        int userBytes = 0;
        for (Map.Entry<String, String> f : fields.entrySet()) {
            String n = f.getKey();
            if (STORED.contains(n)) {
                out.add(new Header(n, f.getValue()));
            } else if (n.startsWith("x-amz-meta-")) {
                userBytes += n.length() - "x-amz-meta-".length() + f.getValue().getBytes(StandardCharsets.UTF_8).length;
                out.add(new Header(n, f.getValue()));
            }
        }
        if (userBytes > S3Request.MAX_USER_METADATA) {
            throw new S3Exception(
                    S3Error.METADATA_TOO_LARGE,
                    "Your metadata fields are " + userBytes + " bytes; the maximum allowed is "
                            + S3Request.MAX_USER_METADATA);
        }
        out.sort(Comparator.comparing(Header::name));
        return out;
    }

    /**
     * success_action_redirect (or redirect): 303 to it with bucket, key and etag; else
     * success_action_status 200 or 201 (with a PostResponse document); anything else 204.
     */
    private void answer(
            S3Request req, S3Response out, Map<String, String> fields, BucketRecord b, byte[] key, KeyRecord r)
            throws IOException {
        String location = "/" + req.bucket() + "/" + UriCodec.encode(key, true);
        out.header("ETag", "\"" + r.etag() + "\"");
        out.header("Location", location);
        if (b.versioningEnabled()) {
            out.header("x-amz-version-id", r.versionIdText());
        }
        String redirect = fields.getOrDefault("success_action_redirect", fields.get("redirect"));
        if (redirect != null && !redirect.isEmpty()) {
            String to = redirect + (redirect.contains("?") ? "&" : "?") + "bucket="
                    + UriCodec.encode(req.bucket().getBytes(StandardCharsets.UTF_8), true) + "&key="
                    + UriCodec.encode(key, true) + "&etag="
                    + UriCodec.encode(("\"" + r.etag() + "\"").getBytes(StandardCharsets.UTF_8), true);
            out.header("Location", to);
            out.empty(303);
            return;
        }
        String status = fields.get("success_action_status");
        if ("201".equals(status)) {
            out.xml(
                    201,
                    XmlWriter.plainDocument("PostResponse")
                            .element("Location", location)
                            .element("Bucket", req.bucket())
                            .element("Key", new String(key, StandardCharsets.UTF_8))
                            .element("ETag", "\"" + r.etag() + "\"")
                            .finish("PostResponse"));
        } else if ("200".equals(status)) {
            out.empty(200);
        } else {
            out.empty(204);
        }
    }
}
