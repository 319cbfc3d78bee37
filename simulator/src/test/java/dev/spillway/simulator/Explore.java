package dev.spillway.simulator;

import dev.spillway.migrate.heat.HeatConfig;
import dev.spillway.migrate.policy.PolicyConfig;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class Explore {
    @Test
    void explore() {
        Trace t = TraceReader.bundled();
        double[] best = {0.1782, 0.1995, 0.2644};
        for (String hl : new String[] {"PT10H", "PT2H"}) {
          for (double sh : new double[] {0.1, 0.25, 0.4}) {
            for (int n : new int[] {2, 3}) {
              StringBuilder sb = new StringBuilder();
              double worst = 9;
              for (int k = 0; k < 3; k++) {
                long cap = (long) (t.footprintBytes() * Simulator.DEFAULT_FRACTIONS[k]);
                HeatConfig hc = SpillwayPolicy.defaultHeat().withHalfLife(Duration.parse(hl));
                PolicyConfig pc = SpillwayPolicy.defaultPolicy().withPromoteHits(n).withProbationShare(sh).withWatermarks(0.99, 0.97).withMinResidentAge(Duration.ZERO);
                SimResult r = Simulator.run(t, new SpillwayPolicy(cap, hc, pc, "S"));
                worst = Math.min(worst, r.hitRatio() / best[k]);
                sb.append(String.format(" %.4f(%,d pp=%d)", r.hitRatio(), r.migratedBytes() >> 20, r.extra().get("pingPongs")));
              }
              System.out.printf("worst=%.4f exit=%s hl=%s sh=%.2f n=%d %s%n", worst, System.getProperty("xexit"), hl, sh, n, sb);
            }
          }
        }
    }
}
