package dev.spillway.gateway.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.gateway.s3.auth.Hashing;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketCannedACL;
import software.amazon.awssdk.services.s3.model.CORSRule;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * CORS (configuration, preflight, the headers of actual requests, errors included) and browser
 * POST uploads (SigV4 and SigV2 POST policies, conditions, content-length-range,
 * success_action_status and success_action_redirect, anonymous forms into a public bucket).
 */
class CorsAndPostTest {
    static GatewayFixture fx;
    static S3Client s3;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        fx = new GatewayFixture();
        s3 = fx.client(true);
    }

    @AfterAll
    static void stop() throws Exception {
        s3.close();
        fx.close();
    }

    static HttpResponse<String> send(String method, String path, Map<String, String> headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(fx.endpoint() + path))
                .method(method, HttpRequest.BodyPublishers.noBody());
        headers.forEach(b::header);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void corsConfigurationPreflightAndResponseHeaders() throws Exception {
        s3.createBucket(b -> b.bucket("web").acl(BucketCannedACL.PUBLIC_READ));
        assertThatThrownBy(() -> s3.getBucketCors(b -> b.bucket("web")))
                .isInstanceOfSatisfying(
                        S3Exception.class,
                        e -> assertThat(e.awsErrorDetails().errorCode()).isEqualTo("NoSuchCORSConfiguration"));
        // Without a configuration a preflight is refused.
        assertThat(send(
                                "OPTIONS",
                                "/web/k",
                                Map.of("Origin", "https://app.example", "Access-Control-Request-Method", "GET"))
                        .statusCode())
                .isEqualTo(403);
        s3.putBucketCors(b -> b.bucket("web")
                .corsConfiguration(c -> c.corsRules(
                        CORSRule.builder()
                                .allowedOrigins("https://*.example")
                                .allowedMethods("GET", "HEAD")
                                .allowedHeaders("x-amz-*", "content-type")
                                .exposeHeaders("ETag")
                                .maxAgeSeconds(600)
                                .build(),
                        CORSRule.builder()
                                .allowedOrigins("*")
                                .allowedMethods("PUT")
                                .build())));
        assertThat(s3.getBucketCors(b -> b.bucket("web")).corsRules()).hasSize(2);

        var ok = send(
                "OPTIONS",
                "/web/k",
                Map.of(
                        "Origin", "https://app.example",
                        "Access-Control-Request-Method", "GET",
                        "Access-Control-Request-Headers", "x-amz-date, Content-Type"));
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.headers().firstValue("access-control-allow-origin")).hasValue("https://app.example");
        assertThat(ok.headers().firstValue("access-control-allow-methods")).hasValue("GET, HEAD");
        assertThat(ok.headers().firstValue("access-control-allow-headers")).hasValue("x-amz-date, Content-Type");
        assertThat(ok.headers().firstValue("access-control-max-age")).hasValue("600");
        // A header no rule allows, an origin no rule allows, a preflight without the method.
        assertThat(send(
                                "OPTIONS",
                                "/web/k",
                                Map.of(
                                        "Origin", "https://app.example",
                                        "Access-Control-Request-Method", "GET",
                                        "Access-Control-Request-Headers", "x-custom"))
                        .statusCode())
                .isEqualTo(403);
        assertThat(send(
                                "OPTIONS",
                                "/web/k",
                                Map.of("Origin", "https://evil.test", "Access-Control-Request-Method", "GET"))
                        .statusCode())
                .isEqualTo(403);
        assertThat(send("OPTIONS", "/web/k", Map.of("Origin", "https://app.example"))
                        .statusCode())
                .isEqualTo(400);
        // The wildcard rule answers '*'.
        var any = send("OPTIONS", "/web/k", Map.of("Origin", "https://x.test", "Access-Control-Request-Method", "PUT"));
        assertThat(any.statusCode()).isEqualTo(200);
        assertThat(any.headers().firstValue("access-control-allow-origin")).hasValue("*");

        // An actual request carries the headers, also when it ends in an error.
        s3.putObject(b -> b.bucket("web").key("k").acl("public-read"), RequestBody.fromString("v"));
        var get = send("GET", "/web/k", Map.of("Origin", "https://app.example"));
        assertThat(get.statusCode()).isEqualTo(200);
        assertThat(get.headers().firstValue("access-control-allow-origin")).hasValue("https://app.example");
        assertThat(get.headers().firstValue("access-control-expose-headers")).hasValue("ETag");
        var missing = send("GET", "/web/missing", Map.of("Origin", "https://app.example"));
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.headers().firstValue("access-control-allow-origin")).hasValue("https://app.example");
        assertThat(send("GET", "/web/k", Map.of("Origin", "https://evil.test"))
                        .headers()
                        .firstValue("access-control-allow-origin"))
                .isEmpty();

        s3.deleteBucketCors(b -> b.bucket("web"));
        assertThatThrownBy(() -> s3.getBucketCors(b -> b.bucket("web"))).isInstanceOf(S3Exception.class);
        assertThatThrownBy(() -> s3.putBucketCors(b -> b.bucket("web")
                        .corsConfiguration(c -> c.corsRules(CORSRule.builder()
                                .allowedOrigins("*")
                                .allowedMethods("PATCH")
                                .build()))))
                .isInstanceOfSatisfying(
                        S3Exception.class, e -> assertThat(e.statusCode()).isEqualTo(400));
    }

    // ---- POST uploads -------------------------------------------------------------------------

    static byte[] form(Map<String, String> fields, String fileName, byte[] file, String boundary) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Map.Entry<String, String> f : fields.entrySet()) {
            out.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + f.getKey() + "\"\r\n\r\n"
                            + f.getValue() + "\r\n")
                    .getBytes(StandardCharsets.UTF_8));
        }
        out.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + fileName
                        + "\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                .getBytes(StandardCharsets.UTF_8));
        out.writeBytes(file);
        out.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }

    static HttpResponse<String> post(String bucket, Map<String, String> fields, String fileName, byte[] file)
            throws Exception {
        String boundary = "----spillwayform" + Long.toHexString(System.nanoTime());
        HttpRequest r = HttpRequest.newBuilder(URI.create(fx.endpoint() + "/" + bucket))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(form(fields, fileName, file, boundary)))
                .build();
        return HTTP.send(r, HttpResponse.BodyHandlers.ofString());
    }

    static String policy(String json) {
        return Base64.getEncoder().encodeToString(json.getBytes(StandardCharsets.UTF_8));
    }

    static String expiration() {
        return DateTimeFormatter.ISO_INSTANT.format(
                Instant.now().plus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS));
    }

    /** The form fields of a SigV4-signed POST for {@code conditions} (as a JSON list body). */
    static Map<String, String> signedV4(String bucket, String conditions) {
        String date =
                DateTimeFormatter.ofPattern("yyyyMMdd").withZone(ZoneOffset.UTC).format(Instant.now());
        String amzDate = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
                .withZone(ZoneOffset.UTC)
                .format(Instant.now());
        String credential = GatewayFixture.ACCESS_KEY + "/" + date + "/us-east-1/s3/aws4_request";
        String p = policy("{\"expiration\":\"" + expiration() + "\",\"conditions\":[{\"bucket\":\"" + bucket
                + "\"},{\"x-amz-algorithm\":\"AWS4-HMAC-SHA256\"},{\"x-amz-credential\":\"" + credential
                + "\"},{\"x-amz-date\":\"" + amzDate + "\"}" + conditions + "]}");
        byte[] key = Hashing.signingKey(GatewayFixture.SECRET_KEY, date, "us-east-1", "s3");
        Map<String, String> f = new LinkedHashMap<>();
        f.put("x-amz-algorithm", "AWS4-HMAC-SHA256");
        f.put("x-amz-credential", credential);
        f.put("x-amz-date", amzDate);
        f.put("policy", p);
        f.put("x-amz-signature", Hashing.hex(Hashing.hmac(key, p)));
        return f;
    }

    /** A bucket policy judges a form upload by the key it names (a Deny on a prefix is not bypassed by POST). */
    @Test
    void bucketPolicyJudgesTheFormsKey() throws Exception {
        s3.createBucket(b -> b.bucket("forms-policy"));
        s3.putBucketPolicy(b -> b.bucket("forms-policy")
                .policy("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":\"*\","
                        + "\"Action\":\"s3:PutObject\",\"Resource\":\"arn:aws:s3:::forms-policy/locked/*\"}]}"));
        Map<String, String> f = new LinkedHashMap<>();
        f.put("key", "locked/${filename}");
        f.putAll(signedV4("forms-policy", ",[\"starts-with\",\"$key\",\"\"]"));
        var denied = post("forms-policy", f, "a.txt", new byte[1]);
        assertThat(denied.statusCode()).as(denied.body()).isEqualTo(403);
        assertThat(denied.body()).contains("bucket policy");
        f.put("key", "open/${filename}");
        assertThat(post("forms-policy", f, "a.txt", new byte[1]).statusCode()).isEqualTo(204);
        s3.deleteBucketPolicy(b -> b.bucket("forms-policy"));
    }

    @Test
    void sigV4PostPolicyUpload() throws Exception {
        s3.createBucket(b -> b.bucket("forms"));
        Map<String, String> f = new LinkedHashMap<>();
        f.put("key", "uploads/${filename}");
        f.put("Content-Type", "text/plain");
        f.put("x-amz-meta-who", "browser");
        f.putAll(signedV4(
                "forms",
                ",[\"starts-with\",\"$key\",\"uploads/\"],[\"starts-with\",\"$Content-Type\",\"text/\"],"
                        + "{\"x-amz-meta-who\":\"browser\"},[\"content-length-range\",1,100]"));
        var r = post("forms", f, "hello.txt", "hello, form".getBytes(StandardCharsets.UTF_8));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(204);
        var head = s3.headObject(b -> b.bucket("forms").key("uploads/hello.txt"));
        assertThat(head.contentType()).isEqualTo("text/plain");
        assertThat(head.metadata()).containsEntry("who", "browser");
        assertThat(s3.getObjectAsBytes(b -> b.bucket("forms").key("uploads/hello.txt"))
                        .asUtf8String())
                .isEqualTo("hello, form");

        // Past content-length-range: EntityTooLarge, nothing stored.
        var big = post("forms", f, "big.txt", new byte[101]);
        assertThat(big.statusCode()).isEqualTo(400);
        assertThat(big.body()).contains("EntityTooLarge");
        assertThat(s3.listObjectsV2(b -> b.bucket("forms").prefix("uploads/big"))
                        .contents())
                .isEmpty();
        // A field the policy does not cover: AccessDenied.
        Map<String, String> extra = new LinkedHashMap<>(f);
        extra.put("x-amz-meta-other", "x");
        assertThat(post("forms", extra, "e.txt", new byte[1]).statusCode()).isEqualTo(403);
        // A condition not met.
        Map<String, String> wrongKey = new LinkedHashMap<>(f);
        wrongKey.put("key", "elsewhere/${filename}");
        assertThat(post("forms", wrongKey, "w.txt", new byte[1]).statusCode()).isEqualTo(403);
        // A tampered signature.
        Map<String, String> tampered = new LinkedHashMap<>(f);
        tampered.put("x-amz-signature", "0".repeat(64));
        assertThat(post("forms", tampered, "t.txt", new byte[1]).statusCode()).isEqualTo(403);
    }

    @Test
    void sigV2PolicyStatusAndRedirect() throws Exception {
        s3.createBucket(b -> b.bucket("forms2"));
        String p = policy("{\"expiration\":\"" + expiration() + "\",\"conditions\":[{\"bucket\":\"forms2\"},"
                + "[\"starts-with\",\"$key\",\"\"],[\"starts-with\",\"$success_action_status\",\"\"],"
                + "[\"starts-with\",\"$success_action_redirect\",\"\"]]}");
        Mac mac = Mac.getInstance("HmacSHA1");
        mac.init(new SecretKeySpec(GatewayFixture.SECRET_KEY.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
        String sig = Base64.getEncoder().encodeToString(mac.doFinal(p.getBytes(StandardCharsets.UTF_8)));
        Map<String, String> f = new LinkedHashMap<>();
        f.put("key", "a.txt");
        f.put("AWSAccessKeyId", GatewayFixture.ACCESS_KEY);
        f.put("policy", p);
        f.put("signature", sig);
        f.put("success_action_status", "201");
        var created = post("forms2", f, "a.txt", "a".getBytes(StandardCharsets.UTF_8));
        assertThat(created.statusCode()).isEqualTo(201);
        assertThat(created.body()).contains("<Key>a.txt</Key>").contains("<Bucket>forms2</Bucket>");
        f.remove("success_action_status");
        f.put("success_action_redirect", "http://app.example/done");
        var redirected = post("forms2", f, "a.txt", "a".getBytes(StandardCharsets.UTF_8));
        assertThat(redirected.statusCode()).isEqualTo(303);
        String etag = s3.headObject(b -> b.bucket("forms2").key("a.txt")).eTag();
        assertThat(redirected.headers().firstValue("location"))
                .hasValue("http://app.example/done?bucket=forms2&key=a.txt&etag=" + etag.replace("\"", "%22"));
        // An expired policy.
        String old =
                policy("{\"expiration\":\"2020-01-01T00:00:00Z\",\"conditions\":[[\"starts-with\",\"$key\",\"\"]]}");
        mac.init(new SecretKeySpec(GatewayFixture.SECRET_KEY.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
        Map<String, String> e = new LinkedHashMap<>();
        e.put("key", "b.txt");
        e.put("AWSAccessKeyId", GatewayFixture.ACCESS_KEY);
        e.put("policy", old);
        e.put("signature", Base64.getEncoder().encodeToString(mac.doFinal(old.getBytes(StandardCharsets.UTF_8))));
        assertThat(post("forms2", e, "b.txt", new byte[1]).statusCode()).isEqualTo(403);
    }

    @Test
    void anonymousFormsOnlyWhereEveryoneMayWrite() throws Exception {
        s3.createBucket(b -> b.bucket("closed-forms"));
        s3.createBucket(b -> b.bucket("open-forms").acl(BucketCannedACL.PUBLIC_READ_WRITE));
        Map<String, String> f = Map.of("key", "x.txt", "acl", "public-read");
        assertThat(post("closed-forms", f, "x.txt", new byte[3]).statusCode()).isEqualTo(403);
        assertThat(post("open-forms", f, "x.txt", new byte[3]).statusCode()).isEqualTo(204);
        assertThat(send("GET", "/open-forms/x.txt", Map.of()).statusCode()).isEqualTo(200);
        // A form without a file, or without a key.
        assertThat(post("open-forms", Map.of(), "y.txt", new byte[1]).statusCode())
                .isEqualTo(400);
    }
}
