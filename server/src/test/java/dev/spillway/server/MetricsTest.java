package dev.spillway.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.ResponseTransformer;

/**
 * {@code /metrics} by Prometheus' conventions, agreeing with the admin API, and the shipped Grafana
 * dashboard and alert rules using only metrics that exist.
 */
class MetricsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;

    static TestServer s;
    static String metrics;

    @BeforeAll
    static void start() throws Exception {
        s = new TestServer(tmp, Duration.ofSeconds(5));
        s.put("bkt", "obj", 3, 300_000);
        try (var c = s.s3()) {
            c.getObject(g -> g.bucket("bkt").key("obj1"), ResponseTransformer.toBytes());
        }
        assertThat(s.s3Anonymous("/")).isEqualTo(403);
        assertThat(s.post("/api/fsck").statusCode()).isEqualTo(200);
        // A spill, so that the device copy gauges have something to count.
        assertThat(s.post("/api/object/spill?id=bkt/obj2").statusCode()).isEqualTo(200);
        metrics = s.get("/metrics").body();
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
    }

    @Test
    void everyMetricHasADescriptionAndFollowsTheNamingConventions() {
        Map<String, String[]> fam = MetricsText.families(metrics);
        assertThat(fam).isNotEmpty();
        for (var e : fam.entrySet()) {
            String name = e.getKey();
            String help = e.getValue()[0];
            String type = e.getValue()[1];
            if (!name.startsWith("spillway_")) {
                continue; // the JVM's and the registry's own, if any
            }
            assertThat(help).as("HELP of " + name).isNotBlank();
            // Micrometer's default "description" is the name itself: a real description says more.
            assertThat(help).as("HELP of " + name).isNotEqualTo(name);
            assertThat(name).as("name").matches("[a-z][a-z0-9_]*");
            if ("counter".equals(type)) {
                assertThat(name).as("counter " + name).endsWith("_total");
            } else {
                assertThat(name).as(type + " " + name).doesNotEndWith("_total");
            }
            if (name.contains("duration") || name.contains("latency")) {
                // Micrometer adds a gauge of the largest recent value beside each histogram: _seconds_max.
                assertThat(name).as(name).matches(".*_seconds(_max)?$");
            }
            if (name.contains("bytes")) {
                assertThat(name).as(name).matches(".*_bytes(_total|_per_second)?$");
            }
        }
    }

    @Test
    void s3AndDeviceLatenciesAreHistograms() {
        assertThat(metrics)
                .contains("spillway_s3_request_duration_seconds_bucket{")
                .contains("operation=\"PutObject\"")
                .contains("operation=\"GetObject\"")
                .contains("status=\"4xx\"")
                .contains("spillway_osd_operation_duration_seconds_bucket{")
                .contains("operation=\"commit\"");
        assertThat(MetricsText.families(metrics).get("spillway_s3_request_duration_seconds")[1])
                .isEqualTo("histogram");
    }

    @Test
    void gaugesAgreeWithTheAdminApi() throws Exception {
        // Both are read from one snapshot of the pool, renewed at most once a second: read the
        // metrics, the admin API's df, and the metrics again until both metric reads came from the
        // same snapshot (the pool is idle, so this settles at once), then compare.
        JsonNode df;
        String m1;
        String m2;
        int tries = 0;
        do {
            assertThat(tries++).as("the idle pool's figures settle").isLessThan(1000);
            m1 = s.get("/metrics").body();
            df = JSON.readTree(s.get("/api/df").body());
            m2 = s.get("/metrics").body();
        } while (!devicesPart(m1).equals(devicesPart(m2)));
        String metrics = m1;
        for (JsonNode d : df.path("devices")) {
            String n = d.path("name").asText();
            assertThat(MetricsText.value(metrics, "spillway_device_capacity_bytes", "device=\"" + n + "\""))
                    .isEqualTo(d.path("size").asDouble());
            assertThat(MetricsText.value(metrics, "spillway_device_available_bytes", "device=\"" + n + "\""))
                    .isEqualTo(d.path("available").asDouble());
        }
        // The spilled copy is counted on the spill device; the fast device has no per-copy gauge
        // (its statfs is exact, a zero there would lie).
        assertThat(metrics).contains("spillway_device_copies{device=\"slow\",state=\"in_sync\"} 1.0");
        assertThat(metrics).doesNotContain("spillway_device_copies{device=\"fast\"");
        // I/O errors per spill device, read and write apart (none here).
        assertThat(metrics).contains("spillway_device_io_errors_total{device=\"slow\",op=\"read\"} 0.0");
        assertThat(metrics).contains("spillway_device_io_errors_total{device=\"slow\",op=\"write\"} 0.0");
        long slowCopies = df.path("devices")
                .get(1)
                .path("copies")
                .path("in-sync")
                .path("copies")
                .asLong();
        assertThat(slowCopies).isEqualTo(1);
        assertThat(metrics).contains("spillway_checks_total{kind=\"fsck\",result=\"clean\"} 1.0");
        // Neither the pool's own records nor the gateway's indexes (superblock, garbage, the
        // bucket's keys and uploads) are stored objects: 3 objects were put.
        assertThat(MetricsText.value(metrics, "spillway_objects"))
                .as(df.toString())
                .isEqualTo(3.0);
        assertThat(df.path("summary").path("objects").asLong()).isEqualTo(3);
    }

    @Test
    void theDashboardAndTheAlertRulesUseOnlyMetricsThatExist() throws Exception {
        Set<String> exported = MetricsText.sampleNames(metrics);
        Set<String> families = MetricsText.families(metrics).keySet();
        Path docs = Path.of("..", "docs");
        JsonNode dash = JSON.readTree(docs.resolve("grafana-dashboard.json").toFile());
        Set<String> used = new TreeSet<>();
        for (JsonNode p : dash.path("panels")) {
            assertThat(p.path("targets")).as("panel " + p.path("title")).isNotEmpty();
            for (JsonNode t : p.path("targets")) {
                used.addAll(names(t.path("expr").asText()));
            }
        }
        String alerts = Files.readString(docs.resolve("prometheus-alerts.yml"));
        Matcher exprs = Pattern.compile("(?m)^\\s*expr:\\s*(.+)$").matcher(alerts);
        int rules = 0;
        while (exprs.find()) {
            used.addAll(names(exprs.group(1)));
            rules++;
        }
        assertThat(rules).isGreaterThanOrEqualTo(4);
        assertThat(alerts)
                .contains("spillway_fast_tier_high_watermark_ratio")
                .contains("spillway_jobs_oldest_age_seconds")
                .contains("state=\"failed\"")
                .contains("spillway_check_problems");
        assertThat(used).hasSizeGreaterThan(10);
        for (String u : used) {
            assertThat(exported.contains(u) || families.contains(u))
                    .as("metric " + u + " used by the dashboard or the alerts is exported")
                    .isTrue();
        }
    }

    private static String devicesPart(String text) {
        StringBuilder b = new StringBuilder();
        for (String l : text.split("\n")) {
            if (l.startsWith("spillway_device_") || l.startsWith("spillway_objects")) {
                b.append(l).append('\n');
            }
        }
        return b.toString();
    }

    private static Set<String> names(String expr) {
        Set<String> out = new TreeSet<>();
        Matcher m = Pattern.compile("spillway_[a-z0-9_]+").matcher(expr);
        while (m.find()) {
            out.add(m.group());
        }
        return out;
    }
}
