package dev.spillway.pool.layout;

import static dev.spillway.pool.layout.LovFormat.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.osd.Fid;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The pure helpers the pool uses, step by step through a spill, a write and a drop. */
class LayoutHelpersTest {
    static final Fid FILE = Fid.of(0x200000401L, 7);

    @Test
    void spillLifecycle() {
        Layout l = Layout.of(StripeLayout.ostCopy(FILE, 0, FILE));
        assertThat(l.layoutGen()).isEqualTo(1);
        assertThat(l.components().get(0).id()).isEqualTo(pflrId(1, 1));
        assertThat(l.flrState()).isEqualTo(FlrState.NONE);

        // 1. pending copy on spill device 2 (S3), stale until the copy is made durable
        int mirror = l.nextMirrorId();
        assertThat(mirror).isEqualTo(2);
        HsmForeign pending = HsmForeign.copy(HsmType.S3, 2, 41, "0x200000401:0x7:0x0.1", HS_EXISTS);
        l = l.addMirror(pending, LCME_FL_INIT | LCME_FL_STALE).withFlrState(FlrState.SYNC_PENDING);
        assertThat(l.layoutGen()).isEqualTo(3);
        Component added = l.mirror(mirror).orElseThrow().first();
        assertThat(added.id()).isEqualTo(pflrId(2, 2)); // sequence = the generation addMirror made
        assertThat(added.isStale()).isTrue();
        assertThat(l.readMirror().orElseThrow().mirrorId()).isEqualTo(1);

        // 3. the copy is durable and the data version unchanged: in sync, archived, released
        l = l.markInSync(mirror)
                .withSubLayout(mirror, pending.withHsmFlags(HS_EXISTS | HS_ARCHIVED | HS_RELEASED))
                .withFlrState(FlrState.RDONLY)
                .dropMirror(1);
        assertThat(l.mirrorCount()).isEqualTo(1);
        assertThat(l.flrState()).as("one mirror: Lustre writes LCM_FL_NONE").isEqualTo(FlrState.NONE);
        assertThat(l.layoutGen()).isEqualTo(7);
        HsmForeign h = (HsmForeign) l.mirror(mirror).orElseThrow().first().subLayout();
        assertThat(h.has(HS_ARCHIVED | HS_RELEASED)).isTrue();
        assertThat(h.archiveVersion()).isEqualTo(41);
        assertThat(h.archiveId()).isEqualTo(2);
    }

    @Test
    void writeMakesOtherCopiesStaleAndPreferredReadIsExclusive() {
        Layout l = Layout.of(StripeLayout.ostCopy(FILE, 0, FILE))
                .addMirror(StripeLayout.ostCopy(FILE, 1, FILE), LCME_FL_INIT)
                .addMirror(HsmForeign.copy(HsmType.POSIX, 2, 9, "k", HS_EXISTS | HS_ARCHIVED), LCME_FL_INIT);
        assertThat(l.flrState()).isEqualTo(FlrState.RDONLY);
        assertThat(l.mirrorCount()).isEqualTo(3);

        l = l.setPreferredRead(2);
        assertThat(l.readMirror().orElseThrow().mirrorId()).isEqualTo(2);
        l = l.setPreferredRead(3);
        assertThat(l.mirrors().stream().filter(Mirror::isPreferredRead).map(Mirror::mirrorId))
                .containsExactly(3);

        l = l.withFlrState(FlrState.WRITE_PENDING).markStaleExcept(1);
        assertThat(l.mirrors().stream().filter(Mirror::isStale).map(Mirror::mirrorId))
                .containsExactly(2, 3);
        assertThat(l.readMirror().orElseThrow().mirrorId())
                .as("stale preferred copies are not read")
                .isEqualTo(1);

        l = l.markStale(1);
        assertThat(l.readMirror()).isEmpty();
    }

    @Test
    void unchangedIsTheSameLayoutAndKeepsItsGeneration() {
        Layout l = Layout.of(StripeLayout.ostCopy(FILE, 0, FILE));
        assertThat(l.markInSync(1)).isSameAs(l);
        assertThat(l.withFlrState(FlrState.NONE)).isSameAs(l);
        assertThat(l.markStale(1).markStale(1).layoutGen()).isEqualTo(2);
    }

    @Test
    void generationFollowsLodObjIncLayoutGen() {
        assertThat(Layout.nextGeneration(1)).isEqualTo(2);
        assertThat(Layout.nextGeneration(0x7FFFFFFF)).as("skips 0").isEqualTo(1);
        assertThat(Layout.nextGeneration(LU_LAYOUT_RESYNC | 5))
                .as("keeps the resync bit")
                .isEqualTo(LU_LAYOUT_RESYNC | 6);
        assertThat(Layout.nextGeneration(0xFFFFFFFF))
                .as("wraps to 1, dropping the resync bit")
                .isEqualTo(1);
    }

    @Test
    void componentIdsAfterTheGenerationPassesSixteenBits() {
        Layout l = new Layout(
                0x1FFFF,
                FlrState.NONE,
                List.of(Component.wholeFile(pflrId(1, 1), LCME_FL_INIT, StripeLayout.ostCopy(FILE, 0, FILE))));
        // lod_gen_component_id: generation 0x20000 > SEQ_ID_MAX, so search from its low bits (0 -> 1)
        Layout two = l.addMirror(StripeLayout.ostCopy(FILE, 1, FILE), LCME_FL_INIT);
        assertThat(two.layoutGen()).isEqualTo(0x20000);
        assertThat(two.mirror(2).orElseThrow().first().id()).isEqualTo(pflrId(2, 1));
    }

    @Test
    void mirrorIdsWrapToTheSmallestFreeOne() {
        Layout l = new Layout(
                1,
                FlrState.RDONLY,
                List.of(
                        Component.wholeFile(pflrId(3, 1), LCME_FL_INIT, StripeLayout.ostCopy(FILE, 0, FILE)),
                        Component.wholeFile(
                                pflrId(MIRROR_ID_MAX, 2), LCME_FL_INIT, StripeLayout.ostCopy(FILE, 1, FILE))));
        assertThat(l.nextMirrorId()).isEqualTo(1);
        assertThat(Layout.of(StripeLayout.ostCopy(FILE, 0, FILE)).nextMirrorId())
                .isEqualTo(2);
    }

    @Test
    void misuseIsAProgrammingError() {
        Layout l = Layout.of(StripeLayout.ostCopy(FILE, 0, FILE));
        assertThatThrownBy(() -> l.dropMirror(1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("only mirror");
        assertThatThrownBy(() -> l.markStale(9))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no mirror 9");
    }
}
