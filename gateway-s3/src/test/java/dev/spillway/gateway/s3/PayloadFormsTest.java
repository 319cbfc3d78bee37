package dev.spillway.gateway.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.gateway.s3.RawS3.Form;
import dev.spillway.gateway.s3.auth.CredentialStore;
import dev.spillway.gateway.s3.store.BucketObjects;
import dev.spillway.gateway.s3.store.StagedBody;
import dev.spillway.osd.mem.MemOsd;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Each SigV4 payload form, signed by the AWS SDK's own signer, and malformed requests: bad
 * signatures, truncated aws-chunked bodies, bad XML, a client that vanishes mid-upload. Every
 * failure must be an S3 error and leave nothing behind (no key, no garbage after a sweep).
 */
class PayloadFormsTest {
    static GatewayFixture fx;
    static RawS3 raw;
    static S3Client sdk;
    static final long SEED = Long.getLong("test.seed", System.nanoTime());
    static final Random RANDOM = new Random(SEED);

    @BeforeAll
    static void start() throws Exception {
        System.out.println("PayloadFormsTest seed " + SEED + " (replay with -Dtest.seed=" + SEED + ")");
        fx = new GatewayFixture();
        raw = new RawS3(fx.endpoint(), GatewayFixture.ACCESS_KEY, GatewayFixture.SECRET_KEY);
        sdk = fx.client(true);
        sdk.createBucket(b -> b.bucket("forms"));
    }

    @AfterAll
    static void stop() throws Exception {
        sdk.close();
        fx.close();
    }

    static byte[] bytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    /**
     * Waits for the requests in flight to let go of their objects: an event, polled; the bound
     * only ends a test whose requests never finish (a loaded machine may take seconds).
     */
    void awaitNothingInUse() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (fx.gateway.namespace().inUse().size() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
    }

    void assertNothingLeft(String key) throws Exception {
        assertThat(sdk.listObjectsV2(b -> b.bucket("forms").prefix(key)).contents())
                .isEmpty();
        // A background sweep may be running: wait for in-flight work to drain, then sweep.
        awaitNothingInUse();
        fx.gateway.sweepNow();
        assertThat(fx.gateway.garbagePending()).isZero();
        assertThat(fx.gateway.namespace().inUse().size()).isZero();
    }

    @ParameterizedTest
    @EnumSource(Form.class)
    void everyPayloadFormStoresTheBody(Form form) throws Exception {
        byte[] body = bytes(300_000 + form.ordinal());
        String key = "form-" + form;
        RawS3.Response r = raw.send(raw.sign("PUT", "/forms/" + key, Map.of(), body, form));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(sdk.getObjectAsBytes(b -> b.bucket("forms").key(key)).asByteArray())
                .isEqualTo(body);
    }

    @ParameterizedTest
    @EnumSource(
            value = Form.class,
            names = {"STREAMING_SIGNED", "STREAMING_SIGNED_TRAILER", "STREAMING_UNSIGNED_TRAILER"})
    void truncatedChunkedBodyIsIncompleteAndLeavesNothing(Form form) throws Exception {
        byte[] body = bytes(200_000);
        String key = "trunc-" + form;
        RawS3.Signed s = raw.sign("PUT", "/forms/" + key, Map.of(), body, form);
        // The client says the whole length (it is signed) but stops halfway and half-closes.
        RawS3.Response r = raw.sendTruncated(s, s.body().length / 2);
        // Jetty notices the early EOF itself and answers 400 (with an empty body: the S3 error
        // document cannot follow a request whose input already failed); what matters is that
        // nothing of the upload stays.
        assertThat(r.status()).as(r.body()).isEqualTo(400);
        assertThat(r.body())
                .as(r.body())
                .satisfiesAnyOf(
                        b -> assertThat(b).isEmpty(), b -> assertThat(b).contains("<Code>IncompleteBody</Code>"));
        assertNothingLeft(key);
    }

