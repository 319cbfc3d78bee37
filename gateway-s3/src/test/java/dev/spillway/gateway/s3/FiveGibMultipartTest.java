package dev.spillway.gateway.s3;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Bodies stream end to end: a 5 GiB multipart upload and its GET through a gateway whose JVM has
 * a 128 MiB heap (a child process, so the limit is real). The device is {@link PatternOsd}, which
 * checks every written byte against a pattern instead of storing it — see there for exactly
 * what this proves.
 */
class FiveGibMultipartTest {
    @Test
    void fiveGibMultipartUploadAndGetWithA128MibHeap() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(
                        java,
                        "-Xmx128m",
                        "-XX:+UseSerialGC",
                        "-cp",
                        System.getProperty("java.class.path"),
                        FiveGibMain.class.getName())
                .redirectErrorStream(true);
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(10, TimeUnit.MINUTES)).isTrue();
        System.out.println(out);
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("ok: 5 GiB up and down");
    }
}
