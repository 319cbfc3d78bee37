package dev.spillway.pool.recovery;

import java.util.Map;

/**
 * What a mount found and did.
 *
 * @param mode "recover" (work index only) or "full-scan"
 * @param nanos how long it took
 * @param jobs jobs found, by kind
 * @param rolledBack pending copies rolled back
 * @param collected garbage copies deleted
 * @param objectsScanned objects walked (0 for a normal recovery: it never scans)
 */
public record RecoveryReport(
        String mode, long nanos, Map<String, Integer> jobs, int rolledBack, int collected, long objectsScanned) {
    @Override
    public String toString() {
        return String.format(
                "%s in %.1f ms: jobs %s, %d copies rolled back, %d garbage copies deleted, %d objects scanned",
                mode, nanos / 1e6, jobs, rolledBack, collected, objectsScanned);
    }
}
