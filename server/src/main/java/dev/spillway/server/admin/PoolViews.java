package dev.spillway.server.admin;

import dev.spillway.migrate.daemon.DaemonConfig;
import dev.spillway.migrate.daemon.DaemonStatus;
import dev.spillway.migrate.daemon.HeatReport;
import dev.spillway.migrate.heat.Candidate;
import dev.spillway.migrate.heat.HeatBand;
import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.StatFs;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.device.IoErrors;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.ops.LostCopies;
import dev.spillway.server.metrics.PoolMetrics;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.eclipse.jetty.util.Fields;

/**
 * The admin API's views of the pool as a whole: {@code df}, devices, jobs, inactive objects and
 * the status page's figures. Every figure comes from the metrics' one-second snapshot or from the
 * same pool, daemon and gateway queries, so the CLI, the page and {@code /metrics} agree.
 */
final class PoolViews {
    private final AdminServer.Context ctx;
    private final ObjectView objects;

    PoolViews(AdminServer.Context ctx, ObjectView objects) {
        this.ctx = ctx;
        this.objects = objects;
    }

    private PoolOsd pool() {
        return ctx.pool();
    }

    // ---- df and devices ------------------------------------------------------------------

    Map<String, Object> df() throws OsdException {
        return df(ctx.metrics().snap(true));
    }

    private Map<String, Object> df(PoolMetrics.Snapshot snap) throws OsdException {
        StatFs s = snap.statfs();
        List<Map<String, Object>> rows = new ArrayList<>();
        long data = 0;
        long spilled = 0;
        for (PoolDevice d : pool().devices()) {
            StatFs r = s.devices().get(d.index());
            Map<String, Object> m = row(r);
            if (d.index() == pool().metadataIndex()) {
                m.put("objects", snap.objects());
            }
            m.put("index", d.index());
            m.put("tier", ObjectView.tier(d));
            m.put("backend", d.backend());
            m.put("roles", d.roles().stream().map(x -> x.yamlName()).sorted().toList());
            m.put("state", d.state().yamlName());
            if (d.index() != pool().metadataIndex()) {
                Map<String, Object> states = new TreeMap<>();
                snap.copies()
                        .getOrDefault(d.index(), Map.of())
                        .forEach((st, v) -> states.put(
                                st.name().toLowerCase(Locale.ROOT).replace('_', '-'),
                                Map.of("bytes", v[0], "copies", v[1])));
                m.put("copies", states);
                long[] in = snap.copies().getOrDefault(d.index(), Map.of()).get(CopyState.IN_SYNC);
                spilled += in == null ? 0 : in[0];
            }
            data += r.usedBytes();
            rows.add(m);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("pool", pool().name());
        out.put("devices", rows);
        Map<String, Object> sum = row(s);
        sum.put("objects", snap.objects());
        sum.put("spilledBytes", spilled);
        out.put("summary", sum);
        out.put("fastTier", fastTier(snap.daemon()));
        out.put("health", health());
        out.put("space", space());
        if (ctx.uploads() != null) {
            out.put("multipartUploads", uploads());
        }
        return out;
    }

    /**
     * Whether the pool is degraded: failed devices, lost copies, objects with fewer than
     * {@code replicas} in-sync copies left because of them (at risk), objects with none left.
     * Walks only the indexes of failed devices and of devices holding lost copies.
     */
    Map<String, Object> health() throws OsdException {
        LostCopies.Health h = pool().deviceOps().lostCopies().health();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("degraded", h.degraded());
        m.put("failedDevices", h.failedDevices());
        m.put("failedCaches", h.failedCaches());
        m.put("lostCopies", h.lostCopies());
        m.put("objectsAtRisk", h.atRisk());
        m.put("objectsWithNoCopyLeft", h.noCopyLeft());
        m.put("replicas", pool().replicas());
        return m;
    }

    /** The reserve, the writers waiting for room, a capacity being reached by spilling. */
    Map<String, Object> space() {
        Map<String, Object> m = new LinkedHashMap<>();
        pool().reservePlan().ifPresent(p -> {
            m.put("reserve", p.total());
            m.put("reserveDevice", pool().device(pool().metadataIndex()).name());
            m.put("reservePlan", p.describe());
        });
        pool().capacity().target().ifPresent(t -> m.put("shrinkingTo", t));
        var w = pool().roomQueue().stats();
        m.put("writersWaiting", w.waiting());
        m.put("writersWaited", w.waited());
        m.put("writersTimedOut", w.timedOut());
        m.put("writerMaxWaitMs", w.maxWaitNanos() / 1_000_000);
        m.put("writerWaitLimitMs", pool().config().space().writerWait().toMillis());
        return m;
    }

    /** The multipart uploads in progress (the gateway's summary). */
    Map<String, Object> uploads() throws OsdException {
        var u = ctx.uploads().summary();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("uploads", u.uploads());
        m.put("parts", u.parts());
        m.put("bytes", u.bytes());
        if (u.oldestInitiatedMillis() > 0) {
            m.put(
                    "oldestInitiated",
                    Instant.ofEpochMilli(u.oldestInitiatedMillis()).toString());
        }
        if (u.nextExpiryMillis() > 0) {
            m.put("nextExpiry", Instant.ofEpochMilli(u.nextExpiryMillis()).toString());
        }
        return m;
    }

    private Map<String, Object> fastTier(DaemonStatus ds) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("device", pool().device(pool().metadataIndex()).name());
        if (ds != null) {
            var pol = ctx.daemon().config().policy();
            m.put("used", ds.fastUsed());
            m.put("capacity", ds.fastCapacity());
            m.put("useRatio", (double) ds.fastUsed() / Math.max(1, ds.fastCapacity()));
            m.put("highWatermark", pol.highWatermark());
            m.put("lowWatermark", pol.lowWatermark());
            m.put("spilling", ds.spilling());
        }
        return m;
    }

