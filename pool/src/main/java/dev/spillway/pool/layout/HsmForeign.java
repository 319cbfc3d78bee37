package dev.spillway.pool.layout;

import static dev.spillway.pool.layout.LovFormat.*;

import java.util.Objects;

/**
 * A copy kept outside Lustre's striping: {@code struct lov_hsm_md} (lustre_user.h, 2.16+), a
 * {@code lov_foreign_md} whose value is a {@code lov_hsm_base}, 72 bytes:
 * <pre>
 *   0  __u32 lhm_magic         LOV_MAGIC_FOREIGN
 *   4  __u32 lhm_length        sizeof(struct lov_hsm_base) = 56, the only length Lustre accepts
 *   8  __u32 lhm_type          LU_FOREIGN_TYPE_POSIX | PCCRW | PCCRO | S3
 *  12  __u32 lhm_flags         HS_* (enum hsm_states)
 *  16  __u64 lhb_archive_id
 *  24  __u64 lhb_archive_ver
 *  32  char  lhb_uuid[40]      UUID_MAX bytes, NUL-padded (no NUL when full)
 * </pre>
 * In a pool: type {@link HsmType#POSIX} for a directory device, {@link HsmType#S3} for an object
 * store; archive id = the device index; archive version = the object's data version when the
 * copy was made; the identifier = the copy's key on that device (at most 40 bytes of UTF-8;
 * {@code 0xSEQ:0xOID:0xVER}, a FID without brackets, is at most exactly 40).
 *
 * @param type {@code lhm_type}
 * @param hsmFlags {@code lhm_flags}: known {@code HS_*} bits, at least one
 * @param archiveId {@code lhb_archive_id}, unsigned
 * @param archiveVersion {@code lhb_archive_ver}, unsigned
 * @param identifier {@code lhb_uuid}
 */
public record HsmForeign(HsmType type, int hsmFlags, long archiveId, long archiveVersion, String identifier)
        implements SubLayout {

    public HsmForeign {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(identifier, "identifier");
        LayoutRules.hsmFlags(hsmFlags);
        LayoutRules.identifier(identifier);
    }

    /**
     * A pool copy on a spill device.
     *
     * @param type POSIX for a directory device, S3 for an object store
     * @param deviceIndex the device holding the copy (archive id)
     * @param dataVersion the object's data version when the copy was made (archive version)
     * @param key the copy's key on that device
     * @param hsmFlags e.g. {@code HS_EXISTS | HS_ARCHIVED}
     */
    public static HsmForeign copy(HsmType type, int deviceIndex, long dataVersion, String key, int hsmFlags) {
        return new HsmForeign(type, hsmFlags, Integer.toUnsignedLong(deviceIndex), dataVersion, key);
    }

    @Override
    public int magic() {
        return LOV_MAGIC_FOREIGN;
    }

    @Override
    public int encodedSize() {
        return LOV_HSM_MD_SIZE;
    }

    /** True if every bit of {@code flags} is set. */
    public boolean has(int flags) {
        return (hsmFlags & flags) == flags;
    }

    public HsmForeign withHsmFlags(int flags) {
        return new HsmForeign(type, flags, archiveId, archiveVersion, identifier);
    }

    public HsmForeign withArchiveVersion(long version) {
        return new HsmForeign(type, hsmFlags, archiveId, version, identifier);
    }
}
