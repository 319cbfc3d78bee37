package dev.spillway.simulator;

import dev.spillway.migrate.heat.Candidate;
import dev.spillway.migrate.heat.HeatConfig;
import dev.spillway.migrate.heat.HeatTracker;
import dev.spillway.migrate.policy.PlacementPolicy;
import dev.spillway.migrate.policy.PolicyConfig;
import dev.spillway.migrate.policy.Promotion;
import dev.spillway.migrate.policy.SpillPlan;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Spillway's own placement, replayed: the migration daemon's {@link PlacementPolicy} and
 * {@link HeatTracker}, the very classes the daemon runs, driven by trace time. Every request is
 * reported to the tracker as the pool reports it; a read from the slow tier asks the policy
 * whether to promote; after every request the daemon's step runs (spill plans until the policy
 * says stop), as a daemon that keeps up would. Writes land on the fast tier, making room through
 * the emergency path if it is full. An object's first request in a read-only trace finds it on
 * the slow tier (a cold start, as the caches start empty).
 */
public final class SpillwayPolicy extends SimPolicy {
    private final HeatTracker heat;
    private final PlacementPolicy policy;
    private final SimClock clock;
    private final Map<Long, Long> resident = new HashMap<>();
    private long used;
    private final String name;

    public SpillwayPolicy(long capacityBytes, HeatConfig heatConfig, PolicyConfig policyConfig, String name) {
        super(capacityBytes);
        this.clock = new SimClock();
        this.heat = new HeatTracker(heatConfig, clock);
        this.policy = new PlacementPolicy(policyConfig, heat);
        this.name = name;
    }

    /**
     * The configuration the benchmark runs: the daemon's defaults, with a single tracker segment
     * (the replay is one thread), watermarks at 0.99/0.97 (the caches it is compared with fill
     * their whole capacity) and no minimum resident age (a trace compresses hours of a real tier
     * into seconds of replay; a one-minute minimum would pin a small tier's whole content).
     */
    public SpillwayPolicy(long capacityBytes) {
        this(capacityBytes, defaultHeat(), defaultPolicy(), "Spillway");
    }

    public static HeatConfig defaultHeat() {
        return HeatConfig.defaults().withSegments(1);
    }

    public static PolicyConfig defaultPolicy() {
        return PolicyConfig.defaults().withWatermarks(0.99, 0.97).withMinResidentAge(java.time.Duration.ZERO);
    }

    @Override
    public String name() {
        return name;
    }

    public PlacementPolicy policy() {
        return policy;
    }

    /** Bytes on the fast tier now. */
    public long usedBytes() {
        return used;
    }

    @Override
    protected boolean access(Trace t, int i) {
        clock.advanceTo(i / 100);
        long id = t.object(i);
        long size = t.size(i);
        boolean hit = resident.containsKey(id);
        if (t.isWrite(i)) {
            heat.recordWrite(id, 0, 0, ObjectKind.DATA, size);
            if (hit) {
                used += size - resident.put(id, size);
                writeHit((int) id);
            } else if (size > capacity) {
                heat.setResident(id, 0, 0, false, false, false);
                bypassed(t, i);
            } else {
                if (used + size > capacity) {
                    spill(policy.planEmergency(used + size - capacity, capacity));
                }
                resident.put(id, size);
                used += size;
                admitted(t, i);
            }
        } else {
            int hits = heat.recordRead(id, 0, 0, ObjectKind.DATA, size, hit);
            if (!hit && size <= capacity) {
                Promotion p = policy.decidePromotion(new Fid(id, 0, 0), size, hits, used, capacity);
                if (p.admitted()) {
                    resident.put(id, size);
                    used += size;
                    heat.setResident(id, 0, 0, true, true, p == Promotion.PROMOTE_ON_TRIAL);
                    admitted(t, i);
                }
            }
        }
        daemonStep();
        return hit;
    }

    private void daemonStep() {
        while (true) {
            SpillPlan plan = policy.planSpill(used, capacity);
            if (plan.isEmpty()) {
                return;
            }
            spill(plan);
        }
    }

    private void spill(SpillPlan plan) {
        for (Candidate c : plan.candidates()) {
            long id = c.fid().seq();
            Long size = resident.remove(id);
            if (size == null) {
                continue;
            }
            used -= size;
            heat.setResident(id, 0, 0, false, false, false);
            evicted((int) id, size);
        }
    }

    @Override
    protected Map<String, Long> extra() {
        var s = policy.stats();
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("pingPongs", s.pingPongs());
        m.put("promotions", s.promotions());
        m.put("trials", s.trialPromotions());
        m.put("refusedWouldSpill", s.refusedWouldSpill());
        m.put("passes", s.passesStarted());
        return m;
    }
}
