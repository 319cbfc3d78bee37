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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * {@code ./spillway bench s3}: (1) PUT and GET of 64 MiB objects through the gateway on a kv+vfs
 * pool against a bare Jetty handler (goal >= 0.80), s3proxy (goal >= 1.5) and raw file I/O, for
 * the SDK's signed and unsigned-trailer payloads ({@link LargeBodies}); (2) 4 KiB PUT and GET with
 * 16 concurrent clients through the gateway vs s3proxy 4.1 (filesystem blobstore, child JVM) with
 * the same client, goal >= 2.0; (3) {@code aws s3 cp} of a 1 GiB file up and down with the AWS
 * CLI's defaults vs s3proxy (goal >= 1.5) and the disk's own rate ({@link AwsCliCopy}; skipped,
 * saying so, without the {@code aws} command). The SDK's requests use the url-connection client,
 * path style.
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
        return "64 MiB PUT/GET via the S3 gateway vs bare Jetty HTTP (>= 0.80), s3proxy (>= 1.5) and raw files, signed and unsigned-trailer; 4 KiB PUT/GET x16 clients vs s3proxy (>= 2.0); aws s3 cp 1 GiB up/down vs s3proxy (>= 1.5) and the disk";
    }

    static S3Client client(URI endpoint, int connections) {
        return client(endpoint, connections, AK, SK);
    }

    static S3Client client(URI endpoint, int connections, String accessKey, String secretKey) {
        return client(endpoint, connections, accessKey, secretKey, true);
    }

    /** As above; {@code retries} false turns the SDK's retries off (a caller that times each request). */
    static S3Client client(URI endpoint, int connections, String accessKey, String secretKey, boolean retries) {
        return S3Clients.client(endpoint, connections, accessKey, secretKey, retries, S3Clients.PayloadForm.SIGNED);
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
                        InstantSource.system(),
                        PoolOsd.MountMode.RECOVER);
                S3Gateway gw = S3Gateway.start(
                        osd,
                        GatewayConfig.builder()
                                .credentials(CredentialStore.single(AK, SK))
                                .build());
                S3Client c = client(gw.endpoint(), 32)) {
            c.createBucket(b -> b.bucket("bench"));
            // --part large|small|cp runs one part (profiling one path); all of them by default.
            String part = o.option("--part", "all");
            if (part.equals("all") || part.equals("large")) {
                new LargeBodies(o, dir, gw.endpoint(), AK, SK).run(out);
            }
            if (part.equals("all") || part.equals("small")) {
                small(o, c, dir, out);
            }
            if (part.equals("all") || part.equals("cp")) {
                new AwsCliCopy(o, dir, gw.endpoint(), AK, SK).run(out);
            }
        } finally {
            deleteTree(dir);
        }
        return out;
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

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
