package dev.spillway.pool.layout;

import static dev.spillway.pool.layout.LovFormat.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Fid;
import dev.spillway.pool.meta.Checksums;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.LayoutView;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.Span;
import dev.spillway.pool.meta.Stripe;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Golden vectors written byte by byte from the struct definitions of lustre_user.h and
 * lustre_idl.h (offsets as asserted by lustre/ptlrpc/wiretest.c), not produced by the codec:
 * each line is one field, labelled with its offset, and says where its value comes from. All
 * integers are little-endian ({@code cpu_to_le32/64} in {@code lod_generate_lovea}).
 *
 * <p>Struct sizes used: {@code lov_comp_md_v1} 32, {@code lov_comp_md_entry_v1} 48,
 * {@code lov_mds_md_v1} 32, {@code lov_mds_md_v3} 48, {@code lov_ost_data_v1} 24,
 * {@code lov_hsm_md} 72 (16 of {@code lov_foreign_md} + 56 of {@code lov_hsm_base}).
 */
class LayoutCodecGoldenTest {

    static final Fid FILE = Fid.of(0x200000401L, 0x1);

    // ---------------------------------------------------------------------------------------
    // 1. A new pool object: one copy on device 0 (an OSD-like device), as Layout.of() makes it.
    //    32 header + 1 * 48 entry + 56 blob (lov_mds_md_v1 32 + 1 * lov_ost_data_v1 24) = 136.
    // ---------------------------------------------------------------------------------------
    static final String ONE_COPY = """
            # lov_comp_md_v1
            00: d0 0b d6 0b               # lcm_magic = LOV_MAGIC_COMP_V1 0x0BD60BD0
            04: 88 00 00 00               # lcm_size = 136
            08: 01 00 00 00               # lcm_layout_gen = 1 (one component id generated)
            0c: 00 00                     # lcm_flags = LCM_FL_NONE (one mirror: Lustre writes 0)
            0e: 01 00                     # lcm_entry_count = 1
            10: 00 00                     # lcm_mirror_count = 1 mirror - 1 = 0
            12: 00                        # lcm_ec_count
            13: 00                        # lcm_padding3[1]
            14: 00 00 00 00               # lcm_padding1[2]
            18: 00*8                      # lcm_padding2
            # lcm_entries[0]: lov_comp_md_entry_v1 at 32
            20: 01 00 01 00               # lcme_id = pflr_id(1, 1) = 1 << MIRROR_ID_SHIFT(16) | 1 = 0x00010001
            24: 10 00 00 00               # lcme_flags = LCME_FL_INIT 0x10
            28: 00*8                      # lcme_extent.e_start = 0
            30: ff*8                      # lcme_extent.e_end = LUSTRE_EOF
            38: 50 00 00 00               # lcme_offset = 32 + 48 = 80 (first blob right after the table)
            3c: 38 00 00 00               # lcme_size = 56 = lov_mds_md_size(1, LOV_MAGIC_V1)
            40: 00 00 00 00               # lcme_layout_gen = 0
            44: 00*8                      # lcme_time_and_id (timestamp 0, mirror link id 0)
            4c: 00 00 00 00               # lcme_dstripe_count, lcme_cstripe_count, lcme_compr_type, lvl:4|bits:4
            # blob 0: lov_mds_md_v1 at 80
            50: d0 0b d1 0b               # lmm_magic = LOV_MAGIC_V1 0x0BD10BD0
            54: 01 00 00 00               # lmm_pattern = LOV_PATTERN_RAID0
            58: 01 00 00 00 00 00 00 00   # lmm_oi.oi.oi_id = f_oid 1 (fid_to_lmm_oi), f_ver 0 in the high half
            60: 01 04 00 00 02 00 00 00   # lmm_oi.oi.oi_seq = f_seq 0x200000401
            68: 00 00 40 00               # lmm_stripe_size = LOV_DESC_STRIPE_SIZE_DEFAULT 4 MiB = 0x400000
            6c: 01 00                     # lmm_stripe_count = 1
            6e: 00 00                     # lmm_layout_gen = 0
            # lmm_objects[0]: lov_ost_data_v1 at 112
            70: 00 04 00 80 02 00 00 00   # l_ost_oi.oi_fid.f_seq = 0x280000400
            78: 02 00 00 00               # l_ost_oi.oi_fid.f_oid = 2
            7c: 00 00 00 00               # l_ost_oi.oi_fid.f_ver = 0
            80: 00 00 00 00               # l_ost_gen = 0
            84: 00 00 00 00               # l_ost_idx = 0 (device index)
            """;

    static Layout oneCopy() {
        return Layout.of(StripeLayout.ostCopy(FILE, 0, Fid.of(0x280000400L, 2)));
    }

    @Test
    void oneCopyOnAnOsdDevice() throws Exception {
        byte[] golden = HexVector.parse(ONE_COPY);
        assertThat(golden).hasSize(136);
        assertThat(LayoutCodec.encode(oneCopy()))
                .as(HexVector.dump(LayoutCodec.encode(oneCopy())))
                .isEqualTo(golden);
        assertThat(LayoutCodec.decode(golden)).isEqualTo(oneCopy());
    }

