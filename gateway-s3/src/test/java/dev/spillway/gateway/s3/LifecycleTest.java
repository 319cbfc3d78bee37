package dev.spillway.gateway.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.PlacementHint;
import dev.spillway.osd.mem.MemOsd;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketLifecycleConfiguration;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;
import software.amazon.awssdk.services.s3.model.ExpirationStatus;
import software.amazon.awssdk.services.s3.model.LifecycleRule;
import software.amazon.awssdk.services.s3.model.ObjectLockMode;
import software.amazon.awssdk.services.s3.model.ObjectVersion;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.StorageClass;
import software.amazon.awssdk.services.s3.model.Tag;
import software.amazon.awssdk.services.s3.model.TransitionStorageClass;

/**
 * Lifecycle configuration and its execution by the due work (an index by due date, never a walk
 * of the keys), and storage classes placed on the pool's tiers; time is the gateway's injected
 * clock, and the worker runs when the test says so.
 */
class LifecycleTest {
    static final MutableClock CLOCK = new MutableClock(Instant.parse("2026-05-10T09:30:00Z"));
    static final List<String> MOVES = new ArrayList<>();
    static GatewayFixture fx;
    static S3Client s3;

    @BeforeAll
    static void start() throws Exception {
        fx = new GatewayFixture(
                MemOsd.create("mem0"), GatewayConfig.builder().clock(CLOCK).maxClockSkew(Duration.ofDays(36500)));
        fx.gateway.namespace().storageClassTiers(Map.of("STANDARD_IA", "hdd", "GLACIER_IR", "cold"));
        fx.gateway.handOverDueWork();
        fx.gateway.dueWork().mover((body, tier) -> {
            synchronized (MOVES) {
                MOVES.add(body + "->" + tier);
            }
        });
        s3 = fx.client(true);
    }

    @AfterAll
    static void stop() throws Exception {
        s3.close();
        fx.close();
    }

    static int work() throws Exception {
        int n = 0;
        int round;
        while ((round = fx.gateway.dueWork().runOnce(1000)) > 0) {
            n += round;
        }
        return n;
    }

    static LifecycleRule expire(String id, String prefix, int days) {
        return LifecycleRule.builder()
                .id(id)
                .filter(f -> f.prefix(prefix))
                .status(ExpirationStatus.ENABLED)
                .expiration(e -> e.days(days))
                .build();
    }

    static void lifecycle(String bucket, LifecycleRule... rules) {
        s3.putBucketLifecycleConfiguration(b -> b.bucket(bucket)
                .lifecycleConfiguration(
                        BucketLifecycleConfiguration.builder().rules(rules).build()));
    }

    static boolean exists(String bucket, String key) {
        try {
            s3.headObject(b -> b.bucket(bucket).key(key));
            return true;
        } catch (S3Exception e) {
            return false;
        }
    }

    static String code(Runnable r) {
        try {
            r.run();
            return "ok";
        } catch (S3Exception e) {
            return e.statusCode() + " " + e.awsErrorDetails().errorCode();
        }
    }

    @Test
    void configurationIsCheckedKeptAndDeleted() {
        s3.createBucket(b -> b.bucket("lc-conf"));
        assertThat(code(() -> s3.getBucketLifecycleConfiguration(b -> b.bucket("lc-conf"))))
                .isEqualTo("404 NoSuchLifecycleConfiguration");
        assertThat(code(() -> lifecycle("lc-conf", expire("r", "a/", 0)))).isEqualTo("400 InvalidArgument");
        assertThat(code(() -> lifecycle("lc-conf", expire("same", "a/", 1), expire("same", "b/", 2))))
                .isEqualTo("400 InvalidArgument");
        assertThat(code(() -> lifecycle("lc-conf", expire("x".repeat(256), "a/", 1))))
                .isEqualTo("400 InvalidArgument");
        assertThat(code(() -> lifecycle(
                        "lc-conf",
                        LifecycleRule.builder()
                                .id("t")
                                .filter(f -> f.prefix(""))
                                .status(ExpirationStatus.ENABLED)
                                .transitions(t -> t.days(1).storageClass(TransitionStorageClass.DEEP_ARCHIVE))
                                .build())))
                .isEqualTo("400 InvalidStorageClass");
        lifecycle("lc-conf", expire("logs", "logs/", 30), expire("tmp", "tmp/", 1));
        var got = s3.getBucketLifecycleConfiguration(b -> b.bucket("lc-conf")).rules();
        assertThat(got).extracting(LifecycleRule::id).containsExactly("logs", "tmp");
        assertThat(got.get(0).expiration().days()).isEqualTo(30);
        s3.deleteBucketLifecycle(b -> b.bucket("lc-conf"));
        assertThat(code(() -> s3.getBucketLifecycleConfiguration(b -> b.bucket("lc-conf"))))
                .isEqualTo("404 NoSuchLifecycleConfiguration");
    }

