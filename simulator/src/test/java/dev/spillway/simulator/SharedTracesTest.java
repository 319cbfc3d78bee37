package dev.spillway.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Exact LRU miss counts on the block traces, as an independent LRU (a Python OrderedDict, run
 * when the fixtures were cut) counts them: capacity {@code floor(distinct bytes x fraction)},
 * every block 4 KiB. The committed fixtures (the first 20,000 requests of w106, the first 5,000
 * lines of OLTP) always run; the whole traces run where {@code shared/traces} lies beside the
 * repository (CI lays it there) and are skipped, saying so, where it does not.
 */
class SharedTracesTest {
    @Test
    void lruOnTheW106PrefixFixture() throws Exception {
        Trace t = TraceReader.read(TraceReaderTest.fixture("w106-first20000.trace.xz"));
        assertThat(t.objects()).isEqualTo(3132);
        assertLruMisses(t, new double[] {0.01, 0.05, 0.10}, new long[] {31, 156, 313}, new long[] {11214, 6680, 4910});
    }

    @Test
    void lruOnTheOltpPrefixFixture() throws Exception {
        Trace t = TraceReader.read(TraceReaderTest.fixture("OLTP-first5000.lis.zst"));
        assertThat(t.objects()).isEqualTo(3146);
        assertLruMisses(t, new double[] {0.01, 0.05, 0.10}, new long[] {31, 157, 314}, new long[] {4927, 4453, 4145});
    }

    @Test
    void lruOnWholeW106MatchesTheTracesReadme() throws Exception {
        Trace t = TraceReader.read(shared("w106.trace.xz"));
        assertThat(t.length()).isEqualTo(5_292_456);
        assertThat(t.objects()).isEqualTo(275_171);
        assertLruMisses(t, new double[] {0.01, 0.05, 0.10}, new long[] {2751, 13758, 27517}, new long[] {
            1_069_602, 757_969, 435_439
        });
    }

    @Test
    void lruOnWholeOltpMatchesTheTracesReadme() throws Exception {
        Trace t = TraceReader.read(shared("OLTP.lis.zst"));
        assertThat(t.length()).isEqualTo(914_145);
        assertThat(t.objects()).isEqualTo(186_880);
        assertLruMisses(t, new double[] {0.01}, new long[] {1868}, new long[] {533_560});
    }

    private static void assertLruMisses(Trace t, double[] fractions, long[] blocks, long[] misses) {
        for (int k = 0; k < fractions.length; k++) {
            long cap = Simulator.capacity(t, fractions[k]);
            assertThat(cap / TraceFormat.BLOCK).as("blocks at %s", fractions[k]).isEqualTo(blocks[k]);
            SimResult r = Simulator.run(t, new LruPolicy(cap));
            assertThat(r.misses())
                    .as("LRU misses at %s of %s", fractions[k], t.name())
                    .isEqualTo(misses[k]);
        }
    }

    /** A file of shared/traces beside the repository; the test is skipped, saying so, without it. */
    static Path shared(String name) {
        Path d = Path.of("").toAbsolutePath();
        for (int i = 0; d != null && i < 6; i++, d = d.getParent()) {
            Path c = d.resolve("shared").resolve("traces").resolve(name);
            if (Files.isRegularFile(c)) {
                return c;
            }
        }
        assumeTrue(
                false,
                "shared/traces/" + name + " is not beside the repository (looked up from "
                        + Path.of("").toAbsolutePath() + "): skipped");
        return null;
    }
}
