package dev.spillway.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TimeoutException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.WebDriverWait;
import software.amazon.awssdk.core.sync.ResponseTransformer;

/**
 * The status page in a real browser: Debian's headless Chromium driven by Selenium through
 * chromedriver (installed by {@code .ci/run}; the test is skipped, saying so, where they are
 * missing). The page loads with no console error, its tables and charts show the numbers the
 * admin API returns, and it updates after a spill. Every wait is for something to appear on the
 * page (an event), with a generous bound that only a broken page reaches. It leaves a screenshot
 * in {@code server/target/status-page.png} (the README shows a copy, {@code docs/status-page.png}).
 */
class StatusPageBrowserTest {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Duration PATIENCE = Duration.ofSeconds(90);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private TestServer s;
    private ChromeDriver browser;

    @BeforeEach
    void start() throws Exception {
        Assumptions.assumeTrue(
                Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "skipped: no browser here (" + CHROMIUM + " and " + CHROMEDRIVER
                        + " come from Debian's chromium and chromium-driver packages, which .ci/run installs)");
        s = new TestServer(tmp, Duration.ofMillis(250));
        s.put("photos", "2026/img-", 8, 1_500_000);
        s.put("backups", "db-", 3, 3_000_000);
        try (var c = s.s3()) {
            for (int i = 0; i < 3; i++) {
                c.getObject(g -> g.bucket("photos").key("2026/img-1"), ResponseTransformer.toBytes());
            }
        }
        ChromeOptions o = new ChromeOptions();
        o.setBinary(CHROMIUM.toFile());
        o.addArguments(
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1400,1900",
                "--user-data-dir=" + tmp.resolve("chromium-profile"));
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        o.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService svc = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort()
                .build();
        browser = new ChromeDriver(svc, o);
    }

    @AfterEach
    void stop() throws Exception {
        if (browser != null) {
            browser.quit();
        }
        if (s != null) {
            s.close();
        }
    }

    private Object js(String script) {
        return ((JavascriptExecutor) browser).executeScript(script);
    }

    private long refreshes() {
        Object n = js("return window.spillway ? window.spillway.refreshes : 0");
        return n == null ? 0 : ((Number) n).longValue();
    }

    /** Waits until the page has drawn {@code more} more refreshes than now. */
    private void waitForRefreshes(int more) {
        long target = refreshes() + more;
        new WebDriverWait(browser, PATIENCE).until(d -> refreshes() >= target);
    }

    /** Stops the page's refreshes and waits until none is in flight: its tables then stay as they are. */
    private void pause() {
        js("window.spillway.pause = true");
        new WebDriverWait(browser, PATIENCE).until(d -> Boolean.TRUE.equals(js("return window.spillway.busy === 0")));
    }

    private JsonNode api(String path) throws Exception {
        return JSON.readTree(s.get(path).body());
    }

