package dev.spillway.gateway.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real command-line clients from Debian's packages (awscli, rclone, s3cmd, python3-boto3)
 * against the gateway: make a bucket, copy a multipart-sized file up and down, list with
 * prefixes, sync a folder both ways, presign, remove — every byte compared. A client that is
 * not installed skips its test, saying so (.ci/run installs them).
 */
class CliClientsTest {
    static GatewayFixture fx;
    static final long SEED = Long.getLong("test.seed", System.nanoTime());

    @TempDir
    Path work;

    @BeforeAll
    static void start() throws Exception {
        System.out.println("CliClientsTest seed " + SEED + " (replay with -Dtest.seed=" + SEED + ")");
        fx = new GatewayFixture();
    }

    @AfterAll
    static void stop() throws Exception {
        fx.close();
    }

    static Path tool(String... candidates) {
        for (String c : candidates) {
            Path p = Path.of(c);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    /** A 20 MiB file (multipart for every client here) and a folder of small files. */
    void makeFiles() throws IOException {
        Random r = new Random(SEED);
        byte[] big = new byte[20 << 20];
        r.nextBytes(big);
        Files.write(work.resolve("big"), big);
        Path src = Files.createDirectories(work.resolve("src/sub"));
        for (int i = 0; i < 5; i++) {
            byte[] b = new byte[1000 + r.nextInt(100_000)];
            r.nextBytes(b);
            Files.write((i % 2 == 0 ? src : src.getParent()).resolve("f" + i), b);
        }
    }

    String run(Map<String, String> env, String... cmd) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).directory(work.toFile());
        pb.environment().remove("AWS_CA_BUNDLE"); // Debian's rclone refuses an unusable bundle
        pb.environment().put("HOME", work.toString());
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        String text = new String(out, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(String.join(" ", cmd) + "\n" + text).isZero();
        return text;
    }

    void assertSameFile(Path a, Path b) throws IOException {
        assertThat(Files.mismatch(a, b)).as(a + " vs " + b).isEqualTo(-1L);
    }

    void assertSameTree(Path a, Path b) throws IOException {
        List<Path> files = new ArrayList<>();
        try (var s = Files.walk(a)) {
            s.filter(Files::isRegularFile).forEach(files::add);
        }
        assertThat(files).isNotEmpty();
        for (Path f : files) {
            assertSameFile(f, b.resolve(a.relativize(f)));
        }
    }

    byte[] fetch(String url) throws IOException {
        try (InputStream in = URI.create(url.strip()).toURL().openStream()) {
            return in.readAllBytes();
        }
    }

    @Test
    void awscli() throws Exception {
        Path aws = tool("/usr/bin/aws");
        assumeTrue(aws != null, "awscli is not installed (apt-get install awscli); .ci/run installs it");
        makeFiles();
        Files.createDirectories(work.resolve(".aws"));
        Files.writeString(
                work.resolve(".aws/config"),
                "[default]\nregion = us-east-1\ns3 =\n    signature_version = s3v4\n    addressing_style = path\n");
        Map<String, String> env = Map.of(
                "AWS_ACCESS_KEY_ID",
                GatewayFixture.ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY",
                GatewayFixture.SECRET_KEY,
                "AWS_CONFIG_FILE",
                work.resolve(".aws/config").toString(),
                "AWS_PAGER",
                "");
        String e = fx.endpoint().toString();
        String a = aws.toString();
        run(env, a, "--endpoint-url", e, "s3", "mb", "s3://awscli");
        run(env, a, "--endpoint-url", e, "s3", "cp", "big", "s3://awscli/dir/big");
        run(env, a, "--endpoint-url", e, "s3", "cp", "s3://awscli/dir/big", "big.down");
        assertSameFile(work.resolve("big"), work.resolve("big.down"));
        assertThat(run(env, a, "--endpoint-url", e, "s3api", "head-object", "--bucket", "awscli", "--key", "dir/big"))
                .contains("-3\\\"");
        run(env, a, "--endpoint-url", e, "s3", "sync", "src", "s3://awscli/sync/");
        assertThat(run(env, a, "--endpoint-url", e, "s3", "ls", "s3://awscli/sync/"))
                .contains("PRE sub/")
                .contains("f1");
        assertThat(run(env, a, "--endpoint-url", e, "s3", "ls", "s3://awscli/dir/"))
                .contains("big");
        run(env, a, "--endpoint-url", e, "s3", "sync", "s3://awscli/sync/", "dst");
        assertSameTree(work.resolve("src"), work.resolve("dst"));
        String url = run(env, a, "--endpoint-url", e, "s3", "presign", "s3://awscli/dir/big", "--expires-in", "600");
        assertThat(fetch(url)).isEqualTo(Files.readAllBytes(work.resolve("big")));
        run(env, a, "--endpoint-url", e, "s3", "rm", "--recursive", "s3://awscli/");
        run(env, a, "--endpoint-url", e, "s3", "rb", "s3://awscli");
    }

    @Test
    void rclone() throws Exception {
        Path rclone = tool("/usr/bin/rclone");
        assumeTrue(rclone != null, "rclone is not installed (apt-get install rclone); .ci/run installs it");
        makeFiles();
        Map<String, String> env = Map.of(
                "RCLONE_CONFIG",
                work.resolve("rclone.conf").toString(),
                "RCLONE_CONFIG_SP_TYPE",
                "s3",
                "RCLONE_CONFIG_SP_PROVIDER",
                "Other",
                "RCLONE_CONFIG_SP_ACCESS_KEY_ID",
                GatewayFixture.ACCESS_KEY,
                "RCLONE_CONFIG_SP_SECRET_ACCESS_KEY",
                GatewayFixture.SECRET_KEY,
                "RCLONE_CONFIG_SP_ENDPOINT",
                fx.endpoint().toString(),
                "RCLONE_CONFIG_SP_REGION",
                "us-east-1",
                "RCLONE_CONFIG_SP_FORCE_PATH_STYLE",
                "true");
        String r = rclone.toString();
        run(env, r, "mkdir", "sp:rclone");
        run(env, r, "copyto", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M", "big", "sp:rclone/dir/big");
        run(env, r, "copyto", "sp:rclone/dir/big", "big.down");
        assertSameFile(work.resolve("big"), work.resolve("big.down"));
        run(env, r, "sync", "src", "sp:rclone/sync");
        assertThat(run(env, r, "lsf", "sp:rclone/sync/")).contains("sub/").contains("f1");
        assertThat(run(env, r, "lsf", "sp:rclone/dir/")).contains("big");
        run(env, r, "sync", "sp:rclone/sync", "dst");
        assertSameTree(work.resolve("src"), work.resolve("dst"));
        String url = run(env, r, "link", "--expire", "1h", "sp:rclone/dir/big");
        assertThat(fetch(url.lines()
                        .filter(l -> l.startsWith("http"))
                        .findFirst()
                        .orElseThrow()))
                .isEqualTo(Files.readAllBytes(work.resolve("big")));
        run(env, r, "purge", "sp:rclone");
    }

    @Test
    void s3cmd() throws Exception {
        Path s3cmd = tool("/usr/bin/s3cmd");
        assumeTrue(s3cmd != null, "s3cmd is not installed (apt-get install s3cmd); .ci/run installs it");
        makeFiles();
        String hostPort = "localhost:" + fx.gateway.port();
        Path cfg = work.resolve("s3cfg");
        Files.writeString(
                cfg,
                "[default]\naccess_key = " + GatewayFixture.ACCESS_KEY + "\nsecret_key = " + GatewayFixture.SECRET_KEY
                        + "\nhost_base = " + hostPort + "\nhost_bucket = " + hostPort
                        + "\nuse_https = False\nsignature_v2 = False\n"
                        + "bucket_location = us-east-1\nmultipart_chunk_size_mb = 5\ncheck_ssl_certificate = False\n");
        String s = s3cmd.toString();
        String c = "--config=" + cfg;
        run(Map.of(), s, c, "mb", "s3://s3cmd");
        run(Map.of(), s, c, "put", "big", "s3://s3cmd/dir/big");
        run(Map.of(), s, c, "get", "--force", "s3://s3cmd/dir/big", "big.down");
        assertSameFile(work.resolve("big"), work.resolve("big.down"));
        run(Map.of(), s, c, "sync", "src/", "s3://s3cmd/sync/");
        assertThat(run(Map.of(), s, c, "ls", "s3://s3cmd/sync/"))
                .contains("DIR")
                .contains("f1");
        assertThat(run(Map.of(), s, c, "ls", "s3://s3cmd/dir/")).contains("big");
        Files.createDirectories(work.resolve("dst"));
        run(Map.of(), s, c, "sync", "s3://s3cmd/sync/", "dst/");
        assertSameTree(work.resolve("src"), work.resolve("dst"));
        // s3cmd 2.3's signurl signs with Signature Version 2, which the gateway does not accept;
        // presigning is covered by the other three clients.
        run(Map.of(), s, c, "del", "--recursive", "--force", "s3://s3cmd/");
        run(Map.of(), s, c, "rb", "s3://s3cmd");
    }

    @Test
    void boto3() throws Exception {
        Path python = tool("/usr/bin/python3");
        assumeTrue(python != null, "no system /usr/bin/python3");
        ProcessBuilder probe = new ProcessBuilder(python.toString(), "-c", "import boto3").redirectErrorStream(true);
        Process p = probe.start();
        p.getInputStream().readAllBytes();
        assumeTrue(
                p.waitFor() == 0,
                "python3-boto3 is not installed for /usr/bin/python3 (apt-get install python3-boto3)");
        makeFiles();
        Path script = work.resolve("boto3_roundtrip.py");
        try (InputStream in = getClass().getResourceAsStream("/clients/boto3_roundtrip.py")) {
            Files.write(script, in.readAllBytes());
        }
        String out = run(
                Map.of(
                        "AWS_ACCESS_KEY_ID",
                        GatewayFixture.ACCESS_KEY,
                        "AWS_SECRET_ACCESS_KEY",
                        GatewayFixture.SECRET_KEY,
                        "AWS_CONFIG_FILE",
                        "/dev/null",
                        "AWS_SHARED_CREDENTIALS_FILE",
                        "/dev/null"),
                python.toString(),
                script.toString(),
                fx.endpoint().toString(),
                work.toString());
        assertThat(out).contains("boto3 round trip ok");
    }
}
