package dev.spillway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.gateway.s3.store.BucketObjects;
import dev.spillway.osd.Fid;
import dev.spillway.osd.PlacementHint;
import dev.spillway.server.Server;
import dev.spillway.server.ServerOptions;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.StorageClass;

/**
 * S3 storage classes on the pool's tiers, in a real server: the pool's {@code storage-classes}
 * mapping, a STANDARD_IA write placed on its device by the due work (a spill, not a copy kept on
 * the fast tier), a class the pool does not place refused.
 */
class StorageClassTiersTest {
    @TempDir
    Path tmp;

    private Server server;
    private S3Client s3;

    @BeforeEach
    void start() throws Exception {
        Path cfg = tmp.resolve("pool.yaml");
        Files.writeString(cfg, """
                name: tiers
                devices:
                  - {name: fast, backend: mem, roles: [metadata, foreground, promote]}
                  - {name: hdd, backend: mem, roles: [background]}
                  - {name: cold, backend: mem, roles: [background]}
                storage-classes: {STANDARD_IA: hdd, GLACIER_IR: cold}
                """);
        server = Server.start(ServerOptions.defaults(tmp.resolve("data"))
                .withConfig(cfg)
                .withPorts(0, 0)
                .withOut(new PrintStream(new ByteArrayOutputStream())));
        s3 = S3Client.builder()
                .endpointOverride(URI.create(server.s3Endpoint()))
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(
                        server.credentials().accessKey(), server.credentials().secretKey())))
                .serviceConfiguration(
                        S3Configuration.builder().pathStyleAccessEnabled(true).build())
                .httpClient(UrlConnectionHttpClient.create())
                .build();
    }

    @AfterEach
    void stop() throws Exception {
        s3.close();
        server.close();
    }

    private Fid body(String bucket, String key) throws Exception {
        var ns = server.gateway().namespace();
        return new BucketObjects(ns)
                .lookup(ns.bucket(bucket), bucket, key.getBytes(StandardCharsets.UTF_8))
                .orElseThrow()
                .fid();
    }

    @Test
    void aStorageClassPutsTheBodyOnItsTier() throws Exception {
        s3.createBucket(b -> b.bucket("tiers"));
        s3.putObject(
                b -> b.bucket("tiers").key("ia").storageClass(StorageClass.STANDARD_IA),
                RequestBody.fromString("infrequent"));
        s3.putObject(
                b -> b.bucket("tiers").key("ir").storageClass(StorageClass.GLACIER_IR),
                RequestBody.fromString("archive"));
        s3.putObject(b -> b.bucket("tiers").key("std"), RequestBody.fromString("standard"));
        Fid ia = body("tiers", "ia");
        Fid ir = body("tiers", "ir");
        Fid std = body("tiers", "std");
        assertThat(new String(server.pool().getXattr(ia, PlacementHint.XATTR), StandardCharsets.US_ASCII))
                .isEqualTo("tier:hdd");
        server.gateway().dueWork().runOnce(100);
        var hdd = server.pool().device("hdd").orElseThrow().index();
        var cold = server.pool().device("cold").orElseThrow().index();
        int fast = server.pool().metadataIndex();
        assertThat(server.pool().requireObject(ia).on(hdd)).isPresent();
        assertThat(server.pool().requireObject(ia).resident(fast)).isFalse();
        assertThat(server.pool().requireObject(ir).on(cold)).isPresent();
        assertThat(server.pool().requireObject(std).resident(fast)).isTrue();
        // Served from its tier, byte for byte, and shown with its class.
        assertThat(s3.getObjectAsBytes(b -> b.bucket("tiers").key("ia")).asUtf8String())
                .isEqualTo("infrequent");
        assertThat(s3.headObject(b -> b.bucket("tiers").key("ia")).storageClass())
                .isEqualTo(StorageClass.STANDARD_IA);
        // A class the pool does not map is refused, naming what it does place.
        try {
            s3.putObject(
                    b -> b.bucket("tiers").key("deep").storageClass(StorageClass.DEEP_ARCHIVE),
                    RequestBody.fromString("x"));
            throw new AssertionError("DEEP_ARCHIVE was accepted");
        } catch (S3Exception e) {
            assertThat(e.awsErrorDetails().errorCode()).isEqualTo("InvalidStorageClass");
            assertThat(e.getMessage()).contains("GLACIER_IR").contains("STANDARD_IA");
        }
    }
}