    // ---------------------------------------------------------------------------------------
    // 2. A spilled object being resynced: mirror 1 on device 0 (in sync, preferred for reads),
    //    mirror 2 an S3 copy on device 2 (stale), FLR state SYNC_PENDING.
    //    32 + 2 * 48 = 128 table; blob 0 = 56 at 128; blob 1 = 72 at 184; lcm_size 256.
    // ---------------------------------------------------------------------------------------
    static final String TWO_COPIES = """
            00: d0 0b d6 0b               # lcm_magic = LOV_MAGIC_COMP_V1
            04: 00 01 00 00               # lcm_size = 256
            08: 03 00 00 00               # lcm_layout_gen = 3
            0c: 03 00                     # lcm_flags = LCM_FL_SYNC_PENDING 0x3
            0e: 02 00                     # lcm_entry_count = 2
            10: 01 00                     # lcm_mirror_count = 2 mirrors - 1 = 1
            12: 00 00 00 00 00 00         # lcm_ec_count, lcm_padding3, lcm_padding1
            18: 00*8                      # lcm_padding2
            # entry 0 at 32
            20: 01 00 01 00               # lcme_id = pflr_id(1, 1) = 65537
            24: 12 00 00 00               # lcme_flags = LCME_FL_INIT 0x10 | LCME_FL_PREF_RD 0x2
            28: 00*8                      # e_start = 0
            30: ff*8                      # e_end = EOF
            38: 80 00 00 00               # lcme_offset = 128
            3c: 38 00 00 00               # lcme_size = 56
            40: 00*12                     # lcme_layout_gen, lcme_time_and_id
            4c: 00*4                      # EC / compression bytes
            # entry 1 at 80
            50: 03 00 02 00               # lcme_id = pflr_id(2, 3) = 0x00020003 = 131075
            54: 11 00 00 00               # lcme_flags = LCME_FL_INIT 0x10 | LCME_FL_STALE 0x1
            58: 00*8                      # e_start = 0
            60: ff*8                      # e_end = EOF (an HSM component must cover [0, EOF])
            68: b8 00 00 00               # lcme_offset = 128 + 56 = 184
            6c: 48 00 00 00               # lcme_size = 72 = sizeof(struct lov_hsm_md)
            70: 00*12                     # lcme_layout_gen, lcme_time_and_id
            7c: 00*4                      # EC / compression bytes
            # blob 0 at 128: lov_mds_md_v1
            80: d0 0b d1 0b               # lmm_magic = LOV_MAGIC_V1
            84: 01 00 00 00               # lmm_pattern = LOV_PATTERN_RAID0
            88: 01 00 00 00 00 00 00 00   # lmm_oi oi_id = 1
            90: 01 04 00 00 02 00 00 00   # lmm_oi oi_seq = 0x200000401
            98: 00 00 10 00               # lmm_stripe_size = 1 MiB
            9c: 01 00 00 00               # lmm_stripe_count = 1, lmm_layout_gen = 0
            a0: 01 04 00 00 02 00 00 00   # l_ost_oi f_seq = 0x200000401 (the copy keeps the pool FID)
            a8: 01 00 00 00 00 00 00 00   # f_oid = 1, f_ver = 0
            b0: 00 00 00 00 00 00 00 00   # l_ost_gen = 0, l_ost_idx = 0
            # blob 1 at 184: lov_hsm_md
            b8: d0 0b d7 0b               # lhm_magic = LOV_MAGIC_FOREIGN 0x0BD70BD0
            bc: 38 00 00 00               # lhm_length = sizeof(struct lov_hsm_base) = 56
            c0: 04 00 00 00               # lhm_type = LU_FOREIGN_TYPE_S3
            c4: 09 00 00 00               # lhm_flags = HS_EXISTS 0x1 | HS_ARCHIVED 0x8
            c8: 02 00 00 00 00 00 00 00   # lhb_archive_id = 2 (device index)
            d0: 34 12 00 00 00 00 00 00   # lhb_archive_ver = 0x1234 (data version at copy time)
            d8: "0x200000401:0x1:0x0"     # lhb_uuid: the key on the device, 19 bytes
            eb: 00*21                     # ... NUL-padded to UUID_MAX 40
            """;

    static Layout twoCopies() {
        StripeLayout local = new StripeLayout(
                LOV_MAGIC_V1, LOV_PATTERN_RAID0, FILE, 1 << 20, 0, null, List.of(OstStripe.of(0, FILE)));
        HsmForeign s3 = new HsmForeign(HsmType.S3, HS_EXISTS | HS_ARCHIVED, 2, 0x1234, "0x200000401:0x1:0x0");
        return new Layout(
                3,
                FlrState.SYNC_PENDING,
                List.of(
                        Component.wholeFile(0x00010001, LCME_FL_INIT | LCME_FL_PREF_RD, local),
                        Component.wholeFile(0x00020003, LCME_FL_INIT | LCME_FL_STALE, s3)));
    }