    @Test
    void thePageShowsTheAdminApisNumbersWithoutErrorsAndUpdatesAfterASpill() throws Exception {
        browser.get(s.admin("/?refresh=300").toString());
        waitForRefreshes(2);
        assertThat(browser.getTitle()).isEqualTo("Spillway: srvtest");

        // Devices: the table's bytes are the admin API's (nothing writes meanwhile).
        JsonNode df = api("/api/df");
        // The page redraws its tables at each refresh: read them between two refreshes.
        pause();
        for (JsonNode d : df.path("devices")) {
            WebElement row = browser.findElement(
                    By.cssSelector("#devices tr[data-device='" + d.path("name").asText() + "']"));
            assertThat(row.findElement(By.cssSelector("td[data-bytes]")).getAttribute("data-bytes"))
                    .isEqualTo(Long.toString(d.path("used").asLong()));
            assertThat(row.getText())
                    .contains(d.path("tier").asText())
                    .contains(d.path("state").asText());
        }
        assertThat(browser.findElement(By.id("pool-line")).getText())
                .contains("11 objects")
                .contains("spills above 80%");
        assertThat(browser.findElement(By.id("s3-ops")).getText())
                .contains("PutObject")
                .contains("GetObject");
        js("window.spillway.pause = false");

        // Charts: every point drawn is the admin API's sample for that time.
        pause();
        assertChartMatchesHistory("chart-fast", 1, "fastUse", 100.0);
        assertChartMatchesHistory("chart-moved", 1, "spilledBytes", 1.0);
        assertThat(browser.findElement(By.id("spilled-bytes")).getAttribute("data-bytes"))
                .isEqualTo("0");
        js("window.spillway.pause = false");

        // A spill: the page follows.
        JsonNode spill =
                JSON.readTree(s.post("/api/object/spill?id=backups/db-1").body());
        assertThat(spill.path("outcome").asText()).isEqualTo("DONE");
        long moved = spill.path("bytes").asLong();
        assertThat(moved).isPositive();
        new WebDriverWait(browser, PATIENCE)
                .ignoring(StaleElementReferenceException.class)
                .until(d -> Long.toString(moved)
                        .equals(d.findElement(By.id("spilled-bytes")).getAttribute("data-bytes")));
        try {
            new WebDriverWait(browser, PATIENCE).until(d -> lastPoint("chart-moved", 1) == moved);
        } catch (TimeoutException e) {
            throw new AssertionError(
                    "chart-moved's last point " + lastPoint("chart-moved", 1) + " != " + moved
                            + "; page history tail: "
                            + js("var s = window.spillway.history.samples; return JSON.stringify(s.slice(-2))")
                            + "; api history size "
                            + api("/api/history").path("samples").size(),
                    e);
        }
        pause();
        assertChartMatchesHistory("chart-moved", 1, "spilledBytes", 1.0);
        js("window.spillway.pause = false");
        JsonNode slow = api("/api/df").path("devices").get(1);
        String slowUsed = Long.toString(slow.path("used").asLong());
        new WebDriverWait(browser, PATIENCE)
                .ignoring(StaleElementReferenceException.class)
                .until(d ->
                        slowUsed.equals(d.findElement(By.cssSelector("#devices tr[data-device='slow'] td[data-bytes]"))
                                .getAttribute("data-bytes")));
        assertThat(slow.path("used").asLong()).isGreaterThanOrEqualTo(moved);

        List<LogEntry> errors = browser.manage().logs().get(LogType.BROWSER).getAll().stream()
                .filter(e -> e.getLevel().intValue() >= Level.WARNING.intValue())
                .toList();
        assertThat(errors).as("browser console warnings and errors").isEmpty();

        byte[] png = browser.getScreenshotAs(OutputType.BYTES);
        Path shot = Path.of("target", "status-page.png");
        Files.createDirectories(shot.getParent());
        Files.write(shot, png);
        assertThat(png.length).isGreaterThan(10_000);
    }

    private double lastPoint(String chart, int series) {
        @SuppressWarnings("unchecked")
        List<List<Object>> data = (List<List<Object>>) js("return window.spillway.charts['" + chart + "'].data");
        List<Object> ys = data.get(series);
        Object v = ys.get(ys.size() - 1);
        return v == null ? Double.NaN : ((Number) v).doubleValue();
    }

    /** Each point of a chart's series equals {@code field * scale} of the admin API's sample at the same time. */
    private void assertChartMatchesHistory(String chart, int series, String field, double scale) throws Exception {
        @SuppressWarnings("unchecked")
        List<List<Object>> data = (List<List<Object>>) js("return window.spillway.charts['" + chart + "'].data");
        Map<Long, Double> api = new HashMap<>();
        for (JsonNode x : api("/api/history").path("samples")) {
            api.put(x.path("t").asLong(), x.path(field).asDouble() * scale);
        }
        List<Object> ts = data.get(0);
        List<Object> ys = data.get(series);
        assertThat(ts).as(chart + " points").isNotEmpty();
        int compared = 0;
        for (int i = 0; i < ts.size(); i++) {
            long t = Math.round(((Number) ts.get(i)).doubleValue() * 1000);
            Double want = api.get(t);
            if (want == null) {
                continue; // fallen out of the kept window since the page drew it
            }
            assertThat(((Number) ys.get(i)).doubleValue())
                    .as(chart + " at " + t)
                    .isCloseTo(want, Offset.offset(1e-9 * Math.max(1, Math.abs(want))));
            compared++;
        }
        assertThat(compared).as(chart + " points compared with /api/history").isPositive();
    }
}
