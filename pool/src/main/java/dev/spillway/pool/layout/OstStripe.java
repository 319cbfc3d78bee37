package dev.spillway.pool.layout;

import dev.spillway.osd.Fid;
import java.util.Objects;

/**
 * One stripe object, {@code struct lov_ost_data_v1} (lustre_idl.h; {@code lov_user_ost_data_v1}
 * in lustre_user.h), 24 bytes:
 * <pre>
 *   0  struct ost_id l_ost_oi   16  the object: here always the lu_fid arm, f_seq u64, f_oid u32, f_ver u32
 *  16  __u32 l_ost_gen           4  (union l_ost_type); Lustre writes 0
 *  20  __u32 l_ost_idx           4  the OST index
 * </pre>
 * In a pool, a copy on an OSD-like device is one stripe: {@code l_ost_idx} = the device index,
 * {@code l_ost_oi} = the copy's FID on that device.
 *
 * <p>The 16 bytes of {@code l_ost_oi} are kept exactly as {@link #fid()} (seq at 0, oid at 8,
 * ver at 12), also for the legacy "group 0" and IDIF forms Lustre writes for old OST objects;
 * {@link LayoutPrinter} applies Lustre's {@code ostid_to_fid()} when printing. Lustre tools show a
 * FID with {@code f_ver != 0} here as {@code [0x0:0x0:0x0]}, so copies should use version 0.
 *
 * @param fid the object, as the 16 bytes of {@code l_ost_oi}
 * @param ostGen {@code l_ost_gen}
 * @param ostIdx {@code l_ost_idx}, unsigned
 */
public record OstStripe(Fid fid, int ostGen, int ostIdx) {
    public OstStripe {
        Objects.requireNonNull(fid, "fid");
    }

    /** A stripe on device {@code ostIdx} holding object {@code fid}, generation 0. */
    public static OstStripe of(int ostIdx, Fid fid) {
        return new OstStripe(fid, 0, ostIdx);
    }
}
