package dev.spillway.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BenchResultTest {
    @Test
    void jsonLineHasTheFieldsOfBenchmarksMd() throws Exception {
        BenchResult r = BenchResult.higherIsBetter(
                "kv-large", "write MiB/s", 900, 1000, "MiB/s", ">= 0.90", Map.of("size", "64MiB"));
        JsonNode j = new ObjectMapper().readTree(r.toJson());
        assertThat(j.get("benchmark").asText()).isEqualTo("kv-large");
        assertThat(j.get("ratio").asDouble()).isEqualTo(0.9);
        assertThat(j.get("goal").asText()).isEqualTo(">= 0.90");
        assertThat(j.get("params").get("size").asText()).isEqualTo("64MiB");
        assertThat(r.met()).isTrue();
    }

    @Test
    void lowerIsBetterInvertsTheRatio() {
        BenchResult r = BenchResult.lowerIsBetter("recovery", "mount ms", 10, 1000, "ms", ">= 100", Map.of());
        assertThat(r.ratio()).isEqualTo(100.0);
        assertThat(r.met()).isTrue();
        assertThat(BenchResult.lowerIsBetter("x", "p99", 30, 10, "ms", ">= 0.5", Map.of())
                        .met())
                .isFalse();
    }

    /** A line that only reports (another line carries the goal) is neither met nor missed. */
    @Test
    void aLineWithoutAGoalSaysNeitherMetNorMissed() throws Exception {
        BenchResult r = BenchResult.lowerIsBetter(
                "startup", "restart ms", 3000, 4000, "ms", BenchResult.NO_GOAL + " (reported)", Map.of());
        JsonNode j = new ObjectMapper().readTree(r.toJson());
        assertThat(j.get("met").isNull()).isTrue();
        assertThat(r.toText()).contains("(no goal)").doesNotContain("MET").doesNotContain("MISSED");
        assertThat(new ObjectMapper()
                        .readTree(BenchResult.lowerIsBetter("x", "ms", 2000, 1000, "ms", ">= 1.0", Map.of())
                                .toJson())
                        .get("met")
                        .asBoolean(true))
                .isFalse();
    }

    @Test
    void alternationReportsMedians() throws Exception {
        int[] n = {0};
        var m = AbRunner.alternate(1, 5, () -> (double) ++n[0], () -> 100.0, null);
        assertThat(m.b()).isEqualTo(100.0);
        assertThat(m.as()).hasSize(5);
        assertThat(AbRunner.median(List.of(3.0, 1.0, 2.0))).isEqualTo(2.0);
    }
}