    @Test
    void localCopyAndStaleS3Copy() throws Exception {
        byte[] golden = HexVector.parse(TWO_COPIES);
        assertThat(golden).hasSize(256);
        assertThat(LayoutCodec.encode(twoCopies())).isEqualTo(golden);
        Layout decoded = LayoutCodec.decode(golden);
        assertThat(decoded).isEqualTo(twoCopies());
        assertThat(decoded.mirrorCount()).isEqualTo(2);
        assertThat(decoded.mirror(2).orElseThrow().isStale()).isTrue();
        assertThat(decoded.readMirror().orElseThrow().mirrorId()).isEqualTo(1);
    }

    // ---------------------------------------------------------------------------------------
    // 3. The layout of liblustreapi.c's own "getstripe -v" example (comment above
    //    lov_dump_comp_v1): a 2-component PFL file, lcm_size 264, blobs at 128 (56 bytes) and
    //    184 (80 bytes). Its OST objects are IDIF FIDs, which fid_to_ostid() stores in the legacy
    //    form: oi_id = fid_idif_id() = (f_seq & 0xffff) << 32 | f_oid, oi_seq = 0.
    // ---------------------------------------------------------------------------------------
    static final String LFS_PFL_EXAMPLE = """
            00: d0 0b d6 0b               # lcm_magic
            04: 08 01 00 00               # lcm_size = 264, as lfs prints
            08: 02 00 00 00               # lcm_layout_gen = 2
            0c: 00 00 02 00 00 00         # lcm_flags = 0, lcm_entry_count = 2, lcm_mirror_count = 0
            12: 00*14                     # lcm_ec_count and padding
            20: 01 00 00 00               # lcme_id = 1 (mirror 0: not an FLR file)
            24: 10 00 00 00               # lcme_flags = 0x10 (init)
            28: 00*8                      # e_start = 0
            30: 00 00 10 00 00 00 00 00   # e_end = 1048576
            38: 80 00 00 00 38 00 00 00   # lcme_offset = 128, lcme_size = 56
            40: 00*16                     # lcme_layout_gen, lcme_time_and_id, EC bytes
            50: 02 00 00 00               # lcme_id = 2
            54: 10 00 00 00               # lcme_flags = 0x10
            58: 00 00 10 00 00 00 00 00   # e_start = 1048576
            60: ff*8                      # e_end = EOF
            68: b8 00 00 00 50 00 00 00   # lcme_offset = 184, lcme_size = 80 = 32 + 2 * 24
            70: 00*16
            # blob 0 at 128
            80: d0 0b d1 0b 01 00 00 00   # LOV_MAGIC_V1, RAID0
            88: 01 00 00 00 00 00 00 00   # lmm_oi oi_id = 1
            90: 01 04 00 00 02 00 00 00   # lmm_oi oi_seq = 0x200000401 -> lmm_fid [0x200000401:0x1:0x0]
            98: 00 00 10 00 01 00 00 00   # lmm_stripe_size = 1048576, count 1, layout_gen 0
            a0: 02 00 00 00 00 00 00 00   # l_ost_oi oi_id = 2 ([0x100000000:0x2:0x0] on OST 0)
            a8: 00*8                      # l_ost_oi oi_seq = 0 (FID_SEQ_OST_MDT0: legacy form)
            b0: 00 00 00 00 00 00 00 00   # l_ost_gen = 0, l_ost_idx = 0
            # blob 1 at 184
            b8: d0 0b d1 0b 01 00 00 00   # LOV_MAGIC_V1, RAID0
            c0: 01 00 00 00 00 00 00 00   # oi_id = 1
            c8: 01 04 00 00 02 00 00 00   # oi_seq = 0x200000401
            d0: 00 00 10 00 02 00 00 00   # stripe size 1048576, count 2, layout_gen 0
            d8: 02 00 00 00 00 00 00 00   # objects[0] oi_id = 2 ([0x100010000:0x2:0x0] on OST 1)
            e0: 00*8                      # oi_seq = 0
            e8: 00 00 00 00 01 00 00 00   # l_ost_gen 0, l_ost_idx = 1
            f0: 03 00 00 00 00 00 00 00   # objects[1] oi_id = 3 ([0x100000000:0x3:0x0] on OST 0)
            f8: 00*8                      # oi_seq = 0
            100: 00 00 00 00 00 00 00 00  # l_ost_gen 0, l_ost_idx = 0
            """;