    @Test
    void expirationIsAnnouncedAndCarriedOutWhenDue() throws Exception {
        CLOCK.set(Instant.parse("2026-05-10T09:30:00Z"));
        s3.createBucket(b -> b.bucket("lc-exp"));
        // Written before the configuration: the backfill schedules it.
        s3.putObject(b -> b.bucket("lc-exp").key("tmp/old"), RequestBody.fromString("o"));
        lifecycle("lc-exp", expire("tmp", "tmp/", 1));
        var put = s3.putObject(b -> b.bucket("lc-exp").key("tmp/new"), RequestBody.fromString("n"));
        s3.putObject(b -> b.bucket("lc-exp").key("keep/x"), RequestBody.fromString("k"));
        // Written 09:30 on the 10th + 1 day, due at midnight UTC after: the 12th.
        String header = s3.headObject(b -> b.bucket("lc-exp").key("tmp/new"))
                .sdkHttpResponse()
                .firstMatchingHeader("x-amz-expiration")
                .orElseThrow();
        assertThat(header).isEqualTo("expiry-date=\"Tue, 12 May 2026 00:00:00 GMT\", rule-id=\"tmp\"");
        assertThat(put.expiration()).isEqualTo(header);
        assertThat(s3.headObject(b -> b.bucket("lc-exp").key("keep/x")).expiration())
                .isNull();
        work();
        assertThat(exists("lc-exp", "tmp/new")).isTrue();
        CLOCK.advance(Duration.ofHours(38)); // 23:30 on the 11th: not yet
        work();
        assertThat(exists("lc-exp", "tmp/new")).isTrue();
        CLOCK.advance(Duration.ofHours(1));
        assertThat(work()).isGreaterThanOrEqualTo(2);
        assertThat(exists("lc-exp", "tmp/new")).isFalse();
        assertThat(exists("lc-exp", "tmp/old")).isFalse();
        assertThat(exists("lc-exp", "keep/x")).isTrue();
    }

    @Test
    void noncurrentVersionsAndLoneDeleteMarkersExpire() throws Exception {
        s3.createBucket(b -> b.bucket("lc-ver"));
        s3.putBucketVersioning(
                b -> b.bucket("lc-ver").versioningConfiguration(v -> v.status(BucketVersioningStatus.ENABLED)));
        lifecycle(
                "lc-ver",
                LifecycleRule.builder()
                        .id("nc")
                        .filter(f -> f.prefix(""))
                        .status(ExpirationStatus.ENABLED)
                        .noncurrentVersionExpiration(n -> n.noncurrentDays(2))
                        .expiration(e -> e.expiredObjectDeleteMarker(true))
                        .build());
        s3.putObject(b -> b.bucket("lc-ver").key("k"), RequestBody.fromString("1"));
        s3.putObject(b -> b.bucket("lc-ver").key("k"), RequestBody.fromString("2"));
        s3.deleteObject(b -> b.bucket("lc-ver").key("k"));
        CLOCK.advance(Duration.ofDays(1));
        work();
        assertThat(s3.listObjectVersions(b -> b.bucket("lc-ver")).versions()).hasSize(2);
        CLOCK.advance(Duration.ofDays(2));
        work();
        var l = s3.listObjectVersions(b -> b.bucket("lc-ver"));
        assertThat(l.versions()).isEmpty();
        // The marker, left alone, went too.
        assertThat(l.deleteMarkers()).isEmpty();
    }

    @Test
    void aLockedVersionOutlivesItsRule() throws Exception {
        s3.createBucket(b -> b.bucket("lc-lock").objectLockEnabledForBucket(true));
        lifecycle(
                "lc-lock",
                LifecycleRule.builder()
                        .id("nc")
                        .filter(f -> f.prefix(""))
                        .status(ExpirationStatus.ENABLED)
                        .noncurrentVersionExpiration(n -> n.noncurrentDays(1))
                        .build());
        Instant until = CLOCK.instant().plus(Duration.ofDays(10));
        String v1 = s3.putObject(
                        b -> b.bucket("lc-lock")
                                .key("k")
                                .objectLockMode(ObjectLockMode.COMPLIANCE)
                                .objectLockRetainUntilDate(until),
                        RequestBody.fromString("1"))
                .versionId();
        s3.putObject(b -> b.bucket("lc-lock").key("k"), RequestBody.fromString("2"));
        CLOCK.advance(Duration.ofDays(3));
        work();
        assertThat(s3.listObjectVersions(b -> b.bucket("lc-lock")).versions())
                .extracting(ObjectVersion::versionId)
                .contains(v1);
        CLOCK.advance(Duration.ofDays(8));
        work();
        assertThat(s3.listObjectVersions(b -> b.bucket("lc-lock")).versions())
                .extracting(ObjectVersion::versionId)
                .doesNotContain(v1);
    }

