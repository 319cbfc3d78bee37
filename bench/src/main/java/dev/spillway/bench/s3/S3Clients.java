package dev.spillway.bench.s3;

import java.net.URI;
import java.time.Duration;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.ExecutableHttpRequest;
import software.amazon.awssdk.http.HttpExecuteRequest;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;

/** The AWS SDK v2 clients of the S3 benchmarks: one builder, each payload form the SDK sends. */
final class S3Clients {
    private S3Clients() {}

    /** How the client protects a request body. */
    enum PayloadForm {
        /**
         * The hex SHA-256 of the whole body in {@code x-amz-content-sha256} (chunked encoding off,
         * checksums only where required): what the SDK sends over plain HTTP.
         */
        SIGNED("signed"),
        /**
         * The SDK's defaults over HTTPS: {@code STREAMING-UNSIGNED-PAYLOAD-TRAILER}, aws-chunked
         * with a CRC32 trailer on PUT, and {@code x-amz-checksum-mode: ENABLED} on GET (the SDK
         * checks the CRC32 of what it receives when the server sends one).
         */
        UNSIGNED_TRAILER("unsigned_trailer");

        final String label;

        PayloadForm(String label) {
            this.label = label;
        }
    }

    static S3Client client(
            URI endpoint, int connections, String accessKey, String secretKey, boolean retries, PayloadForm form) {
        System.setProperty("http.maxConnections", Integer.toString(connections));
        SdkHttpClient http = UrlConnectionHttpClient.builder()
                .socketTimeout(Duration.ofMinutes(2))
                .build();
        var b = S3Client.builder()
                .overrideConfiguration(c -> {
                    if (!retries) {
                        c.retryStrategy(AwsRetryStrategy.doNotRetry());
                    }
                })
                .region(Region.US_EAST_1)
                .credentialsProvider(
                        StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey)));
        if (form == PayloadForm.SIGNED) {
            return b.endpointOverride(endpoint)
                    .serviceConfiguration(S3Configuration.builder()
                            .pathStyleAccessEnabled(true)
                            .chunkedEncodingEnabled(false)
                            .build())
                    .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                    .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                    .httpClient(http)
                    .build();
        }
        // The SDK signs every payload over plain HTTP; what it sends by default to S3 (HTTPS) is
        // the unsigned form. So it is told the endpoint is https, and the wire stays http: TLS
        // would cost the same on every server measured, and is not what is compared here.
        return b.endpointOverride(URI.create(endpoint.toString().replaceFirst("^http:", "https:")))
                .serviceConfiguration(
                        S3Configuration.builder().pathStyleAccessEnabled(true).build())
                .httpClient(new PlainHttp(http))
                .build();
    }

    /** Sends an {@code https} request as {@code http} to the same host and port. */
    private record PlainHttp(SdkHttpClient in) implements SdkHttpClient {
        @Override
        public ExecutableHttpRequest prepareRequest(HttpExecuteRequest request) {
            return in.prepareRequest(HttpExecuteRequest.builder()
                    .request(request.httpRequest().toBuilder().protocol("http").build())
                    .contentStreamProvider(request.contentStreamProvider().orElse(null))
                    .metricCollector(request.metricCollector().orElse(null))
                    .build());
        }

        @Override
        public String clientName() {
            return in.clientName();
        }

        @Override
        public void close() {
            in.close();
        }
    }
}
