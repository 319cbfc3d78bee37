package dev.spillway.gateway.s3.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.naming.UriCodec;
import dev.spillway.osd.testkit.fuzz.SeedCorpus;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4FamilyHttpSigner;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/**
 * Coverage-guided fuzzing (Jazzer; {@code docs/fuzzing.md}) of SigV4 verification: the
 * {@code Authorization} header form and the presigned query form.
 *
 * <ul>
 *   <li>{@link #request}: the input is an HTTP/1.1 request head as a client sends it (request
 *       line, header lines). It is taken apart as the gateway's handler does (path and query
 *       percent-decoded by {@link UriCodec}) and verified with the clock at the request's own
 *       date: the verifier must return who signed it or throw its {@link S3Exception}, nothing
 *       else. The seeds are real requests: captured from aws-cli and boto3 ({@code captured-*})
 *       and signed by the AWS SDK for Java ({@code seed-*}), all with the key below.</li>
 *   <li>{@link #sdkSigned}: differential. The fuzzer chooses a method, a key (any bytes, encoded
 *       strictly or the lenient way some clients do), query parameters, headers, the payload
 *       form and header or presigned form; the AWS SDK's signer (an independent implementation)
 *       signs it; the verifier must accept it, and must refuse it with SignatureDoesNotMatch
 *       once one character of the signature is changed.</li>
 * </ul>
 */
class SigV4FuzzTest {
    static final String ACCESS_KEY = "SPILLWAYFUZZKEY";
    static final String SECRET_KEY = "spillway/fuzz/secret+key";
    static final String REGION = "us-east-1";
    static final Instant DEFAULT_NOW = Instant.parse("2026-01-01T00:00:00Z");
    private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'");
    private static final CredentialStore KEYS = CredentialStore.single(ACCESS_KEY, SECRET_KEY);

    @FuzzTest
    void request(byte[] head) {
        SigV4Verifier.Request r = parseHead(new String(head, StandardCharsets.ISO_8859_1));
        if (r == null || !SigV4Verifier.isSigned(r)) {
            return;
        }
        SigV4Verifier v =
                new SigV4Verifier(KEYS, REGION, Clock.fixed(dateOf(r), ZoneOffset.UTC), Duration.ofMinutes(15));
        AuthResult a;
        try {
            a = v.verify(r);
        } catch (S3Exception e) {
            assertThat(e.error()).isNotNull();
            return;
        }
        assertThat(a.accessKey()).isEqualTo(ACCESS_KEY);
        assertThat(a.signingKey()).hasSize(32);
        assertThat(a.payloadMode()).isNotNull();
    }

    /** The form the fuzzer chooses for {@link #sdkSigned}. */
    enum Form {
        HEADER_SIGNED_PAYLOAD,
        HEADER_UNSIGNED_PAYLOAD,
        HEADER_STREAMING,
        PRESIGNED
    }

    private static final String LENIENT_RAW = "!$&'()*+,;=:@";

