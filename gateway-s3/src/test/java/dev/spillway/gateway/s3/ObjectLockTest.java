package dev.spillway.gateway.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.mem.MemOsd;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.ObjectLockEnabled;
import software.amazon.awssdk.services.s3.model.ObjectLockLegalHoldStatus;
import software.amazon.awssdk.services.s3.model.ObjectLockMode;
import software.amazon.awssdk.services.s3.model.ObjectLockRetentionMode;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Object lock: the bucket configuration and its default retention, per-version retention in
 * GOVERNANCE (bypass) and COMPLIANCE mode, legal hold, and that a locked version cannot be
 * deleted by any request, nor its retention shortened. Time is the gateway's injected clock.
 */
class ObjectLockTest {
    static final MutableClock CLOCK = new MutableClock(Instant.parse("2026-03-01T10:00:00Z"));
    static GatewayFixture fx;
    static S3Client s3;

    @BeforeAll
    static void start() throws Exception {
        fx = new GatewayFixture(
                MemOsd.create("mem0"), GatewayConfig.builder().clock(CLOCK).maxClockSkew(Duration.ofDays(36500)));
        s3 = fx.client(true);
    }

    @AfterAll
    static void stop() throws Exception {
        s3.close();
        fx.close();
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
    void bucketConfigurationNeedsVersioningAndKeepsIt() {
        s3.createBucket(b -> b.bucket("plain"));
        assertThat(code(() -> s3.getObjectLockConfiguration(b -> b.bucket("plain"))))
                .isEqualTo("404 ObjectLockConfigurationNotFoundError");
        assertThat(code(() -> s3.putObjectLockConfiguration(b -> b.bucket("plain")
                        .objectLockConfiguration(c -> c.objectLockEnabled(ObjectLockEnabled.ENABLED)))))
                .isEqualTo("409 InvalidBucketState");
        s3.putBucketVersioning(
                b -> b.bucket("plain").versioningConfiguration(v -> v.status(BucketVersioningStatus.ENABLED)));
        assertThat(code(() -> s3.putObjectLockConfiguration(b -> b.bucket("plain")
                        .objectLockConfiguration(c -> c.objectLockEnabled(ObjectLockEnabled.ENABLED)
                                .rule(r -> r.defaultRetention(d -> d.mode(ObjectLockRetentionMode.GOVERNANCE)
                                        .days(1)))))))
                .isEqualTo("ok");
        assertThat(code(() -> s3.putBucketVersioning(b ->
                        b.bucket("plain").versioningConfiguration(v -> v.status(BucketVersioningStatus.SUSPENDED)))))
                .isEqualTo("409 InvalidBucketState");
        var conf = s3.getObjectLockConfiguration(b -> b.bucket("plain")).objectLockConfiguration();
        assertThat(conf.rule().defaultRetention().days()).isEqualTo(1);
        assertThat(code(() -> s3.putObjectLockConfiguration(b -> b.bucket("plain")
                        .objectLockConfiguration(c -> c.objectLockEnabled(ObjectLockEnabled.ENABLED)
                                .rule(r -> r.defaultRetention(d -> d.mode(ObjectLockRetentionMode.GOVERNANCE)
                                        .days(0)))))))
                .isEqualTo("400 InvalidRetentionPeriod");
        assertThat(code(() -> s3.putObjectLockConfiguration(b -> b.bucket("plain")
                        .objectLockConfiguration(c -> c.objectLockEnabled(ObjectLockEnabled.ENABLED)
                                .rule(r -> r.defaultRetention(d -> d.mode(ObjectLockRetentionMode.GOVERNANCE)
                                        .days(1)
                                        .years(1)))))))
                .isEqualTo("400 MalformedXML");
        // The default retention applies to a new version.
        String v = s3.putObject(b -> b.bucket("plain").key("k"), RequestBody.fromString("x"))
                .versionId();
        var head = s3.headObject(b -> b.bucket("plain").key("k"));
        assertThat(head.objectLockMode()).isEqualTo(ObjectLockMode.GOVERNANCE);
        assertThat(head.objectLockRetainUntilDate()).isEqualTo(CLOCK.instant().plus(1, ChronoUnit.DAYS));
        assertThat(code(() -> s3.deleteObject(b -> b.bucket("plain").key("k").versionId(v))))
                .isEqualTo("403 AccessDenied");
        assertThat(code(() -> s3.deleteObject(
                        b -> b.bucket("plain").key("k").versionId(v).bypassGovernanceRetention(true))))
                .isEqualTo("ok");
    }

    @Test
    void governanceYieldsToBypassComplianceToNothing() {
        s3.createBucket(b -> b.bucket("locked").objectLockEnabledForBucket(true));
        assertThat(s3.getBucketVersioning(b -> b.bucket("locked")).status()).isEqualTo(BucketVersioningStatus.ENABLED);
        Instant until = CLOCK.instant().plus(10, ChronoUnit.DAYS);
        String g = s3.putObject(
                        b -> b.bucket("locked")
                                .key("gov")
                                .objectLockMode(ObjectLockMode.GOVERNANCE)
                                .objectLockRetainUntilDate(until),
                        RequestBody.fromString("g"))
                .versionId();
        String c = s3.putObject(
                        b -> b.bucket("locked")
                                .key("comp")
                                .objectLockMode(ObjectLockMode.COMPLIANCE)
                                .objectLockRetainUntilDate(until),
                        RequestBody.fromString("c"))
                .versionId();
        assertThat(s3.getObjectRetention(b -> b.bucket("locked").key("comp"))
                        .retention()
                        .retainUntilDate())
                .isEqualTo(until);
        // Shortening needs bypass in GOVERNANCE, and is never allowed in COMPLIANCE.
        Instant sooner = until.minus(1, ChronoUnit.DAYS);
        assertThat(code(() -> s3.putObjectRetention(b -> b.bucket("locked")
                        .key("gov")
                        .retention(
                                r -> r.mode(ObjectLockRetentionMode.GOVERNANCE).retainUntilDate(sooner)))))
                .isEqualTo("403 AccessDenied");
        assertThat(code(() -> s3.putObjectRetention(b -> b.bucket("locked")
                        .key("gov")
                        .bypassGovernanceRetention(true)
                        .retention(
                                r -> r.mode(ObjectLockRetentionMode.GOVERNANCE).retainUntilDate(sooner)))))
                .isEqualTo("ok");
        assertThat(code(() -> s3.putObjectRetention(b -> b.bucket("locked")
                        .key("comp")
                        .bypassGovernanceRetention(true)
                        .retention(
                                r -> r.mode(ObjectLockRetentionMode.COMPLIANCE).retainUntilDate(sooner)))))
                .isEqualTo("403 AccessDenied");
        assertThat(code(() -> s3.putObjectRetention(b -> b.bucket("locked")
                        .key("comp")
                        .retention(
                                r -> r.mode(ObjectLockRetentionMode.GOVERNANCE).retainUntilDate(until)))))
                .isEqualTo("403 AccessDenied");
        Instant later = until.plus(5, ChronoUnit.DAYS);
        assertThat(code(() -> s3.putObjectRetention(b -> b.bucket("locked")
                        .key("comp")
                        .retention(
                                r -> r.mode(ObjectLockRetentionMode.COMPLIANCE).retainUntilDate(later)))))
                .isEqualTo("ok");
        // No request deletes a COMPLIANCE version before its date; a plain DELETE only adds a marker.
        assertThat(code(() -> s3.deleteObject(
                        b -> b.bucket("locked").key("comp").versionId(c).bypassGovernanceRetention(true))))
                .isEqualTo("403 AccessDenied");
        var multi = s3.deleteObjects(b -> b.bucket("locked")
                .bypassGovernanceRetention(true)
                .delete(d -> d.objects(
                        ObjectIdentifier.builder().key("comp").versionId(c).build(),
                        ObjectIdentifier.builder().key("gov").versionId(g).build())));
        assertThat(multi.errors()).hasSize(1);
        assertThat(multi.errors().get(0).key()).isEqualTo("comp");
        assertThat(multi.errors().get(0).code()).isEqualTo("AccessDenied");
        assertThat(multi.deleted()).extracting(d -> d.key()).containsExactly("gov");
        assertThat(s3.deleteObject(b -> b.bucket("locked").key("comp")).deleteMarker())
                .isTrue();
        assertThat(s3.getObjectAsBytes(b -> b.bucket("locked").key("comp").versionId(c))
                        .asUtf8String())
                .isEqualTo("c");
        // Once the date has passed, the version may go.
        CLOCK.advance(Duration.ofDays(16));
        assertThat(code(() ->
                        s3.deleteObject(b -> b.bucket("locked").key("comp").versionId(c))))
                .isEqualTo("ok");
    }

    @Test
    void legalHoldBlocksDeletionUntilRemoved() {
        s3.createBucket(b -> b.bucket("held").objectLockEnabledForBucket(true));
        String id = s3.createMultipartUpload(
                        b -> b.bucket("held").key("mp").objectLockLegalHoldStatus(ObjectLockLegalHoldStatus.ON))
                .uploadId();
        String etag = s3.uploadPart(
                        b -> b.bucket("held").key("mp").uploadId(id).partNumber(1), RequestBody.fromString("p"))
                .eTag();
        String v = s3.completeMultipartUpload(b -> b.bucket("held")
                        .key("mp")
                        .uploadId(id)
                        .multipartUpload(m -> m.parts(
                                CompletedPart.builder().partNumber(1).eTag(etag).build())))
                .versionId();
        assertThat(s3.getObjectLegalHold(b -> b.bucket("held").key("mp"))
                        .legalHold()
                        .status())
                .isEqualTo(ObjectLockLegalHoldStatus.ON);
        assertThat(code(() -> s3.deleteObject(
                        b -> b.bucket("held").key("mp").versionId(v).bypassGovernanceRetention(true))))
                .isEqualTo("403 AccessDenied");
        s3.putObjectLegalHold(b -> b.bucket("held").key("mp").legalHold(h -> h.status(ObjectLockLegalHoldStatus.OFF)));
        assertThat(code(() -> s3.deleteObject(b -> b.bucket("held").key("mp").versionId(v))))
                .isEqualTo("ok");
    }

    @Test
    void lockRequestsOnABucketWithoutLockAreInvalidRequest() {
        s3.createBucket(b -> b.bucket("nolock"));
        s3.putObject(b -> b.bucket("nolock").key("k"), RequestBody.fromString("x"));
        assertThat(code(() -> s3.getObjectRetention(b -> b.bucket("nolock").key("k"))))
                .isEqualTo("400 InvalidRequest");
        assertThat(code(() -> s3.putObjectLegalHold(
                        b -> b.bucket("nolock").key("k").legalHold(h -> h.status(ObjectLockLegalHoldStatus.ON)))))
                .isEqualTo("400 InvalidRequest");
        assertThat(code(() -> s3.putObject(
                        b -> b.bucket("nolock").key("k2").objectLockLegalHoldStatus(ObjectLockLegalHoldStatus.ON),
                        RequestBody.fromString("x"))))
                .isEqualTo("400 InvalidRequest");
    }
}
