package dev.spillway.gateway.s3.http;

import dev.spillway.gateway.s3.auth.AuthResult;
import dev.spillway.gateway.s3.auth.AwsChunkedInputStream;
import dev.spillway.gateway.s3.auth.ChecksumAlgorithm;
import dev.spillway.gateway.s3.auth.Hashing;
import dev.spillway.gateway.s3.auth.PayloadMode;
import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.error.S3StreamException;
import dev.spillway.gateway.s3.store.Records;
import dev.spillway.gateway.s3.store.StagedBody;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.StringJoiner;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * One S3 request, addressed and authenticated: the bucket and key (keys as raw bytes), the
 * decoded query, the headers, and the body decoded according to how it was signed.
 */
public final class S3Request {
    private final String method;
    private final String bucket;
    private final byte[] key;
    private final List<String[]> query;
    private final Function<String, List<String>> headers;
    private final List<String> headerNames;
    private final String rawPath;
    private final byte[] decodedPath;
    private final InputStream rawBody;
    private final String requestId;
    private AuthResult auth;
    private AwsChunkedInputStream chunked;
    private String remoteAddress;
    private boolean secure;

    public S3Request(
            String method,
            String rawPath,
            byte[] decodedPath,
            String bucket,
            byte[] key,
            List<String[]> query,
            Function<String, List<String>> headers,
            List<String> headerNames,
            InputStream rawBody,
            String requestId) {
        this.rawPath = rawPath;
        this.decodedPath = decodedPath;
        this.headerNames = headerNames;
        this.method = method;
        this.bucket = bucket;
        this.key = key;
        this.query = query;
        this.headers = headers;
        this.rawBody = rawBody;
        this.requestId = requestId;
    }

    public String method() {
        return method;
    }

    /** The bucket, or null for a service-level request (ListBuckets). */
    public String bucket() {
        return bucket;
    }

    /** The key's bytes, or null for a bucket-level request. */
    public byte[] key() {
        return key;
    }

    public String requestId() {
        return requestId;
    }

    /** The client's address as the gateway sees it (a bucket policy's aws:SourceIp), or null if unknown. */
    public String remoteAddress() {
        return remoteAddress;
    }

    /** Whether the request came over TLS (a bucket policy's aws:SecureTransport). */
    public boolean secure() {
        return secure;
    }

    void connection(String remoteAddress, boolean secure) {
        this.remoteAddress = remoteAddress;
        this.secure = secure;
    }

    public AuthResult auth() {
        return auth;
    }

    void auth(AuthResult a) {
        this.auth = a;
    }

    /**
     * A browser POST form signed by {@code accessKey} (its policy's signature checked by the
     * caller): the request acts as that key's user. The body is the form, read as sent.
     */
    public void authenticateForm(String accessKey) {
        this.auth = new AuthResult(accessKey, null, null, null, null, PayloadMode.UNSIGNED, null);
    }

    String rawPath() {
        return rawPath;
    }

    byte[] decodedPath() {
        return decodedPath;
    }

    List<String[]> query() {
        return query;
    }

    /** Every value of header {@code name} (empty if absent). */
    public List<String> headerValues(String name) {
        List<String> v = headers.apply(name);
        return v == null ? List.of() : v;
    }

