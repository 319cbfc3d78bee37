package dev.spillway.pool.layout;

import static dev.spillway.pool.layout.LovFormat.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Fid;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Seeded randomized round trips: encode then decode gives the same layout, decode then encode
 * the same bytes; and random sequences of the pure helpers checked against a small model. The
 * run prints its master seed ({@code -Dspillway.seed} fixes it); a failure names the case seed,
 * and {@code -Dspillway.layout.replay=SEED} replays that one case.
 */
class LayoutRoundTripTest {

    interface Case {
        void run(long seed) throws Exception;
    }

    static void runCases(String name, int cases, Case body) throws Exception {
        String replay = System.getProperty("spillway.layout.replay");
        if (replay != null) {
            body.run(Long.decode(replay));
            return;
        }
        long master = RandomLayouts.masterSeed();
        System.out.printf("%s: master seed 0x%x, %d cases%n", name, master, cases);
        SplittableRandom seeds = new SplittableRandom(master);
        for (int i = 0; i < cases; i++) {
            long seed = seeds.nextLong();
            try {
                body.run(seed);
            } catch (Throwable e) {
                throw new AssertionError(
                        String.format(
                                "%s case %d failed; replay it with -Dspillway.layout.replay=0x%x"
                                        + " (master seed 0x%x): %s",
                                name, i, seed, master, e),
                        e);
            }
        }
    }

    @Test
    void encodeDecodeEncode() throws Exception {
        runCases("layout round trip", 3000, seed -> {
            Layout l = RandomLayouts.layout(new Random(seed));
            byte[] bytes = LayoutCodec.encode(l);
            assertThat(bytes).hasSize(LayoutCodec.encodedSize(l));
            Layout back = LayoutCodec.decode(bytes);
            assertThat(back).isEqualTo(l);
            assertThat(LayoutCodec.encode(back)).isEqualTo(bytes);
            for (int off : LayoutCodec.blobOffsets(l)) {
                assertThat(off % 8).as("blob alignment").isZero();
            }
            assertThat(LayoutPrinter.getstripe(back))
                    .contains("lcm_entry_count:   " + l.components().size());
        });
    }

    /** The model: per mirror, stale and preferred-read; plus the generation. */
    record M(boolean stale, boolean prefRd) {}

    @Test
    void helperSequencesMatchTheModel() throws Exception {
        runCases("layout helpers", 500, seed -> {
            Random r = new Random(seed);
            Fid file = Fid.of(0x200000400L + r.nextInt(1000), 1 + r.nextInt(1000));
            Layout l = Layout.of(StripeLayout.ostCopy(file, 0, file));
            Map<Integer, M> model = new HashMap<>();
            model.put(1, new M(false, false));
            for (int step = 0; step < 40; step++) {
                List<Integer> ids = List.copyOf(model.keySet());
                int pick = ids.get(r.nextInt(ids.size()));
                Layout before = l;
                switch (r.nextInt(8)) {
                    case 0 -> {
                        if (model.size() < 20) {
                            int next = l.nextMirrorId();
                            SubLayout sub = r.nextBoolean()
                                    ? StripeLayout.ostCopy(file, r.nextInt(8), RandomLayouts.fid(r))
                                    : HsmForeign.copy(
                                            r.nextBoolean() ? HsmType.POSIX : HsmType.S3,
                                            r.nextInt(8),
                                            r.nextLong(),
                                            RandomLayouts.utf8(r, UUID_MAX),
                                            HS_EXISTS);
                            l = l.addMirror(sub, LCME_FL_INIT | LCME_FL_STALE);
                            model.put(next, new M(true, false));
                            assertThat(l.mirror(next)).isPresent();
                        }
                    }
                    case 1 -> {
                        if (model.size() > 1) {
                            l = l.dropMirror(pick);
                            model.remove(pick);
                        }
                    }
                    case 2 -> {
                        l = l.markStale(pick);
                        model.put(pick, new M(true, model.get(pick).prefRd()));
                    }
                    case 3 -> {
                        l = l.markInSync(pick);
                        model.put(pick, new M(false, model.get(pick).prefRd()));
                    }
                    case 4 -> {
                        l = l.markStaleExcept(pick);
                        model.replaceAll((id, m) -> id == pick ? m : new M(true, m.prefRd()));
                    }
                    case 5 -> {
                        l = l.setPreferredRead(pick);
                        model.replaceAll((id, m) -> new M(m.stale(), id == pick));
                    }
                    case 6 -> l = l.withFlrState(FlrState.values()[r.nextInt(4)]);
                    default -> l = l.bumpGeneration();
                }
                if (!l.equals(before)) {
                    assertThat(l.layoutGen()).isEqualTo(Layout.nextGeneration(before.layoutGen()));
                }
                assertThat(l.mirrorCount()).isEqualTo(model.size());
                if (model.size() == 1) {
                    assertThat(l.flrState()).isEqualTo(before.mirrorCount() > 1 ? FlrState.NONE : l.flrState());
                }
                for (Mirror m : l.mirrors()) {
                    M want = model.get(m.mirrorId());
                    assertThat(want).as("mirror %d in the model", m.mirrorId()).isNotNull();
                    assertThat(m.isStale()).as("mirror %d stale", m.mirrorId()).isEqualTo(want.stale());
                    assertThat(m.isPreferredRead())
                            .as("mirror %d prefrd", m.mirrorId())
                            .isEqualTo(want.prefRd());
                }
                byte[] bytes = LayoutCodec.encode(l);
                assertThat(LayoutCodec.decode(bytes)).isEqualTo(l);
            }
        });
    }
}
