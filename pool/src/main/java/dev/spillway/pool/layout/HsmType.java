package dev.spillway.pool.layout;

/**
 * The foreign types an HSM component may have ({@code enum lustre_foreign_types} and
 * {@code lov_hsm_type_supported()}, lustre_user.h, 2.16+). Spillway writes {@link #POSIX} for a
 * copy on a directory device and {@link #S3} for one in an object store; the PCC types decode
 * but the pool does not create them.
 */
public enum HsmType {
    POSIX(LovFormat.LU_FOREIGN_TYPE_POSIX, "posix"),
    PCCRW(LovFormat.LU_FOREIGN_TYPE_PCCRW, "pccrw"),
    PCCRO(LovFormat.LU_FOREIGN_TYPE_PCCRO, "pccro"),
    S3(LovFormat.LU_FOREIGN_TYPE_S3, "S3");

    private final int lfmType;
    private final String lfsName;

    HsmType(int lfmType, String lfsName) {
        this.lfmType = lfmType;
        this.lfsName = lfsName;
    }

    /** The {@code LU_FOREIGN_TYPE_*} value stored in {@code lhm_type}. */
    public int lfmType() {
        return lfmType;
    }

    /** The name {@code lfs} prints ({@code lu_foreign_types[]} in liblustreapi.c). */
    public String lfsName() {
        return lfsName;
    }

    /** The HSM type with this {@code lhm_type}, or null if it is not an HSM type. */
    public static HsmType ofLfmType(int lfmType) {
        for (HsmType t : values()) {
            if (t.lfmType == lfmType) {
                return t;
            }
        }
        return null;
    }
}
