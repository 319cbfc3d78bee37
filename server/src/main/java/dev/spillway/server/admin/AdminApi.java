package dev.spillway.server.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.StatFs;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.layout.LayoutPrinter;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.Counters;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.WorkIndex;
import dev.spillway.pool.ops.DeviceOps;
import dev.spillway.pool.ops.Migrator;
import dev.spillway.pool.recovery.Fsck;
import dev.spillway.server.Credentials;
import dev.spillway.server.metrics.PoolMetrics;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;

/**
 * The admin API: JSON over HTTP, every call authenticated with the pool's credentials
 * ({@code Authorization: Bearer ACCESS:SECRET}), errors as {@code {"error": "ENOENT", "message": …}}
 * with the status from {@link HttpErrors}. {@code /metrics} (Prometheus) and {@code /} (a status
 * page) are open, on the loopback address the server listens on by default.
 */
final class AdminApi extends Handler.Abstract {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final PoolOsd pool;
    private final byte[] token;
    private final PoolMetrics metrics;
    private volatile Function<String, Fid> resolver;
    private volatile dev.spillway.migrate.daemon.MigrationDaemon daemon;
    private volatile AdminServer.Resizer resizer;
    private volatile AdminServer.UploadsView uploads;

    AdminApi(PoolOsd pool, Credentials c, PoolMetrics metrics) {
        this.pool = pool;
        this.token = (c.accessKey() + ":" + c.secretKey()).getBytes(StandardCharsets.UTF_8);
        this.metrics = metrics;
        this.resolver = id -> null;
    }

    void daemon(dev.spillway.migrate.daemon.MigrationDaemon d) {
        this.daemon = d;
    }

    void resizer(AdminServer.Resizer r) {
        this.resizer = r;
    }

    void uploads(AdminServer.UploadsView u) {
        this.uploads = u;
    }

    /** An object named by a FID, or (through the gateway, when wired) by {@code bucket/key}. */
    void resolver(Function<String, Fid> r) {
        this.resolver = r;
    }

    private record Reply(int status, String type, byte[] body) {
        static Reply json(Object o) throws Exception {
            return new Reply(200, "application/json", JSON.writeValueAsBytes(o));
        }
    }

