package dev.spillway.pool.layout;

import static dev.spillway.pool.layout.LovFormat.*;

import dev.spillway.osd.Errno;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The rules a layout obeys, written once: the records check them in their constructors (a
 * broken rule there is a programming error, an {@link IllegalArgumentException}) and the decoder
 * checks them field by field so that it can name the byte offset. Most are Lustre's own, from
 * {@code lod_verify_striping()}/{@code lod_verify_v1v3()}/{@code lod_init_comp_foreign()}
 * (lustre/lod/lod_lov.c) and {@code lsme_unpack*()} (lustre/lov/lov_ea.c); the rest say what the
 * pool does not serve.
 */
final class LayoutRules {
    private LayoutRules() {}

    /** {@code lcme_flags} the pool understands and keeps as they are. */
    static final int LCME_ACCEPTED = LCME_FL_STALE
            | LCME_FL_PREF_RD
            | LCME_FL_PREF_WR
            | LCME_FL_OFFLINE
            | LCME_FL_INIT
            | LCME_FL_NOSYNC
            | LCME_FL_NOCOMPR;
    /** Known {@code lcme_flags} for features the pool cannot serve: reading such data as plain would be wrong. */
    static final int LCME_UNSUPPORTED =
            LCME_FL_EXTENSION | LCME_FL_PARITY | LCME_FL_COMPRESS | LCME_FL_PARTIAL | LCME_FL_IS_LINK_ID;

    /** A broken rule: an {@link IllegalArgumentException} that also carries its errno and entry. */
    static final class Violation extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        final transient Errno errno;
        /** The index of the component entry at fault, or -1. */
        final int entry;

