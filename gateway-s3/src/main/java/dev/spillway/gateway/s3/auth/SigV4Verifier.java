package dev.spillway.gateway.s3.auth;

import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.naming.UriCodec;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * AWS Signature Version 4, verified: the {@code Authorization} header form and the presigned
 * query form, with the clock-skew and expiry rules of S3. Body protection (a signed payload
 * hash, signed aws-chunked chunks, trailers) is decided here and checked while the body streams
 * (see {@link AwsChunkedInputStream}).
 */
public final class SigV4Verifier {
    public static final String ALGORITHM = "AWS4-HMAC-SHA256";
    private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'");
    private static final long MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

    /** What the verifier needs of a request; header names are looked up in lower case. */
    public record Request(
            String method,
            String rawPath,
            byte[] decodedPath,
            List<String[]> query,
            Function<String, List<String>> headers) {
        String header(String name) {
            List<String> v = headers.apply(name);
            return v == null || v.isEmpty() ? null : v.get(0);
        }

        String queryParam(String name) {
            for (String[] p : query) {
                if (p[0].equals(name)) {
                    return p[1];
                }
            }
            return null;
        }
    }

    private final CredentialStore credentials;
    private final String region;
    private final InstantSource clock;
    private final Duration maxSkew;
    // Signing keys by secret/date/region: the HMAC chain is four MACs per request otherwise.
    private final Map<String, byte[]> keyCache = new ConcurrentHashMap<>();

    public SigV4Verifier(CredentialStore credentials, String region, InstantSource clock, Duration maxSkew) {
        this.credentials = credentials;
        this.region = region;
        this.clock = clock;
        this.maxSkew = maxSkew;
    }

    /** True if the request carries SigV4 in a header or in its query. */
    public static boolean isSigned(Request r) {
        // A Signature Version 2 query string counts as signed too: refused by verify(), never
        // mistaken for an anonymous request.
        return r.header("authorization") != null
                || r.queryParam("X-Amz-Algorithm") != null
                || r.queryParam("X-Amz-Signature") != null
                || r.queryParam("Signature") != null
                || r.queryParam("AWSAccessKeyId") != null;
    }

    /** Verifies the request's signature; throws the S3 error a client would get otherwise. */
    public AuthResult verify(Request r) throws S3Exception {
        String auth = r.header("authorization");
        if (auth != null) {
            return verifyHeader(r, auth);
        }
        return verifyPresigned(r);
    }

    private AuthResult verifyHeader(Request r, String auth) throws S3Exception {
        if (!auth.startsWith(ALGORITHM + " ")) {
            if (auth.startsWith("AWS ")) {
                throw new S3Exception(
                        S3Error.INVALID_REQUEST,
                        "Signature Version 2 is not supported; sign requests with AWS4-HMAC-SHA256");
            }
            throw new S3Exception(
                    S3Error.AUTHORIZATION_HEADER_MALFORMED, "unsupported authorization algorithm in '" + auth + "'");
        }
        String credential = null;
        String signedHeaders = null;
        String signature = null;
        for (String part : auth.substring(ALGORITHM.length() + 1).split(",")) {
            String p = part.strip();
            int eq = p.indexOf('=');
            if (eq < 0) {
                continue;
            }
            String v = p.substring(eq + 1).strip();
            switch (p.substring(0, eq).strip()) {
                case "Credential" -> credential = v;
                case "SignedHeaders" -> signedHeaders = v;
                case "Signature" -> signature = v;
                default -> {}
            }
        }
        if (credential == null || signedHeaders == null || signature == null) {
            throw new S3Exception(
                    S3Error.AUTHORIZATION_HEADER_MALFORMED,
                    "the authorization header needs Credential, SignedHeaders and Signature");
        }
        String amzDate = r.header("x-amz-date");
        if (amzDate == null) {
            throw new S3Exception(
                    S3Error.ACCESS_DENIED, "AWS authentication requires a valid Date or x-amz-date header");
        }
        Instant when = parseDate(amzDate, S3Error.ACCESS_DENIED);
        Instant now = clock.instant();
        if (Duration.between(when, now).abs().compareTo(maxSkew) > 0) {
            throw new S3Exception(
                    S3Error.REQUEST_TIME_TOO_SKEWED,
                    "The difference between the request time (" + amzDate
                            + ") and the server's time (" + AMZ_DATE.format(now.atOffset(ZoneOffset.UTC))
                            + ") is more than "
                            + maxSkew.toMinutes() + " minutes");
        }
        Scope scope = Scope.parse(credential, S3Error.AUTHORIZATION_HEADER_MALFORMED);
        checkScope(scope, amzDate, S3Error.AUTHORIZATION_HEADER_MALFORMED);
        String contentSha256 = r.header("x-amz-content-sha256");
        if (contentSha256 == null) {
            throw new S3Exception(
                    S3Error.INVALID_REQUEST, "Missing required header for this request: x-amz-content-sha256");
        }
        PayloadMode mode = PayloadMode.of(contentSha256);
        if (mode == PayloadMode.SIGNED && !contentSha256.matches("[0-9a-f]{64}")) {
            throw new S3Exception(
                    S3Error.INVALID_ARGUMENT,
                    "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a STREAMING-* value or a SHA-256 in hex, got '"
                            + contentSha256 + "'");
        }
        byte[] key = signingKey(scope);
        String sig = check(
                r,
                List.of(signedHeaders.split(";")),
                signedHeaders,
                contentSha256,
                amzDate,
                scope,
                key,
                signature,
                false);
        return new AuthResult(scope.accessKey, key, amzDate, scope.text(), sig, mode, contentSha256);
    }

