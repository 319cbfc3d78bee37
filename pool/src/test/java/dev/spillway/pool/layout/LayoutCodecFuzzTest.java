package dev.spillway.pool.layout;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.spillway.osd.Errno;
import dev.spillway.osd.testkit.fuzz.AllocationBound;
import dev.spillway.osd.testkit.fuzz.SeedCorpus;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Coverage-guided fuzzing of the {@code trusted.lov} decoder (Jazzer; {@code docs/fuzzing.md}).
 * The contract, for any bytes: {@link LayoutCodec#decode} returns a layout that encodes back to
 * exactly those bytes (the decoder is canonical), or throws its {@link LayoutException} (EBADMSG
 * or EPROTO, an offset inside the input); nothing else, within a bounded allocation. In an
 * ordinary test run the seeds and every input a fuzzing run found are replayed; {@code
 * tools/fuzz pool LayoutCodecFuzzTest 600} fuzzes for 10 minutes. {@link LayoutFuzzTest} is the
 * seeded mutation fuzz that came first; this one is guided by coverage.
 */
class LayoutCodecFuzzTest {
    private static final AllocationBound BOUND = new AllocationBound(64 << 10, 16);

    @FuzzTest
    void decode(byte[] xattr) {
        byte[] copy = xattr.clone();
        Layout[] decoded = new Layout[1];
        try {
            BOUND.check(xattr.length, () -> decoded[0] = LayoutCodec.decode(xattr));
        } catch (LayoutException e) {
            assertThat(e.errno()).isIn(Errno.EBADMSG, Errno.EPROTO);
            assertThat(e.offset()).isBetween(0, xattr.length);
            assertThat(e.problem()).isNotBlank();
        }
        assertThat(xattr).as("the decoder never writes its input").isEqualTo(copy);
        if (decoded[0] != null) {
            assertThat(LayoutCodec.encode(decoded[0]))
                    .as("an accepted layout is canonical")
                    .isEqualTo(xattr);
        }
    }

    /**
     * The seeds: the golden vectors (layouts exactly as the pool writes them, and liblustreapi's
     * own {@code getstripe -v} example) and random valid layouts of every shape.
     */
    static Map<String, byte[]> seeds() {
        Map<String, byte[]> s = new LinkedHashMap<>();
        s.put("one-copy", HexVector.parse(LayoutCodecGoldenTest.ONE_COPY));
        s.put("two-copies", HexVector.parse(LayoutCodecGoldenTest.TWO_COPIES));
        s.put("lfs-pfl-example", HexVector.parse(LayoutCodecGoldenTest.LFS_PFL_EXAMPLE));
        s.put("v3-pool", HexVector.parse(LayoutCodecGoldenTest.V3_POOL));
        Random r = new Random(0x5eed_1a70L);
        for (int i = 0; i < 8; i++) {
            s.put("random-" + i, LayoutCodec.encode(RandomLayouts.layout(r)));
        }
        return s;
    }

    @Test
    void seedCorpusHoldsValidLayouts() throws Exception {
        Map<String, byte[]> seeds = seeds();
        for (var e : seeds.entrySet()) {
            assertThat(LayoutCodec.encode(LayoutCodec.decode(e.getValue())))
                    .as(e.getKey())
                    .isEqualTo(e.getValue());
        }
        SeedCorpus.of(getClass(), "decode").check(seeds);
    }
}
