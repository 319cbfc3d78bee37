package dev.spillway.migrate.policy;

import dev.spillway.migrate.heat.Candidate;
import dev.spillway.migrate.heat.HeatTracker;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * The one code path of placement: what the migration daemon does on every access and in every
 * spill pass, and what the simulator replays — the same calls on the same {@link HeatTracker}
 * and {@link PlacementPolicy}. Only the moving differs: the daemon copies bodies between devices
 * (a {@link Mover} over the pool's migrator), the simulator moves an entry in a table. So a trace
 * replayed through a real pool and through the simulator reaches the same decisions.
 *
 * <p>An access is one request of the caller above the pool (see {@code PoolListener}): the
 * daemon is told once per read stream and once per transaction, and the simulator once per trace
 * request.
 */
public final class Placement {
    private final PlacementPolicy policy;
    private final HeatTracker heat;

    public Placement(PlacementPolicy policy) {
        this.policy = policy;
        this.heat = policy.heat();
    }

    public PlacementPolicy policy() {
        return policy;
    }

    public HeatTracker heat() {
        return heat;
    }

    /**
     * One read access of a DATA object: counts it, and for a read served by a spill device,
     * decides whether to promote it (the caller copies it up and then calls {@link #promoted}).
     *
     * @param resident true if the fast tier served it
     * @param usedBytes the fast tier's occupancy now
     * @return the decision; {@link Promotion#NOT_ELIGIBLE} for a read of a resident object
     */
    public Promotion read(Fid fid, long sizeBytes, boolean resident, long usedBytes, long capacityBytes) {
        return read(fid.seq(), fid.oid(), fid.ver(), fid, sizeBytes, resident, usedBytes, capacityBytes);
    }

    /**
     * {@link #read(Fid, long, boolean, long, long)} without a {@link Fid} object: one is made
     * only for a read that the policy decides on (of a spilled object). A replay calls this: a
     * FID object kept per object costs a cache miss per request to look at.
     */
    public Promotion read(
            long seq, int oid, int ver, long sizeBytes, boolean resident, long usedBytes, long capacityBytes) {
        return read(seq, oid, ver, null, sizeBytes, resident, usedBytes, capacityBytes);
    }

    private Promotion read(
            long seq, int oid, int ver, Fid fid, long sizeBytes, boolean resident, long usedBytes, long capacityBytes) {
        long ghost = heat.recordRead(seq, oid, ver, ObjectKind.DATA, sizeBytes, resident);
        if (resident) {
            return Promotion.NOT_ELIGIBLE;
        }
        return policy.decidePromotionAfterRead(
                fid != null ? fid : new Fid(seq, oid, ver), sizeBytes, usedBytes, capacityBytes, ghost);
    }

    /**
     * One read access counted without a promotion decision (a read served by a cache device, a
     * promotion of it already queued, or the daemon off). A read the fast tier did not serve
     * still uses up the object's ghost, and a return within it still moves the trial share,
     * as the same read deciding a promotion would: the fast tier missed it either way.
     *
     * @param resident true if the fast tier served it
     * @param capacityBytes the fast tier's capacity
     */
    public void count(Fid fid, long sizeBytes, boolean resident, long capacityBytes) {
        long ghost = heat.recordRead(fid.seq(), fid.oid(), fid.ver(), ObjectKind.DATA, sizeBytes, resident);
        if (ghost != 0) {
            policy.ghostReturned(sizeBytes, capacityBytes, ghost);
        }
    }

    /** One write access: the body is on the fast tier now, {@code sizeBytes} long. */
    public void written(Fid fid, long sizeBytes) {
        heat.recordWrite(fid.seq(), fid.oid(), fid.ver(), ObjectKind.DATA, sizeBytes);
    }

    /** A transaction that continued an earlier access left the body {@code sizeBytes} long. */
    public void resized(Fid fid, long sizeBytes) {
        heat.setSize(fid, sizeBytes);
    }

    /** The body of {@code fid} was copied to the fast tier as {@link #read} decided. */
    public void promoted(Fid fid, Promotion how) {
        heat.setResident(fid.seq(), fid.oid(), fid.ver(), true, true, how == Promotion.PROMOTE_ON_TRIAL);
    }

    /** Carries out a spill plan. */
    public interface Mover {
        /**
         * Moves what it can of {@code plan} off the fast tier, in order, and returns the objects
         * whose body left it (those the tracker then marks spilled); may stop early (bandwidth,
         * no target), saying so through {@link #stopped()}.
         */
        List<Fid> spill(SpillPlan plan);

        /** True if the last {@link #spill} stopped for a reason that ends the pass (not the plan). */
        default boolean stopped() {
            return false;
        }

        /**
         * Parts of objects moved so far (extents of big objects spilled alone, whose objects stay
         * resident): a plan that moved only parts still made progress.
         */
        default int partsMoved() {
            return 0;
        }
    }

    /**
     * A spill pass: plans while the policy asks (occupancy over the high watermark, until the
     * low one), hands each plan to {@code mover}, marks what left. Stops when a plan is empty,
     * when a plan moved nothing, when the mover stops, or after {@code maxPlans}.
     *
     * @param usedBytes the fast tier's occupancy, read again after every plan
     * @return objects spilled
     */
    public int spillPass(LongSupplier usedBytes, long capacityBytes, int maxPlans, Mover mover) {
        int spilled = 0;
        for (int round = 0; round < maxPlans; round++) {
            SpillPlan plan = policy.planSpill(usedBytes.getAsLong(), capacityBytes);
            if (plan.isEmpty()) {
                break;
            }
            int parts = mover.partsMoved();
            List<Fid> gone = mover.spill(plan);
            for (Fid f : gone) {
                heat.setResident(f.seq(), f.oid(), f.ver(), false, false, false);
            }
            spilled += gone.size();
            if ((gone.isEmpty() && mover.partsMoved() == parts) || mover.stopped()) {
                break;
            }
        }
        return spilled;
    }

    /** Room needed at once: spills by the policy's emergency plan; returns what left. */
    public List<Fid> emergency(long neededBytes, long capacityBytes, Mover mover) {
        SpillPlan plan = policy.planEmergency(neededBytes, capacityBytes);
        List<Fid> gone = mover.spill(plan);
        for (Fid f : gone) {
            heat.setResident(f.seq(), f.oid(), f.ver(), false, false, false);
        }
        return gone;
    }

    /** The spill candidates a plan names, as FIDs (for movers that want nothing else). */
    public static List<Fid> fids(SpillPlan plan) {
        return plan.candidates().stream().map(Candidate::fid).toList();
    }
}
