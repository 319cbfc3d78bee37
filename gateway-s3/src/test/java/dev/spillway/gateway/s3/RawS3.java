package dev.spillway.gateway.s3;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.checksums.DefaultChecksumAlgorithm;
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
        SIGNED(true, false),
        UNSIGNED(false, false),
        STREAMING_SIGNED(true, true),
        STREAMING_SIGNED_TRAILER(true, true),
        STREAMING_UNSIGNED_TRAILER(false, true);

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

    record Response(int status, String body, Map<String, List<String>> headers) {}

    /** A signed request: its headers and the exact bytes to send as its body. */
    record Signed(SdkHttpRequest request, byte[] body) {}

    private final URI endpoint;
    private final String accessKey;
    private final String secret;
    private final HttpClient http =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    RawS3(URI endpoint, String accessKey, String secret) {
        this.endpoint = endpoint;
        this.accessKey = accessKey;
        this.secret = secret;
    }

    Signed sign(String method, String path, Map<String, String> headers, byte[] body, Form form) throws IOException {
        SdkHttpRequest.Builder b = SdkHttpRequest.builder()
                .method(SdkHttpMethod.fromValue(method))
                // https in the signed URI only: the AWS signer insists on signing the payload over
                // plain http, and the scheme is not part of SigV4's canonical request.
                .uri(URI.create(endpoint.toString().replace("http://", "https://") + path));
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
                r.putProperty(AwsV4FamilyHttpSigner.CHECKSUM_ALGORITHM, DefaultChecksumAlgorithm.CRC32);
            }
        });
        byte[] wire;
        try (InputStream in = signed.payload().map(p -> p.newStream()).orElse(new ByteArrayInputStream(new byte[0]))) {
            wire = in.readAllBytes();
        }
        String expected = switch (form) {
            case SIGNED -> null;
            case UNSIGNED -> "UNSIGNED-PAYLOAD";
            case STREAMING_SIGNED -> "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
            case STREAMING_SIGNED_TRAILER -> "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
            case STREAMING_UNSIGNED_TRAILER -> "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
        };
        String got =
                signed.request().firstMatchingHeader("x-amz-content-sha256").orElse("");
        if (expected != null ? !expected.equals(got) : !got.matches("[0-9a-f]{64}")) {
            throw new IllegalStateException("the signer produced x-amz-content-sha256 " + got + " for " + form);
        }
        SdkHttpRequest plain = signed.request().toBuilder().protocol("http").build();
        return new Signed(plain, wire);
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
        return new Response(
                r.statusCode(),
                new String(r.body(), StandardCharsets.UTF_8),
                r.headers().map());
    }

    /** Sends the signed headers, then only {@code n} bytes of the body, then half-closes. */
    Response sendTruncated(Signed s, int n) throws IOException {
        try (Socket sock = new Socket(s.request().host(), s.request().port())) {
            StringBuilder head = new StringBuilder(s.request().method().name() + " "
                    + s.request().encodedPath()
                    + s.request().encodedQueryParameters().map(q -> "?" + q).orElse("") + " HTTP/1.1\r\n");
            s.request()
                    .forEachHeader((name, vs) -> vs.forEach(
                            v -> head.append(name).append(": ").append(v).append("\r\n")));
            if (s.request().firstMatchingHeader("Content-Length").isEmpty()) {
                head.append("Content-Length: ").append(s.body().length).append("\r\n");
            }
            head.append("Host: ")
                    .append(s.request().host())
                    .append(':')
                    .append(s.request().port())
                    .append("\r\n");
            head.append("Connection: close\r\n\r\n");
            OutputStream out = sock.getOutputStream();
            out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
            out.write(s.body(), 0, n);
            out.flush();
            sock.shutdownOutput();
            String resp = new String(sock.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            int status = Integer.parseInt(resp.substring(9, 12));
            int bodyAt = resp.indexOf("\r\n\r\n");
            return new Response(status, bodyAt < 0 ? "" : resp.substring(bodyAt + 4), Map.of());
        }
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
