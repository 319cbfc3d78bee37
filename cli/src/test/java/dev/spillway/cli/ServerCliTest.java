package dev.spillway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spillway.cli.CliFixtures.Run;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.server.Server;
import dev.spillway.server.ServerOptions;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI against an in-process server on a mem+mem pool: every admin command, end to end over HTTP. */
class ServerCliTest {
    @TempDir
    Path tmp;

    private Server server;
    private Path data;

    @BeforeEach
    void start() throws Exception {
        data = tmp.resolve("data");
        server = CliFixtures.memMemServer(tmp, "clitest");
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    private Run cli(String... args) {
        return CliFixtures.run(data, args);
    }

    private Fid object(int n, int size) throws Exception {
        return CliFixtures.put(server, n, size, true);
    }

    @Test
    void credentialsAreOwnerOnlyAndPrintableAsExports() throws Exception {
        assertThat(Files.getPosixFilePermissions(data.resolve("credentials.json")))
                .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
        Run r = cli("credentials", "--env");
        assertThat(r.code()).isZero();
        assertThat(r.out())
                .contains("export AWS_ACCESS_KEY_ID=SPW")
                .contains("export AWS_SECRET_ACCESS_KEY=")
                .contains("export SPILLWAY_S3_ENDPOINT=http://127.0.0.1:");
    }

    @Test
    void dfShowsEveryDeviceAndSpillsMoveBytes() throws Exception {
        Fid f = object(1, 1 << 20);
        Run before = cli("df", "-h");
        assertThat(before.code()).as(before.err()).isZero();
        assertThat(before.out()).contains("fast").contains("slow").contains("pool clitest");
        Run spill = cli("spill", f.toString(), "--to", "slow");
        assertThat(spill.code()).as(spill.err()).isZero();
        assertThat(spill.out()).contains("spill " + f + ": done");
        Run json = cli("df", "--json");
        assertThat(json.out()).contains("\"in-sync\"");
        Run stripe = cli("getstripe", f.toString());
        assertThat(stripe.out())
                .startsWith(f.toString())
                .contains("placement: spilled to slow (released from the fast tier)")
                .contains("in-sync (read)")
                .contains("crc32c, 1 chunk of 1 MiB")
                .doesNotContain("lcm_mirror_count");
        Run verbose = cli("getstripe", "-v", f.toString());
        assertThat(verbose.out())
                .contains("placement: spilled to slow")
                .contains("lcm_mirror_count")
                .contains("lhm_archive_id")
                .contains("released");
        Run lfs = cli("getstripe", "--lfs", f.toString());
        assertThat(lfs.out()).startsWith(f.toString() + "\ncomposite_header:").doesNotContain("placement:");
        Run promote = cli("promote", f.toString());
        assertThat(promote.out()).contains("done");
        Run split = cli("mirror", "verify", f.toString());
        assertThat(split.code()).as(split.out() + split.err()).isZero();
    }

    @Test
    void getstripeJsonIsStructuredNotAStringOfYaml() throws Exception {
        Fid f = object(3, 300_000);
        assertThat(cli("spill", f.toString(), "--to", "slow").code()).isZero();
        var j = new ObjectMapper()
                .readTree(cli("getstripe", "--json", f.toString()).out());
        assertThat(j.path("fid").asText()).isEqualTo(f.toString());
        assertThat(j.path("size").asLong()).isEqualTo(300_000);
        assertThat(j.path("placement").asText()).startsWith("spilled to slow");
        var copy = j.path("copies").get(0);
        assertThat(copy.path("device").asText()).isEqualTo("slow");
        assertThat(copy.path("tier").asText()).isEqualTo("spill");
        assertThat(copy.path("state").asText()).isEqualTo("in-sync");
        assertThat(copy.path("size").asLong()).isEqualTo(300_000);
        assertThat(copy.path("checksum").asText()).startsWith("crc32c");
    }

    @Test
    void dfIsAlignedAndHonestAndItsHelpWorks() throws Exception {
        object(4, 200_000);
        Run df = cli("df");
        assertThat(df.code()).as(df.err()).isZero();
        String[] lines = df.out().split("\n");
        // DEVICE…OBJECTS header, one row per device, the pool row: the last column is
        // right-aligned, so every line of the table ends at the same column.
        assertThat(lines[0]).startsWith("DEVICE").endsWith("OBJECTS");
        for (int i = 1; i <= 3; i++) {
            assertThat(lines[i]).hasSize(lines[0].length());
        }
        // The pool's own records are not objects: one object was written.
        assertThat(lines[1]).startsWith("fast").endsWith(" 1");
        assertThat(df.out()).contains("pool clitest: 1 objects").contains("fast tier (fast): ");
        for (String h : new String[] {"--help"}) {
            Run help = cli("df", h);
            assertThat(help.code()).isZero();
            assertThat(help.out()).startsWith("Usage: spillway df").contains("-h, --human-readable");
        }
        Run human = cli("df", "-h");
        assertThat(human.code()).isZero();
        assertThat(human.out()).startsWith("DEVICE");
    }

    @Test
    void jobsAndInactiveSpeakToPeopleAndScripts() throws Exception {
        object(5, 100_000);
        Run jobs = cli("jobs");
        assertThat(jobs.code()).as(jobs.err()).isZero();
        assertThat(jobs.out())
                .startsWith("jobs: 0 (copy 0, gc 0, parked 0, resync 0, sync_copy 0, write_around 0)")
                .contains("daemon: running")
                .contains("nothing in flight")
                .doesNotContain("{");
        var j = new ObjectMapper().readTree(cli("jobs", "--json").out());
        assertThat(j.path("queued").path("copy").asInt()).isZero();
        assertThat(j.path("daemon").path("running").asBoolean()).isTrue();
        Run none = cli("inactive", "--older-than", "7d");
        assertThat(none.code()).isZero();
        assertThat(none.out()).startsWith("no object idle for 7d or longer");
        Run bad = cli("inactive", "--older-than", "soon");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("--older-than");
    }

    @Test
    void errorsHaveOnePrefixTheErrnoOnceAndMalformedFidsAreUsageErrors() throws Exception {
        Run missing = cli("getstripe", "nobucket/x");
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err().strip()).isEqualTo("spillway: ENOENT: no bucket 'nobucket' (`aws s3 ls` lists them)");
        Run malformed = cli("getstripe", "[0x1");
        assertThat(malformed.code()).isEqualTo(2);
        assertThat(malformed.err())
                .startsWith("spillway: EINVAL: malformed FID '[0x1'")
                .containsOnlyOnce("spillway");
        Run neither = cli("spill", "justaword");
        assertThat(neither.code()).isEqualTo(2);
        assertThat(neither.err()).contains("neither a FID").containsOnlyOnce("EINVAL");
        Run noDevice = cli("device", "evacuate", "nosuch");
        assertThat(noDevice.code()).isEqualTo(1);
        assertThat(noDevice.err()).isEqualTo("spillway: ENOENT: no device 'nosuch' (devices: fast, slow)\n");
    }