    @FuzzTest
    void sdkSigned(FuzzedDataProvider data) {
        String method = data.pickValue(new String[] {"GET", "PUT", "POST", "DELETE", "HEAD"});
        Form form = data.pickValue(Form.values());
        boolean lenient = data.consumeBoolean();
        byte[] key = data.consumeBytes(data.consumeInt(0, 300));
        StringBuilder path = new StringBuilder("/bucket/");
        for (byte b : key) {
            int c = b & 0xff;
            path.append(
                    lenient && c < 0x80 && LENIENT_RAW.indexOf(c) >= 0
                            ? String.valueOf((char) c)
                            : UriCodec.encode(new byte[] {b}, true));
        }
        SdkHttpRequest.Builder b = SdkHttpRequest.builder()
                .method(SdkHttpMethod.fromValue(method))
                .uri(URI.create("https://127.0.0.1:9000"))
                .encodedPath(path.toString());
        Set<String> names = new HashSet<>();
        for (int i = data.consumeInt(0, 4); i > 0; i--) {
            // Parameter names as S3's API has them: unreserved characters, each once. With a name
            // that percent-encodes ("]", "ή") or twice with two values, the AWS SDK for Java sorts
            // the canonical query before encoding, botocore (and AWS's SigV4 documentation: "the
            // sorting occurs after encoding") after; the verifier follows the documentation.
            String name = unreserved(data.consumeAsciiString(16));
            if (form == Form.PRESIGNED && name.equals("X-Amz-Signature")) {
                // The caller's own X-Amz-Signature: the SDK signs it into the canonical query
                // (with the caller's value), then overwrites it with the signature, so the URL
                // it hands out cannot verify anywhere: SigV4's canonical query of a presigned URL
                // is every parameter except X-Amz-Signature (AWS S3 API reference, "Authenticating
                // Requests: Using Query Parameters"). Pinned by sdkPresignsACallersXAmzSignature.
                continue;
            }
            if (names.add(name)) {
                b.appendRawQueryParameter(name, data.consumeBoolean() ? data.consumeString(60) : "");
            }
        }
        Set<String> headerNames = new HashSet<>();
        for (int i = data.consumeInt(0, 4); i > 0; i--) {
            // each name once: one header sent three times with empty values is signed by the SDK
            // otherwise than as SigV4's "values joined by commas" (",,") the verifier computes
            String name = "x-fz-" + token(data.consumeAsciiString(12));
            if (headerNames.add(name)) {
                b.appendHeader(name, printable(data.consumeAsciiString(60)));
            }
        }
        byte[] body = data.consumeRemainingAsBytes();
        if (form == Form.HEADER_STREAMING) {
            b.putHeader("x-amz-decoded-content-length", Integer.toString(body.length));
        }
        SdkHttpRequest req = b.build();
        SignedRequest signed = AwsV4HttpSigner.create().sign(s -> {
            s.identity(AwsCredentialsIdentity.create(ACCESS_KEY, SECRET_KEY))
                    .request(req)
                    .payload(() -> new ByteArrayInputStream(body))
                    .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "s3")
                    .putProperty(AwsV4HttpSigner.REGION_NAME, REGION)
                    .putProperty(AwsV4HttpSigner.DOUBLE_URL_ENCODE, false)
                    .putProperty(AwsV4HttpSigner.NORMALIZE_PATH, false)
                    .putProperty(HttpSigner.SIGNING_CLOCK, Clock.fixed(DEFAULT_NOW, ZoneOffset.UTC))
                    .putProperty(AwsV4FamilyHttpSigner.PAYLOAD_SIGNING_ENABLED, form == Form.HEADER_SIGNED_PAYLOAD)
                    .putProperty(AwsV4FamilyHttpSigner.CHUNK_ENCODING_ENABLED, form == Form.HEADER_STREAMING);
            if (form == Form.PRESIGNED) {
                s.putProperty(AwsV4FamilyHttpSigner.AUTH_LOCATION, AwsV4FamilyHttpSigner.AuthLocation.QUERY_STRING)
                        .putProperty(AwsV4FamilyHttpSigner.EXPIRATION_DURATION, Duration.ofHours(1));
            }
        });
        String head = head(signed.request());
        SigV4Verifier v = new SigV4Verifier(
                KEYS, REGION, Clock.fixed(DEFAULT_NOW.plusSeconds(60), ZoneOffset.UTC), Duration.ofMinutes(15));
        SigV4Verifier.Request r = parseHead(head);
        assertThat(r).as(head).isNotNull();
        try {
            v.verify(r);
        } catch (S3Exception e) {
            throw new AssertionError("a request the AWS SDK signed is refused: " + e.getMessage() + "\n" + head, e);
        }
        String tampered = tamperSignature(head);
        SigV4Verifier.Request t = parseHead(tampered);
        try {
            v.verify(t);
            throw new AssertionError("a request with a changed signature is accepted:\n" + tampered);
        } catch (S3Exception e) {
            assertThat(e.error().code()).isEqualTo("SignatureDoesNotMatch");
        }
    }

    private static String token(String s) {
        StringBuilder sb = new StringBuilder();
        for (char c : s.toLowerCase(Locale.ROOT).toCharArray()) {
            if (c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
                sb.append(c);
            }
        }
        return sb.isEmpty() ? "h" : sb.toString();
    }

    private static String unreserved(String s) {
        StringBuilder sb = new StringBuilder();
        for (char c : s.toCharArray()) {
            if (c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || "-_.~".indexOf(c) >= 0) {
                sb.append(c);
            }
        }
        return sb.isEmpty() ? "p" : sb.toString();
    }

    private static String printable(String s) {
        StringBuilder sb = new StringBuilder();
        for (char c : s.toCharArray()) {
            if (c >= 0x20 && c < 0x7f) {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /** The request head a client would send for {@code r}. */
    static String head(SdkHttpRequest r) {
        StringBuilder sb = new StringBuilder(r.method().name())
                .append(' ')
                .append(r.encodedPath())
                .append(r.encodedQueryParameters().map(q -> "?" + q).orElse(""))
                .append(" HTTP/1.1\r\n");
        r.forEachHeader((name, values) ->
                values.forEach(v -> sb.append(name).append(": ").append(v).append("\r\n")));
        if (r.firstMatchingHeader("Host").isEmpty()) {
            sb.append("Host: ").append(r.host()).append(':').append(r.port()).append("\r\n");
        }
        return sb.append("\r\n").toString();
    }

    /**
     * {@code head} with the first digit of its signature changed: the one of the Authorization
     * header, else the query's X-Amz-Signature parameter. Looked for where each is, not as the
     * first "Signature=" of the head: a key in the lenient form may hold "Signature=" raw in the
     * path, and changing the path's next character ('?') lost the whole query
     * (crash-7d0d287f…: AuthorizationQueryParametersError instead of SignatureDoesNotMatch).
     */
    private static String tamperSignature(String head) {
        int at = -1;
        int auth = head.indexOf("\r\nAuthorization: ");
        if (auth >= 0) {
            int s = head.lastIndexOf("Signature=", head.indexOf("\r\n", auth + 2));
            at = s > auth ? s + "Signature=".length() : -1;
        } else {
            String requestLine = head.substring(0, head.indexOf("\r\n"));
            for (int s = requestLine.indexOf("X-Amz-Signature=", requestLine.indexOf('?'));
                    s > 0;
                    s = requestLine.indexOf("X-Amz-Signature=", s + 1)) {
                char before = requestLine.charAt(s - 1);
                if (before == '?' || before == '&') {
                    at = s + "X-Amz-Signature=".length();
                    break;
                }
            }
        }
        if (at < 0 || at >= head.length()) {
            throw new AssertionError("no signature to change in:\n" + head);
        }
        char c = head.charAt(at);
        return head.substring(0, at) + (c == '0' ? '1' : '0') + head.substring(at + 1);
    }

    /**
     * A request head taken apart as the gateway's handler does: the path and query percent-decoded
     * (the query with {@code +} as space), header names in lower case with their values as sent
     * (several lines of one name are several values). Null where the handler would refuse the
     * request before authentication (no request line, a broken percent escape).
     */
    static SigV4Verifier.Request parseHead(String head) {
        String[] lines = head.split("\r?\n", -1);
        String[] first = lines[0].split(" ", -1);
        if (first.length < 2 || first[0].isEmpty() || !first[1].startsWith("/")) {
            return null;
        }
        Map<String, List<String>> headers = new TreeMap<>();
        for (int i = 1; i < lines.length && !lines[i].isEmpty(); i++) {
            int colon = lines[i].indexOf(':');
            if (colon <= 0) {
                return null; // Jetty answers 400 to a header line without a name
            }
            headers.computeIfAbsent(
                            lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                    .add(lines[i].substring(colon + 1).strip());
        }
        String target = first[1];
        int q = target.indexOf('?');
        String rawPath = q < 0 ? target : target.substring(0, q);
        List<String[]> query = new ArrayList<>();
        byte[] decoded;
        try {
            decoded = UriCodec.decode(rawPath, false);
            if (q >= 0) {
                for (String pair : target.substring(q + 1).split("&")) {
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
            return null; // the handler's InvalidArgument "bad URI"
        }
        return new SigV4Verifier.Request(first[0], rawPath, decoded, query, headers::get);
    }

    /** The request's own x-amz-date (header or query), so a captured request verifies; else a fixed instant. */
    private static Instant dateOf(SigV4Verifier.Request r) {
        String d = r.header("x-amz-date");
        if (d == null) {
            d = r.queryParam("X-Amz-Date");
        }
        if (d != null) {
            try {
                return LocalDateTime.parse(d, AMZ_DATE)
                        .toInstant(ZoneOffset.UTC)
                        .plusSeconds(30);
            } catch (RuntimeException e) {
                // not a date: the verifier will say so
            }
        }
        return DEFAULT_NOW;
    }

    // ---- seeds: requests the AWS SDK signs, one of each form ----

    static Map<String, byte[]> seeds() {
        Map<String, byte[]> s = new LinkedHashMap<>();
        s.put(
                "get-header",
                sdkHead("GET", "/bucket/photos/2026/cat.jpg", Map.of(), new byte[0], Form.HEADER_UNSIGNED_PAYLOAD));
        s.put(
                "put-signed-payload",
                sdkHead(
                        "PUT",
                        "/bucket/a%20key%2Bplus",
                        Map.of(),
                        "hello".getBytes(StandardCharsets.UTF_8),
                        Form.HEADER_SIGNED_PAYLOAD));
        s.put("put-streaming", sdkHead("PUT", "/bucket/big", Map.of(), new byte[100], Form.HEADER_STREAMING));
        s.put(
                "list-query",
                sdkHead(
                        "GET",
                        "/bucket",
                        Map.of("list-type", "2", "prefix", "a b/é", "max-keys", "10"),
                        new byte[0],
                        Form.HEADER_UNSIGNED_PAYLOAD));
        s.put("presigned-get", sdkHead("GET", "/bucket/report.pdf", Map.of(), new byte[0], Form.PRESIGNED));
        s.put(
                "presigned-upload-part",
                sdkHead("PUT", "/bucket/k", Map.of("partNumber", "3", "uploadId", "abc"), new byte[0], Form.PRESIGNED));
        return s;
    }

    private static byte[] sdkHead(String method, String path, Map<String, String> query, byte[] body, Form form) {
        SdkHttpRequest.Builder b = SdkHttpRequest.builder()
                .method(SdkHttpMethod.fromValue(method))
                .uri(URI.create("https://127.0.0.1:9000"))
                .encodedPath(path);
        new TreeMap<>(query).forEach(b::appendRawQueryParameter);
        if (form == Form.HEADER_STREAMING) {
            b.putHeader("x-amz-decoded-content-length", Integer.toString(body.length));
        }
        SdkHttpRequest req = b.build();
        SignedRequest signed = AwsV4HttpSigner.create().sign(s -> {
            s.identity(AwsCredentialsIdentity.create(ACCESS_KEY, SECRET_KEY))
                    .request(req)
                    .payload(() -> new ByteArrayInputStream(body))
                    .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "s3")
                    .putProperty(AwsV4HttpSigner.REGION_NAME, REGION)
                    .putProperty(AwsV4HttpSigner.DOUBLE_URL_ENCODE, false)
                    .putProperty(AwsV4HttpSigner.NORMALIZE_PATH, false)
                    .putProperty(HttpSigner.SIGNING_CLOCK, Clock.fixed(DEFAULT_NOW, ZoneOffset.UTC))
                    .putProperty(AwsV4FamilyHttpSigner.PAYLOAD_SIGNING_ENABLED, form == Form.HEADER_SIGNED_PAYLOAD)
                    .putProperty(AwsV4FamilyHttpSigner.CHUNK_ENCODING_ENABLED, form == Form.HEADER_STREAMING);
            if (form == Form.PRESIGNED) {
                s.putProperty(AwsV4FamilyHttpSigner.AUTH_LOCATION, AwsV4FamilyHttpSigner.AuthLocation.QUERY_STRING)
                        .putProperty(AwsV4FamilyHttpSigner.EXPIRATION_DURATION, Duration.ofHours(1));
            }
        });
        return head(signed.request()).getBytes(StandardCharsets.ISO_8859_1);
    }

    /**
     * Why {@link #sdkSigned} never asks the SDK to presign a request that already has an
     * {@code X-Amz-Signature} parameter (found by fuzzing: crash-b0959199…): the AWS SDK for Java
     * (2.57) puts the caller's {@code X-Amz-Signature=} into the canonical query it signs and
     * then replaces that parameter with the signature, so the URL carries one X-Amz-Signature
     * whose signature covers a query the URL no longer has. The verifier must refuse it (its
     * canonical query leaves X-Amz-Signature out, as SigV4 says); if a later SDK refuses or
     * drops the caller's parameter instead, this test fails and the exclusion can go.
     */
    @Test
    void sdkPresignsACallersXAmzSignatureIntoItsOwnSignature() {
        String head = new String(
                sdkHead("GET", "/bucket/k", Map.of("X-Amz-Signature", ""), new byte[0], Form.PRESIGNED),
                StandardCharsets.ISO_8859_1);
        SigV4Verifier.Request r = parseHead(head);
        assertThat(r.query().stream().filter(p -> p[0].equals("X-Amz-Signature")))
                .as(head)
                .hasSize(1);
        SigV4Verifier v = new SigV4Verifier(
                KEYS, REGION, Clock.fixed(DEFAULT_NOW.plusSeconds(60), ZoneOffset.UTC), Duration.ofMinutes(15));
        assertThatThrownBy(() -> v.verify(r))
                .isInstanceOfSatisfying(
                        S3Exception.class, e -> assertThat(e.error().code()).isEqualTo("SignatureDoesNotMatch"));
        // the same request without the caller's parameter verifies
        SigV4Verifier.Request plain = parseHead(new String(
                sdkHead("GET", "/bucket/k", Map.of(), new byte[0], Form.PRESIGNED), StandardCharsets.ISO_8859_1));
        assertThatCode(() -> v.verify(plain)).doesNotThrowAnyException();
    }

    @Test
    void seedsAndCapturedRequestsVerify() throws Exception {
        Map<String, byte[]> seeds = seeds();
        Map<String, byte[]> all = new TreeMap<>(seeds);
        SeedCorpus corpus = SeedCorpus.of(getClass(), "request");
        corpus.files().forEach((name, bytes) -> {
            if (name.startsWith("captured-")) {
                all.put(name, bytes);
            }
        });
        for (var e : all.entrySet()) {
            SigV4Verifier.Request r = parseHead(new String(e.getValue(), StandardCharsets.ISO_8859_1));
            assertThat(r).as(e.getKey()).isNotNull();
            SigV4Verifier v =
                    new SigV4Verifier(KEYS, REGION, Clock.fixed(dateOf(r), ZoneOffset.UTC), Duration.ofMinutes(15));
            assertThat(v.verify(r).accessKey()).as(e.getKey()).isEqualTo(ACCESS_KEY);
        }
        corpus.check(seeds);
    }
}
