package dev.spillway.migrate.heat;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class GatherTest {
    @Test
    void partialOrderingMatchesAFullSort() {
        long seed = Long.getLong("spillway.seed", System.nanoTime());
        System.out.println("GatherTest seed " + seed + " (replay: -Dspillway.seed=" + seed + ")");
        Random rnd = new Random(seed);
        for (int round = 0; round < 300; round++) {
            int n = 1 + rnd.nextInt(rnd.nextBoolean() ? 40 : 3_000);
            int distinct = 1 + rnd.nextInt(n + 5);
            Gather g = new Gather();
            EntryStore st = new EntryStore();
            for (int i = 0; i < n; i++) {
                int id = st.add(i, 0, EntryStore.hash(i, 0));
                st.setKey(id, rnd.nextInt(distinct));
                g.add(st, id);
            }
            g.sort();
            int[] full = Arrays.copyOf(g.order, n);
            int k = rnd.nextInt(n + 2);
            g.sortFirst(k);
            assertThat(Arrays.copyOf(g.order, Math.min(k, n)))
                    .as("seed %d round %d", seed, round)
                    .containsExactly(Arrays.copyOf(full, Math.min(k, n)));
            g.sortRest(Math.min(k, n));
            assertThat(Arrays.copyOf(g.order, n)).containsExactly(full);
        }
    }
}
