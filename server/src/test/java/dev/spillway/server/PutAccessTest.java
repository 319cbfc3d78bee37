package dev.spillway.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.gateway.s3.GatewayConfig;
import dev.spillway.gateway.s3.S3Gateway;
import dev.spillway.gateway.s3.auth.CredentialStore;
import dev.spillway.osd.Fid;
import dev.spillway.pool.PoolListener;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.config.PoolConfigParser;
import java.net.URI;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;

/**
 * An S3 PUT through the gateway is one write access to the pool's placement, however large the
 * body and however many transactions stage it: the pool's listener hears one {@code written}
 * for the body (the create) and only {@code resized} after it (the staging transactions continue
 * the access), so heat is not inflated by the body's size.
 */
class PutAccessTest {
    static final int MIB = 1 << 20;

    /** What the pool told placement about each object. */
    static final class Heard implements PoolListener {
        final List<String> events = new ArrayList<>();

        @Override
        public synchronized void written(Fid fid, long size) {
            events.add("write " + fid + " " + size);
        }

        @Override
        public synchronized void resized(Fid fid, long size) {
            events.add("resize " + fid + " " + size);
        }

        synchronized List<String> of(Fid fid) {
            return events.stream().filter(e -> e.contains(fid.toString())).toList();
        }
    }

    @Test
    void aPutOfManyChunksIsOneWriteAccess() throws Exception {
        Heard heard = new Heard();
        try (PoolOsd pool = PoolOsd.mount(
                        PoolConfigParser.parse("""
                                name: access
                                devices:
                                  - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {capacity: 512MiB}}
                                  - {name: slow, backend: mem, roles: [background]}
                                """, "test"), InstantSource.system(), PoolOsd.MountMode.RECOVER);
                S3Gateway gw = S3Gateway.start(
                        pool,
                        GatewayConfig.builder()
                                .credentials(CredentialStore.single("AK", "SK"))
                                .build());
                S3Client s3 = client(gw.endpoint())) {
            pool.listener(heard);
            s3.createBucket(b -> b.bucket("bkt"));
            for (int size : new int[] {6 * MIB + 3, 64 * MIB + 2 * MIB}) {
                byte[] data = new byte[size];
                new Random(size).nextBytes(data);
                String key = "k" + size;
                s3.putObject(b -> b.bucket("bkt").key(key), RequestBody.fromBytes(data));
                Fid body = gw.names().locate("bkt", key);
                List<String> events = heard.of(body);
                assertThat(events.stream().filter(e -> e.startsWith("write ")))
                        .as("one access for the whole PUT: %s", events)
                        .containsExactly("write " + body + " 0");
                assertThat(events.get(events.size() - 1)).isEqualTo("resize " + body + " " + size);
                assertThat(s3.getObjectAsBytes(b -> b.bucket("bkt").key(key)).asByteArray())
                        .isEqualTo(data);
                s3.deleteObject(b -> b.bucket("bkt").key(key));
            }
        }
    }

    static S3Client client(URI endpoint) {
        return S3Client.builder()
                .endpointOverride(endpoint)
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AK", "SK")))
                .serviceConfiguration(
                        S3Configuration.builder().pathStyleAccessEnabled(true).build())
                .httpClient(UrlConnectionHttpClient.builder()
                        .socketTimeout(Duration.ofMinutes(2))
                        .build())
                .build();
    }
}