    static Layout lfsPflExample() {
        StripeLayout first = new StripeLayout(
                LOV_MAGIC_V1,
                LOV_PATTERN_RAID0,
                FILE,
                1 << 20,
                0,
                null,
                List.of(new OstStripe(new Fid(2, 0, 0), 0, 0)));
        StripeLayout second = new StripeLayout(
                LOV_MAGIC_V1,
                LOV_PATTERN_RAID0,
                FILE,
                1 << 20,
                0,
                null,
                List.of(new OstStripe(new Fid(2, 0, 0), 0, 1), new OstStripe(new Fid(3, 0, 0), 0, 0)));
        return new Layout(
                2,
                FlrState.NONE,
                List.of(
                        new Component(1, LCME_FL_INIT, 0, 1 << 20, 0, 0, 0, first),
                        new Component(2, LCME_FL_INIT, 1 << 20, LUSTRE_EOF, 0, 0, 0, second)));
    }

    @Test
    void theLayoutOfLfsDocumentedExample() throws Exception {
        byte[] golden = HexVector.parse(LFS_PFL_EXAMPLE);
        assertThat(golden).hasSize(264);
        assertThat(LayoutCodec.encode(lfsPflExample())).isEqualTo(golden);
        assertThat(LayoutCodec.decode(golden)).isEqualTo(lfsPflExample());
        assertThat(LayoutCodec.blobOffsets(lfsPflExample())).containsExactly(128, 184);
    }

    // ---------------------------------------------------------------------------------------
    // 4. A v3 sub-layout (with an OST pool name, as in the Lustre manual's FLR examples):
    //    lov_mds_md_v3 = v1's 32 bytes + lmm_pool_name[LOV_MAXPOOLNAME + 1] = 48, then objects.
    // ---------------------------------------------------------------------------------------
    static final String V3_POOL = """
            00: d0 0b d6 0b 98 00 00 00   # LOV_MAGIC_COMP_V1, lcm_size = 32 + 48 + 72 = 152
            08: 07 00 00 00               # lcm_layout_gen = 7
            0c: 00 00 01 00 00 00         # lcm_flags 0, 1 entry, lcm_mirror_count 0
            12: 00*14
            20: 05 00 01 00               # lcme_id = pflr_id(1, 5)
            24: 10 00 00 00               # LCME_FL_INIT
            28: 00*8 ff*8                 # [0, EOF)
            38: 50 00 00 00 48 00 00 00   # lcme_offset 80, lcme_size 72 = 48 + 24
            40: 00*16
            50: d0 0b d3 0b 01 00 00 00   # LOV_MAGIC_V3 0x0BD30BD0, RAID0
            58: 01 00 00 00 00 00 00 00   # oi_id = 1
            60: 01 04 00 00 02 00 00 00   # oi_seq
            68: 00 00 40 00 01 00 00 00   # 4 MiB, 1 stripe, lmm_layout_gen 0
            70: "flash" 00*11             # lmm_pool_name, NUL-padded to 16
            80: 00 04 00 80 02 00 00 00   # f_seq 0x280000400
            88: 09 00 00 00 00 00 00 00   # f_oid 9, f_ver 0
            90: 00 00 00 00 03 00 00 00   # l_ost_gen 0, l_ost_idx 3
            """;

    @Test
    void v3SubLayoutWithPoolName() throws Exception {
        Layout l = new Layout(
                7,
                FlrState.NONE,
                List.of(Component.wholeFile(
                        LovFormat.pflrId(1, 5),
                        LCME_FL_INIT,
                        new StripeLayout(
                                LOV_MAGIC_V3,
                                LOV_PATTERN_RAID0,
                                FILE,
                                4 << 20,
                                0,
                                "flash",
                                List.of(OstStripe.of(3, Fid.of(0x280000400L, 9)))))));
        byte[] golden = HexVector.parse(V3_POOL);
        assertThat(golden).hasSize(152);
        assertThat(LayoutCodec.encode(l)).isEqualTo(golden);
        assertThat(LayoutCodec.decode(golden)).isEqualTo(l);
    }

