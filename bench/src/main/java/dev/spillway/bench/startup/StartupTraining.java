package dev.spillway.bench.startup;

import dev.spillway.cli.Main;
import dev.spillway.server.DataDir;
import dev.spillway.server.Server;
import dev.spillway.server.ServerOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The training run from which the {@code spillway} launcher builds its start-up cache (the JDK's
 * AOT cache, or an AppCDS archive on a JDK older than 25): a JVM that does what a start does —
 * for {@code serve}: a start on a scratch data folder (format, mount, gateway, admin API, daemon),
 * the first S3 requests (signed PUT, GET, HEAD, LIST, DELETE), a clean stop, and a second start
 * that mounts the existing pool (the recovery path) and answers again; for the CLI:
 * {@code version}, help, {@code df}, {@code jobs}, {@code device list}. The JVM records the classes it loaded and linked and the
 * methods' profiles; the launcher's later starts map them instead of loading them from the jars.
 *
 * <p>Two caches, one per kind of start, because the JVM loads every class of its AOT cache when
 * it starts: {@code serve} (the server) and {@code cli} (every other command). Usage:
 * {@code StartupTraining serve|cli SCRATCH_DIR}; exits 0 when every step answered, 1 otherwise
 * (the launcher then keeps no cache and says so).
 */
public final class StartupTraining {
    private StartupTraining() {}

    public static void main(String[] args) throws Exception {
        String role = args[0];
        Path scratch = Path.of(args[1]);
        int code;
        try {
            switch (role) {
                case "serve" -> trainServe(scratch, System.out);
                case "cli" -> trainCli(scratch);
                default -> throw new IllegalArgumentException("role: serve or cli, not " + role);
            }
            code = 0;
        } catch (Exception | AssertionError e) {
            System.err.println("spillway: start-up training (" + role + ") failed: " + e);
            e.printStackTrace();
            code = 1;
        } finally {
            deleteTree(scratch);
        }
        // System.exit, as the CLI does: the JVM writes the cache at exit.
        System.exit(code);
    }

    /** What {@code serve} does: format, start, S3 traffic, clean stop, mount again, traffic. */
    static void trainServe(Path scratch, PrintStream log) throws Exception {
        Path data = Files.createDirectories(scratch).resolve("data");
        for (int start = 0; start < 2; start++) {
            ServerOptions o = ServerOptions.defaults(data).withPorts(0, 0).withOut(log);
            try (Server server = Server.start(o)) {
                try (S3Client s3 = StartupBench.client(
                        URI.create(server.s3Endpoint()),
                        server.credentials().accessKey(),
                        server.credentials().secretKey())) {
                    s3Traffic(s3, start);
                }
            }
        }
    }

    /**
     * What the other commands do: {@code version}, help, and the admin-API commands against a
     * server — a separate {@code spillway serve} process, so that the server's classes stay out
     * of this cache (the JVM loads every class of an AOT cache at start: a CLI cache holding the
     * server's made {@code version} slower, not faster).
     */
    static void trainCli(Path scratch) throws Exception {
        Path data = Files.createDirectories(scratch).resolve("data");
        check(Main.run("version") == 0, "version");
        check(Main.run("version", "--json") == 0, "version --json");
        check(Main.run("--help") == 0, "--help");
        check(Main.run("serve", "--help") == 0, "serve --help");
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process serve = new ProcessBuilder(
                        javaBin,
                        "--enable-native-access=ALL-UNNAMED",
                        "-cp",
                        System.getProperty("java.class.path"),
                        Main.class.getName(),
                        "serve",
                        "--data",
                        data.toString(),
                        "--s3-port",
                        "0",
                        "--admin-port",
                        "0")
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.INHERIT)
                .start();
        try {
            Path endpoint = new DataDir(data).endpoint();
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            while (!Files.exists(endpoint)) {
                check(
                        serve.isAlive(),
                        "the training server exited (" + (serve.isAlive() ? "" : serve.exitValue()) + ")");
                check(System.nanoTime() < deadline, "the training server did not start within 5 minutes");
                Thread.sleep(50);
            }
            String d = data.toString();
            for (int i = 0; i < 2; i++) {
                check(Main.run("df", "--data", d) == 0, "df");
                check(Main.run("df", "-h", "--data", d) == 0, "df -h");
                check(Main.run("df", "--json", "--data", d) == 0, "df --json");
                check(Main.run("jobs", "--data", d) == 0, "jobs");
                check(Main.run("device", "list", "--data", d) == 0, "device list");
            }
        } finally {
            serve.destroy();
            if (!serve.waitFor(2, TimeUnit.MINUTES)) {
                serve.destroyForcibly();
            }
        }
    }

    private static void s3Traffic(S3Client s3, int start) {
        String bucket = "training";
        if (start == 0) {
            s3.createBucket(b -> b.bucket(bucket));
        }
        byte[] small = "spillway start-up training\n".repeat(40).getBytes(StandardCharsets.UTF_8);
        byte[] large = new byte[3 << 20];
        for (int i = 0; i < 50; i++) {
            String key = "small/" + start + "/" + i;
            s3.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromBytes(small));
        }
        s3.putObject(b -> b.bucket(bucket).key("large/" + start), RequestBody.fromBytes(large));
        for (int i = 0; i < 49; i++) {
            String key = "small/0/" + i;
            byte[] got = s3.getObjectAsBytes(b -> b.bucket(bucket).key(key)).asByteArray();
            check(got.length == small.length, "GET " + key);
        }
        check(s3.getObjectAsBytes(b -> b.bucket(bucket).key("large/0")).asByteArray().length == large.length, "GET");
        s3.headObject(b -> b.bucket(bucket).key("small/0/1"));
        s3.listObjectsV2(b -> b.bucket(bucket).prefix("small/"));
        s3.deleteObject(b -> b.bucket(bucket).key("small/" + start + "/49"));
    }

    private static void check(boolean ok, String step) {
        if (!ok) {
            throw new IllegalStateException("training step failed: " + step);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
