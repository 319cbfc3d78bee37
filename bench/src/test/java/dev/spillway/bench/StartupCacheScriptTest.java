package dev.spillway.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The launcher's start-up cache logic (tools/startup-cache.sh), checked by
 * tools/test-startup-cache.sh with a stub JVM: which cache a start uses, invalidation by the
 * jars, the JDK and the mode, the one-line fallback after a failed training run, SPILLWAY_AOT=off.
 * No timing.
 */
class StartupCacheScriptTest {
    @Test
    void cacheIsMadeOnceReusedInvalidatedAndFallsBackWithOneLine() throws Exception {
        Path root = Path.of("").toAbsolutePath();
        while (root != null && !Files.exists(root.resolve("tools/test-startup-cache.sh"))) {
            root = root.getParent();
        }
        assertThat(root)
                .as("the repository root (with tools/test-startup-cache.sh)")
                .isNotNull();
        Process p = new ProcessBuilder(
                        "bash", root.resolve("tools/test-startup-cache.sh").toString())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("startup-cache: all checks passed");
    }
}
