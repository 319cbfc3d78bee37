package dev.spillway.server.metrics;

import dev.spillway.migrate.daemon.DaemonStatus;
import dev.spillway.migrate.daemon.MigrationDaemon;
import dev.spillway.osd.Fid;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.StatFs;
import dev.spillway.pool.PoolListener;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.Job;
import dev.spillway.server.MountReport;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Spillway's metrics, in Micrometer with the Prometheus registry, named by Prometheus' conventions:
 * the unit in the name ({@code _bytes}, {@code _seconds}, {@code _ratio}), counters ending in
 * {@code _total}, latencies as histograms ({@code _bucket}), a description on every metric. The
 * list, with what each means, is in the server's README; {@code docs/grafana-dashboard.json} and
 * {@code docs/prometheus-alerts.yml} use them (a test checks that every name they use exists).
 *
 * <p>Gauges read the pool's persisted counters, statfs, work index and the daemon's status at
 * most once a second ({@link Snapshot}), so a scrape costs the same however often it comes, and
 * the admin API's JSON and these gauges show the same figures.
 */
public final class PoolMetrics implements PoolListener {
    /** What a request's or an OSD call's latency histogram spans. */
    private static final Duration MIN_LATENCY = Duration.ofNanos(1_000);

    private static final Duration MAX_LATENCY = Duration.ofSeconds(60);

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();
    private final Map<Integer, Counter> readsByDevice = new ConcurrentHashMap<>();
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();
    private volatile PoolOsd pool;
    private volatile Snapshot snapshot;

    /** The registry alone; {@link #bindPool} adds the pool's gauges once it is mounted. */
    public PoolMetrics() {}

    /** Wraps a device of the pool so that its reads, commits and syncs are timed ({@code spillway_osd_...}). */
    public Osd timed(Osd device) {
        return new TimedOsd(device, this);
    }

    Timer osdTimer(String device, String op) {
        return timers.computeIfAbsent(
                "osd/" + device + "/" + op,
                k -> Timer.builder("spillway_osd_operation_duration")
                        .description(
                                "latency of calls the pool makes to a device: read, commit (transaction stop), sync")
                        .tag("device", device)
                        .tag("operation", op)
                        .publishPercentileHistogram()
                        .minimumExpectedValue(MIN_LATENCY)
                        .maximumExpectedValue(MAX_LATENCY)
                        .register(registry));
    }

