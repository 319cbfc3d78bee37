package dev.spillway.pool.layout;

import static dev.spillway.pool.layout.LovFormat.*;

import java.util.Objects;

/**
 * One component, {@code struct lov_comp_md_entry_v1} (lustre_user.h), 48 bytes:
 * <pre>
 *   0  __u32 lcme_id            mirror id in bits 16..30 (MIRROR_ID_SHIFT), sequence in 0..15
 *   4  __u32 lcme_flags         LCME_FL_*
 *   8  __u64 lcme_extent.e_start
 *  16  __u64 lcme_extent.e_end  LUSTRE_EOF for "to the end"
 *  24  __u32 lcme_offset        where the sub-layout blob starts, from the start of lov_comp_md_v1
 *  28  __u32 lcme_size          the blob's size
 *  32  __u32 lcme_layout_gen
 *  36  __u64 lcme_time_and_id   lcme_timestamp in bits 0..47, lcme_mirror_link_id in 48..63
 *  44  __u8  lcme_dstripe_count, 45 lcme_cstripe_count, 46 lcme_compr_type,
 *  47  lcme_compr_lvl:4 | lcme_compr_chunk_log_bits:4     (EC/compression: always 0 here)
 * </pre>
 * {@code lcme_offset} and {@code lcme_size} are not kept: the codec lays the blobs out.
 *
 * @param id {@code lcme_id}, 1..{@code LCME_ID_MAX}
 * @param flags {@code lcme_flags}: STALE, PREF_RD, PREF_WR, OFFLINE, INIT, NOSYNC, NOCOMPR
 * @param extentStart {@code lcme_extent.e_start}
 * @param extentEnd {@code lcme_extent.e_end}, {@link LovFormat#LUSTRE_EOF} for the end of file
 * @param layoutGen {@code lcme_layout_gen}
 * @param timestamp {@code lcme_timestamp}, seconds, 48 bits
 * @param mirrorLinkId {@code lcme_mirror_link_id}, 16 bits (0 before Lustre 2.17.5x)
 * @param subLayout the blob
 */
public record Component(
        int id,
        int flags,
        long extentStart,
        long extentEnd,
        int layoutGen,
        long timestamp,
        int mirrorLinkId,
        SubLayout subLayout) {

    /** {@code lcme_timestamp} is the low 48 bits of {@code lcme_time_and_id}. */
    public static final long TIMESTAMP_MASK = (1L << 48) - 1;

    public Component {
        Objects.requireNonNull(subLayout, "subLayout");
        LayoutRules.componentId(id);
        LayoutRules.lcmeFlags(flags);
        LayoutRules.extentStart(extentStart);
        LayoutRules.extentEnd(extentStart, extentEnd);
        if (subLayout instanceof HsmForeign) {
            LayoutRules.wholeFile(extentStart, extentEnd);
        }
        if ((timestamp & ~TIMESTAMP_MASK) != 0) {
            throw new IllegalArgumentException("lcme_timestamp " + timestamp + " does not fit 48 bits");
        }
        LayoutRules.u16("lcme_mirror_link_id", mirrorLinkId);
    }

    /** A component covering the whole file, {@code [0, EOF)}, with generation and timestamp 0. */
    public static Component wholeFile(int id, int flags, SubLayout subLayout) {
        return new Component(id, flags, 0, LUSTRE_EOF, 0, 0, 0, subLayout);
    }

    /** {@code mirror_id_of(lcme_id)}. */
    public int mirrorId() {
        return LovFormat.mirrorIdOf(id);
    }

    /** True if every bit of {@code lcmeFlags} is set. */
    public boolean has(int lcmeFlags) {
        return (flags & lcmeFlags) == lcmeFlags;
    }

    public boolean isStale() {
        return has(LCME_FL_STALE);
    }

    public Component withFlags(int newFlags) {
        return new Component(id, newFlags, extentStart, extentEnd, layoutGen, timestamp, mirrorLinkId, subLayout);
    }

    public Component withSubLayout(SubLayout newSubLayout) {
        return new Component(id, flags, extentStart, extentEnd, layoutGen, timestamp, mirrorLinkId, newSubLayout);
    }
}