    // ---------------------------------------------------------------------------------------
    // 5. A striped background copy (issue 20): mirror 1 the resident body on device 0 (preferred),
    //    mirror 2 a RAID0 copy striped over devices 2..5, 1 MiB stripes, one lov_ost_data_v1 per
    //    stripe object (l_ost_idx = device, l_ost_oi = the stripe's key), FLR state RDONLY.
    //    32 + 2 * 48 = 128 table; blob 0 = 56 at 128; blob 1 = lov_mds_md_size(4, V1) = 32 + 4 * 24
    //    = 128 at 184; lcm_size 312.
    // ---------------------------------------------------------------------------------------
    static final String STRIPED_COPY = """
            00: d0 0b d6 0b               # lcm_magic = LOV_MAGIC_COMP_V1
            04: 38 01 00 00               # lcm_size = 312
            08: 05 00 00 00               # lcm_layout_gen = 5
            0c: 01 00                     # lcm_flags = LCM_FL_RDONLY 0x1 (two mirrors, both in sync)
            0e: 02 00                     # lcm_entry_count = 2
            10: 01 00                     # lcm_mirror_count = 2 mirrors - 1 = 1
            12: 00*14                     # lcm_ec_count and padding
            # entry 0 at 32: the resident body
            20: 01 00 01 00               # lcme_id = pflr_id(1, 1)
            24: 12 00 00 00               # lcme_flags = LCME_FL_INIT | LCME_FL_PREF_RD
            28: 00*8 ff*8                 # [0, EOF)
            38: 80 00 00 00 38 00 00 00   # lcme_offset = 128, lcme_size = 56
            40: 00*16                     # lcme_layout_gen, lcme_time_and_id, EC bytes
            # entry 1 at 80: the striped copy
            50: 01 00 02 00               # lcme_id = pflr_id(2, 1) = 0x00020001
            54: 10 00 00 00               # lcme_flags = LCME_FL_INIT
            58: 00*8 ff*8                 # [0, EOF): the whole body, striped
            68: b8 00 00 00               # lcme_offset = 128 + 56 = 184
            6c: 80 00 00 00               # lcme_size = 128 = 32 + 4 * 24
            70: 00*16
            # blob 0 at 128: lov_mds_md_v1, one stripe on device 0
            80: d0 0b d1 0b 01 00 00 00   # LOV_MAGIC_V1, LOV_PATTERN_RAID0
            88: 01 00 00 00 00 00 00 00   # lmm_oi oi_id = 1
            90: 01 04 00 00 02 00 00 00   # lmm_oi oi_seq = 0x200000401
            98: 00 00 40 00 01 00 00 00   # 4 MiB, lmm_stripe_count 1, lmm_layout_gen 0
            a0: 01 04 00 00 02 00 00 00   # l_ost_oi f_seq = 0x200000401 (the object's own FID)
            a8: 01 00 00 00 00 00 00 00   # f_oid 1, f_ver 0
            b0: 00*8                      # l_ost_gen 0, l_ost_idx 0
            # blob 1 at 184: lov_mds_md_v1 with 4 stripes
            b8: d0 0b d1 0b               # lmm_magic = LOV_MAGIC_V1
            bc: 01 00 00 00               # lmm_pattern = LOV_PATTERN_RAID0
            c0: 01 00 00 00 00 00 00 00   # lmm_oi oi_id = 1
            c8: 01 04 00 00 02 00 00 00   # lmm_oi oi_seq = 0x200000401
            d0: 00 00 10 00               # lmm_stripe_size = 1 MiB (the tier's stripe-size)
            d4: 04 00                     # lmm_stripe_count = 4
            d6: 00 00                     # lmm_layout_gen = 0
            # lmm_objects[0..3]: lov_ost_data_v1, 24 bytes each, from 184 + 32 = 216
            d8: 00 00 00 c0 02 00 00 00   # [0] f_seq = 0x2c0000000 (PoolFids.copy)
            e0: 10 00 00 00 00 00 00 00   #     f_oid = 0x10, f_ver = 0
            e8: 00 00 00 00 02 00 00 00   #     l_ost_gen 0, l_ost_idx = 2
            f0: 00 00 00 c0 02 00 00 00   # [1] f_seq
            f8: 11 00 00 00 00 00 00 00   #     f_oid = 0x11
            100: 00 00 00 00 03 00 00 00  #     l_ost_idx = 3
            108: 00 00 00 c0 02 00 00 00  # [2] f_seq
            110: 12 00 00 00 00 00 00 00  #     f_oid = 0x12
            118: 00 00 00 00 04 00 00 00  #     l_ost_idx = 4
            120: 00 00 00 c0 02 00 00 00  # [3] f_seq
            128: 13 00 00 00 00 00 00 00  #     f_oid = 0x13
            130: 00 00 00 00 05 00 00 00  #     l_ost_idx = 5
            """;

    static Layout stripedCopy() {
        List<OstStripe> stripes = List.of(
                OstStripe.of(2, Fid.of(0x2c0000000L, 0x10)),
                OstStripe.of(3, Fid.of(0x2c0000000L, 0x11)),
                OstStripe.of(4, Fid.of(0x2c0000000L, 0x12)),
                OstStripe.of(5, Fid.of(0x2c0000000L, 0x13)));
        return new Layout(
                5,
                FlrState.RDONLY,
                List.of(
                        Component.wholeFile(
                                pflrId(1, 1), LCME_FL_INIT | LCME_FL_PREF_RD, StripeLayout.ostCopy(FILE, 0, FILE)),
                        Component.wholeFile(pflrId(2, 1), LCME_FL_INIT, StripeLayout.striped(FILE, 1 << 20, stripes))));
    }

