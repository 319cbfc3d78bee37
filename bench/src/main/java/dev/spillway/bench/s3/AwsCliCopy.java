package dev.spillway.bench.s3;

import dev.spillway.bench.AbRunner;
import dev.spillway.bench.BenchOptions;
import dev.spillway.bench.BenchResult;
import dev.spillway.osd.testkit.s3.S3ProxyPeer;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * {@code aws s3 cp} of one large file (1 GiB; 256 MiB with --quick; {@code --cp-mib N}) up and
 * down with the AWS CLI as installed, with its defaults (multipart in 8 MiB parts, 10 concurrent
 * requests), through the gateway and through s3proxy, against the disk's own rate in the same
 * folder: a {@code FileChannel} write + force of the same bytes, and a read of them. Rounds
 * rotated, medians. Goal: the gateway >= 1.5x s3proxy each way. Without the {@code aws} command
 * (or without the s3proxy jar) the rows are skipped with one line saying so.
 */
final class AwsCliCopy {
    private static final String KEY = "cp-big";

    private final BenchOptions o;
    private final Path dir;
    private final URI gateway;
    private final String accessKey;
    private final String secretKey;

    AwsCliCopy(BenchOptions o, Path dir, URI gateway, String accessKey, String secretKey) {
        this.o = o;
        this.dir = dir;
        this.gateway = gateway;
        this.accessKey = accessKey;
        this.secretKey = secretKey;
    }

