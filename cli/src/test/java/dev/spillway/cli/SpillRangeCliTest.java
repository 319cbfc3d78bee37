package dev.spillway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spillway.server.Server;
import dev.spillway.server.ServerOptions;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * {@code spillway spill OBJ --range START:END} (issue 20, range-level placement): the range goes to
 * a spill device and is released on the fast device; {@code getstripe} shows each copy's extents and
 * {@code -v} each PFL component's {@code lcme_extent}; the object reads back whole over S3.
 */
class SpillRangeCliTest {
    @TempDir
    Path tmp;

    private Server server;
    private Path data;

    @BeforeEach
    void start() throws Exception {
        data = tmp.resolve("data");
        Path cfg = tmp.resolve("pool.yaml");
        Files.writeString(cfg, """
                name: rangecli
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
        if (server != null) {
            server.close();
        }
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
        return new Run(cl.execute(all), out.toString(), err.toString());
    }

    @Test
    void aRangeSpillsAndGetstripeShowsTheExtents() throws Exception {
        byte[] body = new byte[300_000];
        new Random(1).nextBytes(body);
        try (S3Client s3 = ServeChild.s3(
                data, new ObjectMapper().readTree(data.resolve("endpoint.json").toFile()))) {
            s3.createBucket(b -> b.bucket("bkt"));
            s3.putObject(b -> b.bucket("bkt").key("obj"), RequestBody.fromBytes(body));

            Run spill = cli("spill", "bkt/obj", "--range", "128KiB:EOF");
            assertThat(spill.code()).as(spill.err()).isZero();
            assertThat(spill.out()).contains("done").contains("[131072, EOF) to slow");

            Run g = cli("getstripe", "-v", "bkt/obj");
            assertThat(g.code()).as(g.err()).isZero();
            assertThat(g.out())
                    .contains("placement: split: [[0, 131072)] resident, the rest on slow")
                    .contains("EXTENTS")
                    .contains("[0, 131072)")
                    .contains("[131072, EOF)")
                    .contains("lcme_extent.e_start: 131072")
                    .contains("lcme_flags:          init,stale");

            byte[] back = s3.getObjectAsBytes(b -> b.bucket("bkt").key("obj")).asByteArray();
            assertThat(back).isEqualTo(body);

            Run bad = cli("spill", "bkt/obj", "--range", "1000:2000");
            assertThat(bad.code()).isNotZero();
            assertThat(bad.err()).contains("EINVAL").contains("64 KiB boundaries");
            Run fsck = cli("fsck", "--deep");
            assertThat(fsck.code()).as(fsck.out() + fsck.err()).isZero();
        }
    }
}
