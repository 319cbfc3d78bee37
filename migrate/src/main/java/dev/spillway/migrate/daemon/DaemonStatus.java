package dev.spillway.migrate.daemon;

import dev.spillway.migrate.policy.PolicyStats;
import java.util.List;
import java.util.Map;

/**
 * What the daemon is doing, for the admin API, the CLI ({@code spillway jobs}) and metrics.
 *
 * @param running the background thread runs
 * @param activity what the current pass is doing right now
 * @param queued work-index jobs by kind at the last pass
 * @param promotionsQueued promotions decided and waiting
 * @param bytesMoved bytes moved since start, by kind (spill, promote, resync, evacuate, parked)
 * @param moves moves since start, by kind and outcome ("spill/DONE")
 * @param bytesPerSecond bytes moved per second over the last pass
 * @param fastUsed bytes used on the fast tier at the last pass
 * @param fastCapacity the fast tier's capacity
 * @param spilling a watermark pass is running
 * @param backoffs devices backing off, with seconds left
 * @param tracked objects the heat tracker knows
 * @param policy the policy's counters (passes, promotions, refusals, ping-pongs)
 * @param lastError the last failure, or null
 * @param stuckCopies COPY jobs no copy in flight owns, older than {@code stuck-copy-age}, that the
 *     last pass found and could not roll back
 * @param stuckCopiesRolledBack stuck COPY jobs' copies the daemon rolled back since start
 */
public record DaemonStatus(
        boolean running,
        String activity,
        Map<String, Integer> queued,
        int promotionsQueued,
        Map<String, Long> bytesMoved,
        Map<String, Long> moves,
        double bytesPerSecond,
        long fastUsed,
        long fastCapacity,
        boolean spilling,
        Map<String, Double> backoffs,
        long tracked,
        PolicyStats policy,
        String lastError,
        List<StuckCopy> stuckCopies,
        long stuckCopiesRolledBack) {

    /**
     * A COPY job left behind: its copy failed half-way and its roll-back did not finish.
     *
     * @param fid the object
     * @param device the copy's target device
     * @param copyKey the copy's key on it
     * @param ageSeconds how long ago the job was recorded
     */
    public record StuckCopy(String fid, String device, String copyKey, double ageSeconds) {}
}