    private AuthResult verifyPresigned(Request r) throws S3Exception {
        if (r.queryParam("X-Amz-Algorithm") == null && r.queryParam("AWSAccessKeyId") != null) {
            throw new S3Exception(
                    S3Error.INVALID_REQUEST,
                    "Signature Version 2 is not supported; presign URLs with AWS4-HMAC-SHA256");
        }
        String alg = r.queryParam("X-Amz-Algorithm");
        String credential = r.queryParam("X-Amz-Credential");
        String amzDate = r.queryParam("X-Amz-Date");
        String expires = r.queryParam("X-Amz-Expires");
        String signedHeaders = r.queryParam("X-Amz-SignedHeaders");
        String signature = r.queryParam("X-Amz-Signature");
        if (!ALGORITHM.equals(alg)
                || credential == null
                || amzDate == null
                || signedHeaders == null
                || signature == null) {
            throw new S3Exception(
                    S3Error.AUTHORIZATION_QUERY_PARAMETERS_ERROR,
                    "a presigned URL needs X-Amz-Algorithm=" + ALGORITHM
                            + ", X-Amz-Credential, X-Amz-Date, X-Amz-SignedHeaders and X-Amz-Signature");
        }
        Instant when = parseDate(amzDate, S3Error.AUTHORIZATION_QUERY_PARAMETERS_ERROR);
        long expirySeconds;
        try {
            expirySeconds = expires == null ? MAX_PRESIGN_SECONDS : Long.parseLong(expires);
        } catch (NumberFormatException e) {
            throw new S3Exception(
                    S3Error.AUTHORIZATION_QUERY_PARAMETERS_ERROR,
                    "X-Amz-Expires must be a number, got '" + expires + "'");
        }
        if (expirySeconds < 0 || expirySeconds > MAX_PRESIGN_SECONDS) {
            // S3 refuses such a URL as it refuses an expired one: 403 AccessDenied.
            throw new S3Exception(
                    S3Error.ACCESS_DENIED,
                    "X-Amz-Expires must be between 0 and " + MAX_PRESIGN_SECONDS + " seconds, got " + expirySeconds);
        }
        Instant now = clock.instant();
        if (when.minus(maxSkew).isAfter(now)) {
            throw new S3Exception(
                    S3Error.REQUEST_TIME_TOO_SKEWED, "the presigned URL's X-Amz-Date " + amzDate + " is in the future");
        }
        if (now.isAfter(when.plusSeconds(expirySeconds))) {
            throw new S3Exception(
                    S3Error.ACCESS_DENIED,
                    "Request has expired: signed at " + amzDate + " for " + expirySeconds + " seconds");
        }
        Scope scope = Scope.parse(credential, S3Error.AUTHORIZATION_QUERY_PARAMETERS_ERROR);
        checkScope(scope, amzDate, S3Error.AUTHORIZATION_QUERY_PARAMETERS_ERROR);
        String contentSha256 = r.queryParam("X-Amz-Content-Sha256");
        if (contentSha256 == null) {
            contentSha256 = r.header("x-amz-content-sha256");
        }
        if (contentSha256 == null) {
            contentSha256 = "UNSIGNED-PAYLOAD";
        }
        byte[] key = signingKey(scope);
        String sig = check(
                r,
                List.of(signedHeaders.split(";")),
                signedHeaders,
                contentSha256,
                amzDate,
                scope,
                key,
                signature,
                true);
        return new AuthResult(
                scope.accessKey, key, amzDate, scope.text(), sig, PayloadMode.of(contentSha256), contentSha256);
    }

