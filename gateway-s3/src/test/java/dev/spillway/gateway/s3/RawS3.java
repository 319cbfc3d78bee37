package dev.spillway.gateway.s3;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4FamilyHttpSigner;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/**
 * Requests signed by the AWS SDK's own SigV4 signer (an implementation independent of the
 * gateway's verifier) in exactly the payload form a test asks for, sent with the JDK client.
 */
final class RawS3 {
    /** The payload forms of SigV4. */
    enum Form {
        SIGNED(true, false), UNSIGNED(false, false), STREAMING_SIGNED(true, true),
        STREAMING_SIGNED_TRAILER(true, true), STREAMING_UNSIGNED_TRAILER(false, true);

        final boolean payloadSigning;
        final boolean chunked;

        Form(boolean payloadSigning, boolean chunked) {
            this.payloadSigning = payloadSigning;
            this.chunked = chunked;
        }

        boolean trailer() {
            return this == STREAMING_SIGNED_TRAILER || this == STREAMING_UNSIGNED_TRAILER;
        }
    }

    record Response(int status, String body, Map<String, List<String>> headers) {
    }

    /** A signed request: its headers and the exact bytes to send as its body. */
    record Signed(SdkHttpRequest request, byte[] body) {
    }

    private final URI endpoint;
    private final String accessKey;
    private final String secret;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    RawS3(URI endpoint, String accessKey, String secret) {
        this.endpoint = endpoint;
        this.accessKey = accessKey;
        this.secret = secret;
    }

    Signed sign(String method, String path, Map<String, String> headers, byte[] body, Form form) throws IOException {
        SdkHttpRequest.Builder b = SdkHttpRequest.builder().method(SdkHttpMethod.fromValue(method))
                .uri(URI.create(endpoint + path));
        headers.forEach(b::putHeader);
        if (form.chunked) {
            b.putHeader("x-amz-decoded-content-length", Integer.toString(body.length));
        }
        SdkHttpRequest req = b.build();
        SignedRequest signed = AwsV4HttpSigner.create().sign(r -> {
            r.identity(AwsCredentialsIdentity.create(accessKey, secret))
                    .request(req)
                    .payload(() -> new ByteArrayInputStream(body))
                    .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "s3")
                    .putProperty(AwsV4HttpSigner.REGION_NAME, "us-east-1")
                    .putProperty(AwsV4HttpSigner.DOUBLE_URL_ENCODE, false)
                    .putProperty(AwsV4HttpSigner.NORMALIZE_PATH, false)
                    .putProperty(AwsV4FamilyHttpSigner.PAYLOAD_SIGNING_ENABLED, form.payloadSigning)
                    .putProperty(AwsV4FamilyHttpSigner.CHUNK_ENCODING_ENABLED, form.chunked);
            if (form.trailer()) {
                r.putProperty(AwsV4FamilyHttpSigner.CHECKSUM_ALGORITHM,
                        software.amazon.awssdk.checksums.DefaultChecksumAlgorithm.CRC32);
            }
        });
        byte[] wire;
        try (InputStream in = signed.payload().map(p -> p.newStream()).orElse(new ByteArrayInputStream(new byte[0]))) {
            wire = in.readAllBytes();
        }
        return new Signed(signed.request(), wire);
    }

    Response send(Signed s) throws IOException, InterruptedException {
        return send(s, s.body());
    }

    /** Sends the signed headers with {@code body} (possibly not the signed one). */
    Response send(Signed s, byte[] body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(s.request().getUri())
                .method(s.request().method().name(), HttpRequest.BodyPublishers.ofByteArray(body));
        s.request().forEachHeader((name, values) -> {
            if (!name.equalsIgnoreCase("host") && !name.equalsIgnoreCase("content-length")) {
                values.forEach(v -> b.header(name, v));
            }
        });
        HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        return new Response(r.statusCode(), new String(r.body(), StandardCharsets.UTF_8), r.headers().map());
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