    @Override
    public boolean handle(Request req, Response resp, Callback cb) throws Exception {
        String path = Request.getPathInContext(req);
        Fields q = Request.extractQueryParameters(req);
        Reply r;
        long t0 = System.nanoTime();
        try {
            if (path.equals("/metrics")) {
                r = new Reply(
                        200,
                        "text/plain; version=0.0.4; charset=utf-8",
                        metrics.scrape().getBytes(StandardCharsets.UTF_8));
            } else if (path.equals("/") || path.equals("/index.html")) {
                r = new Reply(
                        200, "text/html; charset=utf-8", StatusPage.render(pool).getBytes(StandardCharsets.UTF_8));
            } else if (!path.startsWith("/api/")) {
                throw new OsdException(Errno.ENOENT, pool.name(), null, "no such page " + path);
            } else {
                authenticate(req);
                r = route(req.getMethod(), path.substring(5), q);
            }
        } catch (OsdException e) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("error", e.errno().name());
            m.put("message", e.getMessage());
            r = new Reply(HttpErrors.status(e.errno()), "application/json", JSON.writeValueAsBytes(m));
        } catch (IllegalArgumentException e) {
            Map<String, Object> m = Map.of("error", "EINVAL", "message", e.getMessage());
            r = new Reply(400, "application/json", JSON.writeValueAsBytes(m));
        }
        metrics.requests("admin", path.startsWith("/api/") ? path.substring(5).split("/")[0] : path)
                .record(System.nanoTime() - t0, java.util.concurrent.TimeUnit.NANOSECONDS);
        resp.setStatus(r.status());
        resp.getHeaders().put(HttpHeader.CONTENT_TYPE, r.type());
        resp.write(true, ByteBuffer.wrap(r.body()), cb);
        return true;
    }

    private void authenticate(Request req) throws OsdException {
        String h = req.getHeaders().get(HttpHeader.AUTHORIZATION);
        byte[] got = h != null && h.startsWith("Bearer ")
                ? h.substring(7).trim().getBytes(StandardCharsets.UTF_8)
                : new byte[0];
        if (!MessageDigest.isEqual(got, token)) {
            throw new OsdException(
                    Errno.EACCES,
                    pool.name(),
                    null,
                    "admin API needs 'Authorization: Bearer ACCESS_KEY:SECRET_KEY' (see `spillway credentials`)");
        }
    }

    private static String param(Fields q, String name) throws OsdException {
        String v = q.getValue(name);
        if (v == null || v.isEmpty()) {
            throw new OsdException(Errno.EINVAL, null, null, "missing parameter '" + name + "'", null);
        }
        return v;
    }

    private PoolDevice device(String name) throws OsdException {
        return pool.device(name)
                .orElseThrow(() -> new OsdException(
                        Errno.ENOENT,
                        pool.name(),
                        null,
                        "no device '" + name + "' (devices: "
                                + pool.devices().stream().map(PoolDevice::name).toList() + ")"));
    }

    private Fid object(Fields q) throws OsdException {
        String id = param(q, "id");
        try {
            return Fid.parse(id);
        } catch (IllegalArgumentException notFid) {
            Fid f = resolver.apply(id);
            if (f == null) {
                throw new OsdException(
                        Errno.ENOENT,
                        pool.name(),
                        null,
                        "no object '" + id + "' (give a FID [0x…:0x…:0x…] or bucket/key)");
            }
            return f;
        }
    }

    private Reply route(String method, String path, Fields q) throws Exception {
        String[] p = path.split("/");
        boolean get = method.equals("GET");
        switch (p[0]) {
            case "status":
                return Reply.json(status());
            case "df":
                return Reply.json(df());
            case "devices":
                if (p.length == 1 && get) {
                    return Reply.json(devices());
                }
                if (p.length == 3 && !get) {
                    PoolDevice d = device(p[1]);
                    return switch (p[2]) {
                        case "state" -> {
                            DeviceState s;
                            try {
                                s = DeviceState.parse(param(q, "state"));
                            } catch (IllegalArgumentException e) {
                                throw new OsdException(
                                        Errno.EINVAL,
                                        pool.name(),
                                        null,
                                        "unknown state '" + q.getValue("state")
                                                + "' (rw, ro, evacuating, spare, failed)");
                            }
                            pool.deviceOps().setState(d, s);
                            yield Reply.json(devices());
                        }
                        case "evacuate" ->
                            Reply.json(progress(pool.deviceOps().evacuateStep(d, intParam(q, "max", 64))));
                        case "replace-lost" ->
                            Reply.json(progress(pool.deviceOps().replaceLost(d, intParam(q, "max", 64))));
                        case "capacity" -> {
                            if (resizer == null) {
                                throw new OsdException(
                                        Errno.EOPNOTSUPP, pool.name(), null, "this server cannot resize devices");
                            }
                            Map<String, Object> m = new LinkedHashMap<>();
                            m.put("device", d.name());
                            m.put("result", resizer.resize(d.name(), param(q, "size")));
                            m.put("capacity", d.osd().statfs().totalBytes());
                            pool.capacity().target().ifPresent(t -> m.put("target", t));
                            yield Reply.json(m);
                        }
                        default ->
                            throw new OsdException(
                                    Errno.ENOENT, pool.name(), null, "no device operation '" + p[2] + "'");
                    };
                }
                break;
            case "object":
                if (p.length == 2) {
                    return objectOp(p[1], q, get);
                }
                break;
            case "jobs":
                return Reply.json(jobs());
            case "inactive":
                return Reply.json(inactive(q));
            case "daemon":
                if (!get && p.length == 2 && p[1].equals("run")) {
                    return Reply.json(daemon.runOnce());
                }
                return Reply.json(daemon.status());
            case "gc": {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("collected", pool.migrator().collectGarbage());
                if (uploads != null) {
                    m.put("multipartUploads", uploadsMap());
                }
                return Reply.json(m);
            }
            case "fsck":
            case "scrub": {
                boolean repair = Boolean.parseBoolean(q.getValue("repair"));
                boolean deep = p[0].equals("scrub") || Boolean.parseBoolean(q.getValue("deep"));
                Fsck.Report rep = Fsck.run(pool, repair, deep, null);
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("clean", rep.clean());
                m.put("objects", rep.objects());
                m.put("copies", rep.copies());
                m.put("problems", rep.problems().stream().map(Object::toString).toList());
                return Reply.json(m);
            }
            default:
                break;
        }
        throw new OsdException(Errno.ENOENT, pool.name(), null, "no admin call " + method + " /api/" + path);
    }

    private static int intParam(Fields q, String name, int def) {
        String v = q.getValue(name);
        return v == null ? def : Integer.parseInt(v);
    }

    private Reply objectOp(String op, Fields q, boolean get) throws Exception {
        Fid f = object(q);
        if (op.equals("layout")) {
            if (q.getValue("raw") != null) {
                return new Reply(200, "application/octet-stream", pool.store().layout(f));
            }
            return Reply.json(layout(f));
        }
        if (get) {
            throw new OsdException(Errno.EINVAL, pool.name(), f, "object operation '" + op + "' needs POST");
        }
        Migrator m = pool.migrator();
        Migrator.Result r = switch (op) {
            case "spill" -> m.spill(f, q.getValue("to") != null ? device(q.getValue("to")) : firstBackground(f));
            case "copy" -> m.copy(f, device(param(q, "to")), false);
            case "promote" -> m.promote(f);
            case "release" -> m.release(f);
            case "migrate" -> m.migrate(f, device(param(q, "from")), device(param(q, "to")));
            case "resync" -> resync(f);
            case "split" -> m.dropMirror(f, Integer.parseInt(param(q, "mirror")));
            case "verify" -> verify(f);
            default -> throw new OsdException(Errno.ENOENT, pool.name(), f, "no object operation '" + op + "'");
        };
        metrics.migration(op, r.outcome().name().toLowerCase(), r.bytes());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("fid", f.toString());
        out.put("outcome", r.outcome().name());
        out.put("bytes", r.bytes());
        out.put("detail", r.detail());
        return Reply.json(out);
    }

    private PoolDevice firstBackground(Fid f) throws OsdException {
        PoolObject p = pool.store().require(f);
        return pool.deviceOps()
                .target(p, null)
                .orElseThrow(() -> new OsdException(
                        Errno.ENOSPC, pool.name(), f, "no writable background device without a copy of this object"));
    }

    private Migrator.Result resync(Fid f) throws OsdException {
        PoolObject p = pool.store().require(f);
        int done = 0;
        for (Copy c : p.copies()) {
            if (c.state() == CopyState.STALE) {
                pool.migrator().resync(f, c.device());
                done++;
            }
        }
        return new Migrator.Result(
                done > 0 ? Migrator.Outcome.DONE : Migrator.Outcome.NOTHING_TO_DO,
                0,
                done + " stale mirror(s) resynced");
    }

    private Migrator.Result verify(Fid f) throws OsdException {
        PoolObject p = pool.store().require(f);
        List<String> bad = new ArrayList<>();
        for (Copy c : p.inSync()) {
            if (c.device() == pool.metadata().index()) {
                continue;
            }
            try {
                dev.spillway.pool.io.CopyIo.verify(pool.device(c.device()), f, c, p.size());
            } catch (OsdException e) {
                bad.add("mirror " + c.mirrorId() + ": " + e.getMessage());
                pool.migrator().markBad(f, c, e);
            }
        }
        return new Migrator.Result(
                bad.isEmpty() ? Migrator.Outcome.DONE : Migrator.Outcome.REFUSED,
                0,
                bad.isEmpty() ? "every in-sync copy matches its checksums" : String.join("; ", bad));
    }

    private Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pool", pool.name());
        m.put("recovery", String.valueOf(pool.recoveryReport()));
        m.put("devices", pool.devices().size());
        m.put("replicas", pool.replicas());
        return m;
    }

    private Map<String, Object> df() throws OsdException {
        StatFs s = pool.statfs();
        Map<Integer, Map<CopyState, long[]>> counted =
                Counters.totals(pool.metadata().osd());
        List<Map<String, Object>> rows = new ArrayList<>();
        for (PoolDevice d : pool.devices()) {
            StatFs r = s.devices().get(d.index());
            Map<String, Object> m = row(r);
            m.put("index", d.index());
            m.put("backend", d.backend());
            m.put("roles", d.roles().stream().map(x -> x.yamlName()).sorted().toList());
            m.put("state", d.state().yamlName());
            Map<String, Object> states = new TreeMap<>();
            counted.getOrDefault(d.index(), Map.of())
                    .forEach((st, v) -> states.put(st.name().toLowerCase(), Map.of("bytes", v[0], "copies", v[1])));
            m.put("copies", states);
            rows.add(m);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("pool", pool.name());
        out.put("devices", rows);
        out.put("summary", row(s));
        out.put("space", space());
        if (uploads != null) {
            out.put("multipartUploads", uploadsMap());
        }
        return out;
    }

    /** The reserve, the writers waiting for room, a capacity being reached by spilling. */
    private Map<String, Object> space() {
        Map<String, Object> m = new LinkedHashMap<>();
        pool.reservePlan().ifPresent(p -> {
            m.put("reserve", p.total());
            m.put("reserveDevice", pool.metadata().name());
            m.put("reservePlan", p.describe());
        });
        pool.capacity().target().ifPresent(t -> m.put("shrinkingTo", t));
        var w = pool.roomQueue().stats();
        m.put("writersWaiting", w.waiting());
        m.put("writersWaited", w.waited());
        m.put("writersTimedOut", w.timedOut());
        m.put("writerMaxWaitMs", w.maxWaitNanos() / 1_000_000);
        m.put("writerWaitLimitMs", pool.config().space().writerWait().toMillis());
        return m;
    }

    private Map<String, Object> uploadsMap() throws OsdException {
        var u = uploads.summary();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("uploads", u.uploads());
        m.put("parts", u.parts());
        m.put("bytes", u.bytes());
        if (u.oldestInitiatedMillis() > 0) {
            m.put(
                    "oldestInitiated",
                    java.time.Instant.ofEpochMilli(u.oldestInitiatedMillis()).toString());
        }
        if (u.nextExpiryMillis() > 0) {
            m.put(
                    "nextExpiry",
                    java.time.Instant.ofEpochMilli(u.nextExpiryMillis()).toString());
        }
        return m;
    }

    private static Map<String, Object> row(StatFs r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", r.device());
        m.put("size", r.totalBytes());
        m.put("used", r.usedBytes());
        m.put("available", r.availableBytes());
        m.put("objects", r.objects());
        m.put("flags", r.flags().stream().map(Enum::name).sorted().toList());
        return m;
    }

    private List<Map<String, Object>> devices() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (PoolDevice d : pool.devices()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("index", d.index());
            m.put("name", d.name());
            m.put("backend", d.backend());
            m.put("roles", d.roles().stream().map(x -> x.yamlName()).sorted().toList());
            m.put("state", d.state().yamlName());
            m.put("durability", d.durability());
            out.add(m);
        }
        return out;
    }

    private static Map<String, Object> progress(DeviceOps.Progress p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("moved", p.moved());
        m.put("failed", p.failed());
        m.put("remaining", p.remaining());
        m.put("done", p.done());
        m.put("errors", p.errors());
        return m;
    }

    private Map<String, Object> layout(Fid f) throws OsdException {
        if (pool.store().load(f).isEmpty()) {
            return manifestLayout(f);
        }
        PoolObject p = pool.store().require(f);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("fid", f.toString());
        m.put("size", p.size());
        m.put("dataVersion", p.dataVersion());
        m.put(
                "getstripe",
                LayoutPrinter.getstripe(pool.store().decodedLayout(f), f.toString(), java.time.ZoneOffset.UTC));
        List<Map<String, Object>> cs = new ArrayList<>();
        for (Copy c : p.copies()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("mirror", c.mirrorId());
            x.put("device", pool.device(c.device()).name());
            x.put("key", c.key().toString());
            x.put("state", c.state().name().toLowerCase());
            x.put("version", c.version());
            x.put("preferred", c.preferred());
            cs.add(x);
        }
        m.put("copies", cs);
        return m;
    }

    /**
     * An INDEX object whose entries name DATA objects (an S3 multipart object's manifest: part
     * end offset -> part FID): the layout of every part, in order.
     */
    private Map<String, Object> manifestLayout(Fid f) throws OsdException {
        List<Map<String, Object>> parts = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        try (var c = pool.cursor(f, null)) {
            while (c.next()) {
                byte[] v = c.value();
                if (v.length < Fid.BYTES) {
                    throw new OsdException(
                            Errno.EISDIR, pool.name(), f, "an index object, not a DATA object or a multipart manifest");
                }
                Fid part = Fid.fromBytes(v, 0);
                Map<String, Object> m = layout(part);
                parts.add(m);
                text.append("# part ")
                        .append(parts.size())
                        .append(": ")
                        .append(part)
                        .append('\n')
                        .append(m.get("getstripe"));
            }
        }
        if (parts.isEmpty()) {
            throw new OsdException(Errno.EISDIR, pool.name(), f, "an empty index object: no layout");
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("fid", f.toString());
        m.put("manifest", true);
        m.put("parts", parts);
        m.put("getstripe", text.toString());
        return m;
    }

    private Map<String, Object> jobs() throws OsdException {
        List<Job> all = WorkIndex.all(pool.metadata().osd());
        Map<String, Integer> byKind = new TreeMap<>();
        List<String> list = new ArrayList<>();
        for (Job j : all) {
            byKind.merge(j.kind().name(), 1, Integer::sum);
            if (list.size() < 1000) {
                list.add(j.toString());
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("queued", byKind);
        m.put("jobs", list);
        if (uploads != null) {
            m.put("multipartUploads", uploadsMap());
        }
        if (daemon != null) {
            m.put("daemon", daemon.status());
            m.put("chores", daemon.choresDone());
        }
        return m;
    }

    private Map<String, Object> inactive(Fields q) throws OsdException {
        java.time.Duration age;
        try {
            age = dev.spillway.osd.spi.OsdConfig.parseDuration(
                    q.getValue("older-than") == null ? "7d" : q.getValue("older-than"));
        } catch (IllegalArgumentException e) {
            throw new OsdException(Errno.EINVAL, pool.name(), null, "older-than: " + e.getMessage());
        }
        int limit = intParam(q, "limit", 1000);
        List<Map<String, Object>> out = new ArrayList<>();
        for (var c : daemon.inactive(age, limit)) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("fid", c.fid().toString());
            m.put("size", c.sizeBytes());
            m.put("heat", c.heat());
            m.put("lastAccess", String.valueOf(c.lastAccess()));
            m.put("resident", c.resident());
            out.add(m);
        }
        return Map.of("olderThan", age.toString(), "objects", out);
    }
}
