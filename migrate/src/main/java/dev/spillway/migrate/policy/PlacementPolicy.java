package dev.spillway.migrate.policy;

import dev.spillway.migrate.heat.Candidate;
import dev.spillway.migrate.heat.HeatTracker;
import dev.spillway.migrate.heat.ObjectHeat;
import dev.spillway.osd.Fid;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The placement decisions the migration daemon runs, and the simulator replays: pure decisions
 * from occupancy, the heat tracker and the tracker's clock — no I/O, no threads, no timers. The
 * caller (daemon or simulator) carries them out and reports back through the tracker
 * ({@code markSpilled}, {@code markPromoted}).
 *
 * <h2>Spill: watermarks with hysteresis</h2>
 * A pass starts when occupancy rises above the high watermark and goes on, plan after plan,
 * until occupancy is at or below the low one; between the marks the state does not change, so
 * the daemon never flaps. Each plan offers the coldest eligible objects totalling the excess
 * over the low watermark ({@link HeatTracker#coldest}).
 *
 * <h2>Promote: nhit, occupancy, no ping-pong</h2>
 * A spilled object read {@code promoteHits} times within the hit window is promoted if the fast
 * tier has room under the promotion ceiling and, when adding it would start a spill pass, only
 * if it is hotter than the line that pass would cut at ({@link HeatTracker#coldLine}): what the
 * next pass would evict is never promoted. Combined with the minimum resident age, a promoted
 * object is not spilled straight back; when one is (the gate works from bucket totals and heat
 * moves), the spill is counted as a ping-pong in {@link #stats()}.
 *
 * <p>Thread-safe (one monitor; decisions are short and off the data path).
 */
public final class PlacementPolicy {
    private final PolicyConfig config;
    private final HeatTracker heat;

    // guarded by this
    private boolean spilling;
    private long passesStarted;
    private long passesFinished;
    private long spillsPlanned;
    private long bytesPlanned;
    private long emergencies;
    private long promotions;
    private long refusedHits;
    private long refusedRoom;
    private long refusedWouldSpill;
    private long pingPongs;

    public PlacementPolicy(PolicyConfig config, HeatTracker heat) {
        this.config = config;
        this.heat = heat;
    }

    public PolicyConfig config() {
        return config;
    }

    public HeatTracker heat() {
        return heat;
    }

    /** True while a spill pass is running (between crossing high and reaching low). */
    public synchronized boolean spilling() {
        return spilling;
    }

    private static void checkOccupancy(long used, long capacity) {
        if (capacity <= 0 || used < 0) {
            throw new IllegalArgumentException("occupancy " + used + " of capacity " + capacity);
        }
    }

    /**
     * What to spill now, given the fast tier's occupancy. Returns {@link SpillPlan#NONE} when no
     * pass is running (or the one running just reached the low watermark).
     */
    public synchronized SpillPlan planSpill(long usedBytes, long capacityBytes) {
        checkOccupancy(usedBytes, capacityBytes);
        long high = (long) (config.highWatermark() * capacityBytes);
        long low = (long) (config.lowWatermark() * capacityBytes);
        if (!spilling) {
            if (usedBytes <= high) {
                return SpillPlan.NONE;
            }
            spilling = true;
            passesStarted++;
        }
        if (usedBytes <= low) {
            spilling = false;
            passesFinished++;
            return SpillPlan.NONE;
        }
        long need = usedBytes - low;
        return plan(SpillPlan.Reason.WATERMARK, need, config.minResidentAge());
    }

    /**
     * Room needed at once (a write would otherwise hit ENOSPC): the coldest eligible objects
     * totalling {@code neededBytes}, ignoring the watermarks and the minimum resident age, never
     * INDEX or pinned objects.
     */
    public synchronized SpillPlan planEmergency(long neededBytes) {
        if (neededBytes <= 0) {
            return SpillPlan.NONE;
        }
        emergencies++;
        return plan(SpillPlan.Reason.EMERGENCY, neededBytes, Duration.ZERO);
    }

    private SpillPlan plan(SpillPlan.Reason reason, long need, Duration minAge) {
        List<Candidate> c = heat.coldest(config.maxSpillBatch(), need, minAge);
        Instant now = heat.clock().instant();
        Instant pingPongSince = now.minus(config.pingPongWindow());
        for (Candidate x : c) {
            spillsPlanned++;
            bytesPlanned += x.sizeBytes();
            if (x.promoted() && x.residentSince() != null && x.residentSince().isAfter(pingPongSince)) {
                pingPongs++;
            }
        }
        return new SpillPlan(reason, need, c);
    }

    /**
     * Whether to promote {@code fid}, just read from a spill device (the read already recorded in
     * the tracker, which returned {@code windowHits}).
     *
     * @param sizeBytes the object's size
     * @param usedBytes the fast tier's occupancy now
     * @param capacityBytes the fast tier's capacity
     */
    public synchronized Promotion decidePromotion(Fid fid, long sizeBytes, int windowHits, long usedBytes,
                                                  long capacityBytes) {
        checkOccupancy(usedBytes, capacityBytes);
        if (windowHits < config.promoteHits()) {
            refusedHits++;
            return Promotion.TOO_FEW_HITS;
        }
        long after = usedBytes + sizeBytes;
        if (after > (long) (config.promoteCeiling() * capacityBytes)) {
            refusedRoom++;
            return Promotion.NO_ROOM;
        }
        long high = (long) (config.highWatermark() * capacityBytes);
        if (after > high || spilling) {
            // Adding it starts (or feeds) a pass down to the low mark: it must be hotter than what
            // that pass would evict, or it would come straight back.
            long low = (long) (config.lowWatermark() * capacityBytes);
            double line = heat.coldLine(after - low);
            if (heat.heat(fid) <= line) {
                refusedWouldSpill++;
                return Promotion.WOULD_SPILL_NEXT;
            }
        }
        promotions++;
        return Promotion.PROMOTE;
    }

    /**
     * {@link #decidePromotion(Fid, long, int, long, long)} for an object looked up in the
     * tracker: not eligible unless it is a spilled, spillable (DATA, unpinned) object.
     */
    public Promotion decidePromotion(Fid fid, long usedBytes, long capacityBytes) {
        Optional<ObjectHeat> h = heat.lookup(fid);
        if (h.isEmpty() || h.get().resident() || !h.get().spillable()) {
            return Promotion.NOT_ELIGIBLE;
        }
        return decidePromotion(fid, h.get().sizeBytes(), h.get().windowHits(), usedBytes, capacityBytes);
    }

    public synchronized PolicyStats stats() {
        return new PolicyStats(passesStarted, passesFinished, spillsPlanned, bytesPlanned, emergencies, promotions,
                refusedHits, refusedRoom, refusedWouldSpill, pingPongs);
    }
}
