package dev.spillway.migrate.heat;

import dev.spillway.osd.Fid;
import java.time.Instant;

/**
 * What the tracker knows about one object, now.
 *
 * @param fid the object
 * @param sizeBytes size as last reported
 * @param heat decayed access count now (1.0 = one access just now), in logical time
 * @param lastAccess last read or write
 * @param spillable DATA kind and not pinned
 * @param pinned pinned by an administrator: never a candidate
 * @param resident body on the fast tier
 * @param promoted became resident through a promotion
 * @param probation a trial promotion not read since
 * @param since resident: when it arrived on the fast tier; null for a spilled object
 */
public record ObjectHeat(
        Fid fid,
        long sizeBytes,
        double heat,
        Instant lastAccess,
        boolean spillable,
        boolean pinned,
        boolean resident,
        boolean promoted,
        boolean probation,
        Instant since) {}
