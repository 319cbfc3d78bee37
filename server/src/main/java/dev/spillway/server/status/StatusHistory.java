package dev.spillway.server.status;

import dev.spillway.migrate.daemon.DaemonStatus;
import dev.spillway.osd.StatFs;
import dev.spillway.pool.meta.Job;
import dev.spillway.server.metrics.PoolMetrics;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The status page's charts over time: one sample every few seconds (taken by the server's timer,
 * or by {@link #sample()} directly in tests) of each device's use, bytes spilled and promoted so
 * far, the daemon's move rate against its cap, jobs, and S3 requests with their latency
 * percentiles over the interval. The last {@link #KEEP} samples are kept in memory (an hour at
 * the server's 5-second interval); the page draws them, Prometheus keeps the long history.
 */
public final class StatusHistory {
    public static final int KEEP = 720;

    private final PoolMetrics metrics;
    private final InstantSource clock;
    private final ArrayDeque<Map<String, Object>> samples = new ArrayDeque<>();
    // S3 latency histogram (bucket upper bound in ns -> cumulative count) and request count at the last sample.
    private Map<Double, Double> lastBuckets = Map.of();
    private long lastRequests;
    private long lastErrors;
    private long lastMillis;

    public StatusHistory(PoolMetrics metrics, InstantSource clock) {
        this.metrics = metrics;
        this.clock = clock;
    }

    /** Takes one sample now and returns it. */
    public synchronized Map<String, Object> sample() {
        long now = clock.millis();
        PoolMetrics.Snapshot s = metrics.snap();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("t", now);
        List<Map<String, Object>> devs = new ArrayList<>();
        for (StatFs d : s.statfs().devices()) {
            devs.add(Map.of("name", d.device(), "used", d.usedBytes(), "size", d.totalBytes()));
        }
        m.put("devices", devs);
        // Operators' spills and promotions count with the daemon's (the same figures as /api/status).
        long[] moved = metrics.movedBytes();
        m.put("spilledBytes", moved[0]);
        m.put("promotedBytes", moved[1]);
        DaemonStatus ds = s.daemon();
        if (ds != null) {
            m.put("moveRate", ds.bytesPerSecond());
            m.put("fastUse", (double) ds.fastUsed() / Math.max(1, ds.fastCapacity()));
        }
        Map<String, Long> jobs = new TreeMap<>();
        long retried = 0;
        for (Job.Kind k : Job.Kind.values()) {
            long[] v = s.jobs().getOrDefault(k, new long[3]);
            jobs.put(k.name().toLowerCase(Locale.ROOT), v[0]);
            retried += v[1];
        }
        jobs.put("retried", retried);
        m.put("jobs", jobs);
        s3(m, now);
        samples.addLast(m);
        while (samples.size() > KEEP) {
            samples.removeFirst();
        }
        return m;
    }

    private void s3(Map<String, Object> m, long now) {
        Map<Double, Double> buckets = new TreeMap<>();
        long requests = 0;
        long errors = 0;
        for (var meter : metrics.registry().find("spillway_s3_request_duration").timers()) {
            HistogramSnapshot h = meter.takeSnapshot();
            requests += h.count();
            if ("5xx".equals(meter.getId().getTag("status"))) {
                errors += h.count();
            }
            for (CountAtBucket c : h.histogramCounts()) {
                buckets.merge(c.bucket(), c.count(), Double::sum);
            }
        }
        double dt = lastMillis == 0 ? 0 : (now - lastMillis) / 1000.0;
        long n = requests - lastRequests;
        m.put("s3Requests", requests);
        m.put("s3Rate", dt > 0 ? Math.max(0, n) / dt : 0.0);
        m.put("s3Errors", errors - lastErrors);
        Map<Double, Double> diff = new TreeMap<>();
        buckets.forEach((b, c) -> diff.put(b, c - lastBuckets.getOrDefault(b, 0.0)));
        m.put("s3P50", quantile(diff, n, 0.50));
        m.put("s3P99", quantile(diff, n, 0.99));
        lastBuckets = buckets;
        lastRequests = requests;
        lastErrors = errors;
        lastMillis = now;
    }

    /**
     * The q-quantile in seconds from cumulative bucket counts (upper bound in ns -> count of
     * requests at or below it): the upper bound of the first bucket that reaches it, so it errs
     * high by at most one bucket; null if no request came.
     */
    static Double quantile(Map<Double, Double> cumulative, long total, double q) {
        if (total <= 0) {
            return null;
        }
        double want = q * total;
        for (var e : cumulative.entrySet()) {
            if (e.getValue() >= want) {
                return e.getKey() / 1e9;
            }
        }
        return null;
    }

    /** Every sample kept, oldest first. */
    public synchronized List<Map<String, Object>> samples() {
        return new ArrayList<>(samples);
    }

    /** Latency percentiles (seconds) of every S3 request since the start, by operation. */
    public Map<String, Map<String, Object>> s3ByOperation() {
        Map<String, Map<String, Object>> out = new TreeMap<>();
        Map<String, double[]> agg = new TreeMap<>();
        Map<String, Map<Double, Double>> hist = new TreeMap<>();
        for (Timer t : metrics.registry().find("spillway_s3_request_duration").timers()) {
            String op = t.getId().getTag("operation");
            HistogramSnapshot h = t.takeSnapshot();
            double[] a = agg.computeIfAbsent(op, k -> new double[3]);
            a[0] += h.count();
            a[1] += h.total(TimeUnit.SECONDS);
            if (!"2xx".equals(t.getId().getTag("status"))) {
                a[2] += h.count();
            }
            Map<Double, Double> b = hist.computeIfAbsent(op, k -> new TreeMap<>());
            for (CountAtBucket c : h.histogramCounts()) {
                b.merge(c.bucket(), c.count(), Double::sum);
            }
        }
        agg.forEach((op, a) -> {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("requests", (long) a[0]);
            r.put("errors", (long) a[2]);
            r.put("meanSeconds", a[0] == 0 ? 0 : a[1] / a[0]);
            r.put("p50Seconds", quantile(hist.get(op), (long) a[0], 0.50));
            r.put("p99Seconds", quantile(hist.get(op), (long) a[0], 0.99));
            out.put(op, r);
        });
        return out;
    }
}
