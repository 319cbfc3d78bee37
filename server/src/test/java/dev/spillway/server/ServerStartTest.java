package dev.spillway.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import org.assertj.core.data.Percentage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Starting a server: what a taken port, a failed first start and a normal restart leave and print. */
class ServerStartTest {
    @TempDir
    Path tmp;

    @Test
    void aTakenPortIsRefusedUpFrontNamingTheFlagAndLeavesNothing() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            Path data = tmp.resolve("data");
            ServerOptions o = ServerOptions.defaults(data)
                    .withPorts(taken.getLocalPort(), 0)
                    .withOut(new PrintStream(new ByteArrayOutputStream()));
            assertThatThrownBy(() -> Server.start(o)).isInstanceOfSatisfying(OsdException.class, e -> {
                assertThat(e.errno()).isEqualTo(Errno.EADDRINUSE);
                assertThat(e.getMessage())
                        .contains("127.0.0.1:" + taken.getLocalPort())
                        .contains("address in use")
                        .contains("--s3-port")
                        // the errno once, no repeated prefix
                        .containsOnlyOnce("EADDRINUSE");
            });
            assertThat(data).doesNotExist();
            ServerOptions admin = ServerOptions.defaults(data)
                    .withPorts(0, taken.getLocalPort())
                    .withOut(new PrintStream(new ByteArrayOutputStream()));
            assertThatThrownBy(() -> Server.start(admin)).hasMessageContaining("--admin-port");
            assertThat(data).doesNotExist();
        }
    }

    @Test
    void aFirstStartThatFailsAfterMakingCredentialsShowsThemAtTheNextStart() throws Exception {
        Path cfg = tmp.resolve("pool.yaml");
        Files.writeString(
                cfg,
                "name: broken\ndevices: [{name: fast, backend: nosuch, roles: [metadata, foreground, promote]}]\n");
        Path data = tmp.resolve("data");
        ByteArrayOutputStream first = new ByteArrayOutputStream();
        assertThatThrownBy(() -> Server.start(ServerOptions.defaults(data)
                        .withConfig(cfg)
                        .withPorts(0, 0)
                        .withOut(new PrintStream(first))))
                .isInstanceOf(OsdException.class)
                .hasMessageContaining("nosuch");
        // The failed start made the credentials but never printed them.
        assertThat(data.resolve("credentials.json")).exists();
        assertThat(first.toString(StandardCharsets.UTF_8)).doesNotContain("secret key");
        Files.writeString(cfg, TestServer.POOL);
        String secret;
        try (TestServer s = new TestServer(tmp, Duration.ofSeconds(5))) {
            secret = s.server.credentials().secretKey();
            assertThat(s.banner()).contains("access key: ").contains("secret key: " + secret);
        }
        // Once shown, a restart says where to find them instead.
        try (TestServer s = new TestServer(tmp, Duration.ofSeconds(5))) {
            assertThat(s.banner()).doesNotContain(secret).contains("`spillway credentials`");
        }
    }

    @Test
    void theBannerAdminApiAndMetricsShowTheSameMountFigures() throws Exception {
        try (TestServer s = new TestServer(tmp, Duration.ofSeconds(5))) {
            MountReport m = s.server.mount();
            assertThat(s.banner()).contains(m.summary());
            var status =
                    new ObjectMapper().readTree(s.get("/api/status").body()).path("mount");
            assertThat(status.path("summary").asText()).isEqualTo(m.summary());
            assertThat(status.path("mountSeconds").asDouble()).isEqualTo(m.mountSeconds());
            assertThat(status.path("recoverySeconds").asDouble()).isEqualTo(m.recoverySeconds());
            String metrics = s.get("/metrics").body();
            assertThat(MetricsText.value(metrics, "spillway_mount_duration_seconds"))
                    .isCloseTo(m.mountSeconds(), Percentage.withPercentage(1e-6));
            assertThat(MetricsText.value(metrics, "spillway_recovery_duration_seconds"))
                    .isCloseTo(m.recoverySeconds(), Percentage.withPercentage(1e-6));
            // the recovery is a part of the mount, never more
            assertThat(m.recoverySeconds()).isLessThanOrEqualTo(m.mountSeconds());
            assertThat(s.banner()).contains(String.format(Locale.ROOT, "recovery %.1f ms", m.recoverySeconds() * 1e3));
        }
    }
}
