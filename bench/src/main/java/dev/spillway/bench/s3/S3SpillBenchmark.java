package dev.spillway.bench.s3;

import dev.spillway.bench.AbRunner;
import dev.spillway.bench.BenchOptions;
import dev.spillway.bench.BenchResult;
import dev.spillway.bench.Benchmark;
import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.s3.S3Clients;
import dev.spillway.osd.s3.S3Settings;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.testkit.s3.S3ProxyPeer;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.ops.MoveResult;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32C;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.CompletedPart;

/**
 * {@code ./spillway bench s3-spill}: spill throughput from a pool's fast device (osd-mem) to an
 * osd-s3 spill device, against raw multipart PUTs of the same bytes to the same server (s3proxy
 * 4.1, filesystem blobstore, child JVM) by an SDK client built from the same settings (Apache
 * HTTP client, same part size, same parts in flight, CRC32C on every part). Goal >= 0.80.
 *
 * <p>A spill is the pool's whole protocol per object: a durable pending-copy transaction, the
 * body read from the fast device in 1 MiB chunks and checksummed, streamed through osd-s3 as a
 * multipart upload (plus its block-sums sidecar), the device synced (its counters object), the
 * layout flipped and the local body released. The baseline is only the upload.
 */
public final class S3SpillBenchmark implements Benchmark {
    private static final String BUCKET = "spill";

    @Override
    public String name() {
        return "s3-spill";
    }

    @Override
    public String description() {
        return "pool spill mem -> osd-s3 (s3proxy) vs raw SDK multipart PUT to the same server (>= 0.80)";
    }

    @Override
    public List<BenchResult> run(BenchOptions o) throws Exception {
        int objectBytes = o.quick() ? 16 << 20 : 64 << 20;
        int objects = o.quick() ? 4 : 8;
        int rounds = o.quick() ? 3 : 5;
        long partSize = 8L << 20;
        int concurrency = 2;
        double mib = (double) objectBytes * objects / (1 << 20);
        byte[][] data = new byte[objects][];
        for (int i = 0; i < objects; i++) {
            data[i] = new byte[objectBytes];
            new Random(i).nextBytes(data[i]);
        }
        o.log().println("s3-spill: starting s3proxy");
        try (S3ProxyPeer server = S3ProxyPeer.start(o.workDir().resolve("s3proxy"))) {
            Map<String, Object> settings = new LinkedHashMap<>();
            settings.put("endpoint", server.endpoint().toString());
            settings.put("bucket", BUCKET);
            settings.put("prefix", "pool/spill");
            settings.put("access-key", S3ProxyPeer.ACCESS_KEY);
            settings.put("secret-key", S3ProxyPeer.SECRET_KEY);
            settings.put("path-style", true);
            settings.put("part-size", partSize);
            settings.put("upload-concurrency", concurrency);
            S3Settings s = S3Settings.of(OsdConfig.of("spill", "s3", settings));
            try (S3Client raw = S3Clients.build(s)) {
                raw.createBucket(b -> b.bucket(BUCKET));
                StringBuilder y = new StringBuilder("name: bench\ndevices:\n"
                        + "  - name: fast\n    backend: mem\n    roles: [metadata, foreground, promote]\n"
                        + "  - name: spill\n    backend: s3\n    roles: [background]\n    settings:\n");
                settings.forEach((k, v) ->
                        y.append("      ").append(k).append(": '").append(v).append("'\n"));
                try (PoolOsd pool = PoolOsd.mount(
                        PoolConfigParser.parse(y.toString(), "s3-spill"),
                        InstantSource.system(),
                        PoolOsd.MountMode.RECOVER)) {
                    PoolDevice spill = pool.device("spill").orElseThrow();
                    AtomicInteger gen = new AtomicInteger();
                    ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor();
                    o.log()
                            .printf(
                                    "s3-spill: %d x %d MiB per round, %d rounds, part %d MiB, %d parts in flight%n",
                                    objects, objectBytes >> 20, rounds, partSize >> 20, concurrency);
                    AbRunner.Medians m = AbRunner.alternate(
                            2,
                            rounds,
                            () -> {
                                List<Fid> fids = new ArrayList<>();
                                for (int i = 0; i < objects; i++) {
                                    fids.add(write(pool, gen.incrementAndGet(), data[i]));
                                }
                                // The bodies just written to the fast device are garbage-heavy; both
                                // sides start their timing from a collected heap.
                                System.gc();
                                long t = System.nanoTime();
                                for (Fid f : fids) {
                                    MoveResult r = pool.migrator().spill(f, spill);
                                    if (!(r instanceof MoveResult.Done)) {
                                        throw new IllegalStateException("spill of " + f + ": " + r);
                                    }
                                }
                                double rate = mib / ((System.nanoTime() - t) / 1e9);
                                for (Fid f : fids) {
                                    destroy(pool, f);
                                }
                                pool.migrator().collectGarbage();
                                return rate;
                            },
                            () -> {
                                List<String> keys = new ArrayList<>();
                                System.gc();
                                long t = System.nanoTime();
                                for (int i = 0; i < objects; i++) {
                                    String key = "raw/" + gen.incrementAndGet();
                                    multipartPut(raw, ex, key, data[i], (int) partSize, concurrency);
                                    keys.add(key);
                                }
                                double rate = mib / ((System.nanoTime() - t) / 1e9);
                                for (String k : keys) {
                                    raw.deleteObject(b -> b.bucket(BUCKET).key(k));
                                }
                                return rate;
                            },
                            o.log());
                    ex.shutdown();
                    Map<String, Object> params = new LinkedHashMap<>();
                    params.put("object_bytes", objectBytes);
                    params.put("objects_per_round", objects);
                    params.put("rounds", rounds);
                    params.put("warmup_rounds", 2);
                    params.put("heap", "System.gc() before each timed section, both sides");
                    params.put("part_bytes", partSize);
                    params.put("parts_in_flight", concurrency);
                    params.put("fast_device", "mem");
                    params.put("server", "s3proxy 4.1.0, filesystem blobstore, child JVM, loopback");
                    params.put("client", "AWS SDK v2 " + "apache-client, signed payload over http, CRC32C per part");
                    params.put(
                            "baseline",
                            "raw CreateMultipartUpload + UploadPart + Complete of the same bytes from memory");
                    params.put("quick", o.quick());
                    return List.of(BenchResult.higherIsBetter(
                            "s3-spill", "spill_mib_per_s", m.a(), m.b(), "MiB/s", ">= 0.80", params));
                }
            }
        }
    }

