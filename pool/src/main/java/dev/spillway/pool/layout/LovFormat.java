package dev.spillway.pool.layout;

/**
 * The numbers of Lustre's layout xattr ({@code trusted.lov}), each taken from the Lustre
 * headers and named as there, so that a layout written by {@link LayoutCodec} reads the same in
 * {@code lfs getstripe} and in a hex dump as one written by an MDT.
 *
 * <p>Sources (lustre-release, master at v2_17_57-62, where the uapi headers moved from
 * {@code lustre/include/uapi/linux/lustre/} to {@code include/uapi/linux/lustre/}):
 * <ul>
 *   <li>{@code lustre_user.h}: {@code lov_comp_md_v1}, {@code lov_comp_md_entry_v1},
 *       {@code lov_user_md_v1/v3}, {@code lov_user_ost_data_v1}, {@code lov_foreign_md},
 *       {@code lov_hsm_base}, {@code lov_hsm_md}, {@code enum lov_comp_md_entry_flags},
 *       {@code enum lov_comp_md_flags}, {@code enum lustre_foreign_types},
 *       {@code enum hsm_states}, {@code MIRROR_ID_*}, {@code SEQ_ID_*};</li>
 *   <li>{@code lustre_idl.h}: {@code LOV_MAGIC_*}, {@code lov_mds_md_v1/v3},
 *       {@code lov_ost_data_v1} (the on-disk twins of the {@code lov_user_*} structs: same
 *       layout, little-endian);</li>
 *   <li>{@code lustre/ptlrpc/wiretest.c}: the sizes and offsets asserted at build time.</li>
 * </ul>
 * Every struct is {@code __attribute__((packed))} and little-endian on disk.
 *
 * <p>Differences between Lustre versions that matter here:
 * <ul>
 *   <li>2.10 (PFL only): {@code LCME_FL_PRIMARY=0x1, STALE=0x2, OFFLINE=0x4, PREFERRED=0x8};
 *       2.11 (FLR) renumbered them to the values below. A 2.10 PFL layout has no
 *       {@code lcm_mirror_count} (it was padding, so reads as 0 = one mirror).</li>
 *   <li>2.11: {@code lcm_mirror_count}, {@code LCM_FL_*} with {@code LCM_FL_FLR_MASK=0x3}.</li>
 *   <li>2.12: {@code lcme_layout_gen} and {@code lcme_timestamp} replace entry padding;
 *       {@code LCME_FL_NOSYNC}.</li>
 *   <li>2.13: {@code LCME_FL_EXTENSION} (self-extending layouts, magic {@code LOV_MAGIC_SEL});
 *       foreign type 0xda05 was {@code LU_FOREIGN_TYPE_DAOS}, renamed {@code SYMLINK} in 2.15.</li>
 *   <li>2.15: {@code LCM_FL_PCC_RDONLY=0x8}, {@code LCM_FL_FLR_MASK=0xB}.</li>
 *   <li>2.16: {@code lov_hsm_md}, foreign types POSIX/PCCRW/PCCRO/S3, {@code HS_PCCRW/PCCRO};
 *       EC and compression: {@code lcm_ec_count} (was padding), {@code lcme_dstripe_count},
 *       {@code lcme_cstripe_count}, {@code lcme_compr_*} (were {@code lcme_padding_1}),
 *       {@code LCME_FL_PARITY/COMPRESS/PARTIAL/NOCOMPR}.</li>
 *   <li>2.17.5x (master): {@code lcme_timestamp} became {@code lcme_time_and_id} (48-bit
 *       timestamp + 16-bit {@code lcme_mirror_link_id}); {@code LCME_FL_IS_LINK_ID}.</li>
 * </ul>
 * Every one of these changes reused zeroed padding, so a layout that leaves the newer fields
 * at zero has the same bytes in every version since 2.12.
 */
public final class LovFormat {
    private LovFormat() {}

    /** The xattr Lustre keeps the layout in ({@code XATTR_NAME_LOV}, lustre_idl.h). */
    public static final String XATTR_NAME_LOV = "trusted.lov";

    /** Linux's largest xattr value ({@code XATTR_SIZE_MAX}); the decoder refuses more. */
    public static final int XATTR_SIZE_MAX = 65536;

    // ---- magics: lustre_idl.h LOV_MAGIC_* = lustre_user.h LOV_USER_MAGIC_* (same values) ----

    /** Every LOV magic ends in these 16 bits ({@code LOV_MAGIC_MAGIC}, {@code LOV_MAGIC_MASK}). */
    public static final int LOV_MAGIC_MAGIC = 0x0BD0;

