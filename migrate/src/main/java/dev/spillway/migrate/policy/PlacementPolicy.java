package dev.spillway.migrate.policy;

import dev.spillway.migrate.heat.Candidate;
import dev.spillway.migrate.heat.HeatTracker;
import dev.spillway.migrate.heat.ObjectHeat;
import dev.spillway.osd.Fid;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
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
 * the daemon never flaps. Each plan offers objects totalling the excess over the low watermark:
 * first the oldest trial copies beyond their share, then the coldest resident objects
 * ({@link HeatTracker#coldest}), then, if those run short, any trial copies.
 *
 * <h2>Promote: nhit, trials, occupancy, no ping-pong</h2>
 * A spilled object read {@code promoteHits} times within the hit window is promoted if the fast
 * tier has room under the promotion ceiling and, when adding it would start (or feed) a spill
 * pass, only if it is hotter than the line that pass would cut at ({@link HeatTracker#coldLine})
 * — TinyLFU's "newcomer against victim" test, on exact decayed counts: what the next pass would
 * evict is never promoted. A spilled object read fewer times may be copied up on trial while
 * trial copies hold less than {@code probationShare} of the tier (S3-FIFO's small FIFO; the
 * tracker's hit window is its ghost: a trial copy spilled and read again soon meets the nhit
 * rule). A watermark pass never takes an object promoted since the previous pass ended, so the
 * gate's promise holds even when heat moves between the decision and the pass; only an
 * emergency (room needed at once) may, and each such spill of a promoted object is counted as a
 * ping-pong in {@link #stats()}.
 *
 * <p>Thread-safe (one monitor; decisions are short and off the data path).
 */
public final class PlacementPolicy {
    private final PolicyConfig config;
    private final HeatTracker heat;

    // guarded by this
    private boolean spilling;
    /** Epoch second the last pass finished; objects promoted since then are "new" to the next pass. */
    private long lastPassEnd;

    private long passesStarted;
    private long passesFinished;
    private long spillsPlanned;
    private long bytesPlanned;
    private long emergencies;
    private long promotions;
    private long trialPromotions;
    private long refusedHits;
    private long refusedRoom;
    private long refusedWouldSpill;
    private long pingPongs;

    public PlacementPolicy(PolicyConfig config, HeatTracker heat) {
        this.config = config;
        this.heat = heat;
        this.lastPassEnd = heat.clock().instant().getEpochSecond();
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
            lastPassEnd = heat.clock().instant().getEpochSecond();
            return SpillPlan.NONE;
        }
        return plan(SpillPlan.Reason.WATERMARK, usedBytes - low, capacityBytes, config.minResidentAge(), true);
    }

    /**
     * Room needed at once (a write would otherwise hit ENOSPC): eligible objects totalling
     * {@code neededBytes}, chosen as a pass would choose them but ignoring the watermarks and the
     * minimum resident age; never INDEX or pinned objects.
     */
    public synchronized SpillPlan planEmergency(long neededBytes, long capacityBytes) {
        if (neededBytes <= 0) {
            return SpillPlan.NONE;
        }
        emergencies++;
        return plan(SpillPlan.Reason.EMERGENCY, neededBytes, capacityBytes, Duration.ZERO, false);
    }

    private SpillPlan plan(SpillPlan.Reason reason, long need, long capacity, Duration minAge, boolean protect) {
        int batch = config.maxSpillBatch();
        long trialExcess = heat.probationBytes() - (long) (config.probationShare() * capacity);
        List<Candidate> out = new ArrayList<>(heat.coldestOnProbation(batch, Math.min(need, trialExcess), minAge));
        long got = sum(out);
        int trials = out.size();
        long trialBytes = got;
        Instant protectSince = protect ? Instant.ofEpochSecond(lastPassEnd) : null;
        int mainStart = out.size();
        for (Candidate c : heat.coldest(batch - out.size(), need - got, minAge, protectSince)) {
            out.add(c);
            got += c.sizeBytes();
        }
        if (got < need && out.size() < batch) {
            // Not enough elsewhere: trial copies within their share go too, oldest first. The
            // tracker returns them in the same order, so skip the ones already taken.
            List<Candidate> more = heat.coldestOnProbation(batch, trialBytes + need - got, minAge);
            for (int i = trials; i < more.size() && out.size() < batch && got < need; i++) {
                out.add(more.get(i));
                got += more.get(i).sizeBytes();
            }
        }
        if (got < need && out.size() < batch && protectSince != null) {
            // Protecting fresh promotions would stall the pass: take from them too (counted below
            // as ping-pongs) rather than never reaching the low mark.
            java.util.Set<Fid> taken = new java.util.HashSet<>();
            long mainGot = 0;
            for (int i = mainStart; i < out.size(); i++) {
                taken.add(out.get(i).fid());
                mainGot += out.get(i).sizeBytes();
            }
            for (Candidate c : heat.coldest(batch, mainGot + need - got, minAge, null)) {
                if (out.size() >= batch || got >= need) {
                    break;
                }
                if (taken.add(c.fid())) {
                    out.add(c);
                    got += c.sizeBytes();
                }
            }
        }
        for (Candidate x : out) {
            spillsPlanned++;
            bytesPlanned += x.sizeBytes();
            if (x.promoted()
                    && !x.probation()
                    && x.residentSince() != null
                    && x.residentSince().getEpochSecond() >= lastPassEnd) {
                pingPongs++;
            }
        }
        return new SpillPlan(reason, need, out);
    }

    private static long sum(List<Candidate> cs) {
        long n = 0;
        for (Candidate c : cs) {
            n += c.sizeBytes();
        }
        return n;
    }

    /**
     * Whether to promote {@code fid}, just read from a spill device (the read already recorded in
     * the tracker, which returned {@code windowHits}).
     *
     * @param sizeBytes the object's size
     * @param usedBytes the fast tier's occupancy now
     * @param capacityBytes the fast tier's capacity
     */
    public synchronized Promotion decidePromotion(
            Fid fid, long sizeBytes, int windowHits, long usedBytes, long capacityBytes) {
        checkOccupancy(usedBytes, capacityBytes);
        long after = usedBytes + sizeBytes;
        if (after > (long) (config.promoteCeiling() * capacityBytes)) {
            refusedRoom++;
            return Promotion.NO_ROOM;
        }
        if (windowHits < config.promoteHits()) {
            if (config.probationShare() > 0) {
                // Trial copies beyond their share are the next pass's first victims, so a trial
                // never pushes out a resident the policy wants to keep.
                promotions++;
                trialPromotions++;
                return Promotion.PROMOTE_ON_TRIAL;
            }
            refusedHits++;
            return Promotion.TOO_FEW_HITS;
        }
        long high = (long) (config.highWatermark() * capacityBytes);
        long low = (long) (config.lowWatermark() * capacityBytes);
        if (after > low || spilling) {
            // The next pass (now, or once the tier climbs past high) takes at least the band
            // between the marks, trial copies beyond their share first and the rest from the
            // coldest residents: the object must be hotter than that line, or it would come
            // straight back.
            long trialExcess = Math.max(0, heat.probationBytes() - (long) (config.probationShare() * capacityBytes));
            long pass = Math.max(after - low, high - low);
            double line = heat.coldLine(pass - trialExcess);
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
        return new PolicyStats(
                passesStarted,
                passesFinished,
                spillsPlanned,
                bytesPlanned,
                emergencies,
                promotions,
                trialPromotions,
                refusedHits,
                refusedRoom,
                refusedWouldSpill,
                pingPongs);
    }
}
