package dev.spillway.simulator;

import dev.spillway.migrate.heat.Candidate;
import dev.spillway.migrate.heat.HeatConfig;
import dev.spillway.migrate.heat.HeatTracker;
import dev.spillway.migrate.policy.Placement;
import dev.spillway.migrate.policy.PlacementPolicy;
import dev.spillway.migrate.policy.PolicyConfig;
import dev.spillway.migrate.policy.Promotion;
import dev.spillway.migrate.policy.SpillPlan;
import dev.spillway.osd.Fid;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.LongUnaryOperator;

/**
 * Spillway's own placement, replayed through {@link Placement} — the daemon's code path: the
 * same tracker, policy and spill pass, with a mover that moves an entry in a table instead of a
 * body between devices. Every request is one access; a read from the slow tier asks the policy
 * whether to promote, and an admitted promotion counts towards occupancy before the spill pass
 * runs (as the daemon counts its queued promotions); after every request the spill pass runs, as
 * a daemon that keeps up would.
 * Writes land on the fast tier, making room through the emergency path if it is full. An
 * object's first request finds it on the slow tier (a cold start, as the caches start empty).
 *
 * <p>No clock reaches a decision: heat decays in logical time, and the replay has no minimum
 * resident age (the one wall-clock bound), so the result is the same at any replay rate.
 */
public final class SpillwayPolicy extends SimPolicy {
    /** The wall clock the tracker is given: fixed, since no decision of the replay reads it. */
    static final InstantSource STILL = InstantSource.fixed(Instant.parse("2026-01-01T00:00:00Z"));

    private final Placement placement;
    private long[] resident; // per object: bytes on the fast tier, or -1
    private long used;
    private final String name;
    private final List<Fid> gone = new ArrayList<>();
    private final Placement.Mover mover = this::move;
    /** Bytes a queued promotion will add: what {@link #withPending} adds to the occupancy. */
    private long pending;

    private final LongSupplier occupancyNow = this::occ;
    private final LongSupplier withPending = () -> occ() + pending;
    private LongUnaryOperator occupancy = LongUnaryOperator.identity();

    public SpillwayPolicy(long capacityBytes, HeatConfig heatConfig, PolicyConfig policyConfig, String name) {
        this(capacityBytes, heatConfig, policyConfig, name, STILL);
    }

    /** With a wall clock of the caller's (the determinism test moves it at many rates). */
    public SpillwayPolicy(
            long capacityBytes, HeatConfig heatConfig, PolicyConfig policyConfig, String name, InstantSource wall) {
        super(capacityBytes);
        this.placement = new Placement(new PlacementPolicy(policyConfig, new HeatTracker(heatConfig, wall)));
        this.name = name;
    }

    /**
     * The configuration the benchmark runs: the daemon's defaults, with a single tracker segment
     * (the replay is one thread), watermarks at 0.999/0.99 (the caches it is compared with fill
     * their whole capacity) and no minimum resident age.
     */
    public SpillwayPolicy(long capacityBytes) {
        this(capacityBytes, defaultHeat(), defaultPolicy(), "Spillway");
    }

    /**
     * What the policy is told the fast tier's occupancy is, from the bytes of the bodies on it
     * (identity by default). The one-code-path test hands it what the pool's fast device
     * reports, which also counts metadata, so that both see the same number.
     */
    public SpillwayPolicy occupancy(LongUnaryOperator fromBodies) {
        this.occupancy = fromBodies;
        return this;
    }

    /** The objects (trace object indexes) on the fast tier now. */
    public BitSet residentObjects() {
        BitSet b = new BitSet();
        if (resident != null) {
            for (int o = 0; o < resident.length; o++) {
                if (resident[o] >= 0) {
                    b.set(o);
                }
            }
        }
        return b;
    }

    private long occ() {
        return occupancy.applyAsLong(used);
    }

    public static HeatConfig defaultHeat() {
        return HeatConfig.defaults().withSegments(1);
    }

    public static PolicyConfig defaultPolicy() {
        return PolicyConfig.defaults().withWatermarks(0.999, 0.99).withMinResidentAge(Duration.ZERO);
    }

    @Override
    public String name() {
        return name;
    }

    public PlacementPolicy policy() {
        return placement.policy();
    }

    /** Bytes on the fast tier now. */
    public long usedBytes() {
        return used;
    }

    private List<Fid> move(SpillPlan plan) {
        gone.clear();
        for (Candidate c : plan.candidates()) {
            int o = (int) c.fid().seq();
            if (resident[o] < 0) {
                continue;
            }
            used -= resident[o];
            evicted(o, resident[o]);
            resident[o] = -1;
            gone.add(c.fid());
        }
        return gone;
    }

    @Override
    protected boolean access(Trace t, int i) {
        if (resident == null) {
            resident = new long[t.objects()];
            Arrays.fill(resident, -1);
        }
        int o = t.object(i);
        long size = t.size(i);
        boolean hit = resident[o] >= 0;
        if (t.isWrite(i)) {
            Fid fid = new Fid(o, 0, 0);
            if (hit) {
                used += size - resident[o];
                resident[o] = size;
                placement.written(fid, size);
                writeHit(o);
            } else if (size > capacity) {
                placement.written(fid, size);
                placement.heat().markSpilled(fid);
                bypassed(t, i);
            } else {
                if (occ() + size > capacity) {
                    placement.emergency(occ() + size - capacity, capacity, mover);
                }
                resident[o] = size;
                used += size;
                placement.written(fid, size);
                admitted(t, i);
            }
        } else {
            // Object o's FID is (o, 0, 0), made only where a decision needs one: a FID object kept
            // per object cost a cache miss per request (a third of the replay's samples on OLTP).
            Promotion p = placement.read(o, 0, 0, size, hit, occ(), capacity);
            if (p.admitted()) {
                Fid fid = new Fid(o, 0, 0);
                // Room first, as the daemon's pass counts the promotions it has queued.
                pending = size;
                placement.spillPass(withPending, capacity, Integer.MAX_VALUE, mover);
                pending = 0;
                if (occ() + size > capacity) {
                    placement.emergency(occ() + size - capacity, capacity, mover);
                }
                if (occ() + size <= capacity) {
                    resident[o] = size;
                    used += size;
                    placement.promoted(fid, p);
                    admitted(t, i);
                }
            }
        }
        placement.spillPass(occupancyNow, capacity, Integer.MAX_VALUE, mover);
        return hit;
    }

    @Override
    protected Map<String, Long> extra() {
        var s = placement.policy().stats();
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("pingPongs", s.pingPongs());
        m.put("promotions", s.promotions());
        m.put("trials", s.trialPromotions());
        m.put("refusedWouldSpill", s.refusedWouldSpill());
        m.put("passes", s.passesStarted());
        return m;
    }
}
