package dev.spillway.bench.s3;

import dev.spillway.bench.AbRunner;
import dev.spillway.bench.BenchOptions;
import dev.spillway.bench.BenchResult;
import dev.spillway.bench.Benchmark;
import dev.spillway.gateway.s3.GatewayConfig;
import dev.spillway.gateway.s3.S3Gateway;
import dev.spillway.gateway.s3.auth.CredentialStore;
import dev.spillway.osd.testkit.s3.S3ProxyPeer;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.config.PoolConfigParser;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;

/**
 * {@code ./spillway bench s3}: (1) PUT and GET of 64 MiB objects through the gateway vs raw file
 * write (+force) and read in the same folder, goal >= 0.80; (2) 4 KiB PUT and GET with 16
 * concurrent clients through the gateway vs s3proxy 4.1 (filesystem blobstore, child JVM) with
 * the same client, goal >= 2.0. Both servers are reached with the AWS SDK v2 (url-connection
 * client, path style, signed payloads).
 *
 * <p>The gateway runs on a pool of osd-kv (metadata, foreground) and osd-vfs (background) in
 * the same filesystem as the baseline's file (stated in params).
 */
public final class S3Benchmark implements Benchmark {
    private static final String AK = "BENCHKEY";
    private static final String SK = "bench-secret";

    @Override
    public String name() {
        return "s3";
    }

    @Override
    public String description() {
        return "64 MiB PUT/GET via the S3 gateway vs raw file I/O (>= 0.80); 4 KiB PUT/GET x16 clients vs s3proxy (>= 2.0)";
    }

    static S3Client client(URI endpoint, int connections) {
        return client(endpoint, connections, AK, SK);
    }

    static S3Client client(URI endpoint, int connections, String accessKey, String secretKey) {
        return client(endpoint, connections, accessKey, secretKey, true);
    }

