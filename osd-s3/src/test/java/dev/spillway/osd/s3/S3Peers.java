package dev.spillway.osd.s3;

import dev.spillway.gateway.s3.GatewayConfig;
import dev.spillway.gateway.s3.S3Gateway;
import dev.spillway.gateway.s3.auth.CredentialStore;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.osd.testkit.s3.S3ProxyPeer;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.BucketAlreadyOwnedByYouException;

/**
 * The real S3 servers osd-s3's tests run against, each started once per test JVM on loopback:
 * s3proxy (filesystem blobstore, child JVM) and Spillway's own S3 gateway over an osd-mem device
 * (in process). Both stop when the JVM exits.
 */
final class S3Peers {
    private S3Peers() {}

    /** One S3 server: where it is and how to reach it. */
    record Peer(String kind, URI endpoint, String accessKey, String secretKey, S3ProxyPeer proxy, Set<String> buckets) {

        /** The settings of an osd-s3 device on this peer. */
        Map<String, Object> settings(String bucket, String prefix) {
            ensureBucket(bucket);
            Map<String, Object> s = new HashMap<>();
            s.put("endpoint", endpoint.toString());
            s.put("bucket", bucket);
            s.put("prefix", prefix);
            s.put("access-key", accessKey);
            s.put("secret-key", secretKey);
            s.put("path-style", true);
            s.put("part-size", "5MiB");
            s.put("retries", 2);
            s.put("request-timeout", "30s");
            return s;
        }

        S3Client client() {
            return client(endpoint);
        }

        S3Client client(URI at) {
            return S3Client.builder()
                    .endpointOverride(at)
                    .region(Region.US_EAST_1)
                    .credentialsProvider(
                            StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey)))
                    .serviceConfiguration(S3Configuration.builder()
                            .pathStyleAccessEnabled(true)
                            .chunkedEncodingEnabled(false)
                            .build())
                    .httpClient(ApacheHttpClient.builder().build())
                    .build();
        }

        void ensureBucket(String bucket) {
            if (buckets.contains(bucket)) {
                return;
            }
            try (S3Client c = client()) {
                c.createBucket(b -> b.bucket(bucket));
            } catch (BucketAlreadyOwnedByYouException e) {
                // made by an earlier test class in this JVM
            }
            buckets.add(bucket);
        }
    }

    private static Peer s3proxy;
    private static Peer gateway;

    static synchronized Peer s3proxy() throws Exception {
        if (s3proxy == null) {
            Path dir = Files.createTempDirectory("osd-s3-peer-");
            S3ProxyPeer p = S3ProxyPeer.start(dir);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    p.close();
                } catch (Exception e) {
                    // the JVM is exiting; the child dies with its process group or on its own
                }
            }));
            s3proxy = new Peer(
                    "s3proxy",
                    p.endpoint(),
                    S3ProxyPeer.ACCESS_KEY,
                    S3ProxyPeer.SECRET_KEY,
                    p,
                    ConcurrentHashMap.newKeySet());
        }
        return s3proxy;
    }

    static final String GW_ACCESS_KEY = "SPILLWAYGATEWAYPEER";
    static final String GW_SECRET_KEY = "spillway-gateway-peer-secret";

    static synchronized Peer gateway() throws Exception {
        if (gateway == null) {
            MemOsd osd = MemOsd.create("gateway-peer-mem");
            S3Gateway gw = S3Gateway.start(
                    osd,
                    GatewayConfig.builder()
                            .credentials(CredentialStore.single(GW_ACCESS_KEY, GW_SECRET_KEY))
                            .build());
            gateway = new Peer(
                    "gateway",
                    URI.create("http://127.0.0.1:" + gw.port()),
                    GW_ACCESS_KEY,
                    GW_SECRET_KEY,
                    null,
                    ConcurrentHashMap.newKeySet());
        }
        return gateway;
    }
}
