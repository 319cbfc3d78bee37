package dev.spillway.osd.s3;

import java.time.Duration;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.S3Configuration;

/**
 * Builds the SDK client of a device from its {@link S3Settings}: the Apache HTTP client (a pool of
 * keep-alive connections with connect, read and acquisition timeouts), the SDK's standard retry
 * strategy with exponential back-off (throttling, 5xx and I/O errors), and checksums computed by
 * osd-s3 itself (CRC32C per request body, verified per block on read) rather than the SDK's
 * defaults, so the same bytes are checked end to end whatever the server supports.
 */
public final class S3Clients {
    private S3Clients() {}

    /** A client for {@code s}; the caller closes it. */
    public static S3Client build(S3Settings s) {
        AwsCredentialsProvider creds = s.accessKey() != null
                ? StaticCredentialsProvider.create(AwsBasicCredentials.create(s.accessKey(), s.secretKey()))
                : DefaultCredentialsProvider.builder().build();
        S3ClientBuilder b = S3Client.builder()
                .region(Region.of(s.region()))
                .credentialsProvider(creds)
                .serviceConfiguration(S3Configuration.builder()
                        .pathStyleAccessEnabled(s.pathStyle())
                        // Plain Content-Length bodies: every S3 implementation reads them.
                        .chunkedEncodingEnabled(false)
                        .build())
                // osd-s3 sends its own CRC32C header on every body and verifies blocks on read.
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.standardRetryStrategy().toBuilder()
                        .maxAttempts(s.retries() + 1)
                        .backoffStrategy(
                                BackoffStrategy.exponentialDelay(Duration.ofMillis(100), Duration.ofSeconds(20)))
                        .throttlingBackoffStrategy(
                                BackoffStrategy.exponentialDelay(Duration.ofMillis(500), Duration.ofSeconds(20)))
                        // A device that fails keeps failing loudly (EIO per call), not silently faster.
                        .circuitBreakerEnabled(false)
                        .build()))
                .httpClient(ApacheHttpClient.builder()
                        .maxConnections(s.maxConnections())
                        .connectionTimeout(s.connectTimeout())
                        .socketTimeout(s.requestTimeout())
                        .connectionAcquisitionTimeout(s.requestTimeout())
                        .build());
        if (s.endpoint() != null) {
            b.endpointOverride(s.endpoint());
        }
        return b.build();
    }
}