    /** As above; {@code retries} false turns the SDK's retries off (a caller that times each request). */
    static S3Client client(URI endpoint, int connections, String accessKey, String secretKey, boolean retries) {
        System.setProperty("http.maxConnections", Integer.toString(connections));
        return S3Client.builder()
                .overrideConfiguration(c -> {
                    if (!retries) {
                        c.retryStrategy(software.amazon.awssdk.awscore.retry.AwsRetryStrategy.doNotRetry());
                    }
                })
                .endpointOverride(endpoint)
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey)))
                .serviceConfiguration(S3Configuration.builder()
                        .pathStyleAccessEnabled(true)
                        .chunkedEncodingEnabled(false)
                        .build())
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .httpClient(UrlConnectionHttpClient.builder()
                        .socketTimeout(Duration.ofMinutes(2))
                        .build())
                .build();
    }

    @Override
    public List<BenchResult> run(BenchOptions o) throws Exception {
        List<BenchResult> out = new ArrayList<>();
        Path dir = Files.createTempDirectory(o.workDir(), "bench-s3-");
        // The gateway serves the real configuration: a kv+vfs pool on the filesystem under test,
        // with a fast tier large enough that nothing spills during the measurement.
        try (PoolOsd osd = PoolOsd.mount(
                        PoolConfigParser.parse("""
                     name: bench
                     devices:
                       - {name: fast, backend: kv, roles: [metadata, foreground, promote], settings: {path: '%s'}}
                       - {name: slow, backend: vfs, roles: [background], settings: {path: '%s', journal: 'off'}}
                     """.formatted(dir.resolve("fast"), dir.resolve("slow")), "s3 bench"),
                        java.time.InstantSource.system(),
                        PoolOsd.MountMode.RECOVER);
                S3Gateway gw = S3Gateway.start(
                        osd,
                        GatewayConfig.builder()
                                .credentials(CredentialStore.single(AK, SK))
                                .build());
                S3Client c = client(gw.endpoint(), 32)) {
            c.createBucket(b -> b.bucket("bench"));
            large(o, c, dir, out);
            small(o, c, dir, out);
        } finally {
            deleteTree(dir);
        }
        return out;
    }

    // ---- 64 MiB objects vs raw files -----------------------------------------------------

    private void large(BenchOptions o, S3Client c, Path dir, List<BenchResult> out) throws Exception {
        int size = o.quick() ? 16 << 20 : 64 << 20;
        int rounds = o.quick() ? 3 : 5;
        byte[] data = new byte[size];
        new Random(1).nextBytes(data);
        double mib = size / 1048576.0;
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("object_bytes", size);
        params.put("rounds", rounds);
        params.put("osd", "pool: kv (metadata, foreground) + vfs, same filesystem as the baseline");
        params.put("baseline", "FileChannel write + force, then read, same folder");
        params.put("client", "AWS SDK v2 url-connection, signed payload");
        params.put("quick", o.quick());
        Path file = dir.resolve("raw.bin");
        AtomicInteger n = new AtomicInteger();
        o.log().println("s3: " + (int) mib + " MiB PUT, gateway vs raw file write+force");
        AbRunner.Medians put = AbRunner.alternate(
                1,
                rounds,
                () -> {
                    String key = "big-" + n.incrementAndGet();
                    long t = System.nanoTime();
                    c.putObject(b -> b.bucket("bench").key(key), RequestBody.fromBytes(data));
                    return mib / ((System.nanoTime() - t) / 1e9);
                },
                () -> {
                    long t = System.nanoTime();
                    try (FileChannel ch = FileChannel.open(
                            file,
                            StandardOpenOption.CREATE,
                            StandardOpenOption.WRITE,
                            StandardOpenOption.TRUNCATE_EXISTING)) {
                        ByteBuffer b = ByteBuffer.wrap(data);
                        while (b.hasRemaining()) {
                            ch.write(b);
                        }
                        ch.force(true);
                    }
                    return mib / ((System.nanoTime() - t) / 1e9);
                },
                o.log());
        out.add(BenchResult.higherIsBetter("s3", "put_64mib_mib_per_s", put.a(), put.b(), "MiB/s", ">= 0.80", params));
        o.log().println("s3: " + (int) mib + " MiB GET, gateway vs raw file read");
        byte[] sink = new byte[1 << 20];
        AbRunner.Medians get = AbRunner.alternate(
                1,
                rounds,
                () -> {
                    long t = System.nanoTime();
                    try (var in = c.getObject(b -> b.bucket("bench").key("big-1"))) {
                        while (in.read(sink) > 0) {
                            // drain
                        }
                    }
                    return mib / ((System.nanoTime() - t) / 1e9);
                },
                () -> {
                    long t = System.nanoTime();
                    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                        ByteBuffer b = ByteBuffer.allocate(1 << 20);
                        while (ch.read(b) > 0) {
                            b.clear();
                        }
                    }
                    return mib / ((System.nanoTime() - t) / 1e9);
                },
                o.log());
        out.add(BenchResult.higherIsBetter("s3", "get_64mib_mib_per_s", get.a(), get.b(), "MiB/s", ">= 0.80", params));
        for (int i = 1; i <= n.get(); i++) {
            String key = "big-" + i;
            c.deleteObject(b -> b.bucket("bench").key(key));
        }
    }

    // ---- 4 KiB objects, 16 clients, vs s3proxy -------------------------------------------

    private void small(BenchOptions o, S3Client gateway, Path dir, List<BenchResult> out) throws Exception {
        Path jar = S3ProxyPeer.findJar();
        int clients = 16;
        int ops = o.quick() ? 1200 : 16000;
        int rounds = o.quick() ? 3 : 5;
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("object_bytes", 4096);
        params.put("clients", clients);
        params.put("ops_per_round", ops);
        params.put("rounds", rounds);
        params.put("osd", "pool: kv (metadata, foreground) + vfs, same filesystem as the baseline");
        params.put("baseline", "s3proxy 4.1.0, filesystem blobstore, child JVM");
        params.put("client", "AWS SDK v2 url-connection, signed payload, shared by 16 threads");
        params.put("quick", o.quick());
        if (jar == null) {
            o.log()
                    .println(
                            "s3: s3proxy jar not found (build with ./mvnw package, or -Dspillway.s3proxy.jar=...); small-object metric skipped");
            return;
        }
        try (S3ProxyPeer proxy = S3ProxyPeer.start(dir.resolve("s3proxy"))) {
            try (S3Client baseline = client(proxy.endpoint(), 32, S3ProxyPeer.ACCESS_KEY, S3ProxyPeer.SECRET_KEY)) {
                baseline.createBucket(b -> b.bucket("bench"));
                byte[] data = new byte[4096];
                new Random(2).nextBytes(data);
                AtomicInteger gen = new AtomicInteger();
                ExecutorService pool = Executors.newFixedThreadPool(clients);
                try {
                    o.log().println("s3: 4 KiB PUT, " + clients + " clients, gateway vs s3proxy");
                    AbRunner.Medians put = AbRunner.alternate(
                            1,
                            rounds,
                            () -> rate(
                                    pool,
                                    clients,
                                    ops,
                                    i -> gateway.putObject(
                                            b -> b.bucket("bench").key("s" + (i % 4000)), RequestBody.fromBytes(data))),
                            () -> rate(
                                    pool,
                                    clients,
                                    ops,
                                    i -> baseline.putObject(
                                            b -> b.bucket("bench").key("s" + (i % 4000)), RequestBody.fromBytes(data))),
                            o.log());
                    out.add(BenchResult.higherIsBetter(
                            "s3", "put_4kib_x16_ops_per_s", put.a(), put.b(), "ops/s", ">= 2.0", params));
                    o.log().println("s3: 4 KiB GET, " + clients + " clients, gateway vs s3proxy");
                    int keys = Math.min(ops, 4000);
                    AbRunner.Medians get = AbRunner.alternate(
                            1,
                            rounds,
                            () -> rate(
                                    pool,
                                    clients,
                                    ops,
                                    i -> gateway.getObjectAsBytes(
                                            b -> b.bucket("bench").key("s" + (i % keys)))),
                            () -> rate(
                                    pool,
                                    clients,
                                    ops,
                                    i -> baseline.getObjectAsBytes(
                                            b -> b.bucket("bench").key("s" + (i % keys)))),
                            o.log());
                    out.add(BenchResult.higherIsBetter(
                            "s3", "get_4kib_x16_ops_per_s", get.a(), get.b(), "ops/s", ">= 2.0", params));
                    gen.incrementAndGet();
                } finally {
                    pool.shutdownNow();
                }
            }
        }
    }

    interface Op {
        void run(int i) throws Exception;
    }

    private static double rate(ExecutorService pool, int clients, int ops, Op op) throws Exception {
        AtomicInteger next = new AtomicInteger();
        long t = System.nanoTime();
        List<Future<?>> fs = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            fs.add(pool.submit(() -> {
                int i;
                while ((i = next.getAndIncrement()) < ops) {
                    op.run(i);
                }
                return null;
            }));
        }
        for (Future<?> f : fs) {
            f.get();
        }
        return ops / ((System.nanoTime() - t) / 1e9);
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
