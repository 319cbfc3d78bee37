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
 * @param missing garbage copies already gone from their device (a crash cut them off before
 *     they got there, or after they were deleted)
 * @param deferred garbage copies their device could not delete now (left to the daemon)
 * @param objectsScanned objects walked (0 for a normal recovery: it never scans)
 * @param cacheCopiesDropped copies a cache device no longer held (an osd-mem cache after a
 *     restart), dropped from their layouts (found through the cache devices' own indexes)
 */
public record RecoveryReport(
        String mode,
        long nanos,
        Map<String, Integer> jobs,
        int rolledBack,
        int collected,
        int missing,
        int deferred,
        long objectsScanned,
        int cacheCopiesDropped) {
    @Override
    public String toString() {
        return String.format(
                "%s in %.1f ms: jobs %s, %d copies rolled back, %d garbage copies deleted%s%s%s, %d objects scanned",
                mode,
                nanos / 1e6,
                jobs,
                rolledBack,
                collected,
                missing > 0 ? ", " + missing + " already gone" : "",
                deferred > 0 ? ", " + deferred + " left for the daemon (their device refused the delete)" : "",
                cacheCopiesDropped > 0 ? ", " + cacheCopiesDropped + " cache copies lost with their cache dropped" : "",
                objectsScanned);
    }
}
