package dev.spillway.migrate.daemon;

import dev.spillway.migrate.heat.ExtentConfig;
import dev.spillway.migrate.heat.HeatConfig;
import dev.spillway.migrate.policy.PolicyConfig;
import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.spi.OsdConfig;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The migration daemon's settings: the {@code policy:} section of the pool YAML. Unknown keys and
 * bad values are errors naming the key.
 *
 * @param enabled false runs nothing (the pool still serves; nothing moves by itself)
 * @param policy watermarks, promotion rule, trials
 * @param heat decay and windows of the heat tracker
 * @param interval how often a pass runs
 * @param bandwidth bytes per second the daemon may move (0: unlimited), a token bucket
 * @param busyOps foreground operations per second above which non-urgent work waits (0: never)
 * @param backoffBase first back-off after a device fails a move; doubles per failure
 * @param backoffMax the longest back-off
 * @param checkpoint how often heat is checkpointed to the metadata device
 * @param evacuateBatch copies moved per pass off an evacuating device
 * @param spillStreams spill batches run side by side in a pass (1 to {@value #MAX_SPILL_STREAMS};
 *     1 runs them on the daemon's own thread)
 * @param spillWriters copies of one batch written side by side (1 to {@value #MAX_SPILL_WRITERS});
 *     by default {@value #DEFAULT_SPILL_WRITERS}, or 1 with {@code spill-streams: 1} (the daemon then
 *     runs every copy on its own thread, one after another, as deterministic tests want)
 * @param stuckCopyAge how old a COPY job no copy in flight owns must be before the daemon rolls
 *     it back (it is listed as stuck from then on until it is rolled back)
 * @param extents heat per extent of big objects (range-level placement, issue 20): {@code
 *     extent-threshold} (default 256 MiB; 0 turns it off), {@code extent-size} (default 64 MiB, a
 *     multiple of 64 KiB) and {@code extent-heat-cap} (the most extents tracked, default 262,144)
 */
public record DaemonConfig(
        boolean enabled,
        PolicyConfig policy,
        HeatConfig heat,
        Duration interval,
        long bandwidth,
        long busyOps,
        Duration backoffBase,
        Duration backoffMax,
        Duration checkpoint,
        int evacuateBatch,
        int spillStreams,
        int spillWriters,
        Duration stuckCopyAge,
        ExtentConfig extents) {

    /** The most spill streams: the pool's reserve counts on at most this many, plus its other callers. */
    public static final int MAX_SPILL_STREAMS = 3;

    /**
     * Copies of a batch written side by side, by default: writes and reads that wait on the device
     * or on a busy CPU overlap (issue 12's overload benchmark: about 1.3x the drain rate of one
     * writer on a shared 2-core machine). Unlike streams they need no reserve: a batch's copies are
     * begun together either way.
     */
    public static final int DEFAULT_SPILL_WRITERS = 4;

    public static final int MAX_SPILL_WRITERS = 16;

    static final Set<String> KEYS = Set.of(
            "enabled",
            "high-watermark",
            "low-watermark",
            "promote-hits",
            "half-life",
            "frequency-half-life",
            "probation-share",
            "promote-ceiling",
            "min-resident-age",
            "min-spill-bytes",
            "max-batch",
            "interval",
            "bandwidth",
            "busy-ops",
            "backoff-base",
            "backoff-max",
            "checkpoint-interval",
            "evacuate-batch",
            "spill-streams",
            "spill-writers",
            "stuck-copy-age",
            "extent-threshold",
            "extent-size",
            "extent-heat-cap");

    public static DaemonConfig defaults() {
        return new DaemonConfig(
                true,
                PolicyConfig.defaults().withWatermarks(0.80, 0.60),
                HeatConfig.defaults(),
                Duration.ofSeconds(1),
                0,
                0,
                Duration.ofSeconds(1),
                Duration.ofMinutes(5),
                Duration.ofMinutes(5),
                64,
                2,
                DEFAULT_SPILL_WRITERS,
                Duration.ofMinutes(5),
                ExtentConfig.defaults());
    }

    /** Reads the {@code policy:} map of a pool configuration. */
    public static DaemonConfig parse(Map<String, Object> policy, String pool) throws OsdException {
        for (String k : new TreeSet<>(policy.keySet())) {
            if (!KEYS.contains(k)) {
                throw new OsdException(
                        Errno.EINVAL,
                        pool,
                        "pool config: policy." + k + ": unknown key (known: " + new TreeSet<>(KEYS) + ")");
            }
        }
        OsdConfig c = OsdConfig.of(pool, "policy", policy);
        DaemonConfig d = defaults();
        try {
            PolicyConfig p = new PolicyConfig(
                    fraction(c, "high-watermark", d.policy.highWatermark()),
                    fraction(c, "low-watermark", d.policy.lowWatermark()),
                    (int) c.integer("promote-hits", d.policy.promoteHits()),
                    fraction(c, "probation-share", d.policy.probationShare()),
                    fraction(c, "promote-ceiling", d.policy.promoteCeiling()),
                    c.duration("min-resident-age", d.policy.minResidentAge()),
                    (int) c.integer("max-batch", d.policy.maxSpillBatch()));
            double order = turnovers(c, "half-life", d.heat.halfLife());
            double frequency = turnovers(c, "frequency-half-life", Math.max(order, d.heat.frequencyHalfLife()));
            int streams = streams(c, d.spillStreams);
            HeatConfig h = d.heat.withHalfLives(order, frequency)
                    .withMinSpillBytes(c.bytes("min-spill-bytes", d.heat.minSpillBytes()));
            return new DaemonConfig(
                    c.bool("enabled", true),
                    p,
                    h,
                    c.duration("interval", d.interval),
                    c.bytes("bandwidth", 0),
                    c.integer("busy-ops", 0),
                    c.duration("backoff-base", d.backoffBase),
                    c.duration("backoff-max", d.backoffMax),
                    c.duration("checkpoint-interval", d.checkpoint),
                    (int) c.integer("evacuate-batch", d.evacuateBatch),
                    streams,
                    writers(c, streams == 1 ? 1 : d.spillWriters),
                    c.duration("stuck-copy-age", d.stuckCopyAge),
                    new ExtentConfig(
                            c.bytes("extent-threshold", d.extents.threshold()),
                            c.bytes("extent-size", d.extents.extentSize()),
                            c.integer("extent-heat-cap", d.extents.cap())));
        } catch (IllegalArgumentException e) {
            throw new OsdException(Errno.EINVAL, pool, "pool config: policy: " + e.getMessage());
        }
    }

    /** A number of fast-tier turnovers: heat decays in logical time, never by the clock. */
    private static double turnovers(OsdConfig c, String key, double def) throws OsdException {
        String v = c.string(key, null);
        if (v == null) {
            return def;
        }
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new OsdException(
                    Errno.EINVAL,
                    c.name(),
                    "pool config: policy." + key + ": '" + v + "' is not a number of fast-tier turnovers (heat now"
                            + " decays with accesses, not with the clock: e.g. 4 halves it every 4 x the tier's"
                            + " objects accesses)");
        }
    }

    private static int streams(OsdConfig c, int def) throws OsdException {
        long n = c.integer("spill-streams", def);
        if (n < 1 || n > MAX_SPILL_STREAMS) {
            throw new OsdException(
                    Errno.EINVAL,
                    c.name(),
                    "pool config: policy.spill-streams: " + n + " is not from 1 to " + MAX_SPILL_STREAMS);
        }
        return (int) n;
    }

    private static int writers(OsdConfig c, int def) throws OsdException {
        long n = c.integer("spill-writers", def);
        if (n < 1 || n > MAX_SPILL_WRITERS) {
            throw new OsdException(
                    Errno.EINVAL,
                    c.name(),
                    "pool config: policy.spill-writers: " + n + " is not from 1 to " + MAX_SPILL_WRITERS);
        }
        return (int) n;
    }

    private static double fraction(OsdConfig c, String key, double def) throws OsdException {
        String v = c.string(key, null);
        if (v == null) {
            return def;
        }
        v = v.trim();
        try {
            return v.endsWith("%") ? Double.parseDouble(v.substring(0, v.length() - 1)) / 100 : Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new OsdException(
                    Errno.EINVAL,
                    c.name(),
                    "pool config: policy." + key + ": not a fraction: '" + v + "' (want e.g. 0.8 or 80%)");
        }
    }
}