    @Test
    void stripedCopyIsAPlainRaid0ComponentWithOneOstDataPerStripe() throws Exception {
        byte[] golden = HexVector.parse(STRIPED_COPY);
        assertThat(golden).hasSize(312);
        assertThat(LayoutCodec.encode(stripedCopy()))
                .as(HexVector.dump(LayoutCodec.encode(stripedCopy())))
                .isEqualTo(golden);
        assertThat(LayoutCodec.decode(golden)).isEqualTo(stripedCopy());

        // Read back with nothing but Lustre's struct sizes and offsets (lov_comp_md_v1 32,
        // lov_comp_md_entry_v1 48, lov_user_md_v1 32, lov_user_ost_data_v1 24), as an MDT would.
        ByteBuffer b = ByteBuffer.wrap(golden).order(ByteOrder.LITTLE_ENDIAN);
        int entry1 = LOV_COMP_MD_V1_SIZE + LOV_COMP_MD_ENTRY_V1_SIZE;
        int lcmeOffset = b.getInt(entry1 + 24);
        int lcmeSize = b.getInt(entry1 + 28);
        assertThat(b.getInt(lcmeOffset)).isEqualTo(LOV_MAGIC_V1); // lmm_magic
        assertThat(b.getInt(lcmeOffset + 4)).isEqualTo(LOV_PATTERN_RAID0); // lmm_pattern
        assertThat(b.getInt(lcmeOffset + 24)).isEqualTo(1 << 20); // lmm_stripe_size
        int count = Short.toUnsignedInt(b.getShort(lcmeOffset + 28)); // lmm_stripe_count
        assertThat(count).isEqualTo(4);
        assertThat(lcmeSize).isEqualTo(LOV_MDS_MD_V1_SIZE + count * LOV_OST_DATA_V1_SIZE);
        for (int i = 0; i < count; i++) {
            int o = lcmeOffset + LOV_MDS_MD_V1_SIZE + i * LOV_OST_DATA_V1_SIZE;
            assertThat(b.getLong(o)).as("stripe %d f_seq", i).isEqualTo(0x2c0000000L);
            assertThat(b.getInt(o + 8)).as("stripe %d f_oid", i).isEqualTo(0x10 + i);
            assertThat(b.getInt(o + 20)).as("stripe %d l_ost_idx", i).isEqualTo(2 + i);
        }
        assertThat(lcmeOffset + lcmeSize).isEqualTo(b.getInt(4)); // the last blob ends at lcm_size
    }

    // ---------------------------------------------------------------------------------------
    // 6. An object whose S3 copy was on a device that failed, as the pool writes it: mirror 1 on
    //    device 0 (in sync, preferred), mirror 2 on device 2 lost — HSM flags EXISTS | ARCHIVED |
    //    LOST (lustre_user.h enum hsm_states: HS_LOST 0x40, "file lost on the HSM backend"), the
    //    component LCME_FL_STALE, FLR state WRITE_PENDING (a mirror is not in sync). The bytes are
    //    vector 2's with the fields below changed; 256 bytes.
    //    The local copy's stripe size is the default 4 MiB (StripeLayout.ostCopy).
    // ---------------------------------------------------------------------------------------
    static final String LOST_COPY = """
            00: d0 0b d6 0b               # lcm_magic = LOV_MAGIC_COMP_V1
            04: 00 01 00 00               # lcm_size = 256
            08: 04 00 00 00               # lcm_layout_gen = 4 (bumped by the lost-marking pass)
            0c: 02 00                     # lcm_flags = LCM_FL_WRITE_PENDING 0x2
            0e: 02 00                     # lcm_entry_count = 2
            10: 01 00                     # lcm_mirror_count = 2 mirrors - 1 = 1
            12: 00 00 00 00 00 00         # lcm_ec_count, lcm_padding3, lcm_padding1
            18: 00*8                      # lcm_padding2
            # entry 0 at 32
            20: 01 00 01 00               # lcme_id = pflr_id(1, 1) = 65537
            24: 12 00 00 00               # lcme_flags = LCME_FL_INIT 0x10 | LCME_FL_PREF_RD 0x2
            28: 00*8                      # e_start = 0
            30: ff*8                      # e_end = EOF
            38: 80 00 00 00               # lcme_offset = 128
            3c: 38 00 00 00               # lcme_size = 56
            40: 00*12                     # lcme_layout_gen, lcme_time_and_id
            4c: 00*4                      # EC / compression bytes
            # entry 1 at 80
            50: 01 00 02 00               # lcme_id = pflr_id(2, 1) = 0x00020001
            54: 11 00 00 00               # lcme_flags = LCME_FL_INIT 0x10 | LCME_FL_STALE 0x1
            58: 00*8                      # e_start = 0
            60: ff*8                      # e_end = EOF
            68: b8 00 00 00               # lcme_offset = 184
            6c: 48 00 00 00               # lcme_size = 72 = sizeof(struct lov_hsm_md)
            70: 00*12                     # lcme_layout_gen, lcme_time_and_id
            7c: 00*4                      # EC / compression bytes
            # blob 0 at 128: lov_mds_md_v1, the copy on device 0
            80: d0 0b d1 0b               # lmm_magic = LOV_MAGIC_V1
            84: 01 00 00 00               # lmm_pattern = LOV_PATTERN_RAID0
            88: 01 00 00 00 00 00 00 00   # lmm_oi oi_id = 1
            90: 01 04 00 00 02 00 00 00   # lmm_oi oi_seq = 0x200000401
            98: 00 00 40 00               # lmm_stripe_size = 4 MiB (LOV_DESC_STRIPE_SIZE_DEFAULT, as the pool writes it)
            9c: 01 00 00 00               # lmm_stripe_count = 1, lmm_layout_gen = 0
            a0: 01 04 00 00 02 00 00 00   # l_ost_oi f_seq = 0x200000401
            a8: 01 00 00 00 00 00 00 00   # f_oid = 1, f_ver = 0
            b0: 00 00 00 00 00 00 00 00   # l_ost_gen = 0, l_ost_idx = 0
            # blob 1 at 184: lov_hsm_md, the lost copy
            b8: d0 0b d7 0b               # lhm_magic = LOV_MAGIC_FOREIGN
            bc: 38 00 00 00               # lhm_length = 56
            c0: 04 00 00 00               # lhm_type = LU_FOREIGN_TYPE_S3
            c4: 49 00 00 00               # lhm_flags = HS_EXISTS 0x1 | HS_ARCHIVED 0x8 | HS_LOST 0x40
            c8: 02 00 00 00 00 00 00 00   # lhb_archive_id = 2 (device index)
            d0: 34 12 00 00 00 00 00 00   # lhb_archive_ver = 0x1234
            d8: "0x200000401:0x1:0x0"     # lhb_uuid: the key on the device
            eb: 00*21                     # NUL-padded to UUID_MAX 40
            """;

