package dev.spillway.migrate.policy;

import dev.spillway.migrate.heat.Candidate;
import dev.spillway.migrate.heat.HeatTracker;
import dev.spillway.migrate.heat.ObjectHeat;
import dev.spillway.osd.Fid;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The placement decisions the migration daemon runs, and the simulator replays: pure decisions
 * from occupancy and the heat tracker — no I/O, no threads, no timers, no wall-clock time except
 * the minimum resident age. The caller (daemon or simulator) carries them out and reports back
 * through the tracker ({@code markSpilled}, {@code markPromoted}).
 *
 * <h2>Spill: watermarks with hysteresis</h2>
 * A pass starts when occupancy rises above the high watermark and goes on, plan after plan,
 * until occupancy is at or below the low one; between the marks the state does not change, so
 * the daemon never flaps. Each plan offers objects totalling the excess over the low watermark:
 * first the oldest trial copies beyond their share, then the coldest resident objects
 * ({@link HeatTracker#coldest}), then, if those run short, any trial copies.
 *
 * <h2>Promote: admission by heat, trials</h2>
 * A promotion costs a copy, so a spilled object just read is admitted to the main part of the
 * tier only if its history (its decayed count before this read) is hotter than what it would
 * displace — TinyLFU's newcomer-against-victim test, on the tracker's exact decayed counts
 * ({@link HeatTracker#coldLine}), with ties to the victim so that loops and scans larger than
 * the tier do not flush the main part — and has been read
 * at least {@code promoteHits} times lately (its decayed count); or if the tier has room to
 * spare. Otherwise it may be copied up on trial while trial copies hold less than
 * a share of the tier (S3-FIFO's small FIFO, W-TinyLFU's window): a trial copy
 * read again joins the main part; one that is not is the next pass's first victim, and its
 * history stays in the tracker (the ghost), so a quick return finds it hotter.
 *
 * <h2>The trial share adapts: equal ghosts</h2>
 * The share starts at {@code probationShare} and follows the marginal hits of the two parts:
 * a spilled object read again within the last {@value #GHOST_DIVISOR}th of the tier's bytes
 * that its part spilled (a return {@link HeatTracker#ghostHit} reports) is a hit that part
 * would have had with that much more room. A return to the trial copies' ghost grows the
 * share by {@value #TRIAL_RETURN_WEIGHT} of the object's bytes (that hit would also have moved
 * the object into the main part, displacing its coldest), one to the main part's shrinks it by
 * all of them (ARC's step); both ghosts are
 * the same size, so their hits compare directly (ARC's ghosts are each the complement of
 * their list, which needs a ratio weighting that swings), and the share settles where the two
 * parts' marginal hits are equal. Bounded to {@value #MIN_SHARE_PERCENT}% ..
 * {@value #MAX_SHARE_PERCENT}% of the tier. A loop or scan larger than the tier returns to
 * neither ghost, so it does not move the share. The share and the ghosts live through a restart:
 * the policy notes its share in the tracker, whose checkpoint carries it with the ghost marks.
 *
 * <p>Thread-safe (one monitor; decisions are short and off the data path).
 */
public final class PlacementPolicy {
    private final PolicyConfig config;
    private final HeatTracker heat;

    // guarded by this
    private boolean spilling;

    /** Promoted (not on trial) since the last pass ended: spilling one of them is a ping-pong. */
    private final Set<Fid> freshPromotions = new HashSet<>();

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

    /** The ghosts of the two parts are this fraction of the tier's bytes each (Caffeine's climber step). */
    static final int GHOST_DIVISOR = 16;
    /**
     * What a return to the trial copies' ghost moves the share by, in the object's bytes (one to
     * the main part's ghost moves it by all of them). A return to the trial ghost is a hit that
     * more trial room would have had — but that hit would also have carried the object into the
     * main part, pushing out the coldest object there, a cost the trial ghost does not see; a
     * hit of the main part costs nothing of the kind. So a trial return counts for less: 3/4
     * (measured: 1/4 .. 1 move OLTP 0.1% and w106 0.1% monotonically in opposite directions; 3/4
     * is where no shared point is below 0.98x the best, and no held-out trace lost; see
     * docs/design.md).
     */
    static final double TRIAL_RETURN_WEIGHT = 0.75;

    /** The adapted trial share stays within these (percent of the tier). */
    static final int MIN_SHARE_PERCENT = 1;

    static final int MAX_SHARE_PERCENT = 90;
    /** The trial copies' share of the tier now (adapted; see the class comment). */
    private double trialShare;

    public PlacementPolicy(PolicyConfig config, HeatTracker heat) {
        this.config = config;
        this.heat = heat;
        // A share adapted before a restart (the heat checkpoint carries it) goes on from where it
        // was, unless the configured starting share changed since.
        double saved = heat.savedTrialShare(config.probationShare());
        this.trialShare = Double.isNaN(saved) ? config.probationShare() : clampShare(saved);
    }

    private static double clampShare(double share) {
        return Math.max(MIN_SHARE_PERCENT / 100.0, Math.min(MAX_SHARE_PERCENT / 100.0, share));
    }

    /** The trial copies' share of the tier now: starts at {@code probationShare}, then adapts. */
    public synchronized double trialShare() {
        return trialShare;
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
            freshPromotions.clear();
            return SpillPlan.NONE;
        }
        return plan(SpillPlan.Reason.WATERMARK, usedBytes - low, capacityBytes, config.minResidentAge());
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
        return plan(SpillPlan.Reason.EMERGENCY, neededBytes, capacityBytes, Duration.ZERO);
    }

    private SpillPlan plan(SpillPlan.Reason reason, long need, long capacity, Duration minAge) {
        int batch = config.maxSpillBatch();
        long trialExcess = heat.probationBytes() - (long) (trialShare * capacity);
        List<Candidate> out = new ArrayList<>(heat.coldestOnProbation(batch, Math.min(need, trialExcess), minAge));
        long got = sum(out);
        int trials = out.size();
        long trialBytes = got;
        for (Candidate c : heat.coldest(batch - out.size(), need - got, minAge)) {
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
        for (Candidate x : out) {
            spillsPlanned++;
            bytesPlanned += x.sizeBytes();
            if (freshPromotions.remove(x.fid())) {
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
     * the tracker, so its heat counts this read). The read consumed the object's ghost ({@link
     * HeatTracker#recordRead} returned it), so this decision does not move the trial share;
     * {@link Placement#read}, the one code path, passes the ghost on.
     *
     * @param sizeBytes the object's size
     * @param usedBytes the fast tier's occupancy now
     * @param capacityBytes the fast tier's capacity
     */
    public Promotion decidePromotion(Fid fid, long sizeBytes, long usedBytes, long capacityBytes) {
        return decidePromotion(fid, sizeBytes, usedBytes, capacityBytes, heat.ghostHit(fid, ghostBytes(capacityBytes)));
    }

    private static long ghostBytes(long capacityBytes) {
        return capacityBytes / GHOST_DIVISOR;
    }

    /**
     * {@link #decidePromotion(Fid, long, long, long)} with the ghost the read consumed already
     * ({@link HeatTracker#recordRead}'s token): what {@link Placement#read} calls.
     */
    synchronized Promotion decidePromotionAfterRead(
            Fid fid, long sizeBytes, long usedBytes, long capacityBytes, long ghostToken) {
        return decidePromotion(
                fid,
                sizeBytes,
                usedBytes,
                capacityBytes,
                HeatTracker.ghostVerdict(ghostToken, ghostBytes(capacityBytes)));
    }

    /**
     * A read of a spilled object that decides nothing (served by a cache device, or its
     * promotion already queued) used up the ghost {@code ghostToken} ({@link
     * HeatTracker#recordRead}'s token): the share moves by it as a decision's read would move it.
     */
    synchronized void ghostReturned(long sizeBytes, long capacityBytes, long ghostToken) {
        if (capacityBytes > 0) {
            adaptShare(HeatTracker.ghostVerdict(ghostToken, ghostBytes(capacityBytes)), sizeBytes, capacityBytes);
        }
    }

    private synchronized Promotion decidePromotion(
            Fid fid, long sizeBytes, long usedBytes, long capacityBytes, int ghost) {
        checkOccupancy(usedBytes, capacityBytes);
        long after = usedBytes + sizeBytes;
        if (sizeBytes > (long) (config.promoteCeiling() * capacityBytes)) {
            refusedRoom++;
            return Promotion.NO_ROOM;
        }
        long low = (long) (config.lowWatermark() * capacityBytes);
        adaptShare(ghost, sizeBytes, capacityBytes);
        boolean room = after <= low && !spilling;
        // TinyLFU's test on the tracker's long-memory counts (the frequency half-life): admit to
        // the main part only if the newcomer is expected to be read more often than the objects
        // it would push out — the coldest of the main part in the spill order, as many as its
        // size takes — together. The newcomer is judged on its history, this read left out: the
        // read just counted is the most recent access of all, and counting it would let every
        // newcomer beat a victim of equal frequency, so that a loop or a scan larger than the tier
        // replaces the whole main part as under LRU (hit ratio 0 on a loop). Ties go to the
        // victims. And it needs about promoteHits accesses of history.
        boolean hotter = !room && hotter(fid, sizeBytes);
        if (room || hotter) {
            promotions++;
            freshPromotions.add(fid);
            return Promotion.PROMOTE;
        }
        if (config.probationShare() > 0) {
            promotions++;
            trialPromotions++;
            return Promotion.PROMOTE_ON_TRIAL;
        }
        refusedWouldSpill++;
        return Promotion.WOULD_SPILL_NEXT;
    }

    private void adaptShare(int ghost, long sizeBytes, long capacityBytes) {
        if (config.probationShare() <= 0) {
            return; // no trial copies, nothing to share
        }
        if (ghost != 0) {
            double step = (double) sizeBytes / capacityBytes * (ghost > 0 ? TRIAL_RETURN_WEIGHT : 1);
            trialShare = clampShare(trialShare + ghost * step);
            heat.saveTrialShare(config.probationShare(), trialShare);
        }
    }

    private boolean hotter(Fid fid, long sizeBytes) {
        double f = heat.frequency(fid);
        // The victims' walk may stop once their sum reaches f - 1: the newcomer has lost by then.
        return f >= config.promoteHits() - 0.5 && f - 1 > heat.victimFrequency(sizeBytes, f - 1);
    }

    /**
     * {@link #decidePromotion(Fid, long, long, long)} for an object looked up in the tracker: not
     * eligible unless it is a spilled, spillable (DATA, unpinned) object.
     */
    public Promotion decidePromotion(Fid fid, long usedBytes, long capacityBytes) {
        Optional<ObjectHeat> h = heat.lookup(fid);
        if (h.isEmpty() || h.get().resident() || !h.get().spillable()) {
            return Promotion.NOT_ELIGIBLE;
        }
        return decidePromotion(fid, h.get().sizeBytes(), usedBytes, capacityBytes);
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
