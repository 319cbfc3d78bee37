package dev.spillway.pool.layout;

import static dev.spillway.pool.layout.LovFormat.*;

import dev.spillway.osd.Fid;
import java.util.List;
import java.util.Objects;

/**
 * A striped sub-layout, {@code struct lov_mds_md_v1} / {@code lov_mds_md_v3} (lustre_idl.h;
 * {@code lov_user_md_v1/v3} in lustre_user.h), followed by its stripes:
 * <pre>
 *   0  __u32 lmm_magic          LOV_MAGIC_V1 or LOV_MAGIC_V3
 *   4  __u32 lmm_pattern        LOV_PATTERN_RAID0
 *   8  struct ost_id lmm_oi     the file's FID: oi_id u64 = f_oid | f_ver &lt;&lt; 32, oi_seq u64 = f_seq
 *  24  __u32 lmm_stripe_size
 *  28  __u16 lmm_stripe_count
 *  30  __u16 lmm_layout_gen     (union lmm_stripe_offset)
 *  32  char lmm_pool_name[16]   v3 only, NUL-padded
 *  32|48  lov_ost_data_v1 lmm_objects[lmm_stripe_count]
 * </pre>
 * {@code lmm_oi} follows {@code fid_to_lmm_oi()} (lustre_ostid.h: {@code oi_id = f_oid},
 * {@code oi_seq = f_seq}) and puts {@code f_ver} in the high half of {@code oi_id}, where
 * {@code lfs getstripe} reads it back for {@code lmm_fid}.
 *
 * <p>The pool only reads and writes plain RAID0 with 1..{@value LovFormat#LOV_MAX_STRIPE_COUNT}
 * stripes; the stripe count is the size of {@link #objects()}.
 *
 * @param magic {@code LOV_MAGIC_V1}, or {@code LOV_MAGIC_V3} when there is a pool name
 * @param pattern {@code lmm_pattern}; only {@code LOV_PATTERN_RAID0}
 * @param lmmOi the file the layout belongs to ({@code lmm_oi})
 * @param stripeSize {@code lmm_stripe_size}, unsigned, a non-zero multiple of 64 KiB
 * @param layoutGen {@code lmm_layout_gen} (16 bits)
 * @param poolName {@code lmm_pool_name} for v3 (at most 15 bytes), null for v1
 * @param objects the stripes
 */
public record StripeLayout(
        int magic, int pattern, Fid lmmOi, int stripeSize, int layoutGen, String poolName, List<OstStripe> objects)
        implements SubLayout {

    public StripeLayout {
        Objects.requireNonNull(lmmOi, "lmmOi");
        objects = List.copyOf(objects);
        if (magic == LOV_MAGIC_V1) {
            if (poolName != null) {
                throw new IllegalArgumentException("a LOV_MAGIC_V1 sub-layout has no pool name");
            }
        } else if (magic == LOV_MAGIC_V3) {
            Objects.requireNonNull(poolName, "a LOV_MAGIC_V3 sub-layout needs a pool name (may be empty)");
            LayoutRules.poolName(poolName);
        } else {
            throw new IllegalArgumentException(
                    "a striped sub-layout is LOV_MAGIC_V1 or LOV_MAGIC_V3, not " + LayoutRules.hex32(magic));
        }
        LayoutRules.pattern(pattern);
        LayoutRules.stripeSize(stripeSize);
        LayoutRules.u16("lmm_layout_gen", layoutGen);
        LayoutRules.stripeCount(objects.size());
    }

    /**
     * A pool copy on an OSD-like device: plain RAID0, one stripe, v1, stripe size
     * {@link LovFormat#LOV_DESC_STRIPE_SIZE_DEFAULT}.
     *
     * @param file the pool object the layout belongs to
     * @param deviceIndex the device holding the copy ({@code l_ost_idx})
     * @param copy the copy's FID on that device ({@code l_ost_oi})
     */
    public static StripeLayout ostCopy(Fid file, int deviceIndex, Fid copy) {
        return new StripeLayout(
                LOV_MAGIC_V1,
                LOV_PATTERN_RAID0,
                file,
                LOV_DESC_STRIPE_SIZE_DEFAULT,
                0,
                null,
                List.of(OstStripe.of(deviceIndex, copy)));
    }

    /**
     * A striped pool copy: plain RAID0 over the devices of a striping tier, v1, one stripe object
     * per device. Every backend's copy is a FID-named object on its device, so each stripe is a
     * {@code lov_ost_data_v1} whatever the backend: {@code l_ost_idx} = the device index,
     * {@code l_ost_oi} = the stripe object's key there. (A foreign HSM component cannot describe
     * striping: it has no stripe fields and must cover {@code [0, EOF)}.)
     *
     * @param file the pool object the layout belongs to
     * @param stripeSize bytes of one stripe unit ({@code lmm_stripe_size})
     * @param stripes stripe 0 first: the objects holding units 0, 1, ... of each row
     */
    public static StripeLayout striped(Fid file, int stripeSize, List<OstStripe> stripes) {
        return new StripeLayout(LOV_MAGIC_V1, LOV_PATTERN_RAID0, file, stripeSize, 0, null, stripes);
    }

    /** {@code lmm_stripe_count}. */
    public int stripeCount() {
        return objects.size();
    }

    /** {@code lov_mds_md_size(stripe_count, magic)}. */
    @Override
    public int encodedSize() {
        return (magic == LOV_MAGIC_V1 ? LOV_MDS_MD_V1_SIZE : LOV_MDS_MD_V3_SIZE)
                + objects.size() * LOV_OST_DATA_V1_SIZE;
    }
}
