package dev.spillway.bench.startup;

import dev.spillway.cli.Main;
import dev.spillway.server.Credentials;
import dev.spillway.server.DataDir;
import dev.spillway.server.Server;
import dev.spillway.server.ServerOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The training run from which the {@code spillway} launcher builds its start-up cache (the JDK's
 * AOT cache, or an AppCDS archive on a JDK older than 25): a JVM that does what a start does —
 * for {@code serve}: the restart after a {@code kill -9} (a first start, in a child JVM, formats a
 * scratch pool, takes S3 writes and is killed; this JVM then mounts what it left — osd-kv's WAL
 * replay, the work index's recovery — and starts the gateway, admin API and daemon), the S3
 * requests that follow (signed PUT, GET, HEAD, LIST, DELETE), a clean stop, and a start after
 * that clean stop; the S3 client (the AWS SDK) runs in a child JVM each time, so that its
 * classes (2,500 of them) stay out of the serve cache, whose every class a start loads; for the CLI:
 * {@code version}, help, {@code df}, {@code jobs}, {@code device list}. The JVM records the classes it loaded and linked and the
 * methods' profiles; the launcher's later starts map them instead of loading them from the jars.
 *
 * <p>Two caches, one per kind of start, because the JVM loads every class of its AOT cache when
 * it starts: {@code serve} (the server) and {@code cli} (every other command). Usage:
 * {@code StartupTraining serve|cli SCRATCH_DIR}; exits 0 when every step answered, 1 otherwise
 * (the launcher then keeps no cache and says so). {@code StartupTraining client ENDPOINT
 * ACCESS_KEY SECRET_KEY START} is the S3 client the serve training runs in a child JVM.
 */
public final class StartupTraining {
    private StartupTraining() {}

    public static void main(String[] args) throws Exception {
        String role = args[0];
        if (role.equals("client")) {
            try (S3Client s3 = StartupBench.client(URI.create(args[1]), args[2], args[3])) {
                s3Traffic(s3, Integer.parseInt(args[4]));
            }
            System.exit(0);
        }
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

    /**
     * What {@code serve} does: a first start (a child JVM: format, S3 writes) killed with SIGKILL,
     * then in this JVM the restart after it and S3 traffic, a clean stop, a start after the clean
     * stop and traffic again. Every S3 client is a child JVM.
     */
    static void trainServe(Path scratch, PrintStream log) throws Exception {
        Path data = Files.createDirectories(scratch).resolve("data");
        int s3Port = freePort();
        Process first = java(
                        Main.class.getName(),
                        "serve",
                        "--data",
                        data.toString(),
                        "--s3-port",
                        Integer.toString(s3Port),
                        "--admin-port",
                        Integer.toString(freePort()))
                .start();
        try {
            waitForServe(data, first);
            Credentials c = Credentials.load(new DataDir(data));
            client("http://127.0.0.1:" + s3Port, c, 0);
        } finally {
            // SIGKILL, as a crash: the next start is the recovery path.
            first.destroyForcibly();
            first.waitFor(2, TimeUnit.MINUTES);
        }
        for (int start = 1; start < 3; start++) {
            ServerOptions o = ServerOptions.defaults(data).withPorts(0, 0).withOut(log);
            try (Server server = Server.start(o)) {
                client(server.s3Endpoint(), server.credentials(), start);
            }
        }
    }

    /** A JVM on this one's class path running {@code main} with {@code args}, its output inherited. */
    private static ProcessBuilder java(String main, String... args) {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(
                javaBin, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), main));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.INHERIT);
    }

    /** S3 traffic of start {@code start} from a child JVM (the AWS SDK's classes stay out of this one). */
    private static void client(String endpoint, Credentials c, int start) throws Exception {
        Process p = java(
                        StartupTraining.class.getName(),
                        "client",
                        endpoint,
                        c.accessKey(),
                        c.secretKey(),
                        Integer.toString(start))
                .start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            check(false, "the S3 client of start " + start + " did not finish within 5 minutes");
        }
        check(p.exitValue() == 0, "the S3 client of start " + start + " exited " + p.exitValue());
    }

    private static void waitForServe(Path data, Process serve) throws Exception {
        DataDir dir = new DataDir(data);
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (!Files.exists(dir.endpoint()) || !Files.exists(dir.credentials())) {
            check(serve.isAlive(), "the training server exited (" + (serve.isAlive() ? "" : serve.exitValue()) + ")");
            check(System.nanoTime() < deadline, "the training server did not start within 5 minutes");
            Thread.sleep(50);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
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
        Process serve = java(
                        Main.class.getName(), "serve", "--data", data.toString(), "--s3-port", "0", "--admin-port", "0")
                .start();
        try {
            waitForServe(data, serve);
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