    /** The CLI's version line, or null if there is no {@code aws} command that answers. */
    static String awsVersion() {
        try {
            Process p = new ProcessBuilder("aws", "--version")
                    .redirectErrorStream(true)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!p.waitFor(2, TimeUnit.MINUTES) || p.exitValue() != 0) {
                return null;
            }
            return out.isEmpty() ? null : out.lines().findFirst().orElse(out);
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    void run(List<BenchResult> out) throws Exception {
        String version = awsVersion();
        if (version == null) {
            o.log()
                    .println("s3: the aws command (AWS CLI) is not installed: aws s3 cp rows skipped"
                            + " (Debian: apt-get install awscli; or pip install awscli)");
            return;
        }
        Path jar = S3ProxyPeer.findJar();
        if (jar == null) {
            o.log().println("s3: s3proxy jar not found: aws s3 cp rows skipped");
            return;
        }
        long mib = Long.parseLong(o.option("--cp-mib", o.quick() ? "256" : "1024"));
        int rounds = o.quick() ? 1 : 3;
        Path src = dir.resolve("cp-src.bin");
        Path dst = dir.resolve("cp-dst.bin");
        Path raw = dir.resolve("cp-raw.bin");
        Path config = dir.resolve("aws-config");
        // An empty config: the user's ~/.aws/config must not change the CLI's defaults measured here.
        Files.writeString(config, "");
        byte[] block = new byte[8 << 20];
        new Random(17).nextBytes(block);
        try (FileChannel ch = FileChannel.open(src, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (long i = 0; i < mib / 8; i++) {
                // Every 8 MiB part differs (its first bytes are its number).
                ByteBuffer.wrap(block).putLong(0, i);
                ByteBuffer b = ByteBuffer.wrap(block);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
            }
        }
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("mib", mib);
        params.put("rounds", rounds);
        params.put("tool", version);
        params.put(
                "cli_settings", "defaults: multipart_chunksize 8 MiB, max_concurrent_requests 10 (empty config file)");
        params.put("osd", "pool: kv (metadata, foreground) + vfs, same filesystem as the baselines");
        params.put("baseline", "s3proxy 4.1.0, filesystem blobstore, child JVM, same CLI");
        params.put("raw", "FileChannel write + force of the same bytes; read of them (page cache likely warm)");
        params.put("download_target", "a file in the same folder, not forced (what aws s3 cp does)");
        try (S3ProxyPeer proxy = S3ProxyPeer.start(dir.resolve("s3proxy-cp"));
                S3Client pc = S3Clients.client(
                        proxy.endpoint(),
                        4,
                        S3ProxyPeer.ACCESS_KEY,
                        S3ProxyPeer.SECRET_KEY,
                        true,
                        S3Clients.PayloadForm.SIGNED)) {
            pc.createBucket(b -> b.bucket("bench"));
            List<String> names = List.of("spillway", "s3proxy", "raw");
            List<Callable<Double>> ups = List.of(
                    () -> cli(gateway, accessKey, secretKey, config, mib, src.toString(), "s3://bench/" + KEY),
                    () -> cli(
                            proxy.endpoint(),
                            S3ProxyPeer.ACCESS_KEY,
                            S3ProxyPeer.SECRET_KEY,
                            config,
                            mib,
                            src.toString(),
                            "s3://bench/" + KEY),
                    () -> rawWrite(src, raw, mib));
            o.log().println("s3: aws s3 cp " + mib + " MiB up: " + String.join(", ", names));
            List<Double> up = AbRunner.rotate(0, rounds, names, ups, o.log());
            List<Callable<Double>> downs = List.of(
                    () -> download(gateway, accessKey, secretKey, config, mib, dst),
                    () -> download(proxy.endpoint(), S3ProxyPeer.ACCESS_KEY, S3ProxyPeer.SECRET_KEY, config, mib, dst),
                    () -> rawRead(raw, mib));
            o.log().println("s3: aws s3 cp " + mib + " MiB down: " + String.join(", ", names));
            List<Double> down = AbRunner.rotate(0, rounds, names, downs, o.log());
            report(out, "up", up, params);
            report(out, "down", down, params);
        } finally {
            Files.deleteIfExists(src);
            Files.deleteIfExists(dst);
            Files.deleteIfExists(raw);
        }
    }

    private static void report(List<BenchResult> out, String way, List<Double> m, Map<String, Object> params) {
        Map<String, Object> p = new LinkedHashMap<>(params);
        p.put("raw_mib_per_s", Math.round(m.get(2) * 10) / 10.0);
        p.put("spillway_vs_raw", Math.round(m.get(0) / m.get(2) * 1000) / 1000.0);
        p.put("s3proxy_vs_raw", Math.round(m.get(1) / m.get(2) * 1000) / 1000.0);
        out.add(BenchResult.higherIsBetter(
                "s3", "aws_cp_" + way + "_mib_per_s", m.get(0), m.get(1), "MiB/s", ">= 1.5", p));
    }

    private double download(URI endpoint, String ak, String sk, Path config, long mib, Path dst) throws Exception {
        Files.deleteIfExists(dst);
        double rate = cli(endpoint, ak, sk, config, mib, "s3://bench/" + KEY, dst.toString());
        if (Files.size(dst) != mib << 20) {
            throw new IOException(
                    "aws s3 cp from " + endpoint + " wrote " + Files.size(dst) + " bytes, not " + (mib << 20));
        }
        Files.delete(dst);
        return rate;
    }

    /** Runs {@code aws s3 cp FROM TO} against {@code endpoint}; MiB/s over its wall time. */
    private double cli(URI endpoint, String ak, String sk, Path config, long mib, String from, String to)
            throws Exception {
        ProcessBuilder pb = new ProcessBuilder(
                "aws",
                "--endpoint-url",
                endpoint.toString(),
                "s3",
                "cp",
                "--no-progress",
                "--only-show-errors",
                from,
                to);
        pb.environment().put("AWS_ACCESS_KEY_ID", ak);
        pb.environment().put("AWS_SECRET_ACCESS_KEY", sk);
        pb.environment().put("AWS_DEFAULT_REGION", "us-east-1");
        pb.environment().put("AWS_CONFIG_FILE", config.toString());
        pb.environment().put("AWS_SHARED_CREDENTIALS_FILE", config.toString());
        pb.environment().remove("AWS_PROFILE");
        pb.redirectErrorStream(true);
        long t = System.nanoTime();
        Process p = pb.start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException("aws s3 cp " + from + " " + to + " against " + endpoint + " failed: " + text.strip());
        }
        return mib / ((System.nanoTime() - t) / 1e9);
    }

    private static double rawWrite(Path src, Path raw, long mib) throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(8 << 20);
        long t = System.nanoTime();
        try (FileChannel in = FileChannel.open(src, StandardOpenOption.READ);
                FileChannel ch = FileChannel.open(
                        raw,
                        StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE,
                        StandardOpenOption.TRUNCATE_EXISTING)) {
            while (in.read(buf) > 0) {
                buf.flip();
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                buf.clear();
            }
            ch.force(true);
        }
        return mib / ((System.nanoTime() - t) / 1e9);
    }

    private static double rawRead(Path raw, long mib) throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(8 << 20);
        long t = System.nanoTime();
        try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.READ)) {
            while (ch.read(buf) > 0) {
                buf.clear();
            }
        }
        return mib / ((System.nanoTime() - t) / 1e9);
    }
}
