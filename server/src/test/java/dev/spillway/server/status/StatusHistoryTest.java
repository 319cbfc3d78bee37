package dev.spillway.server.status;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.server.Server;
import dev.spillway.server.ServerOptions;
import io.micrometer.core.instrument.Timer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The status page's history: rates and percentiles over each interval, on an injected clock. */
class StatusHistoryTest {
    @TempDir
    Path tmp;

    @Test
    void percentilesComeFromTheBucketsReachedByTheQuantile() {
        Map<Double, Double> cumulative = new TreeMap<>();
        cumulative.put(1e6, 50.0); // 50 requests at or below 1 ms
        cumulative.put(1e7, 98.0); // 48 more at or below 10 ms
        cumulative.put(1e8, 100.0); // 2 more at or below 100 ms
        assertThat(StatusHistory.quantile(cumulative, 100, 0.50)).isEqualTo(0.001);
        assertThat(StatusHistory.quantile(cumulative, 100, 0.99)).isEqualTo(0.1);
        assertThat(StatusHistory.quantile(cumulative, 0, 0.5)).isNull();
    }

    @Test
    void eachSampleCountsTheRequestsOfItsIntervalAgainstTheInjectedClock() throws Exception {
        Path cfg = tmp.resolve("pool.yaml");
        Files.writeString(cfg, """
                name: hist
                devices:
                  - {name: fast, backend: mem, roles: [metadata, foreground, promote]}
                  - {name: slow, backend: mem, roles: [background]}
                """);
        try (var server = Server.start(ServerOptions.defaults(tmp.resolve("data"))
                .withConfig(cfg)
                .withPorts(0, 0)
                .withOut(new PrintStream(new ByteArrayOutputStream()))
                // the server's own sampler stays out of the way: this test samples by hand
                .withSampleInterval(Duration.ofDays(1)))) {
            AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));
            InstantSource clock = now::get;
            StatusHistory h = new StatusHistory(server.metrics(), clock);
            h.sample();
            HttpClient http = HttpClient.newHttpClient();
            for (int i = 0; i < 10; i++) {
                // Unsigned: answered 403, and counted like any request.
                http.send(
                        HttpRequest.newBuilder(URI.create(server.s3Endpoint() + "/"))
                                .build(),
                        HttpResponse.BodyHandlers.discarding());
            }
            // The gateway records a request's timer after its response is on the wire: wait until
            // all ten are counted (an event, not a time) before the clock moves and the sample is taken.
            awaitCounted(server, 10);
            now.set(now.get().plusSeconds(5));
            Map<String, Object> s = h.sample();
            assertThat(s.get("t")).isEqualTo(now.get().toEpochMilli());
            assertThat((Double) s.get("s3Rate")).isEqualTo(2.0); // 10 requests in 5 s of the clock
            assertThat((Double) s.get("s3P99")).isPositive();
            now.set(now.get().plusSeconds(5));
            Map<String, Object> idle = h.sample();
            assertThat((Double) idle.get("s3Rate")).isZero();
            assertThat(idle.get("s3P50")).isNull();
            assertThat(h.samples()).hasSize(3);
            assertThat(h.s3ByOperation()).containsKey("ListBuckets");
            assertThat(h.s3ByOperation().get("ListBuckets").get("requests")).isEqualTo(10L);
        }
    }

    private static void awaitCounted(Server server, long n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            long counted = 0;
            for (Timer t : server.metrics()
                    .registry()
                    .find("spillway_s3_request_duration")
                    .timers()) {
                counted += t.count();
            }
            if (counted >= n) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the gateway counted " + counted + " of " + n + " requests in 60 s");
            }
            Thread.sleep(5);
        }
    }
}
