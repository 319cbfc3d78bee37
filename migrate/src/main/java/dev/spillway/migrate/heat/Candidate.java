package dev.spillway.migrate.heat;

import dev.spillway.osd.Fid;
import java.time.Instant;

/**
 * An object offered for spilling (or exported as inactive), as the tracker saw it when it was
 * chosen. The daemon re-checks it under the pool's transaction: a candidate is advice.
 *
 * @param fid the object
 * @param sizeBytes its size as last reported (exact below 1 GiB, rounded up to a MiB above)
 * @param heat its decayed access count now
 * @param lastAccess its last read or write
 * @param resident true if its body is on the fast tier
 * @param promoted true if it became resident through a promotion (not a write)
 * @param probation true if it is a trial promotion not read since
 * @param residentSince when it arrived on the fast tier (resident objects only)
 */
public record Candidate(
        Fid fid,
        long sizeBytes,
        double heat,
        Instant lastAccess,
        boolean resident,
        boolean promoted,
        boolean probation,
        Instant residentSince) {}
