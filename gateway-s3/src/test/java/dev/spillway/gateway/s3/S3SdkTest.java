package dev.spillway.gateway.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.*;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/** Every operation of the gateway through the AWS SDK for Java v2, success and error paths. */
class S3SdkTest {
    static GatewayFixture fx;
    static S3Client path;
    static S3Client vhost;
    static long seed = Long.getLong("test.seed", System.nanoTime());
    static Random random = new Random(seed);

    @BeforeAll
    static void start() throws Exception {
        System.out.println("S3SdkTest seed " + seed + " (replay with -Dtest.seed=" + seed + ")");
        fx = new GatewayFixture();
        path = fx.client(true);
        vhost = fx.client(false);
    }

    @AfterAll
    static void stop() throws Exception {
        path.close();
        vhost.close();
        fx.close();
    }

    static byte[] bytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    static String code(Throwable t) {
        return ((S3Exception) t).awsErrorDetails().errorCode();
    }

    static int status(Throwable t) {
        return ((S3Exception) t).statusCode();
    }

    @Test
    void bucketLifecycle() {
        path.createBucket(b -> b.bucket("life"));
        assertThat(path.listBuckets().buckets()).extracting(Bucket::name).contains("life");
        path.headBucket(b -> b.bucket("life"));
        assertThat(path.getBucketLocation(b -> b.bucket("life")).locationConstraintAsString())
                .isEmpty();
        // us-east-1 (S3's legacy region) answers its owner's repeated CreateBucket with 200.
        path.createBucket(b -> b.bucket("life"));
        path.putObject(b -> b.bucket("life").key("k"), RequestBody.fromString("x"));
        assertThatThrownBy(() -> path.deleteBucket(b -> b.bucket("life"))).satisfies(t -> {
            assertThat(code(t)).isEqualTo("BucketNotEmpty");
            assertThat(status(t)).isEqualTo(409);
        });
        path.deleteObject(b -> b.bucket("life").key("k"));
        path.deleteBucket(b -> b.bucket("life"));
        assertThatThrownBy(() -> path.headBucket(b -> b.bucket("life")))
                .satisfies(t -> assertThat(status(t)).isEqualTo(404));
        assertThatThrownBy(() -> path.listObjectsV2(b -> b.bucket("life")))
                .satisfies(t -> assertThat(code(t)).isEqualTo("NoSuchBucket"));
        assertThatThrownBy(() -> path.deleteBucket(b -> b.bucket("life")))
                .satisfies(t -> assertThat(code(t)).isEqualTo("NoSuchBucket"));
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void putGetHeadDeleteBothAddressingStyles(boolean pathStyle) {
        S3Client c = pathStyle ? path : vhost;
        String bucket = pathStyle ? "pathbucket" : "vhost-bucket";
        c.createBucket(b -> b.bucket(bucket));
        byte[] data = bytes(300_000);
        PutObjectResponse put = c.putObject(
                b -> b.bucket(bucket)
                        .key("dir/obj")
                        .contentType("text/plain")
                        .metadata(Map.of("colour", "blue"))
                        .cacheControl("no-cache"),
                RequestBody.fromBytes(data));
        ResponseBytes<GetObjectResponse> got =
                c.getObjectAsBytes(b -> b.bucket(bucket).key("dir/obj"));
        assertThat(got.asByteArray()).isEqualTo(data);
        assertThat(got.response().eTag()).isEqualTo(put.eTag());
        assertThat(got.response().contentType()).isEqualTo("text/plain");
        assertThat(got.response().metadata()).containsEntry("colour", "blue");
        assertThat(got.response().cacheControl()).isEqualTo("no-cache");
        HeadObjectResponse head = c.headObject(b -> b.bucket(bucket).key("dir/obj"));
        assertThat(head.contentLength()).isEqualTo(data.length);
        assertThat(head.eTag()).isEqualTo(put.eTag());
        c.deleteObject(b -> b.bucket(bucket).key("dir/obj"));
        assertThatThrownBy(() -> c.getObject(b -> b.bucket(bucket).key("dir/obj")))
                .satisfies(t -> {
                    assertThat(code(t)).isEqualTo("NoSuchKey");
                    assertThat(status(t)).isEqualTo(404);
                });
        assertThatThrownBy(() -> c.headObject(b -> b.bucket(bucket).key("dir/obj")))
                .satisfies(t -> assertThat(status(t)).isEqualTo(404));
        c.deleteObject(b -> b.bucket(bucket).key("never-there")); // 204 for a missing key, as S3
        assertThatThrownBy(() -> path.getObject(b -> b.bucket("no-such-bucket").key("k")))
                .satisfies(t -> assertThat(code(t)).isEqualTo("NoSuchBucket"));
    }

    @Test
    void overwriteIsAtomicAndOldBodyIsSwept() throws Exception {
        path.createBucket(b -> b.bucket("over"));
        for (int i = 0; i < 5; i++) {
            byte[] d = bytes(2_000_000 + i);
            path.putObject(b -> b.bucket("over").key("k"), RequestBody.fromBytes(d));
            assertThat(path.getObjectAsBytes(b -> b.bucket("over").key("k")).asByteArray())
                    .isEqualTo(d);
        }
        fx.gateway.sweepNow();
        assertThat(fx.gateway.garbagePending()).isZero();
    }

    @Test
    void ranges() {
        path.createBucket(b -> b.bucket("ranges"));
        byte[] d = bytes(10_000);
        path.putObject(b -> b.bucket("ranges").key("r"), RequestBody.fromBytes(d));
        assertThat(path.getObjectAsBytes(b -> b.bucket("ranges").key("r").range("bytes=10-19"))
                        .asByteArray())
                .isEqualTo(java.util.Arrays.copyOfRange(d, 10, 20));
        ResponseBytes<GetObjectResponse> open =
                path.getObjectAsBytes(b -> b.bucket("ranges").key("r").range("bytes=9990-"));
        assertThat(open.asByteArray()).isEqualTo(java.util.Arrays.copyOfRange(d, 9990, 10_000));
        assertThat(open.response().contentRange()).isEqualTo("bytes 9990-9999/10000");
        assertThat(path.getObjectAsBytes(b -> b.bucket("ranges").key("r").range("bytes=-7"))
                        .asByteArray())
                .isEqualTo(java.util.Arrays.copyOfRange(d, 9993, 10_000));
        assertThat(path.getObjectAsBytes(b -> b.bucket("ranges").key("r").range("bytes=9000-20000"))
                        .asByteArray())
                .isEqualTo(java.util.Arrays.copyOfRange(d, 9000, 10_000));
        assertThatThrownBy(() -> path.getObject(b -> b.bucket("ranges").key("r").range("bytes=10000-")))
                .satisfies(t -> {
                    assertThat(code(t)).isEqualTo("InvalidRange");
                    assertThat(status(t)).isEqualTo(416);
                });
    }

    @Test
    void conditionals() {
        path.createBucket(b -> b.bucket("cond"));
        String etag = path.putObject(b -> b.bucket("cond").key("c"), RequestBody.fromString("hello"))
                .eTag();
        assertThat(path.getObjectAsBytes(b -> b.bucket("cond").key("c").ifMatch(etag))
                        .asUtf8String())
                .isEqualTo("hello");
        assertThatThrownBy(() -> path.getObject(b -> b.bucket("cond").key("c").ifMatch("\"0000\"")))
                .satisfies(t -> {
                    assertThat(status(t)).isEqualTo(412);
                    assertThat(code(t)).isEqualTo("PreconditionFailed");
                });
        assertThatThrownBy(() -> path.getObject(b -> b.bucket("cond").key("c").ifNoneMatch(etag)))
                .satisfies(t -> assertThat(status(t)).isEqualTo(304));
        assertThatThrownBy(() -> path.getObject(b ->
                        b.bucket("cond").key("c").ifModifiedSince(Instant.now().plusSeconds(3600))))
                .satisfies(t -> assertThat(status(t)).isEqualTo(304));
        assertThat(path.getObjectAsBytes(b -> b.bucket("cond")
                                .key("c")
                                .ifModifiedSince(Instant.now().minusSeconds(3600)))
                        .asUtf8String())
                .isEqualTo("hello");
        assertThatThrownBy(() -> path.getObject(b -> b.bucket("cond")
                        .key("c")
                        .ifUnmodifiedSince(Instant.now().minusSeconds(3600))))
                .satisfies(t -> assertThat(status(t)).isEqualTo(412));
    }

    @Test
    void copyObjectWithMetadataDirective() {
        path.createBucket(b -> b.bucket("copy"));
        byte[] d = bytes(70_000);
        path.putObject(
                b -> b.bucket("copy").key("src").contentType("a/b").metadata(Map.of("m", "1")),
                RequestBody.fromBytes(d));
        path.copyObject(b -> b.sourceBucket("copy")
                .sourceKey("src")
                .destinationBucket("copy")
                .destinationKey("dst"));
        ResponseBytes<GetObjectResponse> c1 =
                path.getObjectAsBytes(b -> b.bucket("copy").key("dst"));
        assertThat(c1.asByteArray()).isEqualTo(d);
        assertThat(c1.response().metadata()).containsEntry("m", "1");
        assertThat(c1.response().contentType()).isEqualTo("a/b");
        path.copyObject(b -> b.sourceBucket("copy")
                .sourceKey("src")
                .destinationBucket("copy")
                .destinationKey("dst2")
                .metadataDirective(MetadataDirective.REPLACE)
                .metadata(Map.of("n", "2"))
                .contentType("c/d"));
        HeadObjectResponse h = path.headObject(b -> b.bucket("copy").key("dst2"));
        assertThat(h.metadata()).containsEntry("n", "2").doesNotContainKey("m");
        assertThat(h.contentType()).isEqualTo("c/d");
        assertThatThrownBy(() -> path.copyObject(b -> b.sourceBucket("copy")
                        .sourceKey("src")
                        .destinationBucket("copy")
                        .destinationKey("src")))
                .satisfies(t -> assertThat(code(t)).isEqualTo("InvalidRequest"));
        assertThatThrownBy(() -> path.copyObject(b -> b.sourceBucket("copy")
                        .sourceKey("nope")
                        .destinationBucket("copy")
                        .destinationKey("x")))
                .satisfies(t -> assertThat(code(t)).isEqualTo("NoSuchKey"));
        assertThatThrownBy(() -> path.copyObject(b -> b.sourceBucket("copy")
                        .sourceKey("src")
                        .destinationBucket("copy")
                        .destinationKey("x")
                        .copySourceIfMatch("\"nope\"")))
                .satisfies(t -> assertThat(status(t)).isEqualTo(412));
    }

    @Test
    void listingsV2V1AndVersions() {
        path.createBucket(b -> b.bucket("list"));
        List<String> keys = List.of("a/1", "a/2", "a/b/3", "b/1", "c", "d e+f", "z/\u00e9t\u00e9");
        for (String k : keys) {
            path.putObject(b -> b.bucket("list").key(k), RequestBody.fromString(k));
        }
        ListObjectsV2Response all = path.listObjectsV2(b -> b.bucket("list"));
        assertThat(all.contents()).extracting(S3Object::key).containsExactlyElementsOf(keys);
        ListObjectsV2Response delim = path.listObjectsV2(b -> b.bucket("list").delimiter("/"));
        assertThat(delim.contents()).extracting(S3Object::key).containsExactly("c", "d e+f");
        assertThat(delim.commonPrefixes()).extracting(CommonPrefix::prefix).containsExactly("a/", "b/", "z/");
        ListObjectsV2Response under =
                path.listObjectsV2(b -> b.bucket("list").prefix("a/").delimiter("/"));
        assertThat(under.contents()).extracting(S3Object::key).containsExactly("a/1", "a/2");
        assertThat(under.commonPrefixes()).extracting(CommonPrefix::prefix).containsExactly("a/b/");
        // Paging with continuation tokens and a delimiter: every entry once, in order.
        List<String> seen = new ArrayList<>();
        String token = null;
        do {
            String t = token;
            ListObjectsV2Response page = path.listObjectsV2(
                    b -> b.bucket("list").delimiter("/").maxKeys(2).continuationToken(t));
            page.contents().forEach(o -> seen.add(o.key()));
            page.commonPrefixes().forEach(p -> seen.add(p.prefix()));
            token = page.isTruncated() ? page.nextContinuationToken() : null;
        } while (token != null);
        assertThat(seen).containsExactlyInAnyOrder("a/", "b/", "c", "d e+f", "z/");
        assertThat(path.listObjectsV2(b -> b.bucket("list").startAfter("b/1")).contents())
                .extracting(S3Object::key)
                .containsExactly("c", "d e+f", "z/\u00e9t\u00e9");
        assertThat(path.listObjectsV2(b -> b.bucket("list").maxKeys(0)).contents())
                .isEmpty();
        ListObjectsResponse v1 =
                path.listObjects(b -> b.bucket("list").marker("a/2").maxKeys(2));
        assertThat(v1.contents()).extracting(S3Object::key).containsExactly("a/b/3", "b/1");
        assertThat(v1.isTruncated()).isTrue();
        ListObjectVersionsResponse versions =
                path.listObjectVersions(b -> b.bucket("list").prefix("a/"));
        assertThat(versions.versions()).extracting(ObjectVersion::key).containsExactly("a/1", "a/2", "a/b/3");
        assertThat(versions.versions()).allSatisfy(v -> {
            assertThat(v.versionId()).isEqualTo("null");
            assertThat(v.isLatest()).isTrue();
        });
        DeleteObjectsResponse del = path.deleteObjects(b -> b.bucket("list")
                .delete(d -> d.objects(keys.stream()
                        .map(k -> ObjectIdentifier.builder().key(k).build())
                        .toList())));
        assertThat(del.deleted()).hasSize(keys.size());
        assertThat(path.listObjectsV2(b -> b.bucket("list")).contents()).isEmpty();
    }

    @Test
    void opaqueKeys() {
        path.createBucket(b -> b.bucket("keys"));
        String longKey = "k".repeat(1024);
        List<String> keys = List.of(
                "../etc/passwd",
                "a//b",
                "sp ace",
                "\u00fcn\u00efc\u00f8de/\u65e5\u672c",
                "%2F",
                "q?x=1&y",
                "tab\tch",
                longKey);
        List<String> failed = new ArrayList<>();
        for (String k : keys) {
            try {
                path.putObject(x -> x.bucket("keys").key(k), RequestBody.fromString("probe"));
            } catch (RuntimeException e) {
                failed.add(k + ": " + e.getMessage());
            }
        }
        assertThat(failed).isEmpty();
        for (String k : keys) {
            byte[] d = k.getBytes(StandardCharsets.UTF_8);
            path.putObject(b -> b.bucket("keys").key(k), RequestBody.fromBytes(d));
            assertThat(path.getObjectAsBytes(b -> b.bucket("keys").key(k)).asByteArray())
                    .as(k)
                    .isEqualTo(d);
            if (!k.startsWith("../")) {
                // Virtual-host style puts the key at the root of the path, where a leading ".."
                // climbs above it: Jetty refuses such a URI (see README, "Limits").
                assertThat(vhost.getObjectAsBytes(b -> b.bucket("keys").key(k)).asByteArray())
                        .as(k)
                        .isEqualTo(d);
            }
        }
        assertThat(path.listObjectsV2(b -> b.bucket("keys")).contents())
                .extracting(S3Object::key)
                .containsExactlyInAnyOrderElementsOf(keys);
        assertThatThrownBy(() ->
                        path.putObject(b -> b.bucket("keys").key("k".repeat(1025)), RequestBody.fromString("x")))
                .satisfies(t -> assertThat(code(t)).isEqualTo("KeyTooLongError"));
    }

    @Test
    void metadataLimit() {
        path.createBucket(b -> b.bucket("meta"));
        Map<String, String> big = new HashMap<>();
        big.put("big", "v".repeat(2100));
        assertThatThrownBy(
                        () -> path.putObject(b -> b.bucket("meta").key("m").metadata(big), RequestBody.fromString("x")))
                .satisfies(t -> assertThat(code(t)).isEqualTo("MetadataTooLarge"));
        assertThatThrownBy(() -> path.headObject(b -> b.bucket("meta").key("m")))
                .satisfies(t -> assertThat(status(t)).isEqualTo(404));
    }

    @Test
    void multipartUploadLifecycle() throws Exception {
        path.createBucket(b -> b.bucket("mpu"));
        byte[] p1 = bytes(5 << 20);
        byte[] p2 = bytes(1234);
        String id = path.createMultipartUpload(b -> b.bucket("mpu").key("big").contentType("x/y"))
                .uploadId();
        assertThat(path.listMultipartUploads(b -> b.bucket("mpu")).uploads())
                .extracting(MultipartUpload::uploadId)
                .contains(id);
        String e1 = path.uploadPart(
                        b -> b.bucket("mpu").key("big").uploadId(id).partNumber(1), RequestBody.fromBytes(p1))
                .eTag();
        String e2 = path.uploadPart(
                        b -> b.bucket("mpu").key("big").uploadId(id).partNumber(2), RequestBody.fromBytes(p2))
                .eTag();
        assertThat(path.listParts(b -> b.bucket("mpu").key("big").uploadId(id)).parts())
                .extracting(Part::partNumber)
                .containsExactly(1, 2);
        assertThatThrownBy(() -> path.completeMultipartUpload(b -> b.bucket("mpu")
                        .key("big")
                        .uploadId(id)
                        .multipartUpload(m -> m.parts(
                                CompletedPart.builder().partNumber(2).eTag(e2).build(),
                                CompletedPart.builder().partNumber(1).eTag(e1).build()))))
                .satisfies(t -> assertThat(code(t)).isEqualTo("InvalidPartOrder"));
        assertThatThrownBy(() -> path.completeMultipartUpload(b -> b.bucket("mpu")
                        .key("big")
                        .uploadId(id)
                        .multipartUpload(m -> m.parts(CompletedPart.builder()
                                .partNumber(1)
                                .eTag("\"0123\"")
                                .build()))))
                .satisfies(t -> assertThat(code(t)).isEqualTo("InvalidPart"));
        assertThatThrownBy(() -> path.completeMultipartUpload(b -> b.bucket("mpu")
                        .key("big")
                        .uploadId(id)
                        .multipartUpload(m -> m.parts(
                                CompletedPart.builder().partNumber(2).eTag(e2).build(),
                                CompletedPart.builder().partNumber(3).eTag(e2).build()))))
                .satisfies(t -> assertThat(code(t)).isIn("InvalidPart", "EntityTooSmall"));
        CompleteMultipartUploadResponse done = path.completeMultipartUpload(b -> b.bucket("mpu")
                .key("big")
                .uploadId(id)
                .multipartUpload(m -> m.parts(
                        CompletedPart.builder().partNumber(1).eTag(e1).build(),
                        CompletedPart.builder().partNumber(2).eTag(e2).build())));
        assertThat(done.eTag()).matches("\"[0-9a-f]{32}-2\"");
        byte[] whole = RawS3.concat(p1, p2);
        assertThat(path.getObjectAsBytes(b -> b.bucket("mpu").key("big")).asByteArray())
                .isEqualTo(whole);
        assertThat(path.getObjectAsBytes(b -> b.bucket("mpu").key("big").range("bytes=5242870-5242889"))
                        .asByteArray())
                .isEqualTo(java.util.Arrays.copyOfRange(whole, 5242870, 5242890));
        assertThat(path.headObject(b -> b.bucket("mpu").key("big")).contentType())
                .isEqualTo("x/y");
        assertThatThrownBy(() -> path.uploadPart(
                        b -> b.bucket("mpu").key("big").uploadId(id).partNumber(3), RequestBody.fromString("late")))
                .satisfies(t -> assertThat(code(t)).isEqualTo("NoSuchUpload"));

        // EntityTooSmall, UploadPartCopy, abort.
        String id2 =
                path.createMultipartUpload(b -> b.bucket("mpu").key("small")).uploadId();
        String s1 = path.uploadPart(
                        b -> b.bucket("mpu").key("small").uploadId(id2).partNumber(1), RequestBody.fromString("tiny"))
                .eTag();
        String s2 = path.uploadPart(
                        b -> b.bucket("mpu").key("small").uploadId(id2).partNumber(2), RequestBody.fromString("tiny"))
                .eTag();
        assertThatThrownBy(() -> path.completeMultipartUpload(b -> b.bucket("mpu")
                        .key("small")
                        .uploadId(id2)
                        .multipartUpload(m -> m.parts(
                                CompletedPart.builder().partNumber(1).eTag(s1).build(),
                                CompletedPart.builder().partNumber(2).eTag(s2).build()))))
                .satisfies(t -> assertThat(code(t)).isEqualTo("EntityTooSmall"));
        UploadPartCopyResponse pc = path.uploadPartCopy(b -> b.sourceBucket("mpu")
                .sourceKey("big")
                .destinationBucket("mpu")
                .destinationKey("small")
                .uploadId(id2)
                .partNumber(1)
                .copySourceRange("bytes=0-5242879"));
        path.completeMultipartUpload(b -> b.bucket("mpu")
                .key("small")
                .uploadId(id2)
                .multipartUpload(m -> m.parts(
                        CompletedPart.builder()
                                .partNumber(1)
                                .eTag(pc.copyPartResult().eTag())
                                .build(),
                        CompletedPart.builder().partNumber(2).eTag(s2).build())));
        assertThat(path.getObjectAsBytes(b -> b.bucket("mpu").key("small")).asByteArray())
                .isEqualTo(RawS3.concat(p1, "tiny".getBytes(StandardCharsets.UTF_8)));
        String id3 =
                path.createMultipartUpload(b -> b.bucket("mpu").key("gone")).uploadId();
        path.uploadPart(
                b -> b.bucket("mpu").key("gone").uploadId(id3).partNumber(1), RequestBody.fromBytes(bytes(3 << 20)));
        path.abortMultipartUpload(b -> b.bucket("mpu").key("gone").uploadId(id3));
        assertThatThrownBy(() -> path.listParts(b -> b.bucket("mpu").key("gone").uploadId(id3)))
                .satisfies(t -> assertThat(code(t)).isEqualTo("NoSuchUpload"));
        assertThatThrownBy(() -> path.abortMultipartUpload(
                        b -> b.bucket("mpu").key("gone").uploadId(id3)))
                .satisfies(t -> assertThat(code(t)).isEqualTo("NoSuchUpload"));
        assertThatThrownBy(() -> path.getObject(b -> b.bucket("mpu").key("gone")))
                .satisfies(t -> assertThat(code(t)).isEqualTo("NoSuchKey"));
        // Overwriting and deleting a multipart object frees its parts.
        path.deleteObject(b -> b.bucket("mpu").key("big"));
        path.deleteObject(b -> b.bucket("mpu").key("small"));
        fx.gateway.sweepNow();
        assertThat(fx.gateway.garbagePending()).isZero();
    }

    @Test
    void checksumsAsHeadersAndTrailers() {
        path.createBucket(b -> b.bucket("sums"));
        byte[] d = bytes(200_000);
        for (ChecksumAlgorithm alg : List.of(
                ChecksumAlgorithm.CRC32, ChecksumAlgorithm.CRC32_C, ChecksumAlgorithm.SHA1, ChecksumAlgorithm.SHA256)) {
            String key = "sum-" + alg;
            // The SDK sends the checksum as an aws-chunked trailer here (chunked encoding on).
            PutObjectResponse r =
                    path.putObject(b -> b.bucket("sums").key(key).checksumAlgorithm(alg), RequestBody.fromBytes(d));
            GetObjectResponse g = path.getObject(
                            b -> b.bucket("sums").key(key).checksumMode(ChecksumMode.ENABLED),
                            software.amazon.awssdk.core.sync.ResponseTransformer.toBytes())
                    .response();
            assertThat(g.checksumCRC32() != null
                            || g.checksumCRC32C() != null
                            || g.checksumSHA1() != null
                            || g.checksumSHA256() != null
                            || g.checksumCRC64NVME() != null)
                    .as(alg.toString())
                    .isTrue();
            assertThat(r.eTag()).isNotNull();
        }
        // A checksum header that does not match the body: BadDigest, nothing stored.
        S3Client plain = fx.client(true, false, GatewayFixture.SECRET_KEY);
        assertThatThrownBy(() -> plain.putObject(
                        b -> b.bucket("sums").key("bad").checksumCRC32("AAAAAA=="), RequestBody.fromBytes(d)))
                .satisfies(t -> assertThat(code(t)).isEqualTo("BadDigest"));
        assertThatThrownBy(() -> path.headObject(b -> b.bucket("sums").key("bad")))
                .satisfies(t -> assertThat(status(t)).isEqualTo(404));
        plain.close();
    }

    @Test
    void presignedUrls() throws Exception {
        path.createBucket(b -> b.bucket("presign"));
        try (S3Presigner p = S3Presigner.builder()
                .endpointOverride(fx.endpoint())
                .region(Region.US_EAST_1)
                .serviceConfiguration(software.amazon.awssdk.services.s3.S3Configuration.builder()
                        .pathStyleAccessEnabled(true)
                        .build())
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(GatewayFixture.ACCESS_KEY, GatewayFixture.SECRET_KEY)))
                .build()) {
            byte[] d = bytes(100_000);
            URL put = p.presignPutObject(b -> b.signatureDuration(Duration.ofMinutes(5))
                            .putObjectRequest(r -> r.bucket("presign").key("p k")))
                    .url();
            HttpURLConnection c = (HttpURLConnection) put.openConnection();
            c.setRequestMethod("PUT");
            c.setDoOutput(true);
            c.getOutputStream().write(d);
            assertThat(c.getResponseCode()).isEqualTo(200);
            URL get = p.presignGetObject(b -> b.signatureDuration(Duration.ofMinutes(5))
                            .getObjectRequest(r -> r.bucket("presign").key("p k")))
                    .url();
            try (InputStream in = get.openStream()) {
                assertThat(in.readAllBytes()).isEqualTo(d);
            }
            // Tampering with the URL breaks the signature.
            URL bad = new URL(get.toString().replace("p%20k", "p%20j"));
            HttpURLConnection bc = (HttpURLConnection) bad.openConnection();
            assertThat(bc.getResponseCode()).isEqualTo(403);
            assertThat(new String(bc.getErrorStream().readAllBytes(), StandardCharsets.UTF_8))
                    .contains("SignatureDoesNotMatch");
        }
    }

    @Test
    void authenticationFailures() throws Exception {
        path.createBucket(b -> b.bucket("auth"));
        try (S3Client wrong = fx.client(true, true, "not-the-secret")) {
            assertThatThrownBy(() -> wrong.listObjectsV2(b -> b.bucket("auth"))).satisfies(t -> {
                assertThat(code(t)).isEqualTo("SignatureDoesNotMatch");
                assertThat(status(t)).isEqualTo(403);
            });
        }
        try (S3Client unknown = S3Client.builder()
                .endpointOverride(fx.endpoint())
                .region(Region.US_EAST_1)
                .forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("NOSUCHKEY", "x")))
                .httpClient(software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient.create())
                .build()) {
            assertThatThrownBy(() -> unknown.listBuckets())
                    .satisfies(t -> assertThat(code(t)).isEqualTo("InvalidAccessKeyId"));
        }
        HttpURLConnection anon = (HttpURLConnection) new URL(fx.endpoint() + "/auth").openConnection();
        assertThat(anon.getResponseCode()).isEqualTo(403);
        assertThat(new String(anon.getErrorStream().readAllBytes(), StandardCharsets.UTF_8))
                .contains("<Code>AccessDenied</Code>");
    }

    @Test
    void clockSkewIsRefused() throws Exception {
        try (GatewayFixture skewed = new GatewayFixture(
                        dev.spillway.osd.mem.MemOsd.create("skew"),
                        GatewayConfig.builder()
                                .clock(java.time.InstantSource.offset(
                                        java.time.Clock.systemUTC(), Duration.ofHours(1))));
                S3Client c = S3Client.builder()
                        .endpointOverride(skewed.endpoint())
                        .region(Region.US_EAST_1)
                        .forcePathStyle(true)
                        .credentialsProvider(StaticCredentialsProvider.create(
                                AwsBasicCredentials.create(GatewayFixture.ACCESS_KEY, GatewayFixture.SECRET_KEY)))
                        .overrideConfiguration(
                                o -> o.retryStrategy(software.amazon.awssdk.retries.DefaultRetryStrategy.doNotRetry()))
                        .httpClient(software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient.create())
                        .build()) {
            assertThatThrownBy(c::listBuckets).satisfies(t -> {
                assertThat(code(t)).isEqualTo("RequestTimeTooSkewed");
                assertThat(status(t)).isEqualTo(403);
            });
        }
    }

    @Test
    void gatewayRefusesADeviceWithoutIndexes() {
        dev.spillway.osd.Osd noIndex =
                new dev.spillway.osd.filter.FilterOsd(dev.spillway.osd.mem.MemOsd.create("plain")) {
                    @Override
                    public dev.spillway.osd.Capabilities capabilities() {
                        dev.spillway.osd.Capabilities c = super.capabilities();
                        java.util.Set<dev.spillway.osd.Capability> f = java.util.EnumSet.copyOf(c.features());
                        f.remove(dev.spillway.osd.Capability.INDEX);
                        return new dev.spillway.osd.Capabilities(
                                f,
                                c.maxXattrValue(),
                                c.maxXattrName(),
                                c.maxObjectSize(),
                                0,
                                0,
                                c.preferredIoSize(),
                                c.blockSize());
                    }
                };
        assertThatThrownBy(
                        () -> S3Gateway.start(noIndex, GatewayConfig.builder().build()))
                .isInstanceOf(dev.spillway.osd.OsdException.class)
                .hasMessageContaining("plain")
                .hasMessageContaining("INDEX");
    }

    static byte[] readAll(InputStream in) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        in.transferTo(out);
        return out.toByteArray();
    }
}