    public String header(String name) {
        List<String> v = headers.apply(name);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    public boolean has(String param) {
        return param(param) != null;
    }

    /** A query parameter's decoded value ("" for a bare {@code ?uploads}), or null. */
    public String param(String name) {
        for (String[] p : query) {
            if (p[0].equals(name)) {
                return p[1];
            }
        }
        return null;
    }

    /** An integer parameter within [min, max], {@code dflt} if absent; InvalidArgument otherwise. */
    public int intParam(String name, int dflt, int min, int max) throws S3Exception {
        String v = param(name);
        if (v == null) {
            return dflt;
        }
        try {
            int i = Integer.parseInt(v.strip());
            if (i < min || i > max) {
                throw new NumberFormatException();
            }
            return i;
        } catch (NumberFormatException e) {
            throw new S3Exception(
                    S3Error.INVALID_ARGUMENT,
                    name + " must be an integer between " + min + " and " + max + ", got '" + v + "'");
        }
    }

    /** The announced body length: x-amz-decoded-content-length for aws-chunked, else Content-Length, or -1. */
    public long contentLength() throws S3Exception {
        String v =
                auth != null && auth.payloadMode() != null && auth.payloadMode().chunked()
                        ? header("x-amz-decoded-content-length")
                        : header("content-length");
        if (v == null) {
            return -1;
        }
        try {
            return Long.parseLong(v.strip());
        } catch (NumberFormatException e) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, "bad content length '" + v + "'");
        }
    }

    /** The body, decoded from aws-chunked when it was sent so. */
    public InputStream body() {
        InputStream in = new BufferedInputStream(rawBody, 64 << 10);
        if (auth != null && auth.payloadMode() != null && auth.payloadMode().chunked()) {
            chunked = new AwsChunkedInputStream(in, auth);
            return chunked;
        }
        return in;
    }

    /** Reads a small body (an XML document) whole, MaxMessageLengthExceeded past {@code limit}. */
    public byte[] smallBody(int limit) throws S3Exception {
        try (InputStream in = body()) {
            byte[] b = in.readNBytes(limit + 1);
            if (b.length > limit) {
                throw new S3Exception(
                        S3Error.MAX_MESSAGE_LENGTH_EXCEEDED, "the request body is larger than " + limit + " bytes");
            }
            verifyPayloadHash(b);
            return b;
        } catch (S3StreamException e) {
            throw e.s3();
        } catch (IOException e) {
            throw new S3Exception(S3Error.INCOMPLETE_BODY, "the request body ended early: " + e.getMessage(), e);
        }
    }

    private void verifyPayloadHash(byte[] body) throws S3Exception {
        if (auth != null && auth.payloadMode() == PayloadMode.SIGNED) {
            String got = Hashing.hex(Hashing.sha256().digest(body));
            if (!got.equals(auth.contentSha256())) {
                throw new S3Exception(
                        S3Error.X_AMZ_CONTENT_SHA256_MISMATCH,
                        "x-amz-content-sha256 says " + auth.contentSha256() + ", the body hashes to " + got);
            }
        }
        String md5 = header("content-md5");
        if (md5 != null) {
            checkMd5(md5, Hashing.md5().digest(body));
        }
    }

    /** True if the body's SHA-256 must be computed (a signed payload). */
    public boolean needsSha256() {
        return auth != null && auth.payloadMode() == PayloadMode.SIGNED;
    }

    /** The additional checksum the client sends (as a header or announced trailer), or null. */
    public ChecksumAlgorithm checksumAlgorithm() throws S3Exception {
        String trailer = header("x-amz-trailer");
        if (trailer != null) {
            ChecksumAlgorithm a = ChecksumAlgorithm.of(
                    trailer.strip().toLowerCase(Locale.ROOT).replace("x-amz-checksum-", ""));
            if (a == null) {
                throw new S3Exception(S3Error.INVALID_ARGUMENT, "unsupported x-amz-trailer '" + trailer + "'");
            }
            return a;
        }
        for (ChecksumAlgorithm a : ChecksumAlgorithm.values()) {
            if (header(a.header()) != null) {
                return a;
            }
        }
        String named = header("x-amz-sdk-checksum-algorithm");
        if (named == null) {
            named = header("x-amz-checksum-algorithm");
        }
        if (named != null) {
            ChecksumAlgorithm a = ChecksumAlgorithm.of(named);
            if (a == null) {
                throw new S3Exception(S3Error.INVALID_ARGUMENT, "unsupported checksum algorithm '" + named + "'");
            }
            return a;
        }
        return null;
    }

    /**
     * Checks a received body against everything the client said about it: the signed payload
     * hash, Content-MD5, the additional checksum (header or trailer), the decoded length.
     */
    public void verify(StagedBody body, ChecksumAlgorithm alg) throws S3Exception {
        if (needsSha256() && !auth.contentSha256().equals(body.sha256Hex())) {
            throw new S3Exception(
                    S3Error.X_AMZ_CONTENT_SHA256_MISMATCH,
                    "x-amz-content-sha256 says " + auth.contentSha256() + ", the body hashes to " + body.sha256Hex());
        }
        String md5 = header("content-md5");
        if (md5 != null) {
            checkMd5(md5, body.md5());
        }
        if (alg != null) {
            String expected = header(alg.header());
            if (expected == null && chunked != null) {
                expected = chunked.trailers().get(alg.header());
            }
            if (expected != null && !expected.strip().equals(body.checksum())) {
                throw new S3Exception(
                        S3Error.BAD_DIGEST,
                        "The " + alg + " you specified (" + expected + ") did not match the calculated checksum ("
                                + body.checksum() + ")");
            }
        }
        if (chunked != null) {
            long declared = contentLength();
            if (declared >= 0 && declared != body.size()) {
                throw new S3Exception(
                        S3Error.INCOMPLETE_BODY,
                        "x-amz-decoded-content-length is " + declared + ", the aws-chunked body decoded to "
                                + body.size() + " bytes");
            }
        }
    }

    private static void checkMd5(String header, byte[] actual) throws S3Exception {
        byte[] want;
        try {
            want = Base64.getDecoder().decode(header.strip());
        } catch (IllegalArgumentException e) {
            want = null;
        }
        if (want == null || want.length != 16) {
            throw new S3Exception(
                    S3Error.INVALID_DIGEST, "The Content-MD5 you specified is not valid: '" + header + "'");
        }
        if (!Arrays.equals(want, actual)) {
            throw new S3Exception(S3Error.BAD_DIGEST, "The Content-MD5 you specified did not match what we received");
        }
    }

    /** S3's limit on user metadata: names and values of x-amz-meta-* headers, in bytes. */
    public static final int MAX_USER_METADATA = 2048;

    private static final List<String> STORED = List.of(
            "cache-control", "content-disposition", "content-encoding", "content-language", "content-type", "expires");

    /**
     * The headers an object keeps: Content-Type and the other standard ones, and the user
     * metadata ({@code x-amz-meta-*}, at most 2 KB), names in lower case.
     */
    public List<Records.Header> objectHeaders() throws S3Exception {
        List<Records.Header> out = new ArrayList<>();
        int userBytes = 0;
        TreeSet<String> names = new TreeSet<>();
        for (String n : headerNames) {
            names.add(n.toLowerCase(Locale.ROOT));
        }
        for (String n : names) {
            if (STORED.contains(n)) {
                String v = String.join(",", headers.apply(n));
                if (n.equals("content-encoding")) {
                    // aws-chunked is how this request's body was framed, not how the object is
                    // encoded: drop that token, keep the others ("gzip, aws-chunked" → "gzip").
                    StringJoiner kept = new StringJoiner(", ");
                    for (String token : v.split(",")) {
                        String t = token.strip();
                        if (!t.isEmpty() && !t.equalsIgnoreCase("aws-chunked")) {
                            kept.add(t);
                        }
                    }
                    v = kept.toString();
                    if (v.isEmpty()) {
                        continue;
                    }
                }
                out.add(new Records.Header(n, v));
            } else if (n.startsWith("x-amz-meta-")) {
                String v = String.join(",", headers.apply(n));
                userBytes += n.length() - "x-amz-meta-".length() + v.getBytes(StandardCharsets.UTF_8).length;
                out.add(new Records.Header(n, v));
            }
        }
        if (userBytes > MAX_USER_METADATA) {
            throw new S3Exception(
                    S3Error.METADATA_TOO_LARGE,
                    "Your metadata headers are " + userBytes + " bytes; the maximum allowed is " + MAX_USER_METADATA);
        }
        return out;
    }
}
