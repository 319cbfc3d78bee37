package dev.spillway.osd.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Fid;
import dev.spillway.osd.Osd;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.spi.Osds;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The process using osd-s3 dies (SIGKILL) in the middle of a multipart upload: every object whose
 * transaction had stopped is there byte for byte, the one being streamed never appears, and the
 * next mount aborts the upload it left, so nothing stays behind.
 */
class S3OsdCrashTest {
    static byte[] body(int i) {
        byte[] b = new byte[i * 700_000 + i];
        new Random(i).nextBytes(b);
        return b;
    }

    @Test
    void sigkillMidUploadKeepsEveryCommittedObjectAndLeavesNothingAfterTheNextMount() throws Exception {
        S3Peers.Peer peer = S3Peers.s3proxy();
        String prefix = "crash-" + UUID.randomUUID() + "/";
        peer.ensureBucket("crash");
        int n = 9; // up to 6.3 MiB: single PUTs and multipart uploads both
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(
                        java,
                        "-Xmx256m",
                        "-cp",
                        System.getProperty("java.class.path"),
                        CrashChild.class.getName(),
                        peer.endpoint().toString(),
                        "crash",
                        prefix,
                        peer.accessKey(),
                        peer.secretKey(),
                        Integer.toString(n))
                .redirectErrorStream(true)
                .start();
        int committed = 0;
        try (BufferedReader out =
                new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("committed ")) {
                    committed = Integer.parseInt(line.substring(10));
                } else if (line.equals("streaming")) {
                    break;
                }
            }
            child.destroyForcibly();
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(committed)
                .as("objects the child committed before it was killed")
                .isEqualTo(n);
        assertThat(PoolS3Fixture.uploads(peer, "crash", prefix))
                .as("the upload the kill left")
                .hasSize(1);

        Map<String, Object> s = peer.settings("crash", prefix);
        try (Osd osd = Osds.open(OsdConfig.of("after-crash", "s3", s))) {
            assertThat(((S3Osd) osd).sweptUploads()).isEqualTo(1);
            for (int i = 1; i <= n; i++) {
                Fid f = Fid.of(0x200000400L, i);
                byte[] want = body(i);
                byte[] got = new byte[(int) osd.getAttr(f).size()];
                int pos = 0;
                while (pos < got.length) {
                    pos += osd.read(f, pos, ByteBuffer.wrap(got, pos, got.length - pos));
                }
                assertThat(got).as("object %d", i).isEqualTo(want);
            }
            assertThat(osd.exists(Fid.of(0x200000400L, 1000)))
                    .as("the body being streamed")
                    .isFalse();
        }
        assertThat(PoolS3Fixture.uploads(peer, "crash", prefix)).isEmpty();
        assertThat(PoolS3Fixture.keys(peer, "crash", prefix + "objects/")).hasSize(n);
    }
}
