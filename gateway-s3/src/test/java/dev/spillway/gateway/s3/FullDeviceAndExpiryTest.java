package dev.spillway.gateway.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.gateway.s3.store.BucketObjects;
import dev.spillway.gateway.s3.store.UploadExpiry;
import dev.spillway.gateway.s3.store.Uploads;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.osd.spi.OsdConfig;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompletedMultipartUpload;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Issue 12 at the gateway: a full device answers a PUT with {@code 503 SlowDown} and a
 * {@code Retry-After} (not a hang, not a 500); a delete works on a full device; abandoned
 * multipart uploads expire after the configured age (never with 0), their parts counted until
 * then and freed after.
 */
class FullDeviceAndExpiryTest {
    /** A clock the test moves. */
    static final class Clock implements InstantSource {
        volatile Instant now = Instant.now();

        @Override
        public Instant instant() {
            return now;
        }
    }

    @Test
    void aPutToAFullDeviceIsAnsweredWithSlowDownAndRetryAfterAndADeleteStillWorks() throws Exception {
        MemOsd osd = new MemOsd(OsdConfig.of("small", "mem", Map.of("capacity", "2MiB")));
        try (GatewayFixture g = new GatewayFixture(osd, GatewayConfig.builder().retryAfter(Duration.ofSeconds(3)));
                S3Client s3 = g.client(true)) {
            s3.createBucket(b -> b.bucket("full"));
            int n = 0;
            while (true) {
                int i = n;
                try {
                    s3.putObject(b -> b.bucket("full").key("fill" + i), RequestBody.fromBytes(new byte[256 << 10]));
                    n++;
                } catch (S3Exception e) {
                    assertThat(e.statusCode()).isEqualTo(503);
                    assertThat(e.awsErrorDetails().errorCode()).isEqualTo("SlowDown");
                    assertThat(e.awsErrorDetails().sdkHttpResponse().firstMatchingHeader("Retry-After"))
                            .hasValue("3");
                    assertThat(e.awsErrorDetails().errorMessage()).contains("small");
                    break;
                }
                assertThat(n).as("the device fills up").isLessThan(100);
            }
            assertThatThrownBy(() ->
                            s3.putObject(b -> b.bucket("full").key("big"), RequestBody.fromBytes(new byte[1 << 20])))
                    .isInstanceOfSatisfying(
                            S3Exception.class, e -> assertThat(e.statusCode()).isEqualTo(503));
            // Deleting on a full device works (it gives space back instead of needing it).
            s3.deleteObject(b -> b.bucket("full").key("fill0"));
            g.gateway.sweepNow();
            s3.putObject(b -> b.bucket("full").key("after"), RequestBody.fromBytes(new byte[64 << 10]));
        }
    }

    @Test
    void abandonedUploadsExpireAfterTheirAgeAndTheirPartsAreFreed() throws Exception {
        Clock clock = new Clock();
        try (GatewayFixture g = new GatewayFixture(
                        MemOsd.create("mem0"),
                        GatewayConfig.builder().clock(clock).multipartExpiry(Duration.ofDays(7)));
                S3Client s3 = g.client(true)) {
            s3.createBucket(b -> b.bucket("mpu"));
            String abandoned = s3.createMultipartUpload(b -> b.bucket("mpu").key("abandoned"))
                    .uploadId();
            s3.uploadPart(
                    b -> b.bucket("mpu").key("abandoned").uploadId(abandoned).partNumber(1),
                    RequestBody.fromBytes(new byte[5 << 20]));
            String done =
                    s3.createMultipartUpload(b -> b.bucket("mpu").key("done")).uploadId();
            String etag = s3.uploadPart(
                            b -> b.bucket("mpu").key("done").uploadId(done).partNumber(1),
                            RequestBody.fromBytes(new byte[1000]))
                    .eTag();
            s3.completeMultipartUpload(CompleteMultipartUploadRequest.builder()
                    .bucket("mpu")
                    .key("done")
                    .uploadId(done)
                    .multipartUpload(CompletedMultipartUpload.builder()
                            .parts(CompletedPart.builder()
                                    .partNumber(1)
                                    .eTag(etag)
                                    .build())
                            .build())
                    .build());

            Uploads.Summary before = g.gateway.uploadsSummary();
            assertThat(before.uploads()).isEqualTo(1);
            assertThat(before.parts()).isEqualTo(1);
            assertThat(before.bytes()).isEqualTo(5 << 20);
            assertThat(before.nextExpiryMillis())
                    .isEqualTo(clock.now.plus(Duration.ofDays(7)).toEpochMilli());

            // Not yet: six days later nothing expires.
            Instant start = clock.now;
            clock.now = start.plus(Duration.ofDays(6));
            assertThat(g.gateway.expireUploads(100)).isZero();
            clock.now = start.plus(Duration.ofDays(8));
            assertThat(g.gateway.expireUploads(100)).isEqualTo(1);
            assertThat(g.gateway.expireUploads(100)).isZero();
            clock.now = start;
            assertThat(s3.listMultipartUploads(b -> b.bucket("mpu")).uploads()).isEmpty();
            g.gateway.sweepNow();
            assertThat(g.gateway.garbagePending()).isZero();
            Uploads.Summary after = g.gateway.uploadsSummary();
            assertThat(after.uploads()).isZero();
            assertThat(after.bytes()).isZero();
            assertThat(s3.getObjectAsBytes(b -> b.bucket("mpu").key("done")).asByteArray())
                    .hasSize(1000);
        }
    }

    @Test
    void anExpiryOfZeroKeepsUploadsAndAnUploadsExpiryCanBeChanged() throws Exception {
        Clock clock = new Clock();
        try (GatewayFixture g = new GatewayFixture(
                        MemOsd.create("mem0"),
                        GatewayConfig.builder().clock(clock).multipartExpiry(Duration.ZERO));
                S3Client s3 = g.client(true)) {
            s3.createBucket(b -> b.bucket("mpu"));
            String id =
                    s3.createMultipartUpload(b -> b.bucket("mpu").key("kept")).uploadId();
            Instant start = clock.now;
            clock.now = clock.now.plus(Duration.ofDays(3650));
            assertThat(g.gateway.expireUploads(100)).isZero();
            assertThat(g.gateway.uploadsSummary().uploads()).isEqualTo(1);
            assertThat(g.gateway.uploadsSummary().nextExpiryMillis()).isZero();
            // A lifecycle rule would give it an expiry: the same mechanism, per upload.
            clock.now = start;
            UploadExpiry ex = g.gateway.namespace().uploadExpiry();
            var b = g.gateway.namespace().bucket("mpu");
            var up = s3.listMultipartUploads(r -> r.bucket("mpu")).uploads();
            assertThat(up)
                    .hasSize(1)
                    .first()
                    .satisfies(u -> assertThat(u.uploadId()).isEqualTo(id));
            Uploads uploads = new Uploads(new BucketObjects(g.gateway.namespace()));
            var listed = uploads.list(b, new byte[0], null, 10);
            assertThat(listed).hasSize(1);
            ex.reschedule(
                    "mpu", listed.get(0).indexKey(), listed.get(0).record().parts(), clock.millis() - 1);
            assertThat(g.gateway.expireUploads(100)).isEqualTo(1);
            assertThat(g.gateway.uploadsSummary().uploads()).isZero();
        }
    }
}