        Violation(Errno errno, int entry, String message) {
            super(message);
            this.errno = errno;
            this.entry = entry;
        }
    }

    static Violation corrupt(String message) {
        return new Violation(Errno.EBADMSG, -1, message);
    }

    static Violation unsupported(String message) {
        return new Violation(Errno.EPROTO, -1, message);
    }

    static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }

    static String hex32(int v) {
        return "0x" + Integer.toHexString(v);
    }

    /** {@code lcm_flags}: only the FLR state; PCC-RO and unknown bits are refused. */
    static void lcmFlags(int lcmFlags) {
        if ((lcmFlags & LCM_FL_PCC_RDONLY) != 0) {
            throw unsupported(
                    "lcm_flags " + hex32(lcmFlags) + " has LCM_FL_PCC_RDONLY (PCC-RO), which the pool does not serve");
        }
        if ((lcmFlags & ~LCM_FL_FLR_MASK) != 0) {
            throw unsupported(
                    "lcm_flags " + hex32(lcmFlags) + " has unknown bits " + hex32(lcmFlags & ~LCM_FL_FLR_MASK));
        }
    }

    static void componentId(int id) {
        if (id == LCME_ID_INVAL) {
            throw corrupt("lcme_id is 0 (LCME_ID_INVAL)");
        }
        if (id < 0) {
            throw corrupt("lcme_id " + Integer.toUnsignedString(id) + " is above LCME_ID_MAX " + LCME_ID_MAX);
        }
    }

    static void lcmeFlags(int flags) {
        if ((flags & LCME_FL_NEG) != 0) {
            throw corrupt("lcme_flags " + hex32(flags) + " has LCME_FL_NEG, which is never stored on disk");
        }
        if ((flags & LCME_UNSUPPORTED) != 0) {
            throw unsupported("lcme_flags " + hex32(flags) + " has "
                    + LayoutPrinter.lcmeFlagsString(flags & LCME_UNSUPPORTED)
                    + " (EC, compression or SEL), which the pool does not serve");
        }
        if ((flags & ~LCME_ACCEPTED) != 0) {
            throw unsupported("lcme_flags " + hex32(flags) + " has unknown bits " + hex32(flags & ~LCME_ACCEPTED));
        }
    }

    /** {@code lcme_extent.e_start}: 64 KiB aligned, below 2^63. */
    static void extentStart(long start) {
        if (start < 0 || start % LOV_MIN_STRIPE_SIZE != 0) {
            throw corrupt("lcme_extent.e_start " + Long.toUnsignedString(start)
                    + " is not a multiple of LOV_MIN_STRIPE_SIZE below 2^63");
        }
    }

    /** {@code lcme_extent.e_end}: EOF, or 64 KiB aligned below 2^63; past the start. */
    static void extentEnd(long start, long end) {
        if (end != LUSTRE_EOF && (end < 0 || end % LOV_MIN_STRIPE_SIZE != 0)) {
            throw corrupt("lcme_extent.e_end " + Long.toUnsignedString(end)
                    + " is neither EOF nor a multiple of LOV_MIN_STRIPE_SIZE below 2^63");
        }
        if (Long.compareUnsigned(start, end) >= 0) {
            throw corrupt(
                    "lcme_extent [" + Long.toUnsignedString(start) + ", " + Long.toUnsignedString(end) + ") is empty");
        }
    }

    /** An HSM copy holds the whole file ({@code lod_verify_striping}: "must cover [0, EOF]"). */
    static void wholeFile(long start, long end) {
        if (start != 0 || end != LUSTRE_EOF) {
            throw corrupt(
                    "an HSM component must cover [0, EOF), not [" + start + ", " + Long.toUnsignedString(end) + ")");
        }
    }

    static void pattern(int pattern) {
        if (pattern != LOV_PATTERN_RAID0) {
            throw unsupported("lmm_pattern " + hex32(pattern) + " (" + LayoutPrinter.patternString(pattern)
                    + ") is not plain raid0");
        }
    }

    static void stripeSize(int stripeSize) {
        if (stripeSize == 0 || Integer.remainderUnsigned(stripeSize, LOV_MIN_STRIPE_SIZE) != 0) {
            throw corrupt("lmm_stripe_size " + Integer.toUnsignedString(stripeSize)
                    + " is not a non-zero multiple of LOV_MIN_STRIPE_SIZE " + LOV_MIN_STRIPE_SIZE);
        }
    }

    static void stripeCount(int stripeCount) {
        if (stripeCount < 1 || stripeCount > LOV_MAX_STRIPE_COUNT) {
            throw corrupt("lmm_stripe_count " + stripeCount + " is not in 1.." + LOV_MAX_STRIPE_COUNT);
        }
    }

    static void u16(String field, int value) {
        if ((value & ~0xFFFF) != 0) {
            throw new IllegalArgumentException(field + " " + value + " does not fit 16 bits");
        }
    }

    static void poolName(String name) {
        if (name.indexOf('\0') >= 0 || !StandardCharsets.UTF_8.newEncoder().canEncode(name)) {
            throw corrupt("lmm_pool_name contains a NUL or an unpaired surrogate");
        }
        int bytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > LOV_MAXPOOLNAME) {
            throw corrupt("lmm_pool_name is " + bytes + " bytes, more than LOV_MAXPOOLNAME " + LOV_MAXPOOLNAME);
        }
    }

    static void hsmType(int lfmType) {
        if (HsmType.ofLfmType(lfmType) == null) {
            throw unsupported("lhm_type " + hex32(lfmType) + " is not an HSM foreign type (POSIX, PCCRW, PCCRO, S3)");
        }
    }

    static void hsmLength(int length) {
        if (length != LOV_HSM_BASE_SIZE) {
            throw corrupt("lhm_length " + Integer.toUnsignedString(length) + " is not sizeof(struct lov_hsm_base) "
                    + LOV_HSM_BASE_SIZE);
        }
    }

    /** {@code lod_verify_striping}: only known HSM flags, and at least one of them. */
    static void hsmFlags(int flags) {
        if ((flags & ~HSM_FLAGS_MASK) != 0) {
            throw unsupported("lhm_flags " + hex32(flags) + " has unknown bits " + hex32(flags & ~HSM_FLAGS_MASK));
        }
        if (flags == 0) {
            throw corrupt("lhm_flags is 0: an HSM component needs at least one HS_* state");
        }
    }

    static void identifier(String id) {
        if (id.indexOf('\0') >= 0 || !StandardCharsets.UTF_8.newEncoder().canEncode(id)) {
            throw corrupt("lhm_archive_uuid contains a NUL or an unpaired surrogate");
        }
        int bytes = id.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > UUID_MAX) {
            throw corrupt("lhm_archive_uuid is " + bytes + " bytes, more than UUID_MAX " + UUID_MAX);
        }
    }

    /**
     * The mirror structure of {@code lod_verify_striping()} (from disk): ids unique; each
     * mirror's components contiguous in the entry table, the first starting at 0, each next one
     * starting where the previous one ended.
     *
     * @return the number of mirrors
     */
    static int mirrors(List<Component> components) {
        Set<Integer> ids = new HashSet<>();
        Set<Integer> mirrorIds = new HashSet<>();
        int mirrors = 0;
        int prevMirror = -1;
        long prevEnd = 0;
        for (int i = 0; i < components.size(); i++) {
            Component c = components.get(i);
            if (!ids.add(c.id())) {
                throw new Violation(Errno.EBADMSG, i, "lcme_id " + c.id() + " appears twice");
            }
            int mirror = c.mirrorId();
            if (i == 0 || mirror != prevMirror) {
                if (!mirrorIds.add(mirror)) {
                    throw new Violation(Errno.EBADMSG, i, "the components of mirror " + mirror + " are not contiguous");
                }
                if (c.extentStart() != 0) {
                    throw new Violation(
                            Errno.EBADMSG, i, "mirror " + mirror + " starts at " + c.extentStart() + ", not 0");
                }
                mirrors++;
            } else if (prevEnd == LUSTRE_EOF) {
                throw new Violation(
                        Errno.EBADMSG, i, "mirror " + mirror + " has a component after one that ends at EOF");
            } else if (c.extentStart() != prevEnd) {
                throw new Violation(
                        Errno.EBADMSG,
                        i,
                        "mirror " + mirror + ": extent starts at " + c.extentStart()
                                + " but the previous component ends at " + prevEnd);
            }
            prevMirror = mirror;
            prevEnd = c.extentEnd();
        }
        return mirrors;
    }
}