    @Test
    void storageClassesArePlacedOnTheirTierAndTransitionsMoveThere() throws Exception {
        s3.createBucket(b -> b.bucket("lc-class"));
        assertThat(code(() -> s3.putObject(
                        b -> b.bucket("lc-class").key("d").storageClass(StorageClass.DEEP_ARCHIVE),
                        RequestBody.fromString("d"))))
                .isEqualTo("400 InvalidStorageClass");
        synchronized (MOVES) {
            MOVES.clear();
        }
        s3.putObject(
                b -> b.bucket("lc-class").key("ia").storageClass(StorageClass.STANDARD_IA),
                RequestBody.fromString("i"));
        Fid body = VersioningTest.bodyOf(fx, "lc-class", "ia");
        // The advice is there at once (in the PUT's transaction); the move when the work runs.
        assertThat(advice(body)).isEqualTo(PlacementHint.tier("hdd"));
        work();
        assertThat(MOVES).contains(body + "->hdd");
        var head = s3.headObject(b -> b.bucket("lc-class").key("ia"));
        assertThat(head.storageClass()).isEqualTo(StorageClass.STANDARD_IA);
        assertThat(s3.listObjectsV2(b -> b.bucket("lc-class")).contents().get(0).storageClassAsString())
                .isEqualTo("STANDARD_IA");

        // A transition after a day, to GLACIER_IR's tier, for objects tagged cold.
        lifecycle(
                "lc-class",
                LifecycleRule.builder()
                        .id("cold")
                        .filter(f ->
                                f.tag(Tag.builder().key("temp").value("cold").build()))
                        .status(ExpirationStatus.ENABLED)
                        .transitions(t -> t.days(1).storageClass(TransitionStorageClass.GLACIER_IR))
                        .build());
        s3.putObject(b -> b.bucket("lc-class").key("c").tagging("temp=cold"), RequestBody.fromString("c"));
        s3.putObject(b -> b.bucket("lc-class").key("w").tagging("temp=warm"), RequestBody.fromString("w"));
        Fid c = VersioningTest.bodyOf(fx, "lc-class", "c");
        Fid w = VersioningTest.bodyOf(fx, "lc-class", "w");
        CLOCK.advance(Duration.ofDays(2));
        work();
        assertThat(MOVES).contains(c + "->cold").doesNotContain(w + "->cold");
        assertThat(s3.headObject(b -> b.bucket("lc-class").key("c")).storageClass())
                .isEqualTo(StorageClass.GLACIER_IR);
        assertThat(advice(c)).isEqualTo(PlacementHint.tier("cold"));
    }

    @Test
    void incompleteUploadsAreAborted() throws Exception {
        s3.createBucket(b -> b.bucket("lc-mpu"));
        lifecycle(
                "lc-mpu",
                LifecycleRule.builder()
                        .id("abort")
                        .filter(f -> f.prefix("up/"))
                        .status(ExpirationStatus.ENABLED)
                        .abortIncompleteMultipartUpload(a -> a.daysAfterInitiation(1))
                        .build());
        String id =
                s3.createMultipartUpload(b -> b.bucket("lc-mpu").key("up/x")).uploadId();
        s3.uploadPart(b -> b.bucket("lc-mpu").key("up/x").uploadId(id).partNumber(1), RequestBody.fromString("p"));
        String other =
                s3.createMultipartUpload(b -> b.bucket("lc-mpu").key("keep/y")).uploadId();
        CLOCK.advance(Duration.ofDays(2));
        work();
        assertThat(s3.listMultipartUploads(b -> b.bucket("lc-mpu")).uploads())
                .extracting(u -> u.uploadId())
                .containsExactly(other);
        assertThatThrownBy(
                        () -> s3.listParts(b -> b.bucket("lc-mpu").key("up/x").uploadId(id)))
                .isInstanceOf(S3Exception.class);
    }

    static String advice(Fid f) {
        try {
            return new String(fx.osd.getXattr(f, PlacementHint.XATTR), StandardCharsets.US_ASCII);
        } catch (OsdException e) {
            return null;
        }
    }
}
