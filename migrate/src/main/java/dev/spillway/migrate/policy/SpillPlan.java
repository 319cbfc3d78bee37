package dev.spillway.migrate.policy;

import dev.spillway.migrate.heat.Candidate;
import java.util.List;

/**
 * What the policy wants spilled now, coldest first.
 *
 * @param reason why: nothing to do, the high watermark, or room needed at once
 * @param targetBytes bytes the pass wants to free in all (occupancy minus the low watermark,
 *     or what the emergency needs)
 * @param candidates the objects to spill, in order; they may total less than the target when not
 *     enough objects are eligible, and the daemon asks again after spilling them
 */
public record SpillPlan(Reason reason, long targetBytes, List<Candidate> candidates) {
    public enum Reason {
        NONE,
        WATERMARK,
        EMERGENCY
    }

    public static final SpillPlan NONE = new SpillPlan(Reason.NONE, 0, List.of());

    public long plannedBytes() {
        long n = 0;
        for (Candidate c : candidates) {
            n += c.sizeBytes();
        }
        return n;
    }

    public boolean isEmpty() {
        return candidates.isEmpty();
    }
}
