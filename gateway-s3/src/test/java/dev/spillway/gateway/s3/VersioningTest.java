package dev.spillway.gateway.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.gateway.s3.store.BucketObjects;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.PlacementHint;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.DeleteMarkerEntry;
import software.amazon.awssdk.services.s3.model.DeleteObjectResponse;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.ListObjectVersionsResponse;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.ObjectVersion;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Versioning: PutBucketVersioning Enabled/Suspended, version ids, delete markers, GET/HEAD/
 * DELETE/Copy with versionId, ListObjectVersions paging, the null version, and the cold
 * placement advice a non-current body gets.
 */
class VersioningTest {
    static GatewayFixture fx;
    static S3Client s3;

    @BeforeAll
    static void start() throws Exception {
        fx = new GatewayFixture();
        s3 = fx.client(true);
    }

    @AfterAll
    static void stop() throws Exception {
        s3.close();
        fx.close();
    }

    static void versioned(String bucket, BucketVersioningStatus status) {
        s3.putBucketVersioning(b -> b.bucket(bucket).versioningConfiguration(v -> v.status(status)));
    }

    static String put(String bucket, String key, String body) {
        return s3.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromString(body))
                .versionId();
    }

    static String get(String bucket, String key, String version) {
        return s3.getObjectAsBytes(b -> b.bucket(bucket).key(key).versionId(version))
                .asString(StandardCharsets.UTF_8);
    }

    static int status(Runnable r) {
        try {
            r.run();
            return 200;
        } catch (S3Exception e) {
            return e.statusCode();
        }
    }

    @Test
    void everyWriteKeepsAVersionAndDeleteLeavesAMarker() {
        s3.createBucket(b -> b.bucket("ver1"));
        assertThat(s3.getBucketVersioning(b -> b.bucket("ver1")).status()).isNull();
        String nullVersion = put("ver1", "k", "v0"); // before versioning: the null version
        assertThat(nullVersion).isNull();
        versioned("ver1", BucketVersioningStatus.ENABLED);
        assertThat(s3.getBucketVersioning(b -> b.bucket("ver1")).status()).isEqualTo(BucketVersioningStatus.ENABLED);
        String v1 = put("ver1", "k", "v1");
        String v2 = put("ver1", "k", "v2");
        assertThat(v1).isNotEqualTo(v2).hasSize(32);
        assertThat(get("ver1", "k", null)).isEqualTo("v2");
        assertThat(get("ver1", "k", v1)).isEqualTo("v1");
        assertThat(get("ver1", "k", "null")).isEqualTo("v0");
        assertThat(s3.headObject(b -> b.bucket("ver1").key("k").versionId(v1)).versionId())
                .isEqualTo(v1);

        DeleteObjectResponse d = s3.deleteObject(b -> b.bucket("ver1").key("k"));
        assertThat(d.deleteMarker()).isTrue();
        String marker = d.versionId();
        assertThatThrownBy(() -> s3.getObject(b -> b.bucket("ver1").key("k")))
                .isInstanceOfSatisfying(S3Exception.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(404);
                    assertThat(e.awsErrorDetails().sdkHttpResponse().firstMatchingHeader("x-amz-delete-marker"))
                            .hasValue("true");
                });
        // A delete marker asked for by id: 405, as S3 answers.
        assertThat(status(() -> s3.headObject(b -> b.bucket("ver1").key("k").versionId(marker))))
                .isEqualTo(405);
        assertThat(s3.listObjectsV2(b -> b.bucket("ver1")).contents()).isEmpty();
        assertThat(get("ver1", "k", v2)).isEqualTo("v2");

        ListObjectVersionsResponse l = s3.listObjectVersions(b -> b.bucket("ver1"));
        assertThat(l.deleteMarkers()).extracting(DeleteMarkerEntry::versionId).containsExactly(marker);
        assertThat(l.deleteMarkers().get(0).isLatest()).isTrue();
        assertThat(l.versions()).extracting(ObjectVersion::versionId).containsExactly(v2, v1, "null");
        assertThat(l.versions()).noneMatch(ObjectVersion::isLatest);

        // Removing the marker makes v2 current again.
        DeleteObjectResponse dm = s3.deleteObject(b -> b.bucket("ver1").key("k").versionId(marker));
        assertThat(dm.deleteMarker()).isTrue();
        assertThat(dm.versionId()).isEqualTo(marker);
        assertThat(get("ver1", "k", null)).isEqualTo("v2");
        // Removing the current version promotes the next newest.
        s3.deleteObject(b -> b.bucket("ver1").key("k").versionId(v2));
        assertThat(get("ver1", "k", null)).isEqualTo("v1");
        s3.deleteObject(b -> b.bucket("ver1").key("k").versionId(v1));
        s3.deleteObject(b -> b.bucket("ver1").key("k").versionId("null"));
        assertThat(s3.listObjectVersions(b -> b.bucket("ver1")).versions()).isEmpty();
        assertThat(status(() -> get("ver1", "k", v1))).isEqualTo(404);
        s3.deleteBucket(b -> b.bucket("ver1"));
    }

    @Test
    void aBucketWithVersionsCannotBeDeleted() {
        s3.createBucket(b -> b.bucket("ver-full"));
        versioned("ver-full", BucketVersioningStatus.ENABLED);
        String v = put("ver-full", "k", "x");
        s3.deleteObject(b -> b.bucket("ver-full").key("k"));
        assertThatThrownBy(() -> s3.deleteBucket(b -> b.bucket("ver-full")))
                .isInstanceOfSatisfying(S3Exception.class, e -> {
                    assertThat(e.awsErrorDetails().errorCode()).isEqualTo("BucketNotEmpty");
                    assertThat(e.getMessage()).contains("a delete marker of 'k'");
                });
        ListObjectVersionsResponse l = s3.listObjectVersions(b -> b.bucket("ver-full"));
        s3.deleteObject(b -> b.bucket("ver-full").key("k").versionId(v));
        s3.deleteObject(b ->
                b.bucket("ver-full").key("k").versionId(l.deleteMarkers().get(0).versionId()));
        s3.deleteBucket(b -> b.bucket("ver-full"));
    }

    @Test
    void suspendedWritesReplaceTheNullVersionAndKeepTheOthers() {
        s3.createBucket(b -> b.bucket("ver-susp"));
        versioned("ver-susp", BucketVersioningStatus.ENABLED);
        String v1 = put("ver-susp", "k", "v1");
        versioned("ver-susp", BucketVersioningStatus.SUSPENDED);
        assertThat(put("ver-susp", "k", "n1")).isNull();
        assertThat(put("ver-susp", "k", "n2")).isNull();
        ListObjectVersionsResponse l = s3.listObjectVersions(b -> b.bucket("ver-susp"));
        assertThat(l.versions()).extracting(ObjectVersion::versionId).containsExactly("null", v1);
        assertThat(get("ver-susp", "k", "null")).isEqualTo("n2");
        // Enabled again: the null version becomes non-current, and a new one is current.
        versioned("ver-susp", BucketVersioningStatus.ENABLED);
        String v3 = put("ver-susp", "k", "v3");
        versioned("ver-susp", BucketVersioningStatus.SUSPENDED);
        // Suspended again: a write replaces the non-current null version and moves v3 aside.
        put("ver-susp", "k", "n3");
        l = s3.listObjectVersions(b -> b.bucket("ver-susp"));
        assertThat(l.versions()).extracting(ObjectVersion::versionId).containsExactly("null", v3, v1);
        assertThat(get("ver-susp", "k", "null")).isEqualTo("n3");
        // A delete while suspended: a null delete marker replaces the null version.
        DeleteObjectResponse d = s3.deleteObject(b -> b.bucket("ver-susp").key("k"));
        assertThat(d.deleteMarker()).isTrue();
        l = s3.listObjectVersions(b -> b.bucket("ver-susp"));
        assertThat(l.deleteMarkers()).extracting(DeleteMarkerEntry::versionId).containsExactly("null");
        assertThat(l.versions()).extracting(ObjectVersion::versionId).containsExactly(v3, v1);
    }

    @Test
    void listObjectVersionsPagesByKeyAndVersionMarkers() {
        s3.createBucket(b -> b.bucket("ver-page"));
        versioned("ver-page", BucketVersioningStatus.ENABLED);
        List<String> expected = new ArrayList<>();
        for (String k : List.of("a", "b/1", "b/2", "c")) {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                ids.add(0, k + ":" + put("ver-page", k, k + i));
            }
            expected.addAll(ids);
        }
        List<String> seen = new ArrayList<>();
        String keyMarker = null;
        String versionMarker = null;
        int pages = 0;
        while (true) {
            String km = keyMarker;
            String vm = versionMarker;
            ListObjectVersionsResponse l = s3.listObjectVersions(
                    b -> b.bucket("ver-page").maxKeys(2).keyMarker(km).versionIdMarker(vm));
            l.versions().forEach(v -> seen.add(v.key() + ":" + v.versionId()));
            pages++;
            if (!l.isTruncated()) {
                break;
            }
            keyMarker = l.nextKeyMarker();
            versionMarker = l.nextVersionIdMarker();
        }
        assertThat(seen).containsExactlyElementsOf(expected);
        assertThat(pages).isEqualTo(6);
        // Prefix and delimiter roll b/ up, as in a listing of objects.
        ListObjectVersionsResponse rolled =
                s3.listObjectVersions(b -> b.bucket("ver-page").delimiter("/"));
        assertThat(rolled.commonPrefixes()).extracting(p -> p.prefix()).containsExactly("b/");
        assertThat(rolled.versions()).extracting(ObjectVersion::key).containsExactly("a", "a", "a", "c", "c", "c");
        // A key marker alone starts after every version of that key.
        assertThat(s3.listObjectVersions(b -> b.bucket("ver-page").keyMarker("b/2"))
                        .versions())
                .extracting(ObjectVersion::key)
                .containsOnly("c");
        assertThatThrownBy(() -> s3.listObjectVersions(
                        b -> b.bucket("ver-page").keyMarker("a").versionIdMarker("junk")))
                .isInstanceOfSatisfying(
                        S3Exception.class, e -> assertThat(e.statusCode()).isEqualTo(400));
    }

    @Test
    void copyAndMultipartCarryVersionIds() {
        s3.createBucket(b -> b.bucket("ver-copy"));
        versioned("ver-copy", BucketVersioningStatus.ENABLED);
        String v1 = put("ver-copy", "src", "one");
        put("ver-copy", "src", "two");
        var copy = s3.copyObject(b -> b.sourceBucket("ver-copy")
                .sourceKey("src")
                .sourceVersionId(v1)
                .destinationBucket("ver-copy")
                .destinationKey("dst"));
        assertThat(copy.copySourceVersionId()).isEqualTo(v1);
        assertThat(copy.versionId()).isNotNull();
        assertThat(get("ver-copy", "dst", null)).isEqualTo("one");
        // Restoring an old version onto its own key is a copy S3 allows.
        s3.copyObject(b -> b.sourceBucket("ver-copy")
                .sourceKey("src")
                .sourceVersionId(v1)
                .destinationBucket("ver-copy")
                .destinationKey("src"));
        assertThat(get("ver-copy", "src", null)).isEqualTo("one");

        String id =
                s3.createMultipartUpload(b -> b.bucket("ver-copy").key("mp")).uploadId();
        String etag = s3.uploadPart(
                        b -> b.bucket("ver-copy").key("mp").uploadId(id).partNumber(1), RequestBody.fromString("part"))
                .eTag();
        var done = s3.completeMultipartUpload(b -> b.bucket("ver-copy")
                .key("mp")
                .uploadId(id)
                .multipartUpload(m ->
                        m.parts(CompletedPart.builder().partNumber(1).eTag(etag).build())));
        assertThat(done.versionId()).isNotNull();
        assertThat(get("ver-copy", "mp", done.versionId())).isEqualTo("part");
    }

    @Test
    void deleteObjectsTakesVersionIds() {
        s3.createBucket(b -> b.bucket("ver-multi"));
        versioned("ver-multi", BucketVersioningStatus.ENABLED);
        String v1 = put("ver-multi", "a", "1");
        put("ver-multi", "b", "1");
        DeleteObjectsResponse r = s3.deleteObjects(b -> b.bucket("ver-multi")
                .delete(d -> d.objects(
                        ObjectIdentifier.builder().key("a").versionId(v1).build(),
                        ObjectIdentifier.builder().key("b").build())));
        assertThat(r.errors()).isEmpty();
        assertThat(r.deleted()).hasSize(2);
        assertThat(r.deleted().get(0).versionId()).isEqualTo(v1);
        assertThat(r.deleted().get(1).deleteMarker()).isTrue();
        assertThat(r.deleted().get(1).deleteMarkerVersionId()).isNotNull();
        assertThat(s3.listObjectVersions(b -> b.bucket("ver-multi")).versions())
                .extracting(ObjectVersion::key)
                .containsExactly("b");
    }

    @Test
    void aNonCurrentBodyIsAdvisedCold() throws Exception {
        s3.createBucket(b -> b.bucket("ver-cold"));
        versioned("ver-cold", BucketVersioningStatus.ENABLED);
        String v1 = put("ver-cold", "k", "old");
        Fid old = bodyOf("ver-cold", "k");
        assertThat(advice(old)).isNull();
        put("ver-cold", "k", "new");
        assertThat(advice(old)).isEqualTo(PlacementHint.COLD);
        assertThat(advice(bodyOf("ver-cold", "k"))).isNull();
        assertThat(v1).isNotNull();
    }

    static Fid bodyOf(String bucket, String key) throws Exception {
        return bodyOf(fx, bucket, key);
    }

    static Fid bodyOf(GatewayFixture fx, String bucket, String key) throws Exception {
        var ns = fx.gateway.namespace();
        var b = ns.bucket(bucket);
        return new BucketObjects(ns)
                .lookup(b, bucket, key.getBytes(StandardCharsets.UTF_8))
                .orElseThrow()
                .fid();
    }

    static String advice(Fid f) throws Exception {
        try {
            return new String(fx.osd.getXattr(f, PlacementHint.XATTR), StandardCharsets.US_ASCII);
        } catch (OsdException e) {
            return null;
        }
    }
}
