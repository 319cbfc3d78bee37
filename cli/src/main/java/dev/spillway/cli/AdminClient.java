package dev.spillway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.server.Credentials;
import dev.spillway.server.DataDir;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Talks to a running server's admin API. Errors come back as {@link OsdException}s with the
 * server's errno and message, so the CLI reports them like local ones.
 */
public final class AdminClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final URI base;
    private final String token;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private AdminClient(URI base, String token) {
        this.base = base;
        this.token = token;
    }

    /** Finds the server through the data folder's endpoint file, or uses {@code endpoint}. */
    static AdminClient of(Path data, String endpoint) throws OsdException {
        return of(new DataDir(data), endpoint);
    }

    static AdminClient of(DataDir dir, String endpoint) throws OsdException {
        URI url = endpoint != null ? URI.create(endpoint) : adminEndpoint(dir);
        String tok;
        String envKey = System.getenv("SPILLWAY_ACCESS_KEY");
        String envSecret = System.getenv("SPILLWAY_SECRET_KEY");
        if (envKey != null && envSecret != null) {
            tok = envKey + ":" + envSecret;
        } else if (dir.hasCredentials()) {
            Credentials c = Credentials.load(dir);
            tok = c.accessKey() + ":" + c.secretKey();
        } else {
            throw new OsdException(
                    Errno.EACCES,
                    null,
                    null,
                    "no credentials: neither " + dir.credentials() + " nor SPILLWAY_ACCESS_KEY/SPILLWAY_SECRET_KEY",
                    null);
        }
        return new AdminClient(url, tok);
    }

    /** The admin API's address as the running server published it in the data folder. */
    static URI adminEndpoint(DataDir dir) throws OsdException {
        Optional<JsonNode> e = dir.readEndpoint();
        if (e.isEmpty()) {
            throw new OsdException(
                    Errno.ENOENT,
                    null,
                    null,
                    "no running server found for " + dir.root()
                            + " (no " + dir.endpoint().getFileName() + "); start one with `spillway serve --data "
                            + dir.root()
                            + "` or give --endpoint",
                    null);
        }
        String admin = e.get().path("admin").asText("");
        URI uri;
        try {
            uri = URI.create(admin);
        } catch (IllegalArgumentException bad) {
            uri = null;
        }
        if (uri == null || uri.getScheme() == null || uri.getHost() == null) {
            throw new OsdException(
                    Errno.ENOENT,
                    null,
                    null,
                    "no running server found for " + dir.root() + " ("
                            + dir.endpoint().getFileName()
                            + " names no admin address: '" + admin + "'); start one with `spillway serve --data "
                            + dir.root() + "` or give --endpoint",
                    null);
        }
        return uri;
    }

    static String q(Map<String, String> params) {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, String> e : params.entrySet()) {
            if (e.getValue() == null) {
                continue;
            }
            sb.append(sb.isEmpty() ? "?" : "&")
                    .append(URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8))
                    .append('=')
                    .append(URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8));
        }
        return sb.toString();
    }

    static Map<String, String> params(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i + 1 < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    byte[] raw(String method, String path, Map<String, String> params) throws OsdException {
        HttpRequest req = HttpRequest.newBuilder(base.resolve("/api/" + path + q(params)))
                .header("Authorization", "Bearer " + token)
                .timeout(Duration.ofHours(1))
                .method(method, HttpRequest.BodyPublishers.noBody())
                .build();
        HttpResponse<byte[]> r;
        try {
            r = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
        } catch (ConnectException e) {
            throw new OsdException(
                    Errno.ECANCELED,
                    null,
                    null,
                    "the server at " + base + " does not answer: is `spillway serve` running? (a stale "
                            + "endpoint.json is left by a server that was killed)",
                    e);
        } catch (IOException e) {
            throw new OsdException(Errno.EIO, null, null, "admin API " + base + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new OsdException(Errno.EINVAL, null, null, "interrupted", e);
        }
        if (r.statusCode() / 100 != 2) {
            Errno errno = Errno.EIO;
            String msg = "admin API " + base + " answered HTTP " + r.statusCode() + ": "
                    + new String(r.body(), StandardCharsets.UTF_8).strip();
            String device = null;
            Fid fid = null;
            try {
                JsonNode j = JSON.readTree(r.body());
                errno = Errno.valueOf(j.path("error").asText("EIO"));
                msg = j.path("message").asText(msg);
                device = j.path("device").isTextual() ? j.path("device").asText() : null;
                fid = j.path("fid").isTextual() ? Fid.parse(j.path("fid").asText()) : null;
            } catch (IOException | IllegalArgumentException ignored) {
                // Not our JSON: keep the raw body as the message.
            }
            throw new OsdException(errno, device, fid, msg, null);
        }
        return r.body();
    }

    JsonNode call(String method, String path, Map<String, String> params) throws OsdException {
        byte[] b = raw(method, path, params);
        try {
            return JSON.readTree(b);
        } catch (IOException e) {
            throw new OsdException(
                    Errno.EPROTO, null, null, "admin API answered something that is not JSON: " + e.getMessage(), e);
        }
    }

    /**
     * Runs a long operation as a server task ({@code async=true}), polling its progress into
     * {@code bar} until it finishes; returns its result or throws its error.
     */
    JsonNode task(String path, Map<String, String> params, ProgressBar bar) throws OsdException {
        Map<String, String> p = new LinkedHashMap<>(params);
        p.put("async", "true");
        JsonNode t = call("POST", path, p);
        long id = t.path("task").asLong();
        while (true) {
            t = call("GET", "tasks/" + id, Map.of());
            bar.update(
                    t.path("phase").asText(),
                    t.path("done").asLong(),
                    t.path("total").asLong());
            if (t.path("finished").asBoolean()) {
                break;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new OsdException(
                        Errno.ECANCELED, null, null, "interrupted; the server's task " + id + " goes on");
            }
        }
        bar.finish();
        if (t.has("error")) {
            Errno errno;
            try {
                errno = Errno.valueOf(t.path("error").asText());
            } catch (IllegalArgumentException e) {
                errno = Errno.EIO;
            }
            throw new OsdException(errno, null, null, t.path("message").asText(), null);
        }
        return t.path("result");
    }

    static String pretty(JsonNode n) {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n);
        } catch (IOException e) {
            return n.toString();
        }
    }
}
