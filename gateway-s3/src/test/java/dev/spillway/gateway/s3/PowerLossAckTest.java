package dev.spillway.gateway.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.mem.MemOsd;
import dev.spillway.osd.spi.OsdConfig;
import java.time.InstantSource;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;

/**
 * What a 200 promises: an acknowledged PUT, DELETE, copy and multipart Complete survive a power
 * cut at the very next instant. The device is an osd-mem with {@code durability: simulated}: a
 * committed transaction is durable only at the next sync point, and {@code crash()} keeps exactly
 * what was durable — so an answer sent before the request's transaction was durable loses it.
 */
class PowerLossAckTest {
    private static MemOsd device() throws Exception {
        return new MemOsd(new OsdConfig("mem0", "mem", Map.of("durability", "simulated"), InstantSource.system()));
    }

    private static byte[] body(int seed, int n) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void everyAcknowledgedChangeSurvivesAPowerCutRightAfterItsAnswer() throws Exception {
        MemOsd mem = device();
        byte[] small = body(1, 4096);
        byte[] big = body(2, 3 << 20);
        byte[] part1 = body(3, 5 << 20);
        byte[] part2 = body(4, 1000);
        try (GatewayFixture gw = new GatewayFixture(mem, GatewayConfig.builder());
                S3Client s3 = gw.client(true)) {
            s3.createBucket(b -> b.bucket("bkt"));
            s3.putObject(b -> b.bucket("bkt").key("small"), RequestBody.fromBytes(small));
            s3.putObject(b -> b.bucket("bkt").key("big"), RequestBody.fromBytes(big));
            s3.putObject(b -> b.bucket("bkt").key("gone"), RequestBody.fromBytes(small));
            s3.deleteObject(b -> b.bucket("bkt").key("gone"));
            s3.copyObject(b -> b.sourceBucket("bkt")
                    .sourceKey("small")
                    .destinationBucket("bkt")
                    .destinationKey("copy"));
            String up =
                    s3.createMultipartUpload(b -> b.bucket("bkt").key("mpu")).uploadId();
            String e1 = s3.uploadPart(
                            b -> b.bucket("bkt").key("mpu").uploadId(up).partNumber(1), RequestBody.fromBytes(part1))
                    .eTag();
            String e2 = s3.uploadPart(
                            b -> b.bucket("bkt").key("mpu").uploadId(up).partNumber(2), RequestBody.fromBytes(part2))
                    .eTag();
            s3.completeMultipartUpload(b -> b.bucket("bkt")
                    .key("mpu")
                    .uploadId(up)
                    .multipartUpload(m -> m.parts(
                            CompletedPart.builder().partNumber(1).eTag(e1).build(),
                            CompletedPart.builder().partNumber(2).eTag(e2).build())));
            // The power goes now: what the device made durable is all that is left.
            MemOsd after = mem.crash();
            try (GatewayFixture again = new GatewayFixture(after, GatewayConfig.builder());
                    S3Client s3b = again.client(true)) {
                assertThat(s3b.getObjectAsBytes(b -> b.bucket("bkt").key("small"))
                                .asByteArray())
                        .isEqualTo(small);
                assertThat(s3b.getObjectAsBytes(b -> b.bucket("bkt").key("big")).asByteArray())
                        .isEqualTo(big);
                assertThat(s3b.getObjectAsBytes(b -> b.bucket("bkt").key("copy"))
                                .asByteArray())
                        .isEqualTo(small);
                assertThat(s3b.listObjectsV2(b -> b.bucket("bkt")).contents())
                        .extracting(o -> o.key())
                        .containsExactly("big", "copy", "mpu", "small");
                byte[] m = s3b.getObjectAsBytes(b -> b.bucket("bkt").key("mpu")).asByteArray();
                assertThat(m).hasSize(part1.length + part2.length);
                assertThat(java.util.Arrays.copyOfRange(m, part1.length, m.length))
                        .isEqualTo(part2);
            }
        }
    }
}
