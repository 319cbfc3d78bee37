package dev.spillway.migrate.heat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class HeatTrackerTest {
    final TestClock clock = new TestClock();
    /** Heat halves every 1,000 accesses (fewer than 1,000 objects resident in these tests). */
    final HeatTracker heat =
            new HeatTracker(HeatConfig.defaults().withHalfLife(1).withMinResidents(1000), clock);

    static Fid fid(int i) {
        return Fid.of(0x200000400L, i);
    }

    /**
     * Moves the tracker's logical clock on by {@code halfLives}: accesses to an INDEX object,
     * which is tracked but never a candidate nor resident in a ring.
     */
    static void age(HeatTracker h, double halfLives) {
        long n = Math.round(halfLives * h.config().halfLife() * h.config().minResidents());
        for (long i = 0; i < n; i++) {
            h.recordRead(Fid.of(0x2000FFFFFL, 1), ObjectKind.INDEX, 0, true);
        }
    }

    @Test
    void theWallClockNeverCoolsAnything() {
        heat.recordWrite(fid(1), ObjectKind.DATA, 4096);
        clock.advance(Duration.ofDays(3650));
        assertThat(heat.heat(fid(1))).isEqualTo(1.0);
    }

    @Test
    void heatHalvesEveryHalfLifeOfAccessesAndAccessesAdd() {
        heat.recordWrite(fid(1), ObjectKind.DATA, 4096);
        assertThat(heat.heat(fid(1))).isCloseTo(1.0, within(1e-9));
        age(heat, 1);
        assertThat(heat.heat(fid(1))).isCloseTo(0.5, within(1e-9));
        heat.recordRead(fid(1), ObjectKind.DATA, -1, true); // itself one access: 1/1000 of a half-life
        assertThat(heat.heat(fid(1))).isCloseTo(1 + 0.5 * Math.pow(2, -0.001), within(1e-9));
        age(heat, 2);
        assertThat(heat.heat(fid(1))).isCloseTo((1 + 0.5 * Math.pow(2, -0.001)) / 4, within(1e-9));
        assertThat(heat.heat(fid(2))).isZero();
        assertThat(heat.accesses()).isEqualTo(3002);
    }

    @Test
    void aTurnoverIsAsManyAccessesAsObjectsOnTheFastTier() {
        HeatTracker h = new HeatTracker(HeatConfig.defaults().withHalfLife(1).withMinResidents(10), clock);
        for (int i = 0; i < 100; i++) {
            h.recordWrite(fid(i), ObjectKind.DATA, 4096); // 100 resident objects
        }
        double before = h.logicalNow();
        age(h, 0); // no-op
        for (int i = 0; i < 1000; i++) {
            h.recordRead(fid(i % 100), ObjectKind.DATA, -1, true);
        }
        // 1,000 accesses against 100 residents (the clock re-reads the count every 1/16 half-life).
        assertThat(h.logicalNow() - before).isCloseTo(10.0, within(0.8));
    }

    @Test
    void coldestComesFirstAndStopsAtTheByteTarget() {
        for (int i = 1; i <= 10; i++) {
            heat.recordWrite(fid(i), ObjectKind.DATA, 1000);
            age(heat, 0.1);
        }
        // Object 3 is read often: hottest despite its age.
        for (int k = 0; k < 20; k++) {
            heat.recordRead(fid(3), ObjectKind.DATA, -1, true);
        }
        List<Candidate> c = heat.coldest(100, 3500, Duration.ZERO);
        assertThat(c).extracting(Candidate::fid).containsExactly(fid(1), fid(2), fid(4), fid(5));
        assertThat(c.get(0).heat()).isLessThan(c.get(1).heat());
        assertThat(heat.coldest(2, Long.MAX_VALUE, Duration.ZERO)).hasSize(2);
    }

    @Test
    void ineligibleObjectsAreNeverCandidates() {
        HeatTracker h = new HeatTracker(HeatConfig.defaults().withMinSpillBytes(512), clock);
        h.recordWrite(fid(1), ObjectKind.INDEX, 4096); // index: never
        h.recordWrite(fid(2), ObjectKind.DATA, 4096); // pinned below
        h.recordWrite(fid(3), ObjectKind.DATA, 100); // too small
        h.recordWrite(fid(4), ObjectKind.DATA, 4096); // spilled below
        h.recordWrite(fid(5), ObjectKind.DATA, 4096); // eligible
        h.setPinned(fid(2), true);
        h.markSpilled(fid(4));
        clock.advance(Duration.ofMinutes(5));
        h.recordWrite(fid(6), ObjectKind.DATA, 4096); // too young for a 1-minute minimum
        assertThat(h.coldest(100, Long.MAX_VALUE, Duration.ofMinutes(1)))
                .extracting(Candidate::fid)
                .containsExactly(fid(5));
        h.setPinned(fid(2), false);
        clock.advance(Duration.ofMinutes(5));
        assertThat(h.coldest(100, Long.MAX_VALUE, Duration.ofMinutes(1)))
                .extracting(Candidate::fid)
                .containsExactlyInAnyOrder(fid(2), fid(5), fid(6));
        // A write makes a too-small object big enough, and a spilled one resident again.
        h.recordWrite(fid(3), ObjectKind.DATA, 8192);
        h.recordWrite(fid(4), ObjectKind.DATA, 4096);
        assertThat(h.coldest(100, Long.MAX_VALUE, Duration.ZERO))
                .extracting(Candidate::fid)
                .containsExactlyInAnyOrder(fid(2), fid(3), fid(4), fid(5), fid(6));
        assertThat(h.forget(fid(5))).isTrue();
        assertThat(h.forget(fid(5))).isFalse();
        assertThat(h.tracked()).isEqualTo(5);
    }

    @Test
    void inactiveExportsOldObjectsColdestFirst() {
        for (int i = 1; i <= 5; i++) {
            heat.recordWrite(fid(i), ObjectKind.DATA, 1000);
            clock.advance(Duration.ofDays(1));
        }
        heat.markSpilled(fid(1));
        // now: fid(1) 5 days idle, fid(2) 4, fid(3) 3, fid(4) 2, fid(5) 1
        assertThat(heat.inactive(Duration.ofDays(3), 100, false))
                .extracting(Candidate::fid)
                .containsExactly(fid(2), fid(3));
        assertThat(heat.inactive(Duration.ofDays(3), 100, true))
                .extracting(Candidate::fid)
                .containsExactly(fid(1), fid(2), fid(3));
        assertThat(heat.inactive(Duration.ofDays(3), 1, true))
                .extracting(Candidate::fid)
                .containsExactly(fid(1));
    }

    @Test
    void readsFollowWhereThePoolServedThem() {
        heat.recordWrite(fid(1), ObjectKind.DATA, 1000);
        heat.markSpilled(fid(1));
        heat.recordRead(fid(1), ObjectKind.DATA, -1, false);
        assertThat(heat.lookup(fid(1)).orElseThrow().resident()).isFalse();
        heat.recordRead(fid(1), ObjectKind.DATA, -1, true);
        assertThat(heat.lookup(fid(1)).orElseThrow().resident()).isTrue();
        assertThat(heat.heat(fid(1))).isGreaterThan(2.9);
    }

    @Test
    void aTrialCopyLeavesProbationWhenReadAgainAndItsHistoryOutlivesASpill() {
        heat.recordRead(fid(1), ObjectKind.DATA, 1000, false);
        heat.markPromoted(fid(1), true);
        assertThat(heat.probationBytes()).isEqualTo(1000);
        assertThat(heat.coldest(10, Long.MAX_VALUE, Duration.ZERO)).isEmpty();
        assertThat(heat.coldestOnProbation(10, Long.MAX_VALUE, Duration.ZERO))
                .extracting(Candidate::fid)
                .containsExactly(fid(1));
        heat.markSpilled(fid(1));
        heat.recordRead(fid(1), ObjectKind.DATA, -1, false); // the ghost: its first read still counts
        assertThat(heat.heat(fid(1))).isGreaterThan(1.9);
        heat.markPromoted(fid(1), true);
        heat.recordRead(fid(1), ObjectKind.DATA, -1, true);
        assertThat(heat.probationBytes()).isZero();
        assertThat(heat.coldest(10, Long.MAX_VALUE, Duration.ZERO))
                .extracting(Candidate::fid)
                .containsExactly(fid(1));
    }

    @Test
    void withSizeWeightLargeObjectsGoFirstAtEqualHeat() {
        HeatTracker h = new HeatTracker(
                HeatConfig.defaults().withHalfLife(1).withMinResidents(1000).withSizeWeight(1), clock);
        h.recordWrite(fid(1), ObjectKind.DATA, 64 * 4096);
        h.recordWrite(fid(2), ObjectKind.DATA, 4096);
        h.recordRead(fid(1), ObjectKind.DATA, -1, true); // twice as hot, 64 times as large
        assertThat(h.coldest(10, Long.MAX_VALUE, Duration.ZERO))
                .extracting(Candidate::fid)
                .containsExactly(fid(1), fid(2));
        assertThat(h.heat(fid(1))).isCloseTo(2, within(0.01));
        assertThat(h.value(fid(1))).isCloseTo(2.0 / 64, within(0.001));
        // Resizing keeps the heat and moves the order.
        h.recordWrite(fid(1), ObjectKind.DATA, 4096);
        assertThat(h.heat(fid(1))).isCloseTo(3, within(0.01));
        assertThat(h.coldest(10, Long.MAX_VALUE, Duration.ZERO))
                .extracting(Candidate::fid)
                .containsExactly(fid(2), fid(1));
    }

    @Test
    void objectsFarBelowTheRingShareTheFloorAndStayFindable() {
        // 16 buckets of a quarter doubling: anything 4 half-lives colder than the newest is in the floor.
        HeatTracker h = new HeatTracker(new HeatConfig(1, 1000, 0, 2, 4, 16, 0), clock);
        for (int i = 0; i < 200; i++) {
            h.recordWrite(fid(i), ObjectKind.DATA, 10);
            age(h, 0.5);
        }
        List<Candidate> all = h.coldest(1000, Long.MAX_VALUE, Duration.ZERO);
        assertThat(all).hasSize(200);
        assertThat(all)
                .extracting(Candidate::fid)
                .startsWith(fid(0), fid(1), fid(2))
                .endsWith(fid(199));
        for (int i = 0; i < 200; i += 2) {
            assertThat(h.forget(fid(i))).isTrue();
        }
        assertThat(h.coldest(1000, Long.MAX_VALUE, Duration.ZERO)).hasSize(100);
        assertThat(h.spillableBytes()).isEqualTo(1000);
    }

    @Test
    void coldLineIsTheHeatWhereAPassWouldCut() {
        for (int i = 1; i <= 4; i++) {
            heat.recordWrite(fid(i), ObjectKind.DATA, 1000);
            age(heat, 1);
        }
        // heats now: about 1/16, 1/8, 1/4, 1/2
        assertThat(heat.coldLine(0)).isZero();
        assertThat(heat.coldLine(5000)).isInfinite();
        double line = heat.coldLine(2000);
        assertThat(line).isGreaterThanOrEqualTo(heat.heat(fid(2))).isLessThan(heat.heat(fid(3)));
    }

    @Test
    void sizesAboveAGibibyteAreKeptToTheMebibyte() {
        heat.recordWrite(fid(1), ObjectKind.DATA, (5L << 30) + 1);
        assertThat(heat.lookup(fid(1)).orElseThrow().sizeBytes()).isEqualTo((5L << 30) + (1L << 20));
        heat.recordWrite(fid(2), ObjectKind.DATA, 123_456_789);
        assertThat(heat.lookup(fid(2)).orElseThrow().sizeBytes()).isEqualTo(123_456_789);
    }

    @Test
    void aSpilledObjectIsAGhostOfItsPartUntilReadOrWrittenAgain() {
        // Spilled from the main part, read back soon: a main ghost hit, once.
        heat.recordWrite(fid(1), ObjectKind.DATA, 4096);
        heat.markSpilled(fid(1));
        assertThat(heat.ghostHit(fid(1), 4096)).isEqualTo(-1);
        assertThat(heat.ghostHit(fid(1), 4096)).isZero();
        // A trial copy spilled, then 8 KiB more of trial copies: within 12 KiB, not within 8 KiB.
        heat.recordRead(fid(2), ObjectKind.DATA, 4096, false);
        heat.markPromoted(fid(2), true);
        heat.markSpilled(fid(2));
        for (int i = 3; i <= 4; i++) {
            heat.recordRead(fid(i), ObjectKind.DATA, 4096, false);
            heat.markPromoted(fid(i), true);
            heat.markSpilled(fid(i));
        }
        assertThat(heat.ghostHit(fid(3), 8192)).isEqualTo(1);
        assertThat(heat.ghostHit(fid(2), 8192)).isZero();
        assertThat(heat.ghostHit(fid(4), 12288)).isEqualTo(1);
        // A write brings the body back: no ghost any more; nor is an object never spilled one.
        heat.recordWrite(fid(5), ObjectKind.DATA, 4096);
        heat.markSpilled(fid(5));
        heat.recordWrite(fid(5), ObjectKind.DATA, 4096);
        heat.markSpilled(fid(5)); // spilled again: a fresh mark
        assertThat(heat.ghostHit(fid(5), 4096)).isEqualTo(-1);
        heat.recordRead(fid(6), ObjectKind.DATA, 4096, false);
        assertThat(heat.ghostHit(fid(6), 1 << 30)).isZero();
        assertThat(heat.ghostHit(fid(99), 1 << 30)).isZero();
    }

    @Test
    void aMillionObjectsFitInSixtyFourBytesEach() {
        HeatTracker h = new HeatTracker(HeatConfig.defaults(), clock);
        int n = 1_000_000;
        for (int i = 0; i < n; i++) {
            h.recordWrite(0x300000000L + (i >>> 16), i & 0xFFFF, 0, ObjectKind.DATA, 4096);
        }
        assertThat(h.tracked()).isEqualTo(n);
        double perObject = (double) h.footprintBytes() / n;
        System.out.printf("footprint %,d bytes for %,d objects: %.1f bytes/object%n", h.footprintBytes(), n, perObject);
        assertThat(perObject).isLessThanOrEqualTo(64.0);
    }

    @Test
    void frequencyRemembersLongerThanTheSpillOrder() {
        // Order heat halves every 1,000 accesses, frequency every 8,000.
        HeatTracker h =
                new HeatTracker(HeatConfig.defaults().withHalfLives(1, 8).withMinResidents(1000), clock);
        for (int i = 0; i < 4; i++) {
            h.recordRead(fid(1), ObjectKind.DATA, 4096, true);
        }
        h.recordWrite(fid(2), ObjectKind.DATA, 4096);
        assertThat(h.frequency(fid(1))).isCloseTo(4, within(0.01));
        age(h, 4);
        assertThat(h.heat(fid(1))).isCloseTo(4.0 / 16, within(0.01));
        assertThat(h.frequency(fid(1))).isCloseTo(4 * Math.pow(2, -0.5), within(0.01));
        assertThat(h.frequency(fid(2))).isCloseTo(Math.pow(2, -0.5), within(0.01));
        assertThat(h.frequency(fid(3))).isZero();
        // An access adds one to both counts.
        h.recordRead(fid(1), ObjectKind.DATA, -1, true);
        assertThat(h.heat(fid(1))).isCloseTo(1 + 4.0 / 16, within(0.01));
        assertThat(h.frequency(fid(1))).isCloseTo(1 + 4 * Math.pow(2, -0.5), within(0.01));
    }

    @Test
    void oneHalfLifeForBothKeepsFrequencyEqualToHeat() {
        heat.recordWrite(fid(1), ObjectKind.DATA, 8192);
        age(heat, 1);
        heat.recordRead(fid(1), ObjectKind.DATA, -1, true);
        assertThat(heat.frequency(fid(1))).isCloseTo(heat.heat(fid(1)), within(1e-9));
    }

    @Test
    void frequencyStaysExactAfterAVeryLongLogicalTime() {
        // A float offset, not a float key: a clock that ran for 2^30 half-lives loses nothing.
        HeatTracker h = new HeatTracker(
                HeatConfig.defaults().withHalfLives(1, 16).withMinResidents(1_000_000), clock, 0, Math.scalb(1.0, 30));
        h.recordRead(fid(1), ObjectKind.DATA, 4096, true);
        h.recordRead(fid(1), ObjectKind.DATA, 4096, true);
        assertThat(h.frequency(fid(1))).isCloseTo(2, within(0.01));
    }

    @Test
    void victimFrequencySumsWhatTheNextPassWouldTakeForThoseBytes() {
        HeatTracker h =
                new HeatTracker(HeatConfig.defaults().withHalfLives(1, 8).withMinResidents(1000), clock);
        // fid 1: read three times long ago (cold in the spill order, frequent); fid 2: once, lately.
        for (int i = 0; i < 3; i++) {
            h.recordRead(fid(1), ObjectKind.DATA, 4096, true);
        }
        age(h, 3);
        h.recordWrite(fid(2), ObjectKind.DATA, 4096);
        h.recordWrite(fid(3), ObjectKind.DATA, 4096);
        List<Candidate> order = h.coldest(3, Long.MAX_VALUE, Duration.ZERO);
        assertThat(order.get(0).fid()).isEqualTo(fid(1));
        assertThat(h.victimFrequency(0)).isZero();
        assertThat(h.victimFrequency(4096)).isCloseTo(h.frequency(fid(1)), within(1e-6));
        assertThat(h.victimFrequency(4097))
                .isCloseTo(h.frequency(fid(1)) + h.frequency(order.get(1).fid()), within(1e-6));
        assertThat(h.victimFrequency(3 * 4096 + 1)).isInfinite();
        // With a bar to reach, the walk stops once the sum reaches it: the answer is then at least
        // the bar (and no more than the whole), else exactly the whole.
        double one = h.frequency(fid(1));
        double two = h.victimFrequency(4097);
        assertThat(h.victimFrequency(4097, one / 2)).isCloseTo(one, within(1e-6));
        assertThat(h.victimFrequency(4097, two + 1)).isCloseTo(two, within(1e-6));
        assertThat(h.victimFrequency(3 * 4096 + 1, one / 2)).isCloseTo(one, within(1e-6));
        assertThat(h.victimFrequency(3 * 4096 + 1, 1e9)).isInfinite();
    }
}
