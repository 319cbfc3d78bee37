package dev.spillway.server;

import dev.spillway.pool.recovery.RecoveryReport;
import java.time.Instant;
import java.util.Locale;

/**
 * How the server's pool was mounted: the one set of figures the start-up line, the admin API,
 * the status page and {@code /metrics} all show.
 *
 * @param at when the mount finished
 * @param formatted true if this start formatted the pool
 * @param mountNanos the whole mount: opening every device (RocksDB replays its log here), checking
 *     the pool's configuration, and recovery
 * @param recovery what recovery found and did, and how long it took (it reads the work index only)
 */
public record MountReport(Instant at, boolean formatted, long mountNanos, RecoveryReport recovery) {
    public double mountSeconds() {
        return mountNanos / 1e9;
    }

    public double recoverySeconds() {
        return recovery.nanos() / 1e9;
    }

    /** One line, e.g. {@code mounted in 1305.7 ms (recovery 5.1 ms: no jobs in flight)}. */
    public String summary() {
        var r = recovery;
        String jobs = r.jobs().isEmpty() ? "no jobs in flight" : "jobs in flight " + r.jobs();
        String did = r.rolledBack() + r.collected() == 0
                ? ""
                : ", " + r.rolledBack() + " pending copies rolled back, " + r.collected() + " garbage copies deleted";
        return String.format(
                Locale.ROOT,
                "%s in %.1f ms (recovery %.1f ms: %s%s%s)",
                formatted ? "formatted and mounted" : "mounted",
                mountNanos / 1e6,
                r.nanos() / 1e6,
                jobs,
                did,
                r.objectsScanned() > 0 ? ", " + r.objectsScanned() + " objects scanned" : "");
    }
}
