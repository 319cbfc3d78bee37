package dev.spillway.pool.layout;

/**
 * The FLR file state kept in the low bits of {@code lcm_flags} ({@code enum lov_comp_md_flags},
 * lustre_user.h; {@code LCM_FL_FLR_MASK}). Lustre writes it only when the file has more than one
 * mirror and treats it as {@link #NONE} otherwise ({@code lod_generate_lovea},
 * {@code lod_parse_striping}).
 *
 * <ul>
 *   <li>{@link #RDONLY}: every mirror is in sync; reads may use any of them.</li>
 *   <li>{@link #WRITE_PENDING}: a writer chose one mirror; the others are being marked stale.</li>
 *   <li>{@link #SYNC_PENDING}: stale mirrors are being resynced.</li>
 * </ul>
 */
public enum FlrState {
    NONE(LovFormat.LCM_FL_NONE, "0"),
    RDONLY(LovFormat.LCM_FL_RDONLY, "ro"),
    WRITE_PENDING(LovFormat.LCM_FL_WRITE_PENDING, "wp"),
    SYNC_PENDING(LovFormat.LCM_FL_SYNC_PENDING, "sp");

    private final int lcmFlag;
    private final String lfsName;

    FlrState(int lcmFlag, String lfsName) {
        this.lcmFlag = lcmFlag;
        this.lfsName = lfsName;
    }

    /** The {@code LCM_FL_*} value. */
    public int lcmFlag() {
        return lcmFlag;
    }

    /** The name {@code lfs getstripe -v} prints ({@code llapi_layout_flags_string}). */
    public String lfsName() {
        return lfsName;
    }

    /** The state encoded in the two low bits of {@code lcm_flags}. */
    static FlrState ofLcmFlags(int lcmFlags) {
        return values()[lcmFlags & 0x3];
    }
}