    @ParameterizedTest
    @EnumSource(
            value = Form.class,
            names = {"STREAMING_SIGNED", "STREAMING_SIGNED_TRAILER"})
    void tamperedChunkIsRefused(Form form) throws Exception {
        byte[] body = bytes(200_000);
        String key = "tamper-" + form;
        RawS3.Signed s = raw.sign("PUT", "/forms/" + key, Map.of(), body, form);
        byte[] wire = s.body().clone();
        wire[wire.length / 2] ^= 1;
        RawS3.Response r = raw.send(s, wire);
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.body()).contains("<Code>SignatureDoesNotMatch</Code>");
        assertNothingLeft(key);
    }

    @Test
    void signedPayloadThatDoesNotMatchItsHash() throws Exception {
        byte[] body = bytes(5000);
        RawS3.Signed s = raw.sign("PUT", "/forms/hash", Map.of(), body, Form.SIGNED);
        byte[] other = body.clone();
        other[0] ^= 1;
        RawS3.Response r = raw.send(s, other);
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.body()).contains("<Code>XAmzContentSHA256Mismatch</Code>");
        assertNothingLeft("hash");
    }

    @Test
    void unsignedTrailerWithWrongChecksumIsBadDigest() throws Exception {
        byte[] body = bytes(100_000);
        RawS3.Signed s = raw.sign("PUT", "/forms/crc", Map.of(), body, Form.STREAMING_UNSIGNED_TRAILER);
        String wire = new String(s.body(), StandardCharsets.ISO_8859_1);
        int at = wire.indexOf("x-amz-checksum-crc32:");
        assertThat(at).isPositive();
        char c = wire.charAt(at + 21);
        String bad = wire.substring(0, at + 21) + (c == 'A' ? 'B' : 'A') + wire.substring(at + 22);
        RawS3.Response r = raw.send(s, bad.getBytes(StandardCharsets.ISO_8859_1));
        assertThat(r.status()).as(r.body()).isEqualTo(400);
        assertThat(r.body()).contains("<Code>BadDigest</Code>");
        assertNothingLeft("crc");
    }

    @Test
    void badXmlIsMalformedXml() throws Exception {
        String id = sdk.createMultipartUpload(b -> b.bucket("forms").key("xml")).uploadId();
        for (String doc : new String[] {
            "<CompleteMultipartUpload><Part>",
            "not xml at all",
            "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><CompleteMultipartUpload>&e;</CompleteMultipartUpload>"
        }) {
            RawS3.Response r = raw.send(raw.sign(
                    "POST", "/forms/xml?uploadId=" + id, Map.of(), doc.getBytes(StandardCharsets.UTF_8), Form.SIGNED));
            assertThat(r.status()).as(doc).isEqualTo(400);
            assertThat(r.body()).as(doc).contains("<Code>MalformedXML</Code>");
        }
        RawS3.Response del = raw.send(raw.sign(
                "POST", "/forms?delete", Map.of(), "<Delete><Object>".getBytes(StandardCharsets.UTF_8), Form.SIGNED));
        assertThat(del.body()).contains("<Code>MalformedXML</Code>");
        sdk.abortMultipartUpload(b -> b.bucket("forms").key("xml").uploadId(id));
        assertNothingLeft("xml");
    }

    @Test
    void invalidBucketNameAndUnknownSubresource() throws Exception {
        RawS3.Response r = raw.send(raw.sign("PUT", "/Bad_Name", Map.of(), new byte[0], Form.SIGNED));
        assertThat(r.body()).contains("<Code>InvalidBucketName</Code>");
        RawS3.Response t = raw.send(raw.sign("GET", "/forms?website", Map.of(), new byte[0], Form.SIGNED));
        assertThat(t.status()).isEqualTo(501);
        assertThat(t.body()).contains("<Code>NotImplemented</Code>");
    }

    @Test
    void oversizedHeadersGetAnS3Error() throws Exception {
        RawS3.Response r = raw.send(
                raw.sign("PUT", "/forms/hdr", Map.of("x-amz-meta-big", "v".repeat(20_000)), new byte[1], Form.SIGNED));
        assertThat(r.status()).as(r.body()).isIn(400, 431);
        // Jetty refuses it before any handler runs (431, no body); nothing is stored.
        assertThat(sdk.listObjectsV2(b -> b.bucket("forms").prefix("hdr")).contents())
                .isEmpty();
    }

    @Test
    void clientVanishingMidUploadLeavesNothing() throws Exception {
        byte[] body = bytes(8 << 20);
        RawS3.Signed s = raw.sign("PUT", "/forms/vanish", Map.of(), body, Form.UNSIGNED);
        try (Socket sock = new Socket("127.0.0.1", fx.gateway.port())) {
            OutputStream out = sock.getOutputStream();
            StringBuilder head = new StringBuilder("PUT /forms/vanish HTTP/1.1\r\n");
            s.request()
                    .forEachHeader((n, vs) -> vs.forEach(
                            v -> head.append(n).append(": ").append(v).append("\r\n")));
            if (s.request().firstMatchingHeader("Content-Length").isEmpty()) {
                head.append("Content-Length: ").append(body.length).append("\r\n");
            }
            head.append("\r\n");
            out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
            out.write(body, 0, 3 << 20); // more than one I/O chunk, so the body is already on the device
            out.flush();
            Thread.sleep(200);
        } // closed: the client is gone
        awaitNothingInUse();
        assertNothingLeft("vanish");
    }

    @Test
    void restartSweepsBodiesOfUploadsThatNeverCommitted() throws Exception {
        // A "crash" mid-upload: a body staged under a PENDING garbage entry whose request never
        // commits. A new gateway on the same device (the in-use set is empty) frees it at mount.
        MemOsd osd = MemOsd.create("crash");
        S3Gateway g1 = S3Gateway.start(
                osd,
                GatewayConfig.builder()
                        .credentials(CredentialStore.single("a", "b"))
                        .sweepInterval(Duration.ofHours(1))
                        .build());
        BucketObjects store = new BucketObjects(g1.namespace());
        byte[] big = bytes(3 << 20);
        StagedBody staged = store.stage(new ByteArrayInputStream(big), big.length, 1L << 30, null, false, "b/k");
        assertThat(osd.exists(staged.fid())).isTrue();
        assertThat(g1.garbagePending()).isEqualTo(1);
        g1.close(); // the request thread "dies" here: no commit, no discard
        try (S3Gateway g2 = S3Gateway.start(
                osd,
                GatewayConfig.builder()
                        .credentials(CredentialStore.single("a", "b"))
                        .build())) {
            assertThat(g2.garbagePending()).isZero();
            assertThat(osd.exists(staged.fid())).isFalse();
        }
        osd.close();
    }

    static byte[] readAll(InputStream in) throws Exception {
        return in.readAllBytes();
    }
}