    private static Map<String, Object> row(StatFs r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", r.device());
        m.put("size", r.totalBytes());
        m.put("used", r.usedBytes());
        m.put("available", r.availableBytes());
        m.put("usePercent", r.totalBytes() == 0 ? 0 : Math.round(1000.0 * r.usedBytes() / r.totalBytes()) / 10.0);
        m.put("objects", r.objects());
        m.put("flags", r.flags().stream().map(Enum::name).sorted().toList());
        return m;
    }

    List<Map<String, Object>> devices() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (PoolDevice d : pool().devices()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("index", d.index());
            m.put("name", d.name());
            m.put("tier", ObjectView.tier(d));
            m.put("backend", d.backend());
            m.put("roles", d.roles().stream().map(x -> x.yamlName()).sorted().toList());
            m.put("state", d.state().yamlName());
            m.put("durability", d.durability());
            IoErrors errors = d.ioErrors();
            m.put("readErrors", errors.reads());
            m.put("writeErrors", errors.writes());
            out.add(m);
        }
        return out;
    }

    // ---- jobs ------------------------------------------------------------------------------

    Map<String, Object> jobs() throws OsdException {
        List<Job> all = pool().jobs();
        long now = pool().nowNanos();
        Map<String, Integer> byKind = new TreeMap<>();
        for (Job.Kind k : Job.Kind.values()) {
            byKind.put(k.name().toLowerCase(Locale.ROOT), 0);
        }
        List<Map<String, Object>> list = new ArrayList<>();
        int retried = 0;
        // COPY jobs no copy in flight owns, past the daemon's threshold: left behind by a copy that
        // failed half-way; the daemon rolls them back (if it runs), else the next mount does.
        Duration stuckAge = (ctx.daemon() != null ? ctx.daemon().config() : DaemonConfig.defaults()).stuckCopyAge();
        List<Job> stuck = pool().migrator().stuckCopies(all, stuckAge);
        Set<String> stuckKeys = new HashSet<>();
        List<Map<String, Object>> stuckList = new ArrayList<>();
        for (Job j : stuck) {
            stuckKeys.add(j.fid() + "/" + j.key());
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("fid", j.fid().toString());
            m.put("name", objects.name(j.fid()));
            m.put("device", pool().device(j.device()).name());
            m.put("copyKey", j.key().toString());
            m.put("ageSeconds", Math.max(0, now - j.createdNs()) / 1e9);
            stuckList.add(m);
        }
        for (Job j : all) {
            byKind.merge(j.kind().name().toLowerCase(Locale.ROOT), 1, Integer::sum);
            retried += j.attempts() > 0 ? 1 : 0;
            if (list.size() < 1000) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("kind", j.kind().name().toLowerCase(Locale.ROOT));
                m.put("fid", j.fid().toString());
                m.put("name", objects.name(j.fid()));
                m.put("device", pool().device(j.device()).name());
                m.put("bytes", j.bytes());
                m.put("ageSeconds", Math.max(0, now - j.createdNs()) / 1e9);
                m.put("attempts", j.attempts());
                m.put("version", j.version());
                if (!j.key().equals(Job.NO_KEY)) {
                    m.put("copyKey", j.key().toString());
                }
                if (stuckKeys.contains(j.fid() + "/" + j.key())) {
                    m.put("stuck", true);
                }
                list.add(m);
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("queued", byKind);
        m.put("total", all.size());
        m.put("retried", retried);
        m.put("stuckCopyAgeSeconds", stuckAge.toNanos() / 1e9);
        m.put("stuckCopies", stuckList);
        m.put("jobs", list);
        m.put("truncated", all.size() > list.size());
        if (ctx.uploads() != null) {
            m.put("multipartUploads", uploads());
        }
        if (ctx.daemon() != null) {
            m.put("daemon", daemon(ctx.daemon().status()));
            m.put("chores", ctx.daemon().choresDone());
        }
        return m;
    }

    private Map<String, Object> daemon(DaemonStatus s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("running", s.running());
        m.put("activity", s.activity());
        m.put("spilling", s.spilling());
        m.put("moveRateBytesPerSecond", s.bytesPerSecond());
        m.put("bandwidthLimitBytesPerSecond", ctx.daemon().config().bandwidth());
        m.put("bytesMoved", s.bytesMoved());
        m.put("moves", s.moves());
        m.put("promotionsQueued", s.promotionsQueued());
        m.put("backoffs", s.backoffs());
        m.put("tracked", s.tracked());
        m.put("lastError", s.lastError());
        m.put("stuckCopies", s.stuckCopies());
        m.put("stuckCopiesRolledBack", s.stuckCopiesRolledBack());
        return m;
    }

    // ---- inactive ------------------------------------------------------------------------

    Map<String, Object> inactive(Fields q) throws OsdException {
        Duration age;
        try {
            age = OsdConfig.parseDuration(q.getValue("older-than") == null ? "7d" : q.getValue("older-than"));
        } catch (IllegalArgumentException e) {
            throw new OsdException(
                    Errno.EINVAL, null, null, "--older-than: " + e.getMessage() + " (e.g. 30m, 12h, 7d)");
        }
        int limit;
        try {
            limit = q.getValue("limit") == null ? 1000 : Integer.parseInt(q.getValue("limit"));
        } catch (NumberFormatException e) {
            throw new OsdException(Errno.EINVAL, null, null, "--limit: not a number: " + q.getValue("limit"));
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (Candidate c : ctx.daemon().inactive(age, limit)) {
            // The heat tracker may not have seen an operator's spill or promote: the layout says
            // where the body is now.
            PoolObject p;
            try {
                var o = pool().object(c.fid());
                if (o.isEmpty()) {
                    continue;
                }
                p = o.get();
            } catch (OsdException e) {
                if (e.is(Errno.ENOENT)) {
                    continue;
                }
                throw e;
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("fid", c.fid().toString());
            m.put("name", objects.name(c.fid()));
            m.put("size", p.size());
            m.put("heat", c.heat());
            m.put("lastAccess", String.valueOf(c.lastAccess()));
            m.put("resident", p.resident(pool().metadataIndex()));
            m.put("placement", objects.placement(p));
            out.add(m);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("olderThan", age.toString());
        m.put("tracked", ctx.daemon().status().tracked());
        m.put("objects", out);
        return m;
    }

    // ---- the status page -----------------------------------------------------------------

    Map<String, Object> status() throws OsdException {
        PoolMetrics.Snapshot snap = ctx.metrics().snap(true);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pool", pool().name());
        m.put("time", ctx.clock().instant().toString());
        var mount = ctx.mount();
        Map<String, Object> mt = new LinkedHashMap<>();
        mt.put("at", mount.at().toString());
        mt.put("formatted", mount.formatted());
        mt.put("mountSeconds", mount.mountSeconds());
        mt.put("recoverySeconds", mount.recoverySeconds());
        mt.put("jobsFound", mount.recovery().jobs());
        mt.put("rolledBack", mount.recovery().rolledBack());
        mt.put("collected", mount.recovery().collected());
        mt.put("summary", mount.summary());
        m.put("mount", mt);
        m.put("df", df(snap));
        Map<String, Object> jobs = new LinkedHashMap<>();
        long retried = 0;
        double oldest = 0;
        for (Job.Kind k : Job.Kind.values()) {
            long[] v = snap.jobs().getOrDefault(k, new long[3]);
            jobs.put(k.name().toLowerCase(Locale.ROOT), v[0]);
            retried += v[1];
            oldest = Math.max(oldest, v[2] / 1e9);
        }
        jobs.put("retried", retried);
        jobs.put("oldestAgeSeconds", oldest);
        m.put("jobs", jobs);
        long[] moved = ctx.metrics().movedBytes();
        m.put("moved", Map.of("spilledBytes", moved[0], "promotedBytes", moved[1]));
        if (snap.daemon() != null) {
            m.put("daemon", daemon(snap.daemon()));
            m.put("heat", heat(ctx.daemon().heatReport(10)));
        }
        List<Map<String, Object>> ev = new ArrayList<>();
        for (var e : ctx.events().recent()) {
            ev.add(Map.of("at", e.at().toString(), "kind", e.kind(), "ok", e.ok(), "summary", e.summary()));
        }
        m.put("events", ev);
        m.put("s3", ctx.history().s3ByOperation());
        return m;
    }

    private Map<String, Object> heat(HeatReport h) {
        Map<String, Object> m = new LinkedHashMap<>();
        List<Map<String, Object>> bands = new ArrayList<>();
        for (HeatBand b : h.bands()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("low", b.low());
            x.put("high", Double.isInfinite(b.high()) ? null : b.high());
            x.put("residentObjects", b.residentObjects());
            x.put("residentBytes", b.residentBytes());
            x.put("spilledObjects", b.spilledObjects());
            x.put("spilledBytes", b.spilledBytes());
            bands.add(x);
        }
        m.put("bands", bands);
        List<Map<String, Object>> next = new ArrayList<>();
        for (Candidate c : h.nextToSpill()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("fid", c.fid().toString());
            x.put("name", objects.name(c.fid()));
            x.put("size", c.sizeBytes());
            x.put("heat", c.heat());
            x.put("lastAccess", String.valueOf(c.lastAccess()));
            next.add(x);
        }
        m.put("nextToSpill", next);
        m.put("spillableBytes", h.spillableBytes());
        m.put("bytesAboveLowWatermark", h.bytesAboveLowWatermark());
        return m;
    }
}
