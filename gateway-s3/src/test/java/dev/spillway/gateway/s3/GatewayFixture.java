package dev.spillway.gateway.s3;

import dev.spillway.gateway.s3.auth.CredentialStore;
import dev.spillway.osd.Osd;
import dev.spillway.osd.mem.MemOsd;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.http.ExecutableHttpRequest;
import software.amazon.awssdk.http.HttpExecuteRequest;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;

/** An osd-mem device with a gateway on loopback, and SDK clients for it. */
public final class GatewayFixture implements AutoCloseable {
    public static final String ACCESS_KEY = "SPILLWAYTESTKEY";
    public static final String SECRET_KEY = "spillway/test/secret+key";

    public final Osd osd;
    public final S3Gateway gateway;

    public GatewayFixture() throws Exception {
        this(MemOsd.create("mem0"), GatewayConfig.builder());
    }

    public GatewayFixture(Osd osd, GatewayConfig.Builder cfg) throws Exception {
        this(osd, cfg, CredentialStore.single(ACCESS_KEY, SECRET_KEY));
    }

    public GatewayFixture(Osd osd, GatewayConfig.Builder cfg, CredentialStore users) throws Exception {
        this.osd = osd;
        this.gateway = S3Gateway.start(
                osd,
                cfg.credentials(users).sweepInterval(Duration.ofMillis(200)).build());
    }

    public URI endpoint() {
        return URI.create("http://localhost:" + gateway.port());
    }

    public S3Client client(boolean pathStyle) {
        return client(pathStyle, true, SECRET_KEY);
    }

    public S3Client client(boolean pathStyle, boolean chunked, String secret) {
        return client(pathStyle, chunked, ACCESS_KEY, secret);
    }

    /** A path-style client signing with another access key. */
    public S3Client client(String accessKey, String secret) {
        return client(true, true, accessKey, secret);
    }

    public S3Client client(boolean pathStyle, boolean chunked, String accessKey, String secret) {
        return S3Client.builder()
                .endpointOverride(endpoint())
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secret)))
                .serviceConfiguration(S3Configuration.builder()
                        .pathStyleAccessEnabled(pathStyle)
                        .chunkedEncodingEnabled(chunked)
                        .build())
                .overrideConfiguration(o -> o.retryStrategy(RetryMode.STANDARD).apiCallTimeout(Duration.ofMinutes(5)))
                .httpClient(UrlConnectionHttpClient.builder()
                        .socketTimeout(Duration.ofMinutes(2))
                        .build())
                .build();
    }

    /**
     * A client with the SDK's own defaults for S3 (aws-chunked, flexible checksums: a PUT goes as
     * {@code STREAMING-UNSIGNED-PAYLOAD-TRAILER} with a CRC32 trailer, a GET asks for the checksum
     * and checks it), every header recorded in {@code sent}. The SDK signs every payload over plain
     * HTTP, so it is told the endpoint is https while the requests go out as http.
     */
    public S3Client sdkDefaultsClient(List<SdkHttpRequest> sent) {
        SdkHttpClient http = UrlConnectionHttpClient.builder()
                .socketTimeout(Duration.ofMinutes(2))
                .build();
        SdkHttpClient plain = new SdkHttpClient() {
            @Override
            public ExecutableHttpRequest prepareRequest(HttpExecuteRequest r) {
                var req = r.httpRequest().toBuilder().protocol("http").build();
                sent.add(req);
                return http.prepareRequest(HttpExecuteRequest.builder()
                        .request(req)
                        .contentStreamProvider(r.contentStreamProvider().orElse(null))
                        .build());
            }

            @Override
            public void close() {
                http.close();
            }
        };
        return S3Client.builder()
                .endpointOverride(URI.create("https://localhost:" + gateway.port()))
                .region(Region.US_EAST_1)
                .credentialsProvider(
                        StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
                .serviceConfiguration(
                        S3Configuration.builder().pathStyleAccessEnabled(true).build())
                .httpClient(plain)
                .build();
    }

    @Override
    public void close() throws Exception {
        gateway.close();
        osd.close();
    }
}
