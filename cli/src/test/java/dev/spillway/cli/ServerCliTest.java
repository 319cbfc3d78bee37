package dev.spillway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Transaction;
import dev.spillway.server.Server;
import dev.spillway.server.ServerOptions;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The CLI against an in-process server on a mem+mem pool: every admin command, end to end over HTTP. */
class ServerCliTest {
    @TempDir
    Path tmp;

    private Server server;
    private Path data;

    @BeforeEach
    void start() throws Exception {
        data = tmp.resolve("data");
        Path cfg = tmp.resolve("pool.yaml");
        Files.writeString(cfg, """
                name: clitest
                devices:
                  - {name: fast, backend: mem, roles: [metadata, foreground, promote]}
                  - {name: slow, backend: mem, roles: [background]}
                """);
        server = Server.start(ServerOptions.defaults(data)
                .withConfig(cfg)
                .withPorts(0, 0)
                .withOut(new PrintStream(new ByteArrayOutputStream())));
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    private record Run(int code, String out, String err) {}

    private Run cli(String... args) {
        CommandLine cl = SpillwayCommand.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        String[] all = new String[args.length + 2];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--data";
        all[args.length + 1] = data.toString();
        int code = cl.execute(all);
        return new Run(code, out.toString(), err.toString());
    }

    private Fid object(int n, int size) throws Exception {
        Fid f = new Fid(0x200000400L, n, 0);
        byte[] b = new byte[size];
        new Random(n).nextBytes(b);
        try (Transaction tx = server.pool().newTransaction()) {
            tx.declareCreate(f, ObjectKind.DATA);
            tx.declareWrite(f, 0, size);
            tx.start();
            tx.create(f, ObjectKind.DATA, AttrChange.none());
            tx.write(f, 0, ByteBuffer.wrap(b));
        }
        return f;
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
        assertThat(spill.out()).contains("DONE");
        Run json = cli("df", "--json");
        assertThat(json.out()).contains("\"in_sync\"");
        Run stripe = cli("getstripe", f.toString());
        assertThat(stripe.out())
                .contains("lcm_mirror_count")
                .contains("lhm_archive_id")
                .contains("released");
        Run promote = cli("promote", f.toString());
        assertThat(promote.out()).contains("DONE");
        Run split = cli("mirror", "verify", f.toString());
        assertThat(split.code()).as(split.out() + split.err()).isZero();
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
        } catch (dev.spillway.osd.OsdException e) {
            assertThat(e.getMessage())
                    .contains("pid " + ProcessHandle.current().pid())
                    .contains("in use");
        }
    }

    @Test
    void metricsAndTheStatusPageAreServed() throws Exception {
        var http = java.net.http.HttpClient.newHttpClient();
        var base = server.admin().endpoint();
        var m = http.send(
                java.net.http.HttpRequest.newBuilder(base.resolve("/metrics")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(m.body())
                .contains("spillway_device_capacity_bytes")
                .contains("spillway_recovery_seconds")
                .contains("spillway_jobs")
                .contains("spillway_daemon_moved_bytes");
        var page = http.send(
                java.net.http.HttpRequest.newBuilder(base.resolve("/")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(page.body()).contains("Spillway pool clitest");
        var denied = http.send(
                java.net.http.HttpRequest.newBuilder(base.resolve("/api/df")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(denied.statusCode()).isEqualTo(403);
    }
}
