package dev.spillway.gateway.s3.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.error.S3StreamException;
import dev.spillway.osd.testkit.fuzz.SeedCorpus;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.checksums.DefaultChecksumAlgorithm;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4FamilyHttpSigner;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/**
 * Coverage-guided fuzzing (Jazzer; {@code docs/fuzzing.md}) of the aws-chunked body decoder.
 *
 * <ul>
 *   <li>{@link #decode}: the first input byte chooses the payload form (signed chunks or not,
 *       trailer or not) and the read sizes; the rest is the body as the client sent it, verified
 *       against the seed signature of the request the AWS SDK signed for the seeds. Reading must
 *       end in -1 or fail with the decoder's {@link S3StreamException}; nothing else, no hang,
 *       and never more decoded bytes than the body had.</li>
 *   <li>{@link #sdkBodies}: differential. The AWS SDK's signer encodes a body the fuzzer chose
 *       in the form it chose (with its chunk signatures and CRC32 trailer); the decoder must give
 *       back exactly that body and the trailer, and must refuse it once one byte of the
 *       encoding changes (unless the change is one the format cannot see: a chunk signature's
 *       hex case, in the unsigned forms a byte of the data).</li>
 * </ul>
 */
class AwsChunkedFuzzTest {
    static final String BODY_SEED = "hello, aws-chunked";

    record Encoded(AuthResult auth, byte[] wire) {}

