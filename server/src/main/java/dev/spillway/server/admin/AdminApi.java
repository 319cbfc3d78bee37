package dev.spillway.server.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.spillway.gateway.s3.ObjectNames;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.Span;
import dev.spillway.pool.ops.DeviceOps;
import dev.spillway.pool.ops.LostCopies;
import dev.spillway.pool.ops.Migrator;
import dev.spillway.pool.ops.MoveResult;
import dev.spillway.pool.recovery.Fsck;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;

/**
 * The admin API: JSON over HTTP. Calls that change or name objects are authenticated with the
 * pool's credentials ({@code Authorization: Bearer ACCESS:SECRET}); errors come as
 * {@code {"error": "ENOENT", "device": …, "fid": …, "message": …}} with the status from
 * {@link HttpErrors}, the message without the errno (the CLI prints the errno once). Open, like
 * {@code /metrics}, on the loopback address the server listens on by default: the status page
 * {@code /}, its files under {@code /static/}, and the read-only figures it draws,
 * {@code /api/status} and {@code /api/history}.
 */
final class AdminApi extends Handler.Abstract {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final AdminServer.Context ctx;
    private final byte[] token;
    private final ObjectView objects;
    private final PoolViews views;
    private final Tasks tasks = new Tasks();

    AdminApi(AdminServer.Context ctx) {
        this.ctx = ctx;
        this.token =
                (ctx.credentials().accessKey() + ":" + ctx.credentials().secretKey()).getBytes(StandardCharsets.UTF_8);
        this.objects = new ObjectView(ctx.pool(), ctx.names());
        this.views = new PoolViews(ctx, objects);
    }