    public static final int LOV_MAGIC_MASK = 0xFFFF;
    public static final int LOV_MAGIC_BAD = 0x0BAD0BD0;
    public static final int LOV_MAGIC_V1 = 0x0BD10BD0;
    public static final int LOV_MAGIC_JOIN_V1 = 0x0BD20BD0;
    public static final int LOV_MAGIC_V3 = 0x0BD30BD0;
    public static final int LOV_MAGIC_MIGRATE = 0x0BD40BD0;
    public static final int LOV_MAGIC_SPECIFIC = 0x0BD50BD0;
    public static final int LOV_MAGIC_COMP_V1 = 0x0BD60BD0;
    public static final int LOV_MAGIC_FOREIGN = 0x0BD70BD0;
    public static final int LOV_MAGIC_SEL = 0x0BD80BD0;

    // ---- struct sizes (wiretest.c) ----

    /** {@code sizeof(struct lov_comp_md_v1)}. */
    public static final int LOV_COMP_MD_V1_SIZE = 32;
    /** {@code sizeof(struct lov_comp_md_entry_v1)}. */
    public static final int LOV_COMP_MD_ENTRY_V1_SIZE = 48;
    /** {@code sizeof(struct lov_mds_md_v1)} = {@code sizeof(struct lov_user_md_v1)}. */
    public static final int LOV_MDS_MD_V1_SIZE = 32;
    /** {@code sizeof(struct lov_mds_md_v3)}: v1 plus the 16-byte pool name. */
    public static final int LOV_MDS_MD_V3_SIZE = 48;
    /** {@code sizeof(struct lov_ost_data_v1)} = {@code sizeof(struct lov_user_ost_data_v1)}. */
    public static final int LOV_OST_DATA_V1_SIZE = 24;
    /** {@code offsetof(struct lov_foreign_md, lfm_value)}. */
    public static final int LOV_FOREIGN_MD_SIZE = 16;
    /** {@code sizeof(struct lov_hsm_base)}: the only {@code lfm_length} an HSM component may have. */
    public static final int LOV_HSM_BASE_SIZE = 56;
    /** {@code sizeof(struct lov_hsm_md)}. */
    public static final int LOV_HSM_MD_SIZE = 72;
    /** {@code UUID_MAX}: bytes of {@code lhb_uuid}, the HSM identifier (not NUL-terminated when full). */
    public static final int UUID_MAX = 40;
    /** {@code LOV_MAXPOOLNAME}: a pool name holds at most 15 bytes plus its NUL. */
    public static final int LOV_MAXPOOLNAME = 15;

    // ---- lov_pattern (lustre_user.h enum lov_pattern) ----

    public static final int LOV_PATTERN_NONE = 0x000;
    public static final int LOV_PATTERN_RAID0 = 0x001;
    public static final int LOV_PATTERN_RAID1 = 0x002;
    public static final int LOV_PATTERN_PARITY = 0x004;
    public static final int LOV_PATTERN_MDT = 0x100;
    public static final int LOV_PATTERN_OVERSTRIPING = 0x200;
    public static final int LOV_PATTERN_FOREIGN = 0x400;
    public static final int LOV_PATTERN_COMPRESS = 0x800;
    public static final int LOV_PATTERN_F_HOLE = 0x40000000;
    public static final int LOV_PATTERN_F_RELEASED = 0x80000000;

    /** {@code LOV_MIN_STRIPE_SIZE}: stripe sizes and extent boundaries are multiples of 64 KiB. */
    public static final int LOV_MIN_STRIPE_SIZE = 1 << 16;
    /** {@code LOV_MAX_STRIPE_COUNT}: the most stripes a component may have. */
    public static final int LOV_MAX_STRIPE_COUNT = 2000;
    /**
     * {@code LOV_DESC_STRIPE_SIZE_DEFAULT} (lustre_idl.h): {@code 4 << LNET_MTU_BITS} = 4 MiB since
     * 2.16 (1 MiB before). Spillway's one-stripe components use it; with one stripe it has no
     * effect on placement.
     */
    public static final int LOV_DESC_STRIPE_SIZE_DEFAULT = 4 << 20;

    /** {@code LUSTRE_EOF}: the end of an extent that runs to the end of the file. */
    public static final long LUSTRE_EOF = 0xFFFFFFFFFFFFFFFFL;

    // ---- lcme_flags (lustre_user.h enum lov_comp_md_entry_flags) ----

    /** FLR: the component's data is stale. */
    public static final int LCME_FL_STALE = 0x00000001;
    /** FLR: preferred for reading. */
    public static final int LCME_FL_PREF_RD = 0x00000002;
    /** FLR: preferred for writing. */
    public static final int LCME_FL_PREF_WR = 0x00000004;

