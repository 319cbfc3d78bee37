package dev.spillway.migrate.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.migrate.heat.Candidate;
import dev.spillway.migrate.heat.HeatConfig;
import dev.spillway.migrate.heat.HeatTracker;
import dev.spillway.migrate.heat.TestClock;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PlacementPolicyTest {
    static final long CAP = 1_000_000;
    final TestClock clock = new TestClock();
    /** Heat halves every 1,000 accesses (at most a few hundred objects resident here). */
    final HeatTracker heat =
            new HeatTracker(HeatConfig.defaults().withHalfLife(1).withMinResidents(1000), clock);

    /** A fast tier as the daemon sees it: resident objects and their sizes. */
    final class Tier {
        final Map<Fid, Long> resident = new HashMap<>();
        long used;

        void write(Fid f, long size) {
            heat.recordWrite(f, ObjectKind.DATA, size);
            Long old = resident.put(f, size);
            used += size - (old == null ? 0 : old);
        }

        void spill(SpillPlan plan) {
            for (Candidate c : plan.candidates()) {
                Long s = resident.remove(c.fid());
                assertThat(s).as("planned object is resident").isNotNull();
                used -= s;
                heat.markSpilled(c.fid());
            }
        }

        /** The daemon's step: plans until the policy says stop; returns the plans carried out. */
        int step(PlacementPolicy p) {
            int plans = 0;
            while (true) {
                boolean wasSpilling = p.spilling();
                long before = used;
                SpillPlan plan = p.planSpill(used, CAP);
                if (!wasSpilling && p.spilling()) {
                    assertThat(before)
                            .as("a pass starts only above the high mark")
                            .isGreaterThan((long) (0.95 * CAP));
                }
                if (wasSpilling && !p.spilling()) {
                    assertThat(before).as("a pass stops only at the low mark").isLessThanOrEqualTo((long) (0.90 * CAP));
                }
                if (plan.isEmpty()) {
                    return plans;
                }
                spill(plan);
                plans++;
            }
        }
    }

    @Test
    void watermarksConvergeToTheLowMarkAndNeverFlap() {
        long seed = Long.getLong("spillway.seed", System.nanoTime());
        System.out.println("watermarks seed " + seed + " (replay: -Dspillway.seed=" + seed + ")");
        Random rnd = new Random(seed);
        PlacementPolicy p = new PlacementPolicy(PolicyConfig.defaults().withMinResidentAge(Duration.ZERO), heat);
        Tier tier = new Tier();
        int crossings = 0;
        for (int i = 0; i < 20_000; i++) {
            clock.advance(Duration.ofMillis(100 + rnd.nextInt(2_000)));
            long before = tier.used;
            tier.write(Fid.of(0x200000400L, rnd.nextInt(3_000)), 1 + rnd.nextInt(20_000));
            if (before <= 0.95 * CAP && tier.used > 0.95 * CAP) {
                crossings++;
            }
            tier.step(p);
            assertThat(p.spilling()).isFalse();
            assertThat(tier.used).as("after a step, below the high mark").isLessThanOrEqualTo((long) (0.95 * CAP));
        }
        PolicyStats s = p.stats();
        assertThat(s.passesStarted()).isEqualTo(s.passesFinished()).isPositive().isLessThanOrEqualTo(crossings);
        assertThat(s.pingPongs()).isZero();
    }

    @Test
    void aPassWithTooFewEligibleObjectsKeepsGoingUntilItCanFinish() {
        PlacementPolicy p = new PlacementPolicy(PolicyConfig.defaults(), heat); // 1-minute minimum age
        Tier tier = new Tier();
        for (int i = 0; i < 100; i++) {
            tier.write(Fid.of(2, i), 10_000);
        }
        // Full, but everything is younger than a minute: the pass starts and cannot finish yet.
        assertThat(tier.step(p)).isZero();
        assertThat(p.spilling()).isTrue();
        clock.advance(Duration.ofSeconds(61));
        assertThat(tier.step(p)).isPositive();
        assertThat(p.spilling()).isFalse();
        assertThat(tier.used).isLessThanOrEqualTo((long) (0.90 * CAP));
        assertThat(p.stats().passesStarted()).isEqualTo(1);
        assertThat(p.stats().passesFinished()).isEqualTo(1);
    }

    @Test
    void aSpilledObjectJoinsTheMainPartOnlyIfHotterThanWhatItWouldDisplace() {
        PlacementPolicy p = new PlacementPolicy(PolicyConfig.defaults().withProbationShare(0), heat);
        Fid f = Fid.of(3, 1);
        heat.recordWrite(f, ObjectKind.DATA, 1000);
        heat.markSpilled(f);
        heat.recordRead(f, ObjectKind.DATA, -1, false);
        // An empty tier has room to spare: anything comes up.
        assertThat(p.decidePromotion(f, 0, CAP)).isEqualTo(Promotion.PROMOTE);
        // A full tier of objects read five times each: a second read is not enough...
        Tier tier = new Tier();
        for (int i = 0; i < 95; i++) {
            tier.write(Fid.of(6, i), 10_000);
            for (int k = 0; k < 4; k++) {
                heat.recordRead(Fid.of(6, i), ObjectKind.DATA, -1, true);
            }
        }
        assertThat(p.decidePromotion(f, 1000, tier.used, CAP)).isEqualTo(Promotion.WOULD_SPILL_NEXT);
        // ...a tenth is.
        for (int k = 0; k < 8; k++) {
            heat.recordRead(f, ObjectKind.DATA, -1, false);
        }
        assertThat(p.decidePromotion(f, 1000, tier.used, CAP)).isEqualTo(Promotion.PROMOTE);
        assertThat(p.decidePromotion(f, 2 * CAP, 0, CAP)).isEqualTo(Promotion.NO_ROOM);
        heat.markPromoted(f, false);
        assertThat(p.decidePromotion(f, 0, CAP)).isEqualTo(Promotion.NOT_ELIGIBLE); // already resident
        Fid index = Fid.of(3, 2);
        heat.recordWrite(index, ObjectKind.INDEX, 10);
        heat.markSpilled(index);
        assertThat(p.decidePromotion(index, 0, CAP)).isEqualTo(Promotion.NOT_ELIGIBLE);
        assertThat(p.stats().refusedWouldSpill()).isEqualTo(1);
    }

    @Test
    void admissionRemembersTheFrequencyThatTheSpillOrderForgot() {
        // The defaults' two memories: spill order halves every turnover, frequency every 16.
        HeatTracker h = new HeatTracker(HeatConfig.defaults().withMinResidents(1000), clock);
        PlacementPolicy p = new PlacementPolicy(PolicyConfig.defaults(), h);
        Fid often = Fid.of(7, 1);
        Fid once = Fid.of(7, 2);
        for (Fid f : new Fid[] {often, once}) {
            h.recordWrite(f, ObjectKind.DATA, 1000);
            h.markSpilled(f);
        }
        for (int k = 0; k < 4; k++) {
            h.recordRead(often, ObjectKind.DATA, -1, false);
        }
        for (int i = 0; i < 3000; i++) { // three turnovers: the order's heat of "often" is 5/8 now
            h.recordRead(Fid.of(0x2000FFFFFL, 1), ObjectKind.INDEX, 0, true);
        }
        Map<Fid, Long> tier = new HashMap<>();
        long used = 0;
        for (int i = 0; i < 95; i++) {
            h.recordWrite(Fid.of(8, i), ObjectKind.DATA, 10_000); // the main part: written once, lately
            tier.put(Fid.of(8, i), 10_000L);
            used += 10_000;
        }
        assertThat(h.heat(often)).as("the spill order forgot it").isLessThan(h.heat(Fid.of(8, 0)));
        h.recordRead(often, ObjectKind.DATA, -1, false);
        assertThat(p.decidePromotion(often, used, CAP)).isEqualTo(Promotion.PROMOTE);
        h.recordRead(once, ObjectKind.DATA, -1, false);
        assertThat(p.decidePromotion(once, used, CAP)).isEqualTo(Promotion.PROMOTE_ON_TRIAL);
    }

    @Test
    void withTrialsAFirstReadIsCopiedUpOnProbationAndGoesFirst() {
        PlacementPolicy p = new PlacementPolicy(
                PolicyConfig.defaults().withMinResidentAge(Duration.ZERO).withProbationShare(0.4), heat);
        Tier tier = new Tier();
        for (int i = 0; i < 93; i++) {
            tier.write(Fid.of(4, i), 10_000); // 930 KB of written data
            clock.advance(Duration.ofSeconds(1));
        }
        Fid f = Fid.of(5, 1);
        heat.recordRead(f, ObjectKind.DATA, 30_000, false);
        assertThat(p.decidePromotion(f, tier.used, CAP)).isEqualTo(Promotion.PROMOTE_ON_TRIAL);
        heat.markPromoted(f, true);
        tier.resident.put(f, 30_000L);
        tier.used += 30_000;
        tier.step(p); // 960 KB > high: the pass takes trial copies beyond their share first...
        // ...but the trial copy is within its 40% share, so the coldest written objects go.
        assertThat(tier.resident).containsKey(f);
        assertThat(tier.resident).doesNotContainKey(Fid.of(4, 0));
    }

    /** A spilled object of {@code size} bytes, copied up on trial or to the main part, spilled again. */
    private void spilledFrom(Fid f, long size, boolean trial) {
        heat.recordRead(f, ObjectKind.DATA, size, false);
        heat.markPromoted(f, trial);
        heat.markSpilled(f);
    }

    /** A read of spilled {@code f} and the policy's decision on it (which adapts the share). */
    private Promotion reread(PlacementPolicy p, Fid f, long size) {
        return new Placement(p).read(f, size, false, 500_000, CAP);
    }

    @Test
    void theTrialShareGrowsOnReturnsToTheTrialGhostAndShrinksOnReturnsToTheMainGhost() {
        PlacementPolicy p = new PlacementPolicy(PolicyConfig.defaults().withMinResidentAge(Duration.ZERO), heat);
        assertThat(p.trialShare()).isEqualTo(0.10);
        // A trial copy spilled and read again before its part spilled a sixteenth of the tier
        // (62,500 bytes) more: that part would have hit with more room, so it gets the bytes —
        // three quarters of them (that hit would also have pushed a main object out).
        Fid a = Fid.of(9, 1);
        spilledFrom(a, 20_000, true);
        spilledFrom(Fid.of(9, 2), 20_000, true);
        reread(p, a, 20_000);
        assertThat(p.trialShare()).isCloseTo(0.115, org.assertj.core.data.Offset.offset(1e-9));
        // The ghost is consumed: a second read of the still-spilled object moves nothing.
        reread(p, a, 20_000);
        assertThat(p.trialShare()).isCloseTo(0.115, org.assertj.core.data.Offset.offset(1e-9));
        // A return to the main part's ghost shrinks the share by all of the object's bytes.
        Fid b = Fid.of(9, 3);
        spilledFrom(b, 50_000, false);
        reread(p, b, 50_000);
        assertThat(p.trialShare()).isCloseTo(0.065, org.assertj.core.data.Offset.offset(1e-9));
        // A return after its part spilled more than a sixteenth of the tier is no ghost hit.
        Fid c = Fid.of(9, 4);
        spilledFrom(c, 10_000, true);
        for (int i = 0; i < 6; i++) {
            spilledFrom(Fid.of(10, i), 10_000, true); // 60,000 more: 70,000 since c's spill
        }
        reread(p, c, 10_000);
        assertThat(p.trialShare()).isCloseTo(0.065, org.assertj.core.data.Offset.offset(1e-9));
        // Main-part spills do not age a trial ghost: only its own part's spills count.
        Fid d = Fid.of(9, 5);
        spilledFrom(d, 10_000, true);
        for (int i = 0; i < 20; i++) {
            spilledFrom(Fid.of(11, i), 10_000, false);
        }
        reread(p, d, 10_000);
        assertThat(p.trialShare()).isCloseTo(0.0725, org.assertj.core.data.Offset.offset(1e-9));
    }

    @Test
    void aPolicyGoesOnFromTheShareItsTrackerSavedUnlessTheConfiguredStartChanged() {
        PlacementPolicy p = new PlacementPolicy(PolicyConfig.defaults().withMinResidentAge(Duration.ZERO), heat);
        Fid a = Fid.of(9, 1);
        spilledFrom(a, 20_000, true);
        reread(p, a, 20_000);
        assertThat(p.trialShare()).isCloseTo(0.115, org.assertj.core.data.Offset.offset(1e-9));
        // A new policy over the same tracker (what a restart does with a checkpointed one).
        assertThat(new PlacementPolicy(PolicyConfig.defaults(), heat).trialShare())
                .isCloseTo(0.115, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(new PlacementPolicy(PolicyConfig.defaults().withProbationShare(0.2), heat).trialShare())
                .as("another configured start")
                .isEqualTo(0.2);
        assertThat(new PlacementPolicy(PolicyConfig.defaults().withProbationShare(0), heat).trialShare())
                .as("trials off")
                .isEqualTo(0);
    }

    @Test
    void theTrialShareStaysWithinItsBoundsAndAShareOfZeroDisablesIt() {
        PlacementPolicy p = new PlacementPolicy(PolicyConfig.defaults().withMinResidentAge(Duration.ZERO), heat);
        for (int i = 0; i < 40; i++) {
            Fid f = Fid.of(12, i);
            spilledFrom(f, 10_000, false);
            reread(p, f, 10_000);
        }
        assertThat(p.trialShare()).isEqualTo(0.01);
        for (int i = 0; i < 200; i++) {
            Fid f = Fid.of(13, i);
            spilledFrom(f, 10_000, true);
            reread(p, f, 10_000);
        }
        assertThat(p.trialShare()).isEqualTo(0.90);
        PlacementPolicy none = new PlacementPolicy(
                PolicyConfig.defaults().withProbationShare(0).withMinResidentAge(Duration.ZERO), heat);
        Fid f = Fid.of(14, 1);
        spilledFrom(f, 10_000, true);
        reread(none, f, 10_000);
        assertThat(none.trialShare()).isZero();
    }

    @Test
    void aPromotionThatTheNextPassTakesBackIsCountedAsAPingPong() {
        PlacementPolicy p = new PlacementPolicy(
                PolicyConfig.defaults().withProbationShare(0).withMinResidentAge(Duration.ZERO), heat);
        Tier tier = new Tier();
        for (int i = 0; i < 80; i++) {
            tier.write(Fid.of(6, i), 10_000);
        }
        Fid f = Fid.of(7, 1);
        heat.recordRead(f, ObjectKind.DATA, 20_000, false);
        assertThat(p.decidePromotion(f, 20_000, tier.used, CAP)).isEqualTo(Promotion.PROMOTE); // room
        heat.markPromoted(f, false);
        tier.resident.put(f, 20_000L);
        tier.used += 20_000;
        SpillPlan emergency = p.planEmergency(tier.used, CAP); // room for everything: it takes all
        assertThat(emergency.candidates()).extracting(Candidate::fid).contains(f);
        assertThat(p.stats().pingPongs()).isEqualTo(1);
        assertThat(p.stats().emergencies()).isEqualTo(1);
    }

    @Test
    void aReplayedWorkloadStaysWithinTheTierAndRarelyPingPongs() {
        long seed = Long.getLong("spillway.seed", System.nanoTime());
        System.out.println("replay seed " + seed + " (replay: -Dspillway.seed=" + seed + ")");
        Random rnd = new Random(seed);
        PlacementPolicy p = new PlacementPolicy(PolicyConfig.defaults().withMinResidentAge(Duration.ZERO), heat);
        Tier tier = new Tier();
        for (int i = 0; i < 30_000; i++) {
            clock.advance(Duration.ofMillis(1 + rnd.nextInt(3_000)));
            // Skewed reads over 2,000 objects of 1-20 KB (~20 MB) on a 1 MB tier.
            int k = (int) (2_000 * Math.pow(rnd.nextDouble(), 2.5));
            Fid f = Fid.of(8, k);
            long size = 1_000 + (k * 7919L) % 19_000;
            if (rnd.nextInt(10) == 0) {
                tier.write(f, size);
            } else {
                boolean hit = tier.resident.containsKey(f);
                heat.recordRead(f, ObjectKind.DATA, size, hit);
                if (!hit) {
                    Promotion d = p.decidePromotion(f, size, tier.used, CAP);
                    if (d.admitted()) {
                        heat.markPromoted(f, d == Promotion.PROMOTE_ON_TRIAL);
                        tier.resident.put(f, size);
                        tier.used += size;
                    }
                }
            }
            tier.step(p);
            assertThat(tier.used).isLessThanOrEqualTo(CAP);
        }
        PolicyStats s = p.stats();
        System.out.println(s);
        assertThat(s.promotions()).isPositive();
        assertThat(s.trialPromotions()).isPositive().isLessThan(s.promotions());
        // A promotion is admitted only hotter than the pass's line, so few come straight back.
        assertThat(s.pingPongs()).isLessThan(s.promotions() - s.trialPromotions());
    }
}