    @Test
    void aCopyOnAFailedDeviceIsAStaleHsmComponentMarkedLost() throws Exception {
        byte[] golden = HexVector.parse(LOST_COPY);
        assertThat(golden).hasSize(256);
        PoolObject p = new PoolObject(
                100,
                0x1234,
                4,
                0,
                List.of(
                        new Copy(1, 0, FILE, CopyState.IN_SYNC, 0x1234, 100, true, Checksums.NONE),
                        new Copy(2, 2, FILE, CopyState.LOST, 0x1234, 100, false, Checksums.NONE)));
        Layout l = LayoutView.layout(FILE, p, 0, d -> HsmType.S3);
        assertThat(LayoutCodec.encode(l)).isEqualTo(golden);
        Layout decoded = LayoutCodec.decode(golden);
        assertThat(decoded).isEqualTo(l);
        Component lost = decoded.mirror(2).orElseThrow().components().get(0);
        assertThat(lost.isStale()).isTrue();
        assertThat(((HsmForeign) lost.subLayout()).hsmFlags()).isEqualTo(HS_EXISTS | HS_ARCHIVED | HS_LOST);
        assertThat(decoded.flrState()).isEqualTo(FlrState.WRITE_PENDING);
        assertThat(decoded.readMirror().orElseThrow().mirrorId()).isEqualTo(1);
        assertThat(LayoutPrinter.getstripe(decoded))
                .contains("lcme_flags:          init,stale")
                .contains("lhm_flags:         exists,archived,lost");
    }