    record Reply(int status, String type, byte[] body) {
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
                        ctx.metrics().scrape().getBytes(StandardCharsets.UTF_8));
            } else if (path.equals("/") || path.equals("/index.html") || path.startsWith("/static/")) {
                r = StatusPage.serve(path, ctx.pool().name());
            } else if (!path.startsWith("/api/")) {
                throw new OsdException(Errno.ENOENT, null, null, "no such page " + path + " (try / or /metrics)");
            } else if (req.getMethod().equals("GET") && path.equals("/api/status")) {
                r = Reply.json(views.status());
            } else if (req.getMethod().equals("GET") && path.equals("/api/history")) {
                r = Reply.json(Map.of("samples", ctx.history().samples()));
            } else {
                authenticate(req);
                r = route(req.getMethod(), path.substring(5), q);
            }
        } catch (OsdException e) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("error", e.errno().name());
            // The pool's own name adds nothing to a message the pool's CLI prints.
            m.put("device", ctx.pool().name().equals(e.device()) ? null : e.device());
            m.put("fid", e.fid() == null ? null : e.fid().toString());
            m.put("message", e.detail());
            r = new Reply(HttpErrors.status(e.errno()), "application/json", JSON.writeValueAsBytes(m));
        } catch (IllegalArgumentException e) {
            Map<String, Object> m = Map.of("error", "EINVAL", "message", String.valueOf(e.getMessage()));
            r = new Reply(400, "application/json", JSON.writeValueAsBytes(m));
        }
        String op = path.startsWith("/api/")
                ? path.substring(5).split("/")[0]
                : path.startsWith("/static/") ? "static" : path;
        ctx.metrics().adminRequest(op).record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
        resp.setStatus(r.status());
        resp.getHeaders().put(HttpHeader.CONTENT_TYPE, r.type());
        resp.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
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
                    null,
                    null,
                    "admin API needs 'Authorization: Bearer ACCESS_KEY:SECRET_KEY' (see `spillway credentials`)");
        }
    }

    /**
     * A parameter the call needs; when it is missing the message says what is missing in the
     * words of the command line ({@code what}), not the HTTP parameter's name.
     */
    static String param(Fields q, String name, String what) throws OsdException {
        String v = q.getValue(name);
        if (v == null || v.isEmpty()) {
            throw new OsdException(Errno.EINVAL, null, null, "no " + what + " given");
        }
        return v;
    }

    private PoolDevice device(String name) throws OsdException {
        return ctx.pool()
                .device(name)
                .orElseThrow(() -> new OsdException(
                        Errno.ENOENT,
                        null,
                        null,
                        "no device '" + name + "' (devices: "
                                + String.join(
                                        ", ",
                                        ctx.pool().devices().stream()
                                                .map(PoolDevice::name)
                                                .toList())
                                + ")"));
    }

    /**
     * The object a call names ({@code id}): a FID, or a {@code bucket/key} through the gateway
     * (see {@link ObjectRef}). A malformed name is a usage error (EINVAL); a missing bucket, key
     * or FID says which, and how to find the right one.
     */
    private Fid object(Fields q) throws OsdException {
        ObjectRef ref = ObjectRef.parse(q.getValue("id"));
        if (!ref.byFid()) {
            if (ctx.names() == null) {
                throw new OsdException(
                        Errno.ENOENT, null, null, "no S3 gateway to resolve '" + ref + "': give the object's FID");
            }
            return ctx.names().locate(ref.bucket(), ref.key());
        }
        Fid f = ref.fid();
        if (!exists(f)) {
            throw new OsdException(
                    Errno.ENOENT,
                    null,
                    f,
                    "no such object in pool '" + ctx.pool().name()
                            + "' (`spillway getstripe BUCKET/KEY` prints an object's FID; `spillway inactive` lists FIDs)");
        }
        return f;
    }

    /** True if {@code f} is a DATA object of the pool or any other object on its metadata device. */
    private boolean exists(Fid f) throws OsdException {
        try {
            if (ctx.pool().object(f).isPresent()) {
                return true;
            }
            ctx.pool().getAttr(f);
            return true;
        } catch (OsdException e) {
            if (e.is(Errno.ENOENT)) {
                return false;
            }
            throw e;
        }
    }

    /**
     * The parts of {@code f} if it is a multipart object's manifest; empty for anything else,
     * including an object that does not exist.
     */
    private List<ObjectNames.Part> multipartParts(Fid f) throws OsdException {
        if (ctx.names() == null) {
            return List.of();
        }
        try {
            return ctx.names().parts(f);
        } catch (OsdException e) {
            if (e.is(Errno.ENOENT) || e.is(Errno.EINVAL) || e.is(Errno.EISDIR)) {
                return List.of();
            }
            throw e;
        }
    }

    /**
     * The error for an operation that works on one body, asked of a multipart object: its layout
     * and copies are per part, so it says which part FIDs to ask for.
     */
    private OsdException perPart(Fid f, String asked, List<ObjectNames.Part> parts, String command) {
        StringBuilder sb = new StringBuilder();
        int shown = Math.min(parts.size(), 4);
        long start = 0;
        for (int i = 0; i < shown; i++) {
            ObjectNames.Part part = parts.get(i);
            sb.append(i == 0 ? "" : ", ")
                    .append("`spillway ")
                    .append(command)
                    .append(' ')
                    .append(part.fid())
                    .append("` (part ")
                    .append(part.number())
                    .append(", bytes [")
                    .append(start)
                    .append(", ")
                    .append(start + part.size())
                    .append("))");
            start += part.size();
        }
        if (parts.size() > shown) {
            sb.append(", … ")
                    .append(parts.size() - shown)
                    .append(" more (`spillway getstripe --json ")
                    .append(asked)
                    .append("` lists every part)");
        }
        return new OsdException(
                Errno.EISDIR,
                null,
                f,
                (asked.equals(f.toString()) ? "" : asked + " ") + "is a multipart object of " + parts.size()
                        + " part" + (parts.size() == 1 ? "" : "s") + " and each part has its own layout and copies: "
                        + sb);
    }

    private Reply route(String method, String path, Fields q) throws Exception {
        String[] p = path.split("/");
        boolean get = method.equals("GET");
        var pool = ctx.pool();
        switch (p[0]) {
            case "df":
                return Reply.json(views.df());
            case "devices":
                if (p.length == 1 && get) {
                    return Reply.json(views.devices());
                }
                if (p.length == 3 && get && p[2].equals("lost")) {
                    return Reply.json(lost(device(p[1])));
                }
                if (p.length == 3 && !get) {
                    PoolDevice d = device(p[1]);
                    return switch (p[2]) {
                        case "state" -> {
                            DeviceState s;
                            try {
                                s = DeviceState.parse(
                                        param(q, "state", "device state (rw, ro, evacuating, spare, failed)"));
                            } catch (IllegalArgumentException e) {
                                throw new OsdException(
                                        Errno.EINVAL,
                                        null,
                                        null,
                                        "unknown state '" + q.getValue("state")
                                                + "' (rw, ro, evacuating, spare, failed)");
                            }
                            // A failure is an event through the server's failure listener.
                            DeviceOps.StateChange c = pool.deviceOps().setState(d, s);
                            yield Reply.json(stateChange(c, views.devices()));
                        }
                        case "replace" -> {
                            PoolDevice with = device(param(q, "with", "the new device (NEW)"));
                            DeviceOps.Progress pr = pool.deviceOps().replaceStep(d, with, intParam(q, "max", 64));
                            if (pr.remaining() == 0) {
                                ctx.events()
                                        .add(
                                                "device",
                                                true,
                                                d.name() + " replaced by " + with.name() + "; it is now spare");
                            }
                            Map<String, Object> m = progress(pr);
                            m.put("state", d.state().yamlName());
                            yield Reply.json(m);
                        }
                        case "evacuate" -> Reply.json(evacuate(d, intParam(q, "max", 64)));
                        case "replace-lost" ->
                            Reply.json(progress(pool.deviceOps().replaceLost(d, intParam(q, "max", 64))));
                        case "capacity" -> {
                            if (ctx.resizer() == null) {
                                throw new OsdException(
                                        Errno.EOPNOTSUPP, pool.name(), null, "this server cannot resize devices");
                            }
                            Map<String, Object> m = new LinkedHashMap<>();
                            m.put("device", d.name());
                            m.put(
                                    "result",
                                    ctx.resizer().resize(d.name(), param(q, "size", "capacity (e.g. 64MiB, 1GiB)")));
                            m.put("capacity", d.statfs().totalBytes());
                            ctx.pool().capacity().target().ifPresent(t -> m.put("target", t));
                            yield Reply.json(m);
                        }
                        default ->
                            throw new OsdException(Errno.ENOENT, null, null, "no device operation '" + p[2] + "'");
                    };
                }
                break;
            case "object":
                if (p.length == 2) {
                    return objectOp(p[1], q, get);
                }
                break;
            case "jobs":
                return Reply.json(views.jobs());
            case "inactive":
                return Reply.json(views.inactive(q));
            case "daemon":
                if (!get && p.length == 2 && p[1].equals("run")) {
                    return Reply.json(ctx.daemon().runOnce());
                }
                return Reply.json(ctx.daemon().status());
            case "gc":
                if (async(q)) {
                    return Reply.json(tasks.start("gc", this::gc).view());
                }
                return Reply.json(gc(null));
            case "fsck":
            case "scrub": {
                boolean repair = Boolean.parseBoolean(q.getValue("repair"));
                boolean deep = p[0].equals("scrub") || Boolean.parseBoolean(q.getValue("deep"));
                String op = p[0];
                if (async(q)) {
                    return Reply.json(
                            tasks.start(op, t -> check(op, repair, deep, t)).view());
                }
                return Reply.json(check(op, repair, deep, null));
            }
            case "tasks":
                if (p.length == 2 && get) {
                    try {
                        return Reply.json(tasks.get(Long.parseLong(p[1])).view());
                    } catch (NumberFormatException e) {
                        throw new OsdException(Errno.EINVAL, null, null, "task id: not a number: " + p[1]);
                    }
                }
                break;
            default:
                break;
        }
        throw new OsdException(Errno.ENOENT, null, null, "no admin call " + method + " /api/" + path);
    }

    private static boolean async(Fields q) {
        return Boolean.parseBoolean(q.getValue("async"));
    }

    /** fsck or scrub, telling {@code t} (if any) how far it is. */
    private Map<String, Object> check(String op, boolean repair, boolean deep, Tasks.Task t) throws OsdException {
        Fsck.Report rep = ctx.pool().fsck(repair, deep, (phase, done, total) -> {
            if (t != null) {
                t.progress(phase, done, total);
            }
        });
        ctx.metrics().checked(op, rep.clean(), rep.problems().size());
        ctx.events()
                .add(
                        op,
                        rep.clean(),
                        rep.objects() + " objects, " + rep.copies() + " copies: "
                                + (rep.clean() ? "clean" : rep.problems().size() + " problem(s)")
                                + (repair ? " (repair)" : ""));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("clean", rep.clean());
        m.put("objects", rep.objects());
        m.put("copies", rep.copies());
        m.put("problems", rep.problems().stream().map(Object::toString).toList());
        return m;
    }

    /** Deletes the garbage copies the work index lists, a batch at a time, telling {@code t} how far it is. */
    private Map<String, Object> gc(Tasks.Task t) throws OsdException {
        List<Job> garbage =
                ctx.pool().jobs().stream().filter(j -> j.kind() == Job.Kind.GC).toList();
        long bytes = 0;
        for (int from = 0; from < garbage.size(); from += 256) {
            if (t != null) {
                t.progress("delete", from, garbage.size());
            }
            List<Job> batch = garbage.subList(from, Math.min(garbage.size(), from + 256));
            ctx.pool().migrator().collect(batch);
            bytes += batch.stream().mapToLong(Job::bytes).sum();
        }
        if (t != null) {
            t.progress("delete", garbage.size(), garbage.size());
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("collected", garbage.size());
        m.put("bytes", bytes);
        if (ctx.uploads() != null) {
            m.put("multipartUploads", views.uploads());
        }
        return m;
    }

    private Map<String, Object> evacuate(PoolDevice d, int max) throws OsdException {
        boolean starting = d.state() != DeviceState.EVACUATING;
        DeviceOps.Progress pr = ctx.pool().deviceOps().evacuateStep(d, max);
        if (starting) {
            ctx.events().add("evacuate", true, "evacuation of " + d.name() + " started");
        }
        if (pr.done()) {
            ctx.events().add("evacuate", true, d.name() + " evacuated; it is now spare");
        }
        return progress(pr);
    }

    private static int intParam(Fields q, String name, int def) throws OsdException {
        String v = q.getValue(name);
        try {
            return v == null ? def : Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new OsdException(Errno.EINVAL, null, null, name + ": not a number: '" + v + "'");
        }
    }

    private Reply objectOp(String op, Fields q, boolean get) throws Exception {
        Fid f = object(q);
        var pool = ctx.pool();
        String asked = q.getValue("id").strip();
        boolean raw = op.equals("layout") && q.getValue("raw") != null;
        if ((raw || !op.equals("layout")) && pool.object(f).isEmpty()) {
            List<ObjectNames.Part> parts = multipartParts(f);
            if (!parts.isEmpty()) {
                throw perPart(f, asked, parts, raw ? "getstripe --raw" : command(op, q));
            }
        }
        if (op.equals("layout")) {
            if (raw) {
                return new Reply(200, "application/octet-stream", pool.rawLayout(f));
            }
            return Reply.json(objects.layout(f, asked));
        }
        if (get) {
            throw new OsdException(Errno.EINVAL, null, f, "object operation '" + op + "' needs POST");
        }
        if (op.equals("split")) {
            int mirror = intParam(q, "mirror", -1);
            PoolObject p = pool.requireObject(f);
            if (p.copies().stream().noneMatch(c -> c.mirrorId() == mirror)) {
                throw new OsdException(
                        Errno.ENOENT,
                        null,
                        f,
                        "no mirror " + mirror + " of " + asked + " (mirrors: "
                                + String.join(
                                        ", ",
                                        p.copies().stream()
                                                .map(c -> c.mirrorId() + " on "
                                                        + pool.device(c.device())
                                                                .name())
                                                .toList())
                                + "; `spillway getstripe " + asked + "` shows them)");
            }
        }
        Migrator m = pool.migrator();
        MoveResult r = switch (op) {
            case "spill" ->
                q.getValue("range") != null
                        ? spillRange(f, q)
                        : m.spill(f, q.getValue("to") != null ? device(q.getValue("to")) : firstBackground(f));
            case "copy" -> m.copy(f, device(param(q, "to", "target device (--to)")), false);
            case "promote" -> m.promote(f);
            case "release" -> m.release(f);
            case "migrate" ->
                m.migrate(
                        f,
                        device(param(q, "from", "source device (--from)")),
                        device(param(q, "to", "target device (--to)")));
            case "resync" -> resync(f);
            case "split" -> m.dropMirror(f, intParam(q, "mirror", -1));
            case "verify" -> verify(f);
            default -> throw new OsdException(Errno.ENOENT, null, f, "no object operation '" + op + "'");
        };
        if (r instanceof MoveResult.Done && ctx.daemon() != null) {
            switch (op) {
                case "spill", "release" -> ctx.daemon().operatorMoved(f, false);
                case "promote" -> ctx.daemon().operatorMoved(f, true);
                default -> {
                    // copies and mirrors: the body stays where it was
                }
            }
        }
        ctx.metrics().adminMigration(op, r.outcome().toLowerCase(Locale.ROOT), r.bytes());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("fid", f.toString());
        out.put("name", objects.name(f));
        out.put("outcome", r.outcome());
        out.put("bytes", r.bytes());
        out.put("detail", r.detail());
        return Reply.json(out);
    }

    /**
     * {@code spill --range START:END}: that range of the body to a spill device, released on the
     * fast device (range-level placement); sizes as in the configuration ({@code 64MiB}), END may
     * be {@code EOF}.
     */
    private MoveResult spillRange(Fid f, Fields q) throws OsdException {
        String range = q.getValue("range");
        int colon = range.indexOf(':');
        long start;
        long end;
        try {
            if (colon < 0) {
                throw new IllegalArgumentException("no ':'");
            }
            start = OsdConfig.parseBytes(range.substring(0, colon).trim());
            String e = range.substring(colon + 1).trim();
            end = e.equalsIgnoreCase("EOF") || e.isEmpty() ? Span.EOF : OsdConfig.parseBytes(e);
        } catch (IllegalArgumentException e) {
            throw new OsdException(
                    Errno.EINVAL,
                    null,
                    f,
                    "--range '" + range + "' is not START:END (bytes or sizes such as 64MiB, END may be EOF): "
                            + e.getMessage());
        }
        var pool = ctx.pool();
        PoolDevice to = q.getValue("to") != null ? device(q.getValue("to")) : firstBackground(f);
        return pool.migrator().spillRange(f, to, start, end);
    }

    /** The CLI command that runs {@code op}, to quote in a message. */
    private static String command(String op, Fields q) {
        return switch (op) {
            case "resync", "verify" -> "mirror " + op;
            case "split" -> "mirror split -d " + q.getValue("mirror");
            case "migrate" -> "migrate --from " + q.getValue("from") + " --to " + q.getValue("to");
            case "spill" ->
                (q.getValue("to") == null ? "spill" : "spill --to " + q.getValue("to"))
                        + (q.getValue("range") == null ? "" : " --range " + q.getValue("range"));
            default -> op;
        };
    }

    /**
     * Where a {@code spill} without {@code --to} goes: the first writable spill device without a
     * copy; else one that already holds an in-sync copy (the spill then only releases the local
     * body, or has nothing to do); else an error naming every spill device and its state.
     */
    private PoolDevice firstBackground(Fid f) throws OsdException {
        var pool = ctx.pool();
        PoolObject p = pool.requireObject(f);
        var target = pool.deviceOps().target(p, null);
        if (target.isPresent()) {
            return target.get();
        }
        List<String> spill = new ArrayList<>();
        boolean inSync = false;
        for (PoolDevice d : pool.devices()) {
            if (!ObjectView.tier(d).equals("spill")) {
                continue;
            }
            var copy = p.on(d.index());
            if (d.state().writable() && copy.isPresent() && copy.get().state() == CopyState.IN_SYNC) {
                return d;
            }
            if (copy.isPresent() && copy.get().state() == CopyState.IN_SYNC) {
                inSync = true;
            }
            spill.add(d.name() + " (" + d.state().yamlName()
                    + copy.map(c -> "; holds "
                                    + c.state().name().toLowerCase(Locale.ROOT).replace('_', '-') + " copy")
                            .orElse("")
                    + ")");
        }
        throw new OsdException(
                Errno.ENOSPC,
                null,
                f,
                spill.isEmpty()
                        ? "pool '" + pool.name() + "' has no spill device (a device with the background role)"
                        : "no spill device can take a copy: " + String.join(", ", spill)
                                + " (`spillway device list` shows them; `spillway device set-state NAME rw` "
                                + "makes one writable"
                                + (inSync ? "; `spillway release` drops the local body, a copy being in sync" : "")
                                + ")");
    }

    private MoveResult resync(Fid f) throws OsdException {
        PoolObject p = ctx.pool().requireObject(f);
        int done = 0;
        for (Copy c : p.copies()) {
            if (c.state() == CopyState.STALE) {
                ctx.pool().migrator().resync(f, c.device());
                done++;
            }
        }
        String detail = done + " stale mirror(s) resynced";
        return done > 0 ? new MoveResult.Done(0, detail) : new MoveResult.NothingToDo(detail);
    }

    private MoveResult verify(Fid f) throws OsdException {
        return ctx.pool().migrator().verify(f);
    }

    static Map<String, Object> progress(DeviceOps.Progress p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("moved", p.moved());
        m.put("failed", p.failed());
        m.put("remaining", p.remaining());
        m.put("done", p.done());
        m.put("errors", p.errors());
        m.put("unrecoverable", p.unrecoverable());
        return m;
    }

    /** What a state change did: for a failed device its lost-marking pass, for a returned one its verification. */
    private static Map<String, Object> stateChange(DeviceOps.StateChange c, Object devices) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("device", c.device());
        m.put("from", c.from().yamlName());
        m.put("to", c.to().yamlName());
        if (c.lost() != null) {
            m.put(
                    "lost",
                    Map.of(
                            "copies", c.lost().lost(),
                            "noCopyLeft", c.lost().noCopyLeft(),
                            "errors", c.lost().errors()));
        }
        if (c.returned() != null) {
            m.put(
                    "returned",
                    Map.of(
                            "restored", c.returned().restored(),
                            "dropped", c.returned().dropped(),
                            "mismatched", c.returned().mismatched(),
                            "leftovers", c.leftovers()));
        }
        m.put("devices", devices);
        return m;
    }

    /**
     * The objects with a lost copy on {@code d} ({@code device lost NAME}): those with no copy left
     * first, each with its bucket/key when the gateway knows it.
     */
    private Map<String, Object> lost(PoolDevice d) throws OsdException {
        List<LostCopies.LostObject> all = ctx.pool().deviceOps().lostCopies().lostOn(d);
        List<Map<String, Object>> none = new ArrayList<>();
        List<Map<String, Object>> atRisk = new ArrayList<>();
        for (LostCopies.LostObject o : all) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("fid", o.fid().toString());
            if (ctx.names() != null) {
                ctx.names().origin(o.fid()).ifPresent(n -> m.put("name", n));
            }
            m.put("size", o.size());
            m.put("survivors", o.survivors());
            (o.survivors() == 0 ? none : atRisk).add(m);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("device", d.name());
        out.put("state", d.state().yamlName());
        out.put("noCopyLeft", none);
        out.put("beingRepaired", atRisk);
        return out;
    }
}