    public static final int LCME_FL_PREF_RW = LCME_FL_PREF_RD | LCME_FL_PREF_WR;
    /** "Not used" on disk; the client sets it in memory on components it cannot parse. */
    public static final int LCME_FL_OFFLINE = 0x00000008;
    /** The component is instantiated (its objects exist). */
    public static final int LCME_FL_INIT = 0x00000010;
    /** FLR: this mirror is not resynced ({@code lcme_timestamp} says from when). */
    public static final int LCME_FL_NOSYNC = 0x00000020;
    /** SEL extension component (2.13). */
    public static final int LCME_FL_EXTENSION = 0x00000040;
    /** EC parity component (2.16). */
    public static final int LCME_FL_PARITY = 0x00000080;
    /** Compressed component (2.16). */
    public static final int LCME_FL_COMPRESS = 0x00000100;
    /** Some chunks of a compressed component are not compressed (2.16). */
    public static final int LCME_FL_PARTIAL = 0x00000200;
    /** The component should not be compressed (2.16); a hint. */
    public static final int LCME_FL_NOCOMPR = 0x00000400;
    /** EC: {@code lcme_mirror_link_id} names a link id (2.17.5x). */
    public static final int LCME_FL_IS_LINK_ID = 0x40000000;
    /** Marks a negated flag in user requests; "won't be stored on disk". */
    public static final int LCME_FL_NEG = 0x80000000;

    // ---- lcme_id (lustre_user.h enum lcme_id, MIRROR_ID_*, SEQ_ID_*) ----

    public static final int LCME_ID_INVAL = 0x0;
    public static final int LCME_ID_MAX = 0x7FFFFFFF;
    /** Bits 0..15 of {@code lcme_id}: the component's sequence within its mirror. */
    public static final int SEQ_ID_MAX = 0x0000FFFF;

    public static final int SEQ_ID_MASK = SEQ_ID_MAX;
    /** Bits 16..30 of {@code lcme_id}: the mirror id. */
    public static final int MIRROR_ID_MASK = 0x7FFF0000;

    public static final int MIRROR_ID_SHIFT = 16;
    /** The largest mirror id that fits {@link #MIRROR_ID_MASK}. */
    public static final int MIRROR_ID_MAX = MIRROR_ID_MASK >>> MIRROR_ID_SHIFT;

    /**
     * The top bit of a layout generation marks a file being resynced
     * ({@code enum layout_version_flags} {@code LU_LAYOUT_RESYNC}); {@code lod_obj_inc_layout_gen}
     * preserves it.
     */
    public static final int LU_LAYOUT_RESYNC = 0x80000000;

    // ---- lcm_flags (lustre_user.h enum lov_comp_md_flags) ----

    public static final int LCM_FL_NONE = 0x0;
    public static final int LCM_FL_RDONLY = 0x1;
    public static final int LCM_FL_WRITE_PENDING = 0x2;
    public static final int LCM_FL_SYNC_PENDING = 0x3;
    /** PCC read-only (2.15). */
    public static final int LCM_FL_PCC_RDONLY = 0x8;
    /** 0x3 in 2.11..2.14; 0xB since 2.15. */
    public static final int LCM_FL_FLR_MASK = 0xB;

    // ---- lfm_type (lustre_user.h enum lustre_foreign_types) ----

    public static final int LU_FOREIGN_TYPE_NONE = 0;
    /** HSM copytool lhsm_posix. */
    public static final int LU_FOREIGN_TYPE_POSIX = 1;

    public static final int LU_FOREIGN_TYPE_PCCRW = 2;
    public static final int LU_FOREIGN_TYPE_PCCRO = 3;
    public static final int LU_FOREIGN_TYPE_S3 = 4;
    /** Was {@code LU_FOREIGN_TYPE_DAOS} in 2.13/2.14. Not an HSM type. */
    public static final int LU_FOREIGN_TYPE_SYMLINK = 0xda05;

    public static final int LU_FOREIGN_TYPE_UNKNOWN = 0xffffffff;

    // ---- lhm_flags (lustre_user.h enum hsm_states) ----

    public static final int HS_NONE = 0x00000000;
    public static final int HS_EXISTS = 0x00000001;
    public static final int HS_DIRTY = 0x00000002;
    public static final int HS_RELEASED = 0x00000004;
    public static final int HS_ARCHIVED = 0x00000008;
    public static final int HS_NORELEASE = 0x00000010;
    public static final int HS_NOARCHIVE = 0x00000020;
    public static final int HS_LOST = 0x00000040;
    public static final int HS_PCCRW = 0x00000080;
    public static final int HS_PCCRO = 0x00000100;
    /** {@code HSM_USER_MASK | HSM_STATUS_MASK}: every HSM flag a file may carry. */
    public static final int HSM_FLAGS_MASK = HS_NORELEASE
            | HS_NOARCHIVE
            | HS_DIRTY
            | HS_EXISTS
            | HS_LOST
            | HS_RELEASED
            | HS_ARCHIVED
            | HS_PCCRW
            | HS_PCCRO;

    /** {@code pflr_id()}: the component id for sequence {@code seqId} of mirror {@code mirrorId}. */
    public static int pflrId(int mirrorId, int seqId) {
        return ((mirrorId << MIRROR_ID_SHIFT) & MIRROR_ID_MASK) | (seqId & SEQ_ID_MASK);
    }

    /** {@code mirror_id_of()}: the mirror id in bits 16..30 of a component id. */
    public static int mirrorIdOf(int componentId) {
        return (componentId & MIRROR_ID_MASK) >>> MIRROR_ID_SHIFT;
    }
}