    @Test
    void fsckJobsDevicesAndErrorsWithExitCodes() throws Exception {
        object(2, 5000);
        assertThat(cli("fsck").code()).isZero();
        assertThat(cli("scrub").out()).contains("clean");
        assertThat(cli("jobs").out()).contains("queued");
        Run devs = cli("device", "list");
        assertThat(devs.out()).contains("fast").contains("slow").contains("rw");
        Run missing = cli("getstripe", "[0x200000400:0x999:0x0]");
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err()).contains("ENOENT").doesNotContain("Exception");
        Run bad = cli("device", "set-state", "slow", "sideways");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("sideways");
        Run evac = cli("device", "evacuate", "slow");
        assertThat(evac.code()).as(evac.err()).isZero();
        assertThat(cli("device", "list").out()).contains("spare");
    }

    @Test
    void aSecondServerOnTheSameDataIsRefusedNamingTheHolder() {
        try {
            Server.start(
                    ServerOptions.defaults(data).withPorts(0, 0).withOut(new PrintStream(new ByteArrayOutputStream())));
            throw new AssertionError("a second server started");
        } catch (OsdException e) {
            assertThat(e.getMessage())
                    .contains("pid " + ProcessHandle.current().pid())
                    .contains("in use");
        }
    }

    @Test
    void metricsAndTheStatusPageAreServed() throws Exception {
        var http = HttpClient.newHttpClient();
        var base = server.admin().endpoint();
        var m = http.send(
                HttpRequest.newBuilder(base.resolve("/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(m.body())
                .contains("spillway_device_capacity_bytes")
                .contains("spillway_recovery_duration_seconds")
                .contains("spillway_jobs")
                .contains("spillway_daemon_moved_bytes_total");
        var page = http.send(HttpRequest.newBuilder(base.resolve("/")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(page.body()).contains("<title>Spillway: clitest</title>").contains("/static/uPlot.min.js");
        var denied = http.send(
                HttpRequest.newBuilder(base.resolve("/api/df")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(denied.statusCode()).isEqualTo(403);
    }
}