    private static Fid write(PoolOsd pool, int n, byte[] body) throws OsdException {
        Fid f = Fid.of(0x200000400L, n);
        try (Transaction tx = pool.newTransaction()) {
            tx.declareCreate(f, ObjectKind.DATA);
            tx.declareWrite(f, 0, body.length);
            tx.start();
            tx.create(f, ObjectKind.DATA, AttrChange.none());
            tx.write(f, 0, ByteBuffer.wrap(body));
        }
        return f;
    }

    private static void destroy(PoolOsd pool, Fid f) throws OsdException {
        try (Transaction tx = pool.newTransaction()) {
            tx.declareDestroy(f);
            tx.start();
            tx.destroy(f);
        }
    }

    private static String crc(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        return Base64.getEncoder()
                .encodeToString(
                        ByteBuffer.allocate(4).putInt((int) c.getValue()).array());
    }

    /** The baseline: one multipart upload, {@code concurrency} parts in flight, CRC32C on each. */
    private static void multipartPut(S3Client c, ExecutorService ex, String key, byte[] data, int part, int concurrency)
            throws Exception {
        String id = c.createMultipartUpload(b -> b.bucket(BUCKET).key(key).checksumAlgorithm(ChecksumAlgorithm.CRC32_C))
                .uploadId();
        Semaphore slots = new Semaphore(concurrency);
        List<Future<CompletedPart>> parts = new ArrayList<>();
        for (int off = 0, n = 1; off < data.length; off += part, n++) {
            int from = off;
            int len = Math.min(part, data.length - off);
            int number = n;
            slots.acquire();
            parts.add(ex.submit(() -> {
                try {
                    String sum = crc(data, from, len);
                    String etag = c.uploadPart(
                                    b -> b.bucket(BUCKET)
                                            .key(key)
                                            .uploadId(id)
                                            .partNumber(number)
                                            .contentLength((long) len)
                                            .checksumAlgorithm(ChecksumAlgorithm.CRC32_C)
                                            .checksumCRC32C(sum),
                                    RequestBody.fromContentProvider(
                                            () -> new ByteArrayInputStream(data, from, len),
                                            len,
                                            "application/octet-stream"))
                            .eTag();
                    return CompletedPart.builder()
                            .partNumber(number)
                            .eTag(etag)
                            .checksumCRC32C(sum)
                            .build();
                } finally {
                    slots.release();
                }
            }));
        }
        List<CompletedPart> done = new ArrayList<>();
        for (Future<CompletedPart> f : parts) {
            done.add(f.get());
        }
        c.completeMultipartUpload(b -> b.bucket(BUCKET).key(key).uploadId(id).multipartUpload(m -> m.parts(done)));
    }
}
