package dev.spillway.gateway.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.gateway.s3.auth.ChecksumAlgorithm;
import dev.spillway.osd.mem.MemOsd;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumMode;
import software.amazon.awssdk.services.s3.model.ChecksumType;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.GetObjectAttributesResponse;
import software.amazon.awssdk.services.s3.model.ObjectAttributes;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.Tag;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;

/**
 * Checksums end to end with every algorithm (CRC32, CRC32C, CRC64NVME, SHA1, SHA256): PUT (the
 * SDK sends them as aws-chunked trailers), UploadPart, Complete (COMPOSITE and FULL_OBJECT),
 * UploadPartCopy, CopyObject, GET/HEAD with x-amz-checksum-mode; GetObjectAttributes with its
 * part paging; bucket tagging.
 */
class ChecksumsAndAttributesTest {
    static GatewayFixture fx;
    static S3Client s3;

    @BeforeAll
    static void start() throws Exception {
        fx = new GatewayFixture(MemOsd.create("mem0"), GatewayConfig.builder().minPartSize(1));
        s3 = fx.client(true);
        s3.createBucket(b -> b.bucket("sums"));
    }

    @AfterAll
    static void stop() throws Exception {
        s3.close();
        fx.close();
    }

    static String value(ChecksumAlgorithm alg, byte[] data) {
        ChecksumAlgorithm.Hasher h = alg.newHasher();
        h.update(data, 0, data.length);
        return h.base64();
    }

    static software.amazon.awssdk.services.s3.model.ChecksumAlgorithm sdk(ChecksumAlgorithm a) {
        return software.amazon.awssdk.services.s3.model.ChecksumAlgorithm.fromValue(a.name());
    }

    static String of(ChecksumAlgorithm a, Object r) {
        return switch (a) {
            case CRC32 -> call(r, "checksumCRC32");
            case CRC32C -> call(r, "checksumCRC32C");
            case CRC64NVME -> call(r, "checksumCRC64NVME");
            case SHA1 -> call(r, "checksumSHA1");
            case SHA256 -> call(r, "checksumSHA256");
        };
    }

