package dev.spillway.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.gateway.s3.GatewayConfig;
import dev.spillway.gateway.s3.ObjectNames;
import dev.spillway.gateway.s3.S3Gateway;
import dev.spillway.gateway.s3.auth.CredentialStore;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.WriteCommitHint;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.config.WriteCommit;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.PoolObject;
import java.nio.charset.StandardCharsets;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Write-commit per bucket and prefix through the S3 gateway: the pool's
 * {@code write-commit.buckets} rules reach each new body as its {@code spillway.write-commit}
 * xattr, set in the transaction that writes it, so a PUT, a multipart upload's parts (hence its
 * Complete) and a copy into a {@code sync 2} bucket are acknowledged only once the body has two
 * durable in-sync copies; other buckets and prefixes stay async (one copy, the daemon's later).
 */
class WriteCommitBucketsTest {
    static final int MIB = 1 << 20;
    static final String POOL = """
            name: wcb
            replicas: 2
            write-commit:
              default: async
              buckets:
                photos: sync 2
                "logs/archive/": sync 2 min 1
            devices:
              - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {capacity: 1GiB}}
              - {name: slow0, backend: mem, roles: [background]}
              - {name: slow1, backend: mem, roles: [background]}
            """;

    private PoolOsd pool;
    private S3Gateway gw;
    private S3Client s3;

    @BeforeEach
    void start() throws Exception {
        pool = PoolOsd.mount(PoolConfigParser.parse(POOL, "wcb"), InstantSource.system(), PoolOsd.MountMode.RECOVER);
        gw = S3Gateway.start(
                pool,
                GatewayConfig.builder()
                        .credentials(CredentialStore.single("AK", "SK"))
                        .build());
        S3Tiering.wire(gw, pool);
        s3 = PutAccessTest.client(gw.endpoint());
        for (String b : List.of("photos", "logs", "other")) {
            s3.createBucket(r -> r.bucket(b));
        }
    }

    @AfterEach
    void stop() throws Exception {
        s3.close();
        gw.close();
        assertThat(pool.fsck(false, true, null).problems()).isEmpty();
        pool.close();
    }

    private static byte[] body(int seed, int n) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** In-sync copies of the body's current version on durable devices. */
    private long durableCopies(Fid body) throws OsdException {
        PoolObject p = pool.requireObject(body);
        return p.copies().stream()
                .filter(c -> c.state() == CopyState.IN_SYNC
                        && c.version() == p.dataVersion()
                        && pool.device(c.device()).durability() > 0)
                .count();
    }

    private String policy(Fid body) {
        try {
            return new String(pool.getXattr(body, WriteCommitHint.XATTR), StandardCharsets.US_ASCII);
        } catch (OsdException e) {
            assertThat(e.errno()).isEqualTo(Errno.ENODATA);
            return null;
        }
    }

    private boolean copying(Fid body) throws OsdException {
        return pool.jobs().stream()
                .anyMatch(j -> j.kind() == Job.Kind.COPY && j.fid().equals(body));
    }

    private Fid put(String bucket, String key, byte[] data) throws OsdException {
        s3.putObject(r -> r.bucket(bucket).key(key), RequestBody.fromBytes(data));
        return gw.names().locate(bucket, key);
    }

    @Test
    void aPutToASyncBucketIsAcknowledgedWithTwoDurableCopies() throws Exception {
        // Inline (one transaction with the key's switch), one segment, and two segments (64 MiB each).
        for (int size : new int[] {1000, 3 * MIB, 64 * MIB + 5}) {
            byte[] data = body(size, size);
            Fid f = put("photos", "p" + size, data);
            assertThat(durableCopies(f))
                    .as("%d bytes: copies when the PUT returned", size)
                    .isEqualTo(2);
            assertThat(copying(f)).isFalse();
            assertThat(policy(f)).isEqualTo("sync 2");
            assertThat(s3.getObjectAsBytes(r -> r.bucket("photos").key("p" + size))
                            .asByteArray())
                    .isEqualTo(data);
        }
    }

    @Test
    void otherBucketsAndPrefixesStayAsync() throws Exception {
        Fid o = put("other", "x", body(1, 3 * MIB));
        assertThat(durableCopies(o)).isEqualTo(1);
        assertThat(policy(o)).isNull();
        Fid l = put("logs", "today/x", body(2, 3 * MIB));
        assertThat(durableCopies(l)).isEqualTo(1);
        assertThat(policy(l)).isNull();
        Fid a = put("logs", "archive/2026/x", body(3, 3 * MIB));
        assertThat(durableCopies(a)).isEqualTo(2);
        assertThat(policy(a)).isEqualTo("sync 2 min 1");
    }

    @Test
    void aPutToASyncBucketFailsWhenNoDeviceCanTakeTheSecondCopyWhileOthersGoOn() throws Exception {
        pool.deviceOps().setState(pool.device("slow0").orElseThrow(), DeviceState.RO);
        pool.deviceOps().setState(pool.device("slow1").orElseThrow(), DeviceState.RO);
        assertThatThrownBy(() ->
                        s3.putObject(r -> r.bucket("photos").key("lost"), RequestBody.fromBytes(body(4, 3 * MIB))))
                .isInstanceOfSatisfying(
                        S3Exception.class, e -> assertThat(e.statusCode()).isGreaterThanOrEqualTo(500));
        assertThat(s3.listObjectsV2(r -> r.bucket("photos")).contents()).isEmpty();
        // "sync 2 min 1" is acknowledged degraded, "async" as always.
        assertThat(durableCopies(put("logs", "archive/y", body(5, 3 * MIB)))).isEqualTo(1);
        assertThat(durableCopies(put("other", "y", body(6, 3 * MIB)))).isEqualTo(1);
        pool.deviceOps().setState(pool.device("slow0").orElseThrow(), DeviceState.RW);
        pool.deviceOps().setState(pool.device("slow1").orElseThrow(), DeviceState.RW);
    }

    @Test
    void aMultipartUploadToASyncBucketCompletesWithEveryPartOnTwoDevices() throws Exception {
        String id = s3.createMultipartUpload(r -> r.bucket("photos").key("mp")).uploadId();
        List<CompletedPart> parts = new ArrayList<>();
        byte[][] data = {body(7, 5 * MIB), body(8, 1000)};
        for (int i = 0; i < data.length; i++) {
            int n = i + 1;
            byte[] d = data[i];
            String etag = s3.uploadPart(
                            r -> r.bucket("photos").key("mp").uploadId(id).partNumber(n), RequestBody.fromBytes(d))
                    .eTag();
            parts.add(CompletedPart.builder().partNumber(n).eTag(etag).build());
        }
        s3.completeMultipartUpload(
                r -> r.bucket("photos").key("mp").uploadId(id).multipartUpload(m -> m.parts(parts)));
        List<ObjectNames.Part> stored = gw.names().parts(gw.names().locate("photos", "mp"));
        assertThat(stored).hasSize(2);
        for (ObjectNames.Part p : stored) {
            assertThat(durableCopies(p.fid())).as("part %d", p.number()).isEqualTo(2);
            assertThat(policy(p.fid())).isEqualTo("sync 2");
        }
    }

    @Test
    void aCopyIntoASyncBucketIsAcknowledgedWithTwoDurableCopies() throws Exception {
        byte[] data = body(9, 3 * MIB);
        Fid src = put("other", "src", data);
        assertThat(durableCopies(src)).isEqualTo(1);
        s3.copyObject(r -> r.sourceBucket("other")
                .sourceKey("src")
                .destinationBucket("photos")
                .destinationKey("dst"));
        Fid dst = gw.names().locate("photos", "dst");
        assertThat(durableCopies(dst)).isEqualTo(2);
        assertThat(policy(dst)).isEqualTo("sync 2");
        assertThat(s3.getObjectAsBytes(r -> r.bucket("photos").key("dst")).asByteArray())
                .isEqualTo(data);
    }

    @Test
    void theRulesAreCheckedWhenThePoolConfigurationIsRead() throws Exception {
        var cfg = PoolConfigParser.parse(POOL, "wcb");
        assertThat(cfg.writeCommit()).isEqualTo(WriteCommit.ASYNC);
        assertThat(S3Tiering.writeCommitRules(cfg))
                .containsExactly(
                        java.util.Map.entry("photos", "sync 2"), java.util.Map.entry("logs/archive/", "sync 2 min 1"));
        assertThatThrownBy(() -> PoolConfigParser.parse(POOL.replace("photos: sync 2", "Photos: sync 2"), "c.yaml"))
                .hasMessageContaining("write-commit.buckets.Photos")
                .hasMessageContaining("bucket name");
        assertThatThrownBy(() -> PoolConfigParser.parse(POOL.replace("photos: sync 2", "photos: sync 3"), "c.yaml"))
                .hasMessageContaining("write-commit.buckets.photos")
                .hasMessageContaining("replicas is 2");
        assertThatThrownBy(() -> PoolConfigParser.parse(POOL.replace("default: async", "defaults: async"), "c.yaml"))
                .hasMessageContaining("write-commit.defaults")
                .hasMessageContaining("unknown key");
    }
}
