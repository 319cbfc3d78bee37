package dev.spillway.pool.layout;

import static dev.spillway.pool.layout.LovFormat.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Fid;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The printer against the shape of {@code lfs getstripe -v}: the field names, order and
 * indentation of liblustreapi.c (master) and of real output quoted in the Lustre manual and
 * user notes (e.g. {@code lcm_size: 264 / lcme_offset: 128 / lcme_size: 80} for a 2+1 EC file,
 * {@code lcme_id: 131074 / lcme_mirror_id: 2}).
 */
class LayoutPrinterTest {

    @Test
    void spillwayLayoutWithAnHsmMirror() {
        String expected = """
                composite_header:
                  lcm_magic:         0x0BD60BD0
                  lcm_size:          256
                  lcm_flags:         sp
                  lcm_layout_gen:    3
                  lcm_mirror_count:  2
                  lcm_entry_count:   2
                components:
                  - lcme_id:             65537
                    lcme_mirror_id:      1
                    lcme_flags:          init,prefrd
                    lcme_extent.e_start: 0
                    lcme_extent.e_end:   EOF
                    lcme_offset:         128
                    lcme_size:           56
                    sub_layout:
                      lmm_magic:         0x0BD10BD0
                      lmm_seq:           0x200000401
                      lmm_object_id:     0x1
                      lmm_fid:           [0x200000401:0x1:0x0]
                      lmm_stripe_count:  1
                      lmm_stripe_size:   1048576
                      lmm_pattern:       raid0
                      lmm_layout_gen:    0
                      lmm_stripe_offset: 0
                      lmm_objects:
                      -   0: { l_ost_idx:   0, l_fid: [0x200000401:0x1:0x0] }

                  - lcme_id:             131075
                    lcme_mirror_id:      2
                    lcme_flags:          init,stale
                    lcme_extent.e_start: 0
                    lcme_extent.e_end:   EOF
                    lcme_offset:         184
                    lcme_size:           72
                    sub_layout:
                      lhm_magic:         0x0BD70BD0
                      lhm_pattern:       foreign
                      lhm_length:        56
                      lhm_type:          0x00000004 (S3)
                      lhm_flags:         exists,archived
                      lhm_archive_id:    2
                      lhm_archive_ver:   4660
                      lhm_archive_uuid:  '0x200000401:0x1:0x0'
                """;
        assertThat(LayoutPrinter.getstripe(LayoutCodecGoldenTest.twoCopies())).isEqualTo(expected);
    }

    /** liblustreapi.c's example, in master's format; the IDIF l_fid values come out as lfs prints them. */
    @Test
    void lfsDocumentedPflExample() {
        String expected = """
                /mnt/testfs/file
                composite_header:
                  lcm_magic:         0x0BD60BD0
                  lcm_size:          264
                  lcm_flags:         0
                  lcm_layout_gen:    2
                  lcm_mirror_count:  1
                  lcm_entry_count:   2
                components:
                  - lcme_id:             1
                    lcme_mirror_id:      0
                    lcme_flags:          init
                    lcme_extent.e_start: 0
                    lcme_extent.e_end:   1048576
                    lcme_offset:         128
                    lcme_size:           56
                    sub_layout:
                      lmm_magic:         0x0BD10BD0
                      lmm_seq:           0x200000401
                      lmm_object_id:     0x1
                      lmm_fid:           [0x200000401:0x1:0x0]
                      lmm_stripe_count:  1
                      lmm_stripe_size:   1048576
                      lmm_pattern:       raid0
                      lmm_layout_gen:    0
                      lmm_stripe_offset: 0
                      lmm_objects:
                      -   0: { l_ost_idx:   0, l_fid: [0x100000000:0x2:0x0] }

                  - lcme_id:             2
                    lcme_mirror_id:      0
                    lcme_flags:          init
                    lcme_extent.e_start: 1048576
                    lcme_extent.e_end:   EOF
                    lcme_offset:         184
                    lcme_size:           80
                    sub_layout:
                      lmm_magic:         0x0BD10BD0
                      lmm_seq:           0x200000401
                      lmm_object_id:     0x1
                      lmm_fid:           [0x200000401:0x1:0x0]
                      lmm_stripe_count:  2
                      lmm_stripe_size:   1048576
                      lmm_pattern:       raid0
                      lmm_layout_gen:    0
                      lmm_stripe_offset: 1
                      lmm_objects:
                      -   0: { l_ost_idx:   1, l_fid: [0x100010000:0x2:0x0] }
                      -   1: { l_ost_idx:   0, l_fid: [0x100000000:0x3:0x0] }

                """;
        assertThat(LayoutPrinter.getstripe(LayoutCodecGoldenTest.lfsPflExample(), "/mnt/testfs/file", ZoneOffset.UTC))
                .isEqualTo(expected);
    }

