package dev.spillway.server;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketAlreadyOwnedByYouException;

/** A server on a mem+mem pool in a temporary folder, for the server's tests. */
final class TestServer implements AutoCloseable {
    static final String POOL = """
            name: srvtest
            devices:
              - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {capacity: 64MiB}}
              - {name: slow, backend: mem, roles: [background]}
            policy: {high-watermark: 0.80, low-watermark: 0.60, min-resident-age: 0s}
            """;

    final Server server;
    final Path data;
    final ByteArrayOutputStream banner = new ByteArrayOutputStream();
    private final HttpClient http = HttpClient.newHttpClient();

    TestServer(Path tmp, Duration sampleInterval) throws Exception {
        this.data = tmp.resolve("data");
        Path cfg = tmp.resolve("pool.yaml");
        if (!Files.exists(cfg)) {
            Files.writeString(cfg, POOL);
        }
        server = Server.start(ServerOptions.defaults(data)
                .withConfig(cfg)
                .withPorts(0, 0)
                .withOut(new PrintStream(banner, true, StandardCharsets.UTF_8))
                .withSampleInterval(sampleInterval));
    }

    String banner() {
        return banner.toString(StandardCharsets.UTF_8);
    }

    URI admin(String path) {
        return server.admin().endpoint().resolve(path);
    }

    String bearer() {
        return "Bearer " + server.credentials().accessKey() + ":"
                + server.credentials().secretKey();
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(
                HttpRequest.newBuilder(admin(path))
                        .header("Authorization", bearer())
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String path) throws IOException, InterruptedException {
        return http.send(
                HttpRequest.newBuilder(admin(path))
                        .header("Authorization", bearer())
                        .POST(HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** An unsigned S3 request: answered 403 by the gateway, and counted in its metrics all the same. */
    int s3Anonymous(String path) throws IOException, InterruptedException {
        return http.send(
                        HttpRequest.newBuilder(URI.create(server.s3Endpoint()).resolve(path))
                                .build(),
                        HttpResponse.BodyHandlers.discarding())
                .statusCode();
    }

    /** An S3 client for this server (AWS SDK v2, path-style, the pool's credentials). */
    S3Client s3() {
        return S3Client.builder()
                .endpointOverride(URI.create(server.s3Endpoint()))
                .region(Region.US_EAST_1)
                .forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(
                        server.credentials().accessKey(), server.credentials().secretKey())))
                .httpClient(UrlConnectionHttpClient.create())
                .build();
    }

    /** Puts {@code count} objects of {@code size} random bytes as {@code bucket/prefix N}. */
    void put(String bucket, String prefix, int count, int size) {
        try (var s3 = s3()) {
            try {
                s3.createBucket(b -> b.bucket(bucket));
            } catch (BucketAlreadyOwnedByYouException exists) {
                // A second call adds to the bucket.
            }
            Random r = new Random(count * 31L + size);
            for (int i = 1; i <= count; i++) {
                byte[] b = new byte[size];
                r.nextBytes(b);
                String key = prefix + i;
                s3.putObject(p -> p.bucket(bucket).key(key), RequestBody.fromBytes(b));
            }
        }
    }

    @Override
    public void close() throws Exception {
        server.close();
    }
}
