package dev.spillway.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.LongSupplier;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SimulatorTest {
    static final Trace SYNTH = SyntheticTrace.zipfWithScans(11, 30_000, 3_000, 0.9, 5_000, 1_000, 0.1);

    @Test
    void syntheticTracesAreReproducibleFromTheirSeed() {
        Trace again = SyntheticTrace.zipfWithScans(11, 30_000, 3_000, 0.9, 5_000, 1_000, 0.1);
        for (int i = 0; i < SYNTH.length(); i++) {
            assertThat(again.id(i)).isEqualTo(SYNTH.id(i));
            assertThat(again.isWrite(i)).isEqualTo(SYNTH.isWrite(i));
        }
        assertThat(SYNTH.writes()).isPositive();
    }

    /** A wall clock that moves on by {@code step} every time it is read (the tracker reads it per access). */
    static final class Racing implements InstantSource {
        private Instant now = Instant.parse("2026-01-01T00:00:00Z");
        private final LongSupplier stepNanos;

        Racing(LongSupplier stepNanos) {
            this.stepNanos = stepNanos;
        }

        @Override
        public Instant instant() {
            now = now.plusNanos(stepNanos.getAsLong());
            return now;
        }
    }

    @Test
    void spillwayDecidesTheSameAtAnyReplayRate() {
        Trace t = TraceReader.bundled().prefix(40_000);
        for (double f : new double[] {0.005, 0.05}) {
            long cap = Simulator.capacity(t, f);
            SimResult still = Simulator.run(t, new SpillwayPolicy(cap));
            SplittableRandom rnd = new SplittableRandom(5);
            long[] steps = {1, 1_000_000, 1_000_000_000L, 3_600_000_000_000L};
            for (long step : steps) {
                SimResult r = Simulator.run(
                        t,
                        new SpillwayPolicy(
                                cap,
                                SpillwayPolicy.defaultHeat(),
                                SpillwayPolicy.defaultPolicy(),
                                "Spillway",
                                new Racing(() -> step)));
                assertThat(r).as("one request every %d ns", step).isEqualTo(still);
            }
            // Bursts and idle hours at random.
            SimResult bursty = Simulator.run(
                    t,
                    new SpillwayPolicy(
                            cap,
                            SpillwayPolicy.defaultHeat(),
                            SpillwayPolicy.defaultPolicy(),
                            "Spillway",
                            new Racing(() -> rnd.nextInt(10) == 0 ? 7_200_000_000_000L : rnd.nextLong(1_000_000))));
            assertThat(bursty).isEqualTo(still);
            assertThat(still.hits()).isPositive();
        }
    }

    @Test
    void wTinyLfuReplaysToTheSameResultEveryTime() {
        Trace t = TraceReader.bundled();
        for (double f : new double[] {0.001, 0.01, 0.1}) {
            long cap = Simulator.capacity(t, f);
            SimResult a = Simulator.run(t, new WTinyLfuPolicy(cap));
            SimResult b = Simulator.run(t, new WTinyLfuPolicy(cap));
            SimResult c = Simulator.run(t, new WTinyLfuPolicy(cap));
            assertThat(b).isEqualTo(a);
            assertThat(c).isEqualTo(a);
            // It is W-TinyLFU, not LRU under another name: at 1% it beats LRU on this trace.
            if (f == 0.01) {
                assertThat(a.hits())
                        .isGreaterThan(Simulator.run(t, new LruPolicy(cap)).hits());
            }
        }
    }

    @Test
    void everyPolicyAccountsConsistentlyAndBeladyBoundsTheOnlineOnes() {
        List<SimResult> rs = Simulator.run(SYNTH, Simulator.standardPolicies(), new double[] {0.05, 0.2});
        for (double f : new double[] {0.05, 0.2}) {
            long cap = (long) (SYNTH.footprintBytes() * f);
            List<SimResult> at =
                    rs.stream().filter(r -> r.capacityBytes() == cap).toList();
            assertThat(at).hasSize(Simulator.standardPolicies().size());
            double belady = at.stream()
                    .filter(r -> r.policy().equals("Belady"))
                    .findFirst()
                    .orElseThrow()
                    .hitRatio();
            for (SimResult r : at) {
                assertThat(r.requests()).isEqualTo(SYNTH.length());
                assertThat(r.hits()).isBetween(0L, r.requests());
                assertThat(r.hitBytes()).isBetween(0L, r.requestBytes());
                assertThat(r.migratedBytes()).isNotNegative();
                if (Simulator.ONLINE_BASELINES.contains(r.policy())) {
                    assertThat(r.hitRatio()).as(r.policy()).isLessThanOrEqualTo(belady);
                }
            }
        }
    }

    @Test
    void theSpillwayReplayIsDeterministicAndNeverOverfillsTheTier() {
        long cap = SYNTH.footprintBytes() / 20;
        SimResult a = Simulator.run(SYNTH, new SpillwayPolicy(cap));
        SimResult b = Simulator.run(SYNTH, new SpillwayPolicy(cap));
        assertThat(a).isEqualTo(b);
        assertThat(a.extra()).containsKey("pingPongs");
        // The tier's bound is checked inside every step: a replay that overfilled would throw.
        CheckedSpillway c = new CheckedSpillway(cap);
        Simulator.run(SYNTH, c);
        assertThat(c.maxUsed).isPositive().isLessThanOrEqualTo(cap);
    }

    /** Spillway's replay, watching occupancy after every request. */
    static final class CheckedSpillway extends SimPolicy {
        final SpillwayPolicy inner;
        long maxUsed;

        CheckedSpillway(long cap) {
            super(cap);
            inner = new SpillwayPolicy(cap);
        }

        @Override
        public String name() {
            return "checked";
        }

        @Override
        protected boolean access(Trace t, int i) {
            boolean hit = inner.access(t, i);
            maxUsed = Math.max(maxUsed, inner.usedBytes());
            return hit;
        }
    }

    @Test
    void reportHasATableAndAPlot(@TempDir Path dir) throws Exception {
        List<SimResult> rs = Simulator.run(
                SYNTH, Map.of("LRU", LruPolicy::new, "Spillway", SpillwayPolicy::new), Simulator.DEFAULT_FRACTIONS);
        String table = Report.table(SYNTH, rs);
        assertThat(table).contains("LRU").contains("Spillway").contains("10%");
        Path png = dir.resolve("p.png");
        Report.plot(SYNTH, rs, png);
        BufferedImage img = ImageIO.read(png.toFile());
        assertThat(img.getWidth()).isEqualTo(1200);
    }
}