    @Test
    void uninstantiatedComponentPrintsStripeOffsetAndNoObjects() {
        StripeLayout s = new StripeLayout(
                LOV_MAGIC_V3,
                LOV_PATTERN_RAID0,
                Fid.of(0x200000401L, 1),
                8 << 20,
                0xFFFF,
                "archive",
                List.of(OstStripe.of(-1, new Fid(0, 0, 0))));
        Layout l = new Layout(6, FlrState.NONE, List.of(Component.wholeFile(LovFormat.pflrId(2, 4), 0, s)));
        String out = LayoutPrinter.getstripe(l);
        assertThat(out).contains("""
                    lcme_flags:          0
                """).contains("""
                      lmm_layout_gen:    0
                      lmm_stripe_offset: -1
                      lmm_pool:          archive
                """).doesNotContain("lmm_objects");
    }

    @Test
    void nosyncPrintsTheTimestampAndLinkIdIsShownWhenSet() {
        Layout l = new Layout(
                1,
                FlrState.NONE,
                List.of(new Component(
                        LovFormat.pflrId(1, 1),
                        LCME_FL_INIT | LCME_FL_NOSYNC,
                        0,
                        LUSTRE_EOF,
                        0,
                        1_700_000_000L,
                        0x2,
                        StripeLayout.ostCopy(Fid.of(0x200000401L, 1), 4, Fid.of(0x200000401L, 1)))));
        assertThat(LayoutPrinter.getstripe(l)).contains("""
                    lcme_flags:          init,nosync
                    lcme_mirror_link_id: 0x2
                    lcme_timestamp:      '2023-11-14T22:13:20+0000'
                    lcme_extent.e_start: 0
                """);
    }

    @Test
    void flagNamesFollowLfsTables() {
        assertThat(LayoutPrinter.lcmeFlagsString(0)).isEqualTo("0");
        assertThat(LayoutPrinter.lcmeFlagsString(LCME_FL_INIT | LCME_FL_PREF_RW))
                .isEqualTo("init,prefer");
        assertThat(LayoutPrinter.lcmeFlagsString(LCME_FL_INIT | LCME_FL_STALE | LCME_FL_PREF_WR))
                .isEqualTo("init,stale,prefwr");
        assertThat(LayoutPrinter.lcmeFlagsString(LCME_FL_INIT | 0x1000)).isEqualTo("init,0x1000");
        assertThat(LayoutPrinter.hsmFlagsString(HS_EXISTS | HS_RELEASED | HS_ARCHIVED | HS_DIRTY))
                .isEqualTo("exists,dirty,released,archived");
        assertThat(LayoutPrinter.patternString(LOV_PATTERN_RAID0 | LOV_PATTERN_OVERSTRIPING))
                .isEqualTo("raid0,overstriped");
        assertThat(LayoutPrinter.patternString(LOV_PATTERN_MDT)).isEqualTo("mdt");
        assertThat(FlrState.WRITE_PENDING.lfsName()).isEqualTo("wp");
    }

    @Test
    void ostFidFollowsOstidToFid() {
        // a normal FID passes through; one with a version is refused (zero FID), as lfs does
        assertThat(LayoutPrinter.ostFid(Fid.of(0x280000400L, 2), 1)).isEqualTo("[0x280000400:0x2:0x0]");
        assertThat(LayoutPrinter.ostFid(new Fid(0x280000400L, 2, 1), 1)).isEqualTo("[0:0x0:0x0]");
        // legacy group-0 id 2 on OST 3 becomes IDIF [0x100030000:0x2:0x0]
        assertThat(LayoutPrinter.ostFid(new Fid(2, 0, 0), 3)).isEqualTo("[0x100030000:0x2:0x0]");
        // an IDIF FID is re-derived for the stripe's OST
        assertThat(LayoutPrinter.ostFid(Fid.of(0x100010000L, 7), 1)).isEqualTo("[0x100010000:0x7:0x0]");
        // OST index above 0xffff: -EBADF, zero FID
        assertThat(LayoutPrinter.ostFid(Fid.of(0x280000400L, 2), 0x10000)).isEqualTo("[0:0x0:0x0]");
    }
}
