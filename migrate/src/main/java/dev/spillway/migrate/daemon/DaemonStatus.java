package dev.spillway.migrate.daemon;

import dev.spillway.migrate.policy.PolicyStats;
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
        String lastError) {}
