package dev.spillway.migrate.heat;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.ObjectKind;
import java.io.ByteArrayOutputStream;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Writers on every segment while queries and checkpoints run: nothing breaks, nothing is lost. */
class HeatConcurrencyTest {
    @Test
    void accessesQueriesAndCheckpointsRunTogether() throws Exception {
        HeatTracker heat = new HeatTracker(HeatConfig.defaults(), Clock.systemUTC());
        int writers = 4;
        int perWriter = 50_000;
        try (ExecutorService pool = Executors.newFixedThreadPool(writers + 1)) {
            List<Future<?>> fs = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                int seq = w;
                fs.add(pool.submit(() -> {
                    Random rnd = new Random(seq);
                    for (int i = 0; i < perWriter; i++) {
                        heat.recordWrite(0x200000400L + seq, i, 0, ObjectKind.DATA, 1 + rnd.nextInt(100_000));
                        heat.recordRead(0x200000400L + seq, rnd.nextInt(i + 1), 0, ObjectKind.DATA, -1, true);
                        if (i % 7 == 0) {
                            heat.setResident(0x200000400L + seq, rnd.nextInt(i + 1), 0, false, false, false);
                        }
                    }
                    return null;
                }));
            }
            fs.add(pool.submit(() -> {
                for (int k = 0; k < 50; k++) {
                    List<Candidate> c = heat.coldest(1_000, Long.MAX_VALUE, Duration.ZERO);
                    for (int i = 1; i < c.size(); i++) {
                        assertThat(c.get(i).resident()).isTrue();
                    }
                    heat.inactive(Duration.ZERO, 1_000, true);
                    HeatCheckpoint.write(heat, new ByteArrayOutputStream());
                }
                return null;
            }));
            for (Future<?> f : fs) {
                f.get();
            }
        }
        assertThat(heat.tracked()).isEqualTo((long) writers * perWriter);
        assertThat(heat.coldest(300_000, Long.MAX_VALUE, Duration.ZERO))
                .hasSameSizeAs(heat.coldestByFullScan(300_000, Duration.ZERO));
    }
}
