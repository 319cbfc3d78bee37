package dev.spillway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spillway.server.Server;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
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
        server = CliFixtures.memMemServer(tmp, "rangecli");
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private CliFixtures.Run cli(String... args) {
        return CliFixtures.run(data, args);
    }

    @Test
    void aRangeSpillsAndGetstripeShowsTheExtents() throws Exception {
        byte[] body = new byte[300_000];
        new Random(1).nextBytes(body);
        try (S3Client s3 = ServeChild.s3(
                data, new ObjectMapper().readTree(data.resolve("endpoint.json").toFile()))) {
            s3.createBucket(b -> b.bucket("bkt"));
            s3.putObject(b -> b.bucket("bkt").key("obj"), RequestBody.fromBytes(body));

            CliFixtures.Run spill = cli("spill", "bkt/obj", "--range", "128KiB:EOF");
            assertThat(spill.code()).as(spill.err()).isZero();
            assertThat(spill.out()).contains("done").contains("[131072, EOF) to slow");

            CliFixtures.Run g = cli("getstripe", "-v", "bkt/obj");
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

            CliFixtures.Run bad = cli("spill", "bkt/obj", "--range", "1000:2000");
            assertThat(bad.code()).isNotZero();
            assertThat(bad.err()).contains("EINVAL").contains("64 KiB boundaries");
            CliFixtures.Run fsck = cli("fsck", "--deep");
            assertThat(fsck.code()).as(fsck.out() + fsck.err()).isZero();
        }
    }
}
