package dev.spillway.server.metrics;

import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.StatFs;
import dev.spillway.pool.PoolListener;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.Counters;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The pool's metrics, in Micrometer with the Prometheus registry: bytes and copies per device and
 * per state (from the pool's persisted counters, read at most once a second), device capacity and
 * use, reads served per tier (the fast tier's hit ratio), migrations by kind and outcome, request
 * latencies, and how long the last mount's recovery took.
 */
public final class PoolMetrics implements PoolListener {
    private final PoolOsd pool;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<Integer, Counter> readsByDevice = new ConcurrentHashMap<>();
    private final Map<String, Counter> migrations = new ConcurrentHashMap<>();
    private volatile Map<Integer, Map<CopyState, long[]>> counted = Map.of();
    private volatile StatFs statfs;
    private final AtomicLong refreshedAt = new AtomicLong();

    public PoolMetrics(PoolOsd pool, long recoveryNanos) {
        this.pool = pool;
        Gauge.builder("spillway_recovery_seconds", () -> recoveryNanos / 1e9)
                .description("duration of the last mount's recovery")
                .register(registry);
        for (PoolDevice d : pool.devices()) {
            String n = d.name();
            int i = d.index();
            Gauge.builder("spillway_device_capacity_bytes", () -> row(i, 0))
                    .tag("device", n)
                    .register(registry);
            Gauge.builder("spillway_device_used_bytes", () -> row(i, 1))
                    .tag("device", n)
                    .register(registry);
            Gauge.builder("spillway_device_objects", () -> row(i, 2))
                    .tag("device", n)
                    .register(registry);
            for (CopyState s : CopyState.values()) {
                String st = s.name().toLowerCase();
                Gauge.builder("spillway_copies_bytes", () -> copies(i, s, 0))
                        .tag("device", n)
                        .tag("state", st)
                        .register(registry);
                Gauge.builder("spillway_copies", () -> copies(i, s, 1))
                        .tag("device", n)
                        .tag("state", st)
                        .register(registry);
            }
        }
    }

    private void refresh() {
        long now = System.nanoTime();
        long last = refreshedAt.get();
        if (statfs != null && now - last < 1_000_000_000L) {
            return;
        }
        if (!refreshedAt.compareAndSet(last, now)) {
            return;
        }
        try {
            statfs = pool.statfs();
            counted = Counters.totals(pool.metadata().osd());
        } catch (OsdException e) {
            // Gauges keep their last values; the scrape itself must not fail.
        }
    }

    private double row(int device, int what) {
        refresh();
        StatFs s = statfs;
        if (s == null) {
            return Double.NaN;
        }
        StatFs r = s.devices().get(device);
        return switch (what) {
            case 0 -> r.totalBytes();
            case 1 -> r.usedBytes();
            default -> r.objects();
        };
    }

    private double copies(int device, CopyState s, int what) {
        refresh();
        long[] v = counted.getOrDefault(device, Map.of()).get(s);
        return v == null ? 0 : v[what];
    }

    /** The daemon's queues, moves and rate, read from its status at most once a second. */
    public void bindDaemon(dev.spillway.migrate.daemon.MigrationDaemon daemon) {
        java.util.concurrent.atomic.AtomicReference<dev.spillway.migrate.daemon.DaemonStatus> cached =
                new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicLong at = new java.util.concurrent.atomic.AtomicLong();
        java.util.function.Supplier<dev.spillway.migrate.daemon.DaemonStatus> status = () -> {
            long now = System.nanoTime();
            if (cached.get() == null || now - at.get() > 1_000_000_000L) {
                cached.set(daemon.status());
                at.set(now);
            }
            return cached.get();
        };
        for (String kind : java.util.List.of("COPY", "GC", "RESYNC", "PARKED")) {
            Gauge.builder("spillway_jobs", () -> status.get().queued().getOrDefault(kind, 0))
                    .tag("kind", kind.toLowerCase())
                    .description("work-index jobs at the daemon's last pass")
                    .register(registry);
        }
        for (String kind : java.util.List.of("spill", "promote", "resync", "parked", "emergency")) {
            Gauge.builder(
                            "spillway_daemon_moved_bytes",
                            () -> status.get().bytesMoved().getOrDefault(kind, 0L))
                    .tag("kind", kind)
                    .description("bytes the daemon moved since start")
                    .register(registry);
        }
        Gauge.builder("spillway_daemon_bytes_per_second", () -> status.get().bytesPerSecond())
                .register(registry);
        Gauge.builder("spillway_daemon_promotions_queued", () -> status.get().promotionsQueued())
                .register(registry);
        Gauge.builder("spillway_daemon_ping_pongs", () -> status.get().policy().pingPongs())
                .register(registry);
        Gauge.builder(
                        "spillway_fast_tier_use_ratio",
                        () -> (double) status.get().fastUsed()
                                / Math.max(1, status.get().fastCapacity()))
                .register(registry);
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
        readsByDevice
                .computeIfAbsent(
                        device,
                        d -> Counter.builder("spillway_reads")
                                .description("read calls served, by the device that served them")
                                .tag("device", pool.device(d).name())
                                .register(registry))
                .increment();
    }

    /** Counts one migration of {@code kind} ending with {@code outcome}. */
    public void migration(String kind, String outcome, long bytes) {
        migrations
                .computeIfAbsent(
                        kind + "/" + outcome,
                        k -> Counter.builder("spillway_migrations")
                                .tag("kind", kind)
                                .tag("outcome", outcome)
                                .register(registry))
                .increment();
        if (bytes > 0) {
            Counter.builder("spillway_migrated_bytes")
                    .tag("kind", kind)
                    .register(registry)
                    .increment(bytes);
        }
    }

    /** A timer for requests of {@code api} (admin, s3) and {@code operation}. */
    public Timer requests(String api, String operation) {
        return Timer.builder("spillway_request_seconds")
                .tag("api", api)
                .tag("operation", operation)
                .publishPercentileHistogram()
                .register(registry);
    }
}
