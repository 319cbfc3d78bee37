package dev.spillway.server.admin;

import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Properties;

/**
 * The status page: one HTML file and its script and style (this module's resources), and uPlot,
 * the charting library, from its WebJar on the classpath — all served by the server itself, so
 * the page works on a machine without internet. The script draws from {@code /api/status} and
 * {@code /api/history} and refreshes every few seconds.
 */
final class StatusPage {
    private static final String UPLOT = "/META-INF/resources/webjars/uplot/" + uplotVersion() + "/dist/";
    private static final String OWN = "/dev/spillway/server/status/";

    /** Path under /static/ -> classpath resource and content type. */
    private static final Map<String, String[]> FILES = Map.of(
            "/static/status.js", new String[] {OWN + "status.js", "text/javascript; charset=utf-8"},
            "/static/status.css", new String[] {OWN + "status.css", "text/css; charset=utf-8"},
            "/static/uPlot.min.js", new String[] {UPLOT + "uPlot.iife.min.js", "text/javascript; charset=utf-8"},
            "/static/uPlot.min.css", new String[] {UPLOT + "uPlot.min.css", "text/css; charset=utf-8"},
            "/static/uPlot.LICENSE",
                    new String[] {UPLOT.replace("dist/", "") + "LICENSE", "text/plain; charset=utf-8"});

    private StatusPage() {}

    private static String uplotVersion() {
        try (InputStream in =
                StatusPage.class.getResourceAsStream("/META-INF/maven/org.webjars.npm/uplot/pom.properties")) {
            if (in != null) {
                var p = new Properties();
                p.load(in);
                return p.getProperty("version", "1.6.30");
            }
        } catch (IOException ignored) {
            // Fall back to the version the build pins.
        }
        return "1.6.30";
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    static AdminApi.Reply serve(String path, String poolName) throws OsdException {
        if (path.equals("/") || path.equals("/index.html")) {
            String html =
                    new String(resource(OWN + "index.html"), StandardCharsets.UTF_8).replace("{{POOL}}", esc(poolName));
            return new AdminApi.Reply(200, "text/html; charset=utf-8", html.getBytes(StandardCharsets.UTF_8));
        }
        String[] f = FILES.get(path);
        if (f == null) {
            throw new OsdException(Errno.ENOENT, null, null, "no such page " + path);
        }
        return new AdminApi.Reply(200, f[1], resource(f[0]));
    }

    private static byte[] resource(String name) throws OsdException {
        try (InputStream in = StatusPage.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new OsdException(
                        Errno.ENOENT, null, null, "status page resource " + name + " is missing from the build");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new OsdException(Errno.EIO, null, null, "status page resource " + name + ": " + e.getMessage(), e);
        }
    }
}