    // ---------------------------------------------------------------------------------------
    // 7. A split body with a striped copy of a range (issue 20): 320 KiB, the metadata device
    //    (mirror 1) holds [0, 128K) and the range [128K, EOF) is a copy striped over devices 2 and 3
    //    in 64 KiB units (mirror 2). Each mirror covers [0, EOF) in PFL components split at 128K,
    //    the part it does not hold LCME_FL_STALE; mirror 2's components are each a plain
    //    lov_user_md_v1 with lmm_stripe_count 2 and one lov_user_ost_data_v1 per stripe.
    //    Read back below with nothing but lustre_user.h's struct sizes and offsets.
    // ---------------------------------------------------------------------------------------
    @Test
    void aStripedCopyOfARangeIsAPflComponentWithItsExtentAndOneOstDataPerStripe() throws Exception {
        long k64 = 64 * 1024;
        Fid s0 = Fid.of(0x2c0000000L, 0x20);
        Fid s1 = Fid.of(0x2c0000000L, 0x21);
        PoolObject p = new PoolObject(
                5 * k64,
                7,
                3,
                0,
                List.of(
                        new Copy(1, 0, FILE, CopyState.IN_SYNC, 7, 5 * k64, true, Checksums.NONE)
                                .withSpans(List.of(new Span(0, 2 * k64))),
                        Copy.stripedRange(
                                2,
                                CopyState.IN_SYNC,
                                7,
                                (int) k64,
                                List.of(
                                        new Stripe(2, s0, 2 * k64, Checksums.NONE),
                                        new Stripe(3, s1, k64, Checksums.NONE)),
                                new Span(2 * k64, Span.EOF))));
        Layout l = LayoutView.layout(FILE, p, 0, d -> HsmType.POSIX);
        byte[] bytes = LayoutCodec.encode(l);
        assertThat(LayoutCodec.decode(bytes)).isEqualTo(l);

        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(b.getInt(0)).as("lcm_magic").isEqualTo(LOV_MAGIC_COMP_V1);
        assertThat(b.getInt(4)).as("lcm_size").isEqualTo(bytes.length);
        assertThat(Short.toUnsignedInt(b.getShort(14))).as("lcm_entry_count").isEqualTo(4);
        assertThat(Short.toUnsignedInt(b.getShort(16)))
                .as("lcm_mirror_count (mirrors - 1)")
                .isEqualTo(1);
        // {mirror, e_start, e_end, stale, stripe count}
        long[][] want = {
            {1, 0, 2 * k64, 0, 1}, {1, 2 * k64, LUSTRE_EOF, 1, 1}, {2, 0, 2 * k64, 1, 2}, {2, 2 * k64, LUSTRE_EOF, 0, 2}
        };
        int blobEnd = 0;
        for (int i = 0; i < want.length; i++) {
            int e = LOV_COMP_MD_V1_SIZE + i * LOV_COMP_MD_ENTRY_V1_SIZE;
            assertThat(mirrorIdOf(b.getInt(e)))
                    .as("entry %d lcme_id's mirror", i)
                    .isEqualTo((int) want[i][0]);
            int flags = b.getInt(e + 4);
            assertThat(flags & LCME_FL_INIT).isEqualTo(LCME_FL_INIT);
            assertThat(flags & LCME_FL_STALE).as("entry %d stale", i).isEqualTo(want[i][3] == 1 ? LCME_FL_STALE : 0);
            assertThat(b.getLong(e + 8)).as("entry %d lcme_extent.e_start", i).isEqualTo(want[i][1]);
            assertThat(b.getLong(e + 16)).as("entry %d lcme_extent.e_end", i).isEqualTo(want[i][2]);
            int off = b.getInt(e + 24);
            int size = b.getInt(e + 28);
            int count = (int) want[i][4];
            assertThat(b.getInt(off)).as("lmm_magic").isEqualTo(LOV_MAGIC_V1);
            assertThat(b.getInt(off + 4)).as("lmm_pattern").isEqualTo(LOV_PATTERN_RAID0);
            assertThat(Short.toUnsignedInt(b.getShort(off + 28)))
                    .as("entry %d lmm_stripe_count", i)
                    .isEqualTo(count);
            assertThat(size).isEqualTo(LOV_MDS_MD_V1_SIZE + count * LOV_OST_DATA_V1_SIZE);
            if (count == 2) {
                assertThat(b.getInt(off + 24)).as("lmm_stripe_size").isEqualTo((int) k64);
                Fid[] keys = {s0, s1};
                for (int k = 0; k < 2; k++) {
                    int o = off + LOV_MDS_MD_V1_SIZE + k * LOV_OST_DATA_V1_SIZE;
                    assertThat(b.getLong(o)).as("stripe %d f_seq", k).isEqualTo(keys[k].seq());
                    assertThat(b.getInt(o + 8)).as("stripe %d f_oid", k).isEqualTo((int) keys[k].oid());
                    assertThat(b.getInt(o + 20)).as("stripe %d l_ost_idx", k).isEqualTo(2 + k);
                }
            } else {
                assertThat(b.getInt(off + LOV_MDS_MD_V1_SIZE + 20))
                        .as("l_ost_idx")
                        .isEqualTo(0);
            }
            blobEnd = Math.max(blobEnd, off + size);
        }
        assertThat(blobEnd).as("the last blob ends at lcm_size").isEqualTo(bytes.length);
        assertThat(LayoutPrinter.getstripe(LayoutCodec.decode(bytes)))
                .contains("lcme_extent.e_start: 131072")
                .contains("lmm_stripe_count:  2");
    }

    @Test
    void structSizesMatchWiretest() {
        assertThat(LOV_COMP_MD_V1_SIZE).isEqualTo(32);
        assertThat(LOV_COMP_MD_ENTRY_V1_SIZE).isEqualTo(48);
        assertThat(LOV_MDS_MD_V1_SIZE + LOV_OST_DATA_V1_SIZE).isEqualTo(56);
        assertThat(LOV_FOREIGN_MD_SIZE + LOV_HSM_BASE_SIZE)
                .isEqualTo(LOV_HSM_MD_SIZE)
                .isEqualTo(72);
        assertThat(8 + 8 + UUID_MAX).isEqualTo(LOV_HSM_BASE_SIZE);
        // every blob size is a multiple of 8, so blobs stay 8-byte aligned back to back
        assertThat(List.of(
                        LOV_MDS_MD_V1_SIZE,
                        LOV_MDS_MD_V3_SIZE,
                        LOV_OST_DATA_V1_SIZE,
                        LOV_HSM_MD_SIZE,
                        LOV_COMP_MD_V1_SIZE,
                        LOV_COMP_MD_ENTRY_V1_SIZE))
                .allMatch(n -> n % 8 == 0);
        assertThat(pflrId(2, 3)).isEqualTo(131075);
        assertThat(mirrorIdOf(131074)).isEqualTo(2); // "lcme_id: 131074 / lcme_mirror_id: 2" in lfs output
        assertThat(mirrorIdOf(65537)).isEqualTo(1);
    }
}
