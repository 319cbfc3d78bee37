package dev.spillway.bench.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.bench.BenchOptions;
import dev.spillway.bench.BenchResult;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./spillway bench partial --quick} runs end to end at a small size (CI exercises the range
 * spills, the split reads and the whole-object comparison); no time is asserted, only what it
 * reports and the bytes it moved.
 */
class PartialBenchTest {
    @Test
    void partialRunsQuickAtASmallSizeAndReportsEachMetric(@TempDir Path dir) throws Exception {
        List<BenchResult> rs = new PartialBench()
                .run(new BenchOptions(
                        true, dir, System.err, List.of("--object-mib", "32", "--hot-mib", "2", "--fast-mib", "16")));
        assertThat(rs)
                .extracting(BenchResult::metric)
                .containsExactly("hot_random_4kib_ops_per_s", "hot_sequential_mib_per_s", "bytes_moved_mib");
        assertThat(rs).allSatisfy(r -> {
            assertThat(r.benchmark()).isEqualTo("partial");
            assertThat(r.value()).isPositive();
            assertThat(r.baseline()).isPositive();
            assertThat(r.toJson()).contains("\"params\"");
        });
        BenchResult moved = rs.get(2);
        assertThat(moved.value()).as("the cold 30 MiB, once").isEqualTo(30.0);
        assertThat(moved.baseline())
                .as("32 MiB spilled whole + 32 promoted whole")
                .isEqualTo(64.0);
        assertThat(moved.params()).containsKey("whole_promote");
    }
}