    static String call(Object r, String method) {
        try {
            return (String) r.getClass().getMethod(method).invoke(r);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    @ParameterizedTest
    @EnumSource(ChecksumAlgorithm.class)
    void putGetHeadCopyAndAttributes(ChecksumAlgorithm a) {
        byte[] data = new byte[300_000];
        new Random(a.ordinal()).nextBytes(data);
        String want = value(a, data);
        String key = "put-" + a;
        // The SDK computes CRC64NVME only with the AWS CRT, which this build does not carry: for it
        // the test sends the value itself (a header, not a trailer).
        var put = a == ChecksumAlgorithm.CRC64NVME
                ? s3.putObject(b -> b.bucket("sums").key(key).checksumCRC64NVME(want), RequestBody.fromBytes(data))
                : s3.putObject(b -> b.bucket("sums").key(key).checksumAlgorithm(sdk(a)), RequestBody.fromBytes(data));
        assertThat(of(a, put)).isEqualTo(want);
        // Without x-amz-checksum-mode the checksum is not sent; with it, it is.
        assertThat(of(a, s3.headObject(b -> b.bucket("sums").key(key)))).isNull();
        var head = s3.headObject(b -> b.bucket("sums").key(key).checksumMode(ChecksumMode.ENABLED));
        assertThat(of(a, head)).isEqualTo(want);
        assertThat(head.checksumType()).isEqualTo(ChecksumType.FULL_OBJECT);
        if (a != ChecksumAlgorithm.CRC64NVME) { // the SDK would validate the body with the CRT
            var get = s3.getObject(b -> b.bucket("sums").key(key).checksumMode(ChecksumMode.ENABLED));
            assertThat(of(a, get.response())).isEqualTo(want);
            get.abort();
        }
        var attrs = s3.getObjectAttributes(b -> b.bucket("sums")
                .key(key)
                .objectAttributes(
                        ObjectAttributes.CHECKSUM,
                        ObjectAttributes.E_TAG,
                        ObjectAttributes.OBJECT_SIZE,
                        ObjectAttributes.STORAGE_CLASS,
                        ObjectAttributes.OBJECT_PARTS));
        assertThat(of(a, attrs.checksum())).isEqualTo(want);
        assertThat(attrs.checksum().checksumType()).isEqualTo(ChecksumType.FULL_OBJECT);
        assertThat(attrs.objectSize()).isEqualTo(data.length);
        assertThat(attrs.storageClassAsString()).isEqualTo("STANDARD");
        assertThat(attrs.eTag()).isEqualTo(put.eTag().replace("\"", ""));
        assertThat(attrs.objectParts()).isNull();
        // A copy keeps a whole-object checksum of the same algorithm.
        var copy = s3.copyObject(b ->
                b.sourceBucket("sums").sourceKey(key).destinationBucket("sums").destinationKey(key + "-copy"));
        assertThat(of(a, copy.copyObjectResult())).isEqualTo(want);
        // A wrong value is BadDigest, and nothing is stored.
        byte[] other = Arrays.copyOf(data, data.length);
        other[7] ^= 1;
        String wrong = value(a, other);
        assertThatThrownBy(() -> s3.putObject(
                        b -> {
                            b.bucket("sums").key(key + "-bad");
                            switch (a) {
                                case CRC32 -> b.checksumCRC32(wrong);
                                case CRC32C -> b.checksumCRC32C(wrong);
                                case CRC64NVME -> b.checksumCRC64NVME(wrong);
                                case SHA1 -> b.checksumSHA1(wrong);
                                case SHA256 -> b.checksumSHA256(wrong);
                            }
                        },
                        RequestBody.fromBytes(data)))
                .isInstanceOf(S3Exception.class);
        assertThat(s3.listObjectsV2(b -> b.bucket("sums").prefix(key + "-bad")).contents())
                .isEmpty();
    }

    @ParameterizedTest
    @EnumSource(ChecksumAlgorithm.class)
    void multipartCompositeAndFullObject(ChecksumAlgorithm a) {
        for (ChecksumType type : List.of(ChecksumType.COMPOSITE, ChecksumType.FULL_OBJECT)) {
            if (!a.allows(type.toString())) {
                assertThatThrownBy(() -> s3.createMultipartUpload(b -> b.bucket("sums")
                                .key("refused")
                                .checksumAlgorithm(sdk(a))
                                .checksumType(type)))
                        .isInstanceOfSatisfying(
                                S3Exception.class,
                                e -> assertThat(e.statusCode()).isEqualTo(400));
                continue;
            }
            String key = "mp-" + a + "-" + type;
            String id = s3.createMultipartUpload(b ->
                            b.bucket("sums").key(key).checksumAlgorithm(sdk(a)).checksumType(type))
                    .uploadId();
            Random rnd = new Random(31 * a.ordinal() + type.ordinal());
            List<byte[]> parts = new ArrayList<>();
            List<CompletedPart> done = new ArrayList<>();
            ChecksumAlgorithm.Hasher whole = a.newHasher();
            ChecksumAlgorithm.Hasher composite = a.newHasher();
            for (int n = 1; n <= 3; n++) {
                byte[] p = new byte[10_000 + 1000 * n];
                rnd.nextBytes(p);
                parts.add(p);
                whole.update(p, 0, p.length);
                byte[] raw = Base64.getDecoder().decode(value(a, p));
                composite.update(raw, 0, raw.length);
                int pn = n;
                String partSum = value(a, p);
                UploadPartResponse r = s3.uploadPart(
                        b -> {
                            b.bucket("sums").key(key).uploadId(id).partNumber(pn);
                            if (a == ChecksumAlgorithm.CRC64NVME) {
                                b.checksumCRC64NVME(partSum);
                            } else {
                                b.checksumAlgorithm(sdk(a));
                            }
                        },
                        RequestBody.fromBytes(p));
                assertThat(of(a, r)).isEqualTo(value(a, p));
                CompletedPart.Builder cp = CompletedPart.builder().partNumber(n).eTag(r.eTag());
                switch (a) {
                    case CRC32 -> cp.checksumCRC32(r.checksumCRC32());
                    case CRC32C -> cp.checksumCRC32C(r.checksumCRC32C());
                    case CRC64NVME -> cp.checksumCRC64NVME(r.checksumCRC64NVME());
                    case SHA1 -> cp.checksumSHA1(r.checksumSHA1());
                    case SHA256 -> cp.checksumSHA256(r.checksumSHA256());
                }
                done.add(cp.build());
            }
            var c = s3.completeMultipartUpload(
                    b -> b.bucket("sums").key(key).uploadId(id).multipartUpload(m -> m.parts(done)));
            String want = type == ChecksumType.FULL_OBJECT ? whole.base64() : composite.base64() + "-3";
            assertThat(of(a, c)).isEqualTo(want);
            assertThat(c.checksumType()).isEqualTo(type);
            var head = s3.headObject(b -> b.bucket("sums").key(key).checksumMode(ChecksumMode.ENABLED));
            assertThat(of(a, head)).isEqualTo(want);
            assertThat(head.checksumType()).isEqualTo(type);
            // A part by number carries its own checksum.
            var p2 = s3.headObject(b -> b.bucket("sums").key(key).partNumber(2).checksumMode(ChecksumMode.ENABLED));
            assertThat(of(a, p2)).isEqualTo(value(a, parts.get(1)));
            GetObjectAttributesResponse attrs = s3.getObjectAttributes(b -> b.bucket("sums")
                    .key(key)
                    .maxParts(2)
                    .partNumberMarker(1)
                    .objectAttributes(ObjectAttributes.CHECKSUM, ObjectAttributes.OBJECT_PARTS));
            assertThat(of(a, attrs.checksum())).isEqualTo(want);
            assertThat(attrs.objectParts().totalPartsCount()).isEqualTo(3);
            assertThat(attrs.objectParts().isTruncated()).isFalse();
            assertThat(attrs.objectParts().parts()).hasSize(2);
            assertThat(attrs.objectParts().parts().get(0).partNumber()).isEqualTo(2);
            assertThat(attrs.objectParts().parts().get(0).size()).isEqualTo(parts.get(1).length);
            assertThat(of(a, attrs.objectParts().parts().get(1))).isEqualTo(value(a, parts.get(2)));
            var page = s3.getObjectAttributes(
                    b -> b.bucket("sums").key(key).maxParts(1).objectAttributes(ObjectAttributes.OBJECT_PARTS));
            assertThat(page.objectParts().isTruncated()).isTrue();
            assertThat(page.objectParts().nextPartNumberMarker()).isEqualTo(1);
        }
    }

    @Test
    void uploadPartCopyAnswersThePartChecksum() {
        byte[] data = "the source of a part copy".getBytes();
        s3.putObject(b -> b.bucket("sums").key("src"), RequestBody.fromBytes(data));
        String id = s3.createMultipartUpload(b -> b.bucket("sums")
                        .key("upc")
                        .checksumAlgorithm(software.amazon.awssdk.services.s3.model.ChecksumAlgorithm.SHA256))
                .uploadId();
        var r = s3.uploadPartCopy(b -> b.sourceBucket("sums")
                .sourceKey("src")
                .destinationBucket("sums")
                .destinationKey("upc")
                .uploadId(id)
                .partNumber(1));
        assertThat(r.copyPartResult().checksumSHA256()).isEqualTo(value(ChecksumAlgorithm.SHA256, data));
        s3.abortMultipartUpload(b -> b.bucket("sums").key("upc").uploadId(id));
    }

    @Test
    void attributesOfAMissingKeyOrBadAttributeName() {
        assertThatThrownBy(() -> s3.getObjectAttributes(
                        b -> b.bucket("sums").key("nope").objectAttributes(ObjectAttributes.E_TAG)))
                .isInstanceOfSatisfying(
                        S3Exception.class, e -> assertThat(e.statusCode()).isEqualTo(404));
    }

    @Test
    void bucketTagging() {
        s3.createBucket(b -> b.bucket("tagged"));
        assertThatThrownBy(() -> s3.getBucketTagging(b -> b.bucket("tagged")))
                .isInstanceOfSatisfying(
                        S3Exception.class,
                        e -> assertThat(e.awsErrorDetails().errorCode()).isEqualTo("NoSuchTagSet"));
        s3.putBucketTagging(b -> b.bucket("tagged")
                .tagging(t -> t.tagSet(
                        Tag.builder().key("team").value("storage").build(),
                        Tag.builder().key("cost").value("42").build())));
        assertThat(s3.getBucketTagging(b -> b.bucket("tagged")).tagSet())
                .containsExactly(
                        Tag.builder().key("cost").value("42").build(),
                        Tag.builder().key("team").value("storage").build());
        List<Tag> many = new ArrayList<>();
        for (int i = 0; i < 51; i++) {
            many.add(Tag.builder().key("k" + i).value("v").build());
        }
        assertThatThrownBy(() -> s3.putBucketTagging(b -> b.bucket("tagged").tagging(t -> t.tagSet(many))))
                .isInstanceOfSatisfying(
                        S3Exception.class, e -> assertThat(e.statusCode()).isEqualTo(400));
        s3.deleteBucketTagging(b -> b.bucket("tagged"));
        assertThatThrownBy(() -> s3.getBucketTagging(b -> b.bucket("tagged")))
                .isInstanceOfSatisfying(
                        S3Exception.class, e -> assertThat(e.statusCode()).isEqualTo(404));
        // Tags go with the bucket: a bucket of the same name made later has none.
        s3.putBucketTagging(b -> b.bucket("tagged")
                .tagging(t -> t.tagSet(Tag.builder().key("a").value("b").build())));
        s3.deleteBucket(b -> b.bucket("tagged"));
        s3.createBucket(b -> b.bucket("tagged"));
        assertThatThrownBy(() -> s3.getBucketTagging(b -> b.bucket("tagged")))
                .isInstanceOfSatisfying(
                        S3Exception.class, e -> assertThat(e.statusCode()).isEqualTo(404));
    }
}