    /** Counts one S3 request answered (the gateway's {@code RequestListener}). */
    public void s3Request(String operation, int status, long nanos) {
        String cls = status / 100 + "xx";
        timers.computeIfAbsent(
                        "s3/" + operation + "/" + cls,
                        k -> Timer.builder("spillway_s3_request_duration")
                                .description(
                                        "S3 requests answered by the gateway, by operation and status class, with latency")
                                .tag("operation", operation)
                                .tag("status", cls)
                                .publishPercentileHistogram()
                                .minimumExpectedValue(MIN_LATENCY)
                                .maximumExpectedValue(MAX_LATENCY)
                                .register(registry))
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    /** A timer for admin API calls of {@code operation}. */
    public Timer adminRequest(String operation) {
        return timers.computeIfAbsent(
                "admin/" + operation,
                k -> Timer.builder("spillway_admin_request_duration")
                        .description("admin API calls answered, by call, with latency")
                        .tag("operation", operation)
                        .publishPercentileHistogram()
                        .minimumExpectedValue(MIN_LATENCY)
                        .maximumExpectedValue(MAX_LATENCY)
                        .register(registry));
    }

    private final Map<String, AtomicLong> adminMoved = new ConcurrentHashMap<>();

    /**
     * Bytes spilled and promoted since the server started, by the daemon and by operators
     * together: {@code [spilled, promoted]} (what the status page's "data moved" shows).
     */
    public long[] movedBytes() {
        long spilled = adminMoved.getOrDefault("spill", new AtomicLong()).get();
        long promoted = adminMoved.getOrDefault("promote", new AtomicLong()).get();
        Snapshot s = snap();
        if (s.daemon() != null) {
            Map<String, Long> d = s.daemon().bytesMoved();
            spilled += d.getOrDefault("spill", 0L) + d.getOrDefault("emergency", 0L);
            promoted += d.getOrDefault("promote", 0L);
        }
        return new long[] {spilled, promoted};
    }

    /** Counts one operation started by an operator (admin API) of {@code kind} ending with {@code outcome}. */
    public void adminMigration(String kind, String outcome, long bytes) {
        if (bytes > 0 && outcome.equals("done")) {
            adminMoved.computeIfAbsent(kind, k -> new AtomicLong()).addAndGet(bytes);
        }
        counter(
                        "spillway_admin_object_operations",
                        "object operations asked through the admin API, by outcome",
                        Map.of("kind", kind, "outcome", outcome))
                .increment();
        if (bytes > 0) {
            counter(
                            "spillway_admin_moved_bytes",
                            "bytes copied by object operations asked through the admin API",
                            Map.of("kind", kind))
                    .increment(bytes);
        }
    }

    /** Counts one fsck or scrub run and whether it found problems. */
    public void checked(String kind, boolean clean, int problems) {
        counter(
                        "spillway_checks",
                        "fsck and scrub runs, by kind and result (clean or problems)",
                        Map.of("kind", kind, "result", clean ? "clean" : "problems"))
                .increment();
        lastProblems.put(kind, problems);
    }

    private final Map<String, Integer> lastProblems = new ConcurrentHashMap<>();

    private Counter counter(String name, String description, Map<String, String> tags) {
        String key = name + tags;
        return counters.computeIfAbsent(key, k -> {
            Counter.Builder b = Counter.builder(name).description(description);
            tags.forEach(b::tag);
            return b.register(registry);
        });
    }

    /**
     * Registers the pool's gauges: devices, copies, objects, jobs, the fast tier, the last mount;
     * and the daemon's (may be null: a pool without its daemon).
     */
    public void bindPool(PoolOsd p, MountReport mount, MigrationDaemon daemon, Internal internal) {
        this.pool = p;
        this.internal = internal == null ? () -> 0 : internal;
        Gauge.builder("spillway_mount_duration_seconds", mount::mountSeconds)
                .description("how long the last mount took: opening every device, checking the pool, recovery")
                .register(registry);
        Gauge.builder("spillway_recovery_duration_seconds", mount::recoverySeconds)
                .description("how long the last mount's recovery took (it reads the work index only)")
                .register(registry);
        Gauge.builder(
                        "spillway_recovery_rolled_back_copies",
                        () -> mount.recovery().rolledBack())
                .description("pending copies the last mount's recovery rolled back")
                .register(registry);
        Gauge.builder(
                        "spillway_recovery_collected_copies",
                        () -> mount.recovery().collected())
                .description("garbage copies the last mount's recovery deleted")
                .register(registry);
        Gauge.builder("spillway_objects", () -> snap().objects())
                .description("objects stored in the pool (its own and the S3 gateway's index records not counted;"
                        + " a multipart S3 object counts its parts and its manifest)")
                .register(registry);
        for (String kind : List.of("fsck", "scrub")) {
            Gauge.builder("spillway_check_problems", () -> lastProblems.getOrDefault(kind, 0))
                    .description("problems the last fsck or scrub of this server found (0 until one ran)")
                    .tag("kind", kind)
                    .register(registry);
        }
        for (PoolDevice d : p.devices()) {
            String n = d.name();
            int i = d.index();
            Gauge.builder("spillway_device_capacity_bytes", () -> row(i).totalBytes())
                    .description("a device's size as the pool sees it (what it placed there plus what is available)")
                    .tag("device", n)
                    .register(registry);
            Gauge.builder("spillway_device_used_bytes", () -> row(i).usedBytes())
                    .description("bytes used on a device (on a spill device: the copies the pool placed there)")
                    .tag("device", n)
                    .register(registry);
            Gauge.builder("spillway_device_available_bytes", () -> row(i).availableBytes())
                    .description("bytes the pool may still place on a device")
                    .tag("device", n)
                    .register(registry);
            for (DeviceState st : DeviceState.values()) {
                Gauge.builder("spillway_device_state", () -> d.state() == st ? 1 : 0)
                        .description("1 for a device's current state (rw, ro, evacuating, spare, failed), else 0")
                        .tag("device", n)
                        .tag("state", st.yamlName())
                        .register(registry);
            }
            if (d.index() == p.metadataIndex()) {
                continue;
            }
            for (boolean reads : new boolean[] {true, false}) {
                FunctionCounter.builder(
                                "spillway_device_io_errors",
                                d,
                                x -> reads ? x.ioErrors().reads() : x.ioErrors().writes())
                        .description("a spill device's calls that failed with EIO since the mount (op: read or"
                                + " write, which counts transaction steps and syncs); fail-after-errors in a row"
                                + " fail the device")
                        .tag("device", n)
                        .tag("op", reads ? "read" : "write")
                        .register(registry);
            }
            // The metadata device's resident bodies are not counted per copy (its statfs is exact):
            // no zero that would say "nothing there".
            for (CopyState s : CopyState.values()) {
                String st = s.name().toLowerCase(Locale.ROOT);
                Gauge.builder("spillway_device_copy_bytes", () -> copies(i, s, 0))
                        .description("bytes of the copies the pool placed on a spill device, by copy state")
                        .tag("device", n)
                        .tag("state", st)
                        .register(registry);
                Gauge.builder("spillway_device_copies", () -> copies(i, s, 1))
                        .description("copies the pool placed on a spill device, by copy state")
                        .tag("device", n)
                        .tag("state", st)
                        .register(registry);
            }
        }
        for (Job.Kind k : Job.Kind.values()) {
            String kind = k.name().toLowerCase(Locale.ROOT);
            Gauge.builder("spillway_jobs", () -> snap().jobs().getOrDefault(k, new long[3])[0])
                    .description("work-index jobs queued, by kind (copy, gc, resync, parked)")
                    .tag("kind", kind)
                    .register(registry);
            Gauge.builder("spillway_jobs_retried", () -> snap().jobs().getOrDefault(k, new long[3])[1])
                    .description("work-index jobs that failed at least once and wait for a retry")
                    .tag("kind", kind)
                    .register(registry);
            Gauge.builder(
                            "spillway_jobs_oldest_age_seconds",
                            () -> snap().jobs().getOrDefault(k, new long[3])[2] / 1e9)
                    .description("age of the oldest job of a kind (0 when none): a stuck job keeps growing it")
                    .tag("kind", kind)
                    .register(registry);
        }
        if (daemon != null) {
            bindDaemon(daemon);
        }
    }

    private void bindDaemon(MigrationDaemon daemon) {
        var policy = daemon.config().policy();
        Gauge.builder("spillway_fast_tier_use_ratio", () -> {
                    DaemonStatus s = snap().daemon();
                    return (double) s.fastUsed() / Math.max(1, s.fastCapacity());
                })
                .description("fraction of the fast tier in use")
                .register(registry);
        Gauge.builder("spillway_fast_tier_high_watermark_ratio", policy::highWatermark)
                .description("use of the fast tier above which the daemon spills")
                .register(registry);
        Gauge.builder("spillway_fast_tier_low_watermark_ratio", policy::lowWatermark)
                .description("use of the fast tier down to which a spill pass runs")
                .register(registry);
        Gauge.builder(
                        "spillway_daemon_bandwidth_limit_bytes_per_second",
                        () -> daemon.config().bandwidth())
                .description("the daemon's bandwidth cap (0: none)")
                .register(registry);
        Gauge.builder(
                        "spillway_daemon_move_rate_bytes_per_second",
                        () -> snap().daemon().bytesPerSecond())
                .description("bytes the daemon moved per second over its last pass")
                .register(registry);
        Gauge.builder("spillway_daemon_promotions_queued", () -> snap().daemon().promotionsQueued())
                .description("promotions decided and waiting for the daemon")
                .register(registry);
        Gauge.builder("spillway_daemon_running", () -> snap().daemon().running() ? 1 : 0)
                .description("1 while the migration daemon's thread runs")
                .register(registry);
        for (String kind : List.of("spill", "promote", "resync", "parked", "emergency", "evacuate")) {
            FunctionCounter.builder(
                            "spillway_daemon_moved_bytes",
                            daemon,
                            d -> snap().daemon().bytesMoved().getOrDefault(kind, 0L))
                    .description("bytes the daemon moved since the server started, by kind")
                    .baseUnit("bytes")
                    .tag("kind", kind)
                    .register(registry);
        }
        FunctionCounter.builder(
                        "spillway_daemon_ping_pongs",
                        daemon,
                        d -> snap().daemon().policy().pingPongs())
                .description("objects spilled soon after being promoted (or the reverse) since start")
                .register(registry);
        snapshotDaemon = daemon;
    }

    private volatile MigrationDaemon snapshotDaemon;
    private volatile Internal internal = () -> 0;

    /** How many of the pool's client objects are a layer's own records (the S3 gateway's indexes). */
    @FunctionalInterface
    public interface Internal {
        long objects() throws OsdException;
    }

    /**
     * What the gauges read, taken at most once a second: the objects stored, statfs, copy totals, jobs (count,
     * retried, oldest age, per kind), the daemon's status.
     */
    public record Snapshot(
            long takenNanos,
            long objects,
            StatFs statfs,
            Map<Integer, Map<CopyState, long[]>> copies,
            Map<Job.Kind, long[]> jobs,
            DaemonStatus daemon) {}

    /** The figures of the last second (taken now if older): the admin API shows the same. */
    public Snapshot snap() {
        return snap(false);
    }

    /**
     * The figures now ({@code fresh}: what a person asking {@code df} expects after a write) or of
     * the last second. A fresh snapshot becomes the one the gauges read, so a scrape right after
     * shows the same figures as the admin API's answer.
     */
    public Snapshot snap(boolean fresh) {
        Snapshot s = snapshot;
        long now = System.nanoTime();
        if (!fresh && s != null && now - s.takenNanos() < 1_000_000_000L) {
            return s;
        }
        synchronized (this) {
            s = snapshot;
            if (!fresh && s != null && now - s.takenNanos() < 1_000_000_000L) {
                return s;
            }
            try {
                s = take(now);
                snapshot = s;
            } catch (OsdException | RuntimeException e) {
                if (s == null) {
                    throw new IllegalStateException("metrics: cannot read the pool: " + e.getMessage(), e);
                }
                // Gauges keep their last values; a scrape must not fail.
            }
            return s;
        }
    }

    private Snapshot take(long now) throws OsdException {
        PoolOsd p = pool;
        long wall = p.nowNanos();
        Map<Job.Kind, long[]> jobs = new EnumMap<>(Job.Kind.class);
        for (Job j : p.jobs()) {
            long[] v = jobs.computeIfAbsent(j.kind(), k -> new long[3]);
            v[0]++;
            if (j.attempts() > 0) {
                v[1]++;
            }
            v[2] = Math.max(v[2], wall - j.createdNs());
        }
        MigrationDaemon d = snapshotDaemon;
        StatFs st = p.statfs();
        long objects = Math.max(0, st.devices().get(p.metadataIndex()).objects() - internal.objects());
        return new Snapshot(now, objects, st, p.copyTotals(), jobs, d == null ? null : d.status());
    }

    private StatFs row(int device) {
        return snap().statfs().devices().get(device);
    }

    private double copies(int device, CopyState s, int what) {
        long[] v = snap().copies().getOrDefault(device, Map.of()).get(s);
        return v == null ? 0 : v[what];
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** The Prometheus text exposition. */
    public String scrape() {
        return registry.scrape();
    }

    @Override
    public void read(Fid fid, long size, long bytes, int device) {
        PoolOsd p = pool;
        if (p == null) {
            return;
        }
        readsByDevice
                .computeIfAbsent(
                        device,
                        d -> Counter.builder("spillway_reads")
                                .description("read calls served by the pool, by the device that served them")
                                .tag("device", p.device(d).name())
                                .register(registry))
                .increment();
    }
}