    private String check(
            Request r,
            List<String> headerNames,
            String signedHeaders,
            String payloadHash,
            String amzDate,
            Scope scope,
            byte[] key,
            String signature,
            boolean presigned)
            throws S3Exception {
        if (!headerNames.contains("host")) {
            throw new S3Exception(
                    presigned ? S3Error.AUTHORIZATION_QUERY_PARAMETERS_ERROR : S3Error.AUTHORIZATION_HEADER_MALFORMED,
                    "SignedHeaders must include host");
        }
        String headers = canonicalHeaders(r, headerNames);
        String query = canonicalQuery(r.query(), presigned);
        // Clients encode the path their own way; the strict re-encoding of the decoded path is
        // what SDKs sign, the raw path covers clients that sign exactly what they sent.
        String strict = UriCodec.encode(r.decodedPath(), true);
        List<String> uris = strict.equals(r.rawPath()) ? List.of(strict) : List.of(strict, r.rawPath());
        String lastCanonical = null;
        for (String uri : uris) {
            String canonical =
                    r.method() + "\n" + uri + "\n" + query + "\n" + headers + "\n" + signedHeaders + "\n" + payloadHash;
            String sts = ALGORITHM + "\n" + amzDate + "\n" + scope.text() + "\n" + Hashing.sha256Hex(canonical);
            String expected = Hashing.hex(Hashing.hmac(key, sts));
            if (Hashing.sameSignature(expected, signature)) {
                return expected;
            }
            if (lastCanonical == null) {
                lastCanonical = canonical;
            }
        }
        throw new S3Exception(
                S3Error.SIGNATURE_DOES_NOT_MATCH,
                "The request signature we calculated does not match the signature you provided. Check your key and signing method."
                        + " Canonical request: " + lastCanonical.replace("\n", "\\n"));
    }

    private static String canonicalHeaders(Request r, List<String> names) throws S3Exception {
        StringBuilder sb = new StringBuilder();
        for (String name : names) {
            List<String> values = r.headers().apply(name);
            if (values == null || values.isEmpty()) {
                throw new S3Exception(
                        S3Error.SIGNATURE_DOES_NOT_MATCH, "signed header '" + name + "' is not in the request");
            }
            sb.append(name).append(':');
            for (int i = 0; i < values.size(); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                sb.append(values.get(i).strip().replaceAll(" +", " "));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static String canonicalQuery(List<String[]> query, boolean presigned) {
        List<String[]> enc = new ArrayList<>(query.size());
        for (String[] p : query) {
            if (presigned && p[0].equals("X-Amz-Signature")) {
                continue;
            }
            enc.add(new String[] {UriCodec.encode(p[0], false), UriCodec.encode(p[1], false)});
        }
        enc.sort(Comparator.<String[], String>comparing(p -> p[0]).thenComparing(p -> p[1]));
        StringBuilder sb = new StringBuilder();
        for (String[] p : enc) {
            if (!sb.isEmpty()) {
                sb.append('&');
            }
            sb.append(p[0]).append('=').append(p[1]);
        }
        return sb.toString();
    }

    private void checkScope(Scope scope, String amzDate, S3Error malformed) throws S3Exception {
        if (!scope.date.equals(amzDate.substring(0, 8))) {
            throw new S3Exception(
                    malformed, "the credential's date " + scope.date + " is not the request's date " + amzDate);
        }
        if (!scope.region.equals(region)) {
            throw new S3Exception(malformed, "the region '" + scope.region + "' is wrong; expecting '" + region + "'");
        }
        if (!scope.service.equals("s3") || !scope.terminator.equals("aws4_request")) {
            throw new S3Exception(malformed, "the credential scope must end in s3/aws4_request, got " + scope.text());
        }
    }

    private byte[] signingKey(Scope scope) throws S3Exception {
        Optional<String> secret = credentials.secretKey(scope.accessKey);
        if (secret.isEmpty()) {
            throw new S3Exception(
                    S3Error.INVALID_ACCESS_KEY_ID,
                    "The AWS Access Key Id you provided does not exist in our records: " + scope.accessKey);
        }
        String cacheKey = scope.accessKey + "/" + secret.get() + "/" + scope.date + "/" + scope.region;
        if (keyCache.size() > 1024) {
            keyCache.clear();
        }
        return keyCache.computeIfAbsent(
                cacheKey, k -> Hashing.signingKey(secret.get(), scope.date, scope.region, scope.service));
    }

    private static Instant parseDate(String amzDate, S3Error malformed) throws S3Exception {
        try {
            return LocalDateTime.parse(amzDate, AMZ_DATE).toInstant(ZoneOffset.UTC);
        } catch (DateTimeParseException e) {
            throw new S3Exception(
                    malformed, "X-Amz-Date must be in the form yyyyMMdd'T'HHmmss'Z', got '" + amzDate + "'");
        }
    }

    /** The credential scope {@code AK/date/region/service/aws4_request}. */
    private record Scope(String accessKey, String date, String region, String service, String terminator) {
        static Scope parse(String credential, S3Error malformed) throws S3Exception {
            String[] p = credential.split("/");
            if (p.length != 5) {
                throw new S3Exception(
                        malformed,
                        "the Credential must be ACCESS_KEY/DATE/REGION/SERVICE/aws4_request, got '" + credential + "'");
            }
            return new Scope(p[0], p[1], p[2].toLowerCase(Locale.ROOT), p[3], p[4]);
        }

        String text() {
            return date + "/" + region + "/" + service + "/" + terminator;
        }
    }
}
