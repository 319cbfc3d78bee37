package dev.spillway.migrate.heat;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Random operations against a plain model (a map of FID to decayed count in logical time,
 * computed the slow way);
 * the tracker's candidates must be exactly the model's coldest eligible objects, in order.
 * The seed is printed; replay with {@code -Dspillway.seed=N}.
 */
class HeatModelTest {
    static final class Obj {
        boolean data = true;
        boolean pinned;
        boolean resident = true;
        boolean probation;
        long size;
        List<Double> accesses = new ArrayList<>(); // logical time (half-lives)
        double since; // resident since (wall seconds)

        double heat(double now, double halfLife) {
            double h = 0;
            for (double a : accesses) {
                h += Math.pow(2, -(now - a) / halfLife);
            }
            return h;
        }
    }

    @Test
    void candidatesAreTheModelsColdestEligibleObjects() {
        long seed = Long.getLong("spillway.seed", System.nanoTime());
        System.out.println("HeatModelTest seed " + seed + " (replay: -Dspillway.seed=" + seed + ")");
        Random rnd = new Random(seed);
        TestClock clock = new TestClock();
        // Heat halves every 1,000 accesses: at most 500 objects are resident, fewer than the
        // 1,000 a turnover is counted against, so logical time is exactly accesses / 1,000.
        double halfLife = 1;
        long minSpill = 100;
        HeatConfig cfg = new HeatConfig(halfLife, 1000, minSpill, 4, 4, 64, 0);
        HeatTracker heat = new HeatTracker(cfg, clock);
        Map<Fid, Obj> model = new HashMap<>();
        double now = 0; // wall seconds
        long accesses = 0;
        for (int step = 0; step < 20_000; step++) {
            // The wall clock only decides the minimum resident age.
            long ms = 1 + rnd.nextInt(rnd.nextInt(10) == 0 ? 600_000 : 5_000);
            clock.advance(Duration.ofMillis(ms));
            now += ms / 1000.0;
            Fid fid = Fid.of(0x200000400L, rnd.nextInt(500));
            Obj o = model.get(fid);
            int op = rnd.nextInt(100);
            if (o == null || op < 30) {
                boolean index = o == null && rnd.nextInt(20) == 0;
                long size = rnd.nextInt(10) == 0 ? rnd.nextInt((int) minSpill) : 100 + rnd.nextInt(10_000);
                heat.recordWrite(fid, index ? ObjectKind.INDEX : ObjectKind.DATA, size);
                if (o == null) {
                    o = new Obj();
                    o.data = !index;
                    o.since = now;
                    model.put(fid, o);
                }
                if (!o.resident) {
                    o.since = now;
                }
                o.resident = true;
                o.probation = false;
                o.size = size;
                o.accesses.add(++accesses / 1000.0);
            } else if (op < 75) {
                heat.recordRead(fid, o.data ? ObjectKind.DATA : ObjectKind.INDEX, -1, o.resident);
                o.accesses.add(++accesses / 1000.0);
                if (o.resident && o.probation) {
                    o.probation = false; // the tracker's rule: one read on trial ends probation
                }
            } else if (op < 85) {
                if (o.resident) {
                    heat.markSpilled(fid);
                    o.resident = false;
                    o.probation = false;
                } else {
                    boolean trial = rnd.nextBoolean();
                    heat.markPromoted(fid, trial);
                    o.resident = true;
                    o.probation = trial;
                    o.since = now;
                }
            } else if (op < 92) {
                o.pinned = !o.pinned;
                heat.setPinned(fid, o.pinned);
            } else if (op < 95) {
                heat.forget(fid);
                model.remove(fid);
            } else {
                double minAgeSeconds = rnd.nextInt(3) * 120;
                int n = 1 + rnd.nextInt(50);
                check(heat, model, now, accesses / 1000.0, halfLife, minSpill, minAgeSeconds, n, seed);
            }
        }
        assertThat(heat.tracked()).isEqualTo(model.size());
    }

    private static void check(
            HeatTracker heat,
            Map<Fid, Obj> model,
            double now,
            double logicalNow,
            double hl,
            long minSpill,
            double minAgeSeconds,
            int n,
            long seed) {
        double nowFloor = Math.floor(now);
        List<Map.Entry<Fid, Obj>> eligible = new ArrayList<>();
        for (Map.Entry<Fid, Obj> e : model.entrySet()) {
            Obj o = e.getValue();
            // Residency times are kept to the second (floored); so is the age check.
            if (o.data
                    && !o.pinned
                    && o.resident
                    && !o.probation
                    && o.size >= minSpill
                    && Math.floor(o.since) <= Math.floor(nowFloor - minAgeSeconds)) {
                eligible.add(e);
            }
        }
        eligible.sort(Comparator.comparingDouble(e -> e.getValue().heat(logicalNow, hl)));
        List<Fid> expected = eligible.stream().limit(n).map(Map.Entry::getKey).toList();
        Duration minAge = Duration.ofSeconds((long) minAgeSeconds);
        List<Candidate> got = heat.coldest(n, Long.MAX_VALUE, minAge);
        assertThat(got).as("seed %d", seed).extracting(Candidate::fid).containsExactlyElementsOf(expected);
        assertThat(heat.coldestByFullScan(n, minAge))
                .as("seed %d", seed)
                .extracting(Candidate::fid)
                .containsExactlyElementsOf(expected);
        for (Candidate c : got) {
            assertThat(c.heat())
                    .isCloseTo(model.get(c.fid()).heat(logicalNow, hl), org.assertj.core.api.Assertions.within(1e-6));
        }
    }
}