    static final PayloadMode[] MODES = {
        PayloadMode.of("STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
        PayloadMode.of("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"),
        PayloadMode.of("STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    };

    /** The auth of the request the seeds were signed with, per form. */
    private static final Map<PayloadMode, AuthResult> AUTH = new LinkedHashMap<>();

    static {
        for (PayloadMode m : MODES) {
            AUTH.put(m, encode(BODY_SEED.getBytes(StandardCharsets.UTF_8), m).auth());
        }
    }

    @FuzzTest
    void decode(byte[] input) {
        if (input.length < 1) {
            return;
        }
        PayloadMode mode = MODES[(input[0] & 0xff) % MODES.length];
        int readSize = 1 + ((input[0] & 0xff) >>> 2) * 37;
        byte[] wire = Arrays.copyOfRange(input, 1, input.length);
        AwsChunkedInputStream in = new AwsChunkedInputStream(new ByteArrayInputStream(wire), AUTH.get(mode));
        byte[] buf = new byte[readSize];
        long total = 0;
        try {
            for (int n; (n = in.read(buf, 0, buf.length)) >= 0; ) {
                assertThat(n).isPositive();
                total += n;
            }
        } catch (S3StreamException e) {
            assertThat(e.s3().error()).isNotNull();
            return;
        } catch (IOException e) {
            throw new AssertionError("not the decoder's own error", e);
        }
        assertThat(total).isEqualTo(in.decodedLength()).isLessThanOrEqualTo(wire.length);
    }

    @FuzzTest
    void sdkBodies(FuzzedDataProvider data) throws IOException {
        PayloadMode mode = data.pickValue(MODES);
        int flipAt = data.consumeInt();
        byte[] body = data.consumeRemainingAsBytes();
        Encoded e = encode(body, mode);
        AwsChunkedInputStream in = new AwsChunkedInputStream(new ByteArrayInputStream(e.wire()), e.auth());
        assertThat(in.readAllBytes()).isEqualTo(body);
        if (mode.trailer()) {
            assertThat(in.trailers()).containsKey("x-amz-checksum-crc32");
        }
        byte[] bad = e.wire().clone();
        int at = Math.floorMod(flipAt, bad.length);
        bad[at] ^= 0x01;
        try {
            byte[] got = new AwsChunkedInputStream(new ByteArrayInputStream(bad), e.auth()).readAllBytes();
            // What the format cannot see: a data byte of an unsigned form (the CRC trailer is
            // checked later, against the stored body), or a signature's hex letter case.
            boolean invisible =
                    !mode.signedChunks() || Character.isLetter(e.wire()[at]) && isSignatureByte(e.wire(), at);
            assertThat(invisible)
                    .as("a changed byte %d accepted (decoded %d bytes)", at, got.length)
                    .isTrue();
        } catch (S3StreamException refused) {
            assertThat(refused.s3().error()).isNotNull();
        }
    }

    private static boolean isSignatureByte(byte[] wire, int at) {
        String w = new String(wire, StandardCharsets.ISO_8859_1);
        int sig = w.lastIndexOf("signature=", at);
        return sig >= 0 && at >= sig + 10 && at < sig + 10 + 64 && w.indexOf('\r', sig) > at;
    }

    /** {@code body} as the AWS SDK sends it in form {@code mode}, and the verified request's auth. */
    static Encoded encode(byte[] body, PayloadMode mode) {
        SdkHttpRequest req = SdkHttpRequest.builder()
                .method(SdkHttpMethod.PUT)
                .uri(URI.create("https://127.0.0.1:9000/bucket/key"))
                .putHeader("x-amz-decoded-content-length", Integer.toString(body.length))
                .build();
        SignedRequest signed = AwsV4HttpSigner.create().sign(s -> {
            s.identity(AwsCredentialsIdentity.create(SigV4FuzzTest.ACCESS_KEY, SigV4FuzzTest.SECRET_KEY))
                    .request(req)
                    .payload(() -> new ByteArrayInputStream(body))
                    .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "s3")
                    .putProperty(AwsV4HttpSigner.REGION_NAME, SigV4FuzzTest.REGION)
                    .putProperty(AwsV4HttpSigner.DOUBLE_URL_ENCODE, false)
                    .putProperty(AwsV4HttpSigner.NORMALIZE_PATH, false)
                    .putProperty(HttpSigner.SIGNING_CLOCK, Clock.fixed(SigV4FuzzTest.DEFAULT_NOW, ZoneOffset.UTC))
                    .putProperty(AwsV4FamilyHttpSigner.PAYLOAD_SIGNING_ENABLED, mode.signedChunks())
                    .putProperty(AwsV4FamilyHttpSigner.CHUNK_ENCODING_ENABLED, true);
            if (mode.trailer()) {
                s.putProperty(AwsV4FamilyHttpSigner.CHECKSUM_ALGORITHM, DefaultChecksumAlgorithm.CRC32);
            }
        });
        byte[] wire;
        try (InputStream in = signed.payload().map(p -> p.newStream()).orElseThrow()) {
            wire = in.readAllBytes();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        SigV4Verifier v = new SigV4Verifier(
                CredentialStore.single(SigV4FuzzTest.ACCESS_KEY, SigV4FuzzTest.SECRET_KEY),
                SigV4FuzzTest.REGION,
                Clock.fixed(SigV4FuzzTest.DEFAULT_NOW, ZoneOffset.UTC),
                Duration.ofMinutes(15));
        try {
            AuthResult auth = v.verify(SigV4FuzzTest.parseHead(SigV4FuzzTest.head(signed.request())));
            assertThat(auth.payloadMode()).isEqualTo(mode);
            return new Encoded(auth, wire);
        } catch (S3Exception e) {
            throw new AssertionError(e);
        }
    }

    static Map<String, byte[]> seeds() {
        Map<String, byte[]> s = new LinkedHashMap<>();
        String[] names = {"signed", "signed-trailer", "unsigned-trailer"};
        for (int i = 0; i < MODES.length; i++) {
            byte[] wire =
                    encode(BODY_SEED.getBytes(StandardCharsets.UTF_8), MODES[i]).wire();
            byte[] in = new byte[1 + wire.length];
            in[0] = (byte) i;
            System.arraycopy(wire, 0, in, 1, wire.length);
            s.put(names[i], in);
        }
        byte[] big = new byte[70_000];
        Arrays.fill(big, (byte) 'x');
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(2);
        out.writeBytes(encode(big, MODES[2]).wire());
        s.put("unsigned-trailer-two-chunks", out.toByteArray());
        return s;
    }

    @Test
    void seedCorpusHoldsBodiesThatDecode() throws IOException {
        for (var e : seeds().entrySet()) {
            byte[] in = e.getValue();
            PayloadMode mode = MODES[in[0]];
            byte[] got = new AwsChunkedInputStream(
                            new ByteArrayInputStream(Arrays.copyOfRange(in, 1, in.length)), AUTH.get(mode))
                    .readAllBytes();
            assertThat(got.length).as(e.getKey()).isPositive();
        }
        SeedCorpus.of(getClass(), "decode").check(seeds());
    }
}
