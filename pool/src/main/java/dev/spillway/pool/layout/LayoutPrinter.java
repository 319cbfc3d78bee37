package dev.spillway.pool.layout;

import static dev.spillway.pool.layout.LovFormat.*;

import dev.spillway.osd.Fid;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * Prints a layout the way {@code lfs getstripe -v FILE} prints a composite layout, field for
 * field and in the same order, so that engineers and their scripts (which grep for
 * {@code lcme_flags:.*stale}, {@code lcme_mirror_id:} …) read a pool layout as they read a Lustre
 * one. The shape follows liblustreapi.c of Lustre master ({@code lov_dump_comp_v1_header},
 * {@code lov_dump_comp_v1_entry}, {@code lov_dump_user_lmm_header}, {@code lov_dump_user_lmm_v1v3},
 * {@code lov_dump_hsm_lmm}), checked against real {@code lfs getstripe -v} output:
 * <pre>
 * composite_header:
 *   lcm_magic:         0x0BD60BD0
 *   lcm_size:          264
 *   lcm_flags:         ro
 *   lcm_layout_gen:    2
 *   lcm_mirror_count:  2
 *   lcm_entry_count:   2
 * components:
 *   - lcme_id:             65537
 *     lcme_mirror_id:      1
 *     lcme_flags:          init
 *     lcme_extent.e_start: 0
 *     lcme_extent.e_end:   EOF
 *     lcme_offset:         128
 *     lcme_size:           80
 *     sub_layout:
 *       lmm_magic:         0x0BD10BD0
 *       ...
 *       lmm_objects:
 *       -   0: { l_ost_idx:   1, l_fid: [0x280000400:0x2:0x0] }
 * </pre>
 * Differences from {@code lfs}, on purpose: {@code lcme_timestamp} is printed in UTC (lfs uses the
 * local zone); {@code lhm_flags} prints the names then only the unnamed bits in hex (lfs 2.16/2.17
 * appends the whole value in hex, because its {@code hsm_flags2str} never clears the bits it
 * named). Releases up to 2.15 printed {@code lmm_objects} rows as {@code - 0: { l_ost_idx: 1, ...}},
 * without the 3-column padding of master.
 */
public final class LayoutPrinter {
    private LayoutPrinter() {}

    private static final DateTimeFormatter LFS_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ssZ");

    /** {@code comp_flags_table[]} (lustreapi.h), in lfs's order. */
    private static final int[] LCME_FLAG_BITS = {
        LCME_FL_INIT,
        LCME_FL_STALE,
        LCME_FL_PREF_RW,
        LCME_FL_PREF_RD,
        LCME_FL_PREF_WR,
        LCME_FL_OFFLINE,
        LCME_FL_NOSYNC,
        LCME_FL_EXTENSION,
        LCME_FL_PARITY,
        LCME_FL_COMPRESS,
        LCME_FL_PARTIAL,
        LCME_FL_NOCOMPR,
        LCME_FL_IS_LINK_ID
    };

    private static final String[] LCME_FLAG_NAMES = {
        "init",
        "stale",
        "prefer",
        "prefrd",
        "prefwr",
        "offline",
        "nosync",
        "extension",
        "parity",
        "compress",
        "partial",
        "nocompr",
        "link_id"
    };

    /** {@code hsm_flags_table[]} (lustreapi.h), in lfs's order. */
    private static final int[] HS_BITS = {
        HS_EXISTS, HS_DIRTY, HS_RELEASED, HS_ARCHIVED, HS_NORELEASE, HS_NOARCHIVE, HS_LOST, HS_PCCRW, HS_PCCRO
    };

    private static final String[] HS_NAMES = {
        "exists", "dirty", "released", "archived", "norelease", "noarchive", "lost", "pccrw", "pccro"
    };

    /** {@code lov_pattern_names[]} (liblustreapi_layout.c), as getstripe names them. */
    private static final int[] PATTERN_BITS = {
        LOV_PATTERN_RAID1 | LOV_PATTERN_MDT | LOV_PATTERN_FOREIGN,
        LOV_PATTERN_RAID0,
        LOV_PATTERN_RAID1,
        LOV_PATTERN_PARITY,
        LOV_PATTERN_MDT,
        LOV_PATTERN_OVERSTRIPING,
        LOV_PATTERN_FOREIGN,
        LOV_PATTERN_COMPRESS,
        LOV_PATTERN_F_HOLE,
        LOV_PATTERN_F_RELEASED
    };

    private static final String[] PATTERN_NAMES = {
        "bad", "raid0", "raid1", "parity", "mdt", "overstriped", "foreign", "compress", "hole", "released"
    };

    /** {@code lfs getstripe -v} of a file whose layout this is, timestamps in UTC. */
    public static String getstripe(Layout layout) {
        return getstripe(layout, null, ZoneOffset.UTC);
    }

    /**
     * {@code lfs getstripe -v path}.
     *
     * @param path printed first on its own line, as lfs does, when not null
     * @param zone the zone for {@code lcme_timestamp}
     */
    public static String getstripe(Layout layout, String path, ZoneId zone) {
        StringBuilder out = new StringBuilder(512);
        if (path != null) {
            out.append(path).append('\n');
        }
        List<Component> comps = layout.components();
        out.append("composite_header:\n");
        out.append(String.format("  lcm_magic:         0x%08X\n", LOV_MAGIC_COMP_V1));
        out.append("  lcm_size:          ")
                .append(LayoutCodec.encodedSize(layout))
                .append('\n');
        out.append("  lcm_flags:         ").append(layout.flrState().lfsName()).append('\n');
        out.append("  lcm_layout_gen:    ")
                .append(Integer.toUnsignedString(layout.layoutGen()))
                .append('\n');
        out.append("  lcm_mirror_count:  ").append(layout.mirrorCount()).append('\n');
        out.append("  lcm_entry_count:   ").append(comps.size()).append('\n');
        out.append("components:\n");
        int[] offsets = LayoutCodec.blobOffsets(layout);
        for (int i = 0; i < comps.size(); i++) {
            entry(out, comps.get(i), offsets[i], zone);
        }
        return out.toString();
    }

    private static void entry(StringBuilder out, Component c, int offset, ZoneId zone) {
        out.append("  - lcme_id:             ").append(c.id()).append('\n');
        out.append("    lcme_mirror_id:      ").append(c.mirrorId()).append('\n');
        out.append("    lcme_flags:          ")
                .append(lcmeFlagsString(c.flags()))
                .append('\n');
        if (c.mirrorLinkId() != 0) {
            out.append("    lcme_mirror_link_id: 0x")
                    .append(Integer.toHexString(c.mirrorLinkId()))
                    .append('\n');
        }
        if (c.has(LCME_FL_NOSYNC) || c.timestamp() != 0) {
            out.append("    lcme_timestamp:      '")
                    .append(LFS_TIME.format(Instant.ofEpochSecond(c.timestamp()).atZone(zone)))
                    .append("'\n");
        }
        out.append("    lcme_extent.e_start: ")
                .append(Long.toUnsignedString(c.extentStart()))
                .append('\n');
        out.append("    lcme_extent.e_end:   ")
                .append(c.extentEnd() == LUSTRE_EOF ? "EOF" : Long.toUnsignedString(c.extentEnd()))
                .append('\n');
        out.append("    lcme_offset:         ").append(offset).append('\n');
        out.append("    lcme_size:           ")
                .append(c.subLayout().encodedSize())
                .append('\n');
        out.append("    sub_layout:\n");
        switch (c.subLayout()) {
            case StripeLayout s -> stripes(out, s, !c.has(LCME_FL_INIT));
            case HsmForeign h -> hsm(out, h);
        }
    }

    private static void stripes(StringBuilder out, StripeLayout s, boolean skipObjects) {
        Fid oi = s.lmmOi();
        long oiId = Integer.toUnsignedLong(oi.oid()) | ((long) oi.ver() << 32);
        long oiSeq = oi.seq();
        out.append(String.format("      lmm_magic:         0x%08X\n", s.magic()));
        out.append("      lmm_seq:           ").append(hexAlt(oiSeq)).append('\n');
        out.append("      lmm_object_id:     ").append(hexAlt(oiId)).append('\n');
        // lov_dump_user_lmm_header: 1.x lmm_oi had oi_seq = 0; print those like an IGIF FID
        long seq = oiSeq == 0 ? oiId : oiSeq;
        int oid = oiSeq == 0 ? 0 : (int) oiId;
        int ver = (int) (oiId >>> 32);
        out.append("      lmm_fid:           ").append(dfid(seq, oid, ver)).append('\n');
        out.append("      lmm_stripe_count:  ").append((short) s.stripeCount()).append('\n');
        out.append("      lmm_stripe_size:   ")
                .append(Integer.toUnsignedString(s.stripeSize()))
                .append('\n');
        out.append("      lmm_pattern:       ")
                .append(patternString(s.pattern()))
                .append('\n');
        out.append("      lmm_layout_gen:    ")
                .append(skipObjects ? 0 : s.layoutGen())
                .append('\n');
        out.append("      lmm_stripe_offset: ");
        if (skipObjects) {
            out.append(s.layoutGen() == 0xFFFF ? "-1" : Integer.toString(s.layoutGen()));
        } else {
            out.append(s.objects().get(0).ostIdx());
        }
        out.append('\n');
        if (s.poolName() != null && !s.poolName().isEmpty()) {
            out.append("      lmm_pool:          ").append(s.poolName()).append('\n');
        }
        if (!skipObjects) {
            out.append("      lmm_objects:\n");
            List<OstStripe> objs = s.objects();
            for (int i = 0; i < objs.size(); i++) {
                OstStripe o = objs.get(i);
                out.append(String.format(
                        "      - %3d: { l_ost_idx: %3d, l_fid: %s }\n", i, o.ostIdx(), ostFid(o.fid(), o.ostIdx())));
            }
        }
        out.append('\n');
    }

    private static void hsm(StringBuilder out, HsmForeign h) {
        out.append(String.format("      lhm_magic:         0x%08X\n", LOV_MAGIC_FOREIGN));
        out.append("      lhm_pattern:       foreign\n");
        out.append("      lhm_length:        ").append(LOV_HSM_BASE_SIZE).append('\n');
        out.append(String.format(
                "      lhm_type:          0x%08X (%s)\n",
                h.type().lfmType(), h.type().lfsName()));
        out.append("      lhm_flags:         ")
                .append(hsmFlagsString(h.hsmFlags()))
                .append('\n');
        out.append("      lhm_archive_id:    ")
                .append(Long.toUnsignedString(h.archiveId()))
                .append('\n');
        out.append("      lhm_archive_ver:   ")
                .append(Long.toUnsignedString(h.archiveVersion()))
                .append('\n');
        out.append("      lhm_archive_uuid:  '").append(h.identifier()).append("'\n");
    }

    /** {@code lcme_flags2str()}: names in table order, each matched bit cleared, the rest in hex. */
    static String lcmeFlagsString(int flags) {
        return names(flags, LCME_FLAG_BITS, LCME_FLAG_NAMES);
    }

    /** The HSM flags as names, then any unnamed bits in hex. */
    static String hsmFlagsString(int flags) {
        return names(flags, HS_BITS, HS_NAMES);
    }

    /** {@code llapi_lov_pattern_string()}, with "none" for 0. */
    static String patternString(int pattern) {
        if (pattern == 0) {
            return "none";
        }
        if (pattern == -1) {
            return "default";
        }
        StringBuilder sb = new StringBuilder();
        int left = pattern;
        for (int i = 0; i < PATTERN_BITS.length && left != 0; i++) {
            if ((PATTERN_BITS[i] & left) == PATTERN_BITS[i]) {
                sb.append(sb.isEmpty() ? "" : ",").append(PATTERN_NAMES[i]);
                left &= ~PATTERN_BITS[i];
            }
        }
        if (left != 0) {
            sb.append(sb.isEmpty() ? "" : ",").append("unknown_").append(Integer.toHexString(left));
        }
        return sb.toString();
    }

    private static String names(int flags, int[] bits, String[] names) {
        if (flags == 0) {
            return "0";
        }
        StringBuilder sb = new StringBuilder();
        int left = flags;
        for (int i = 0; i < bits.length; i++) {
            if ((left & bits[i]) == bits[i]) {
                sb.append(sb.isEmpty() ? "" : ",").append(names[i]);
                left &= ~bits[i];
            }
        }
        if (left != 0) {
            sb.append(sb.isEmpty() ? "" : ",").append("0x").append(Integer.toHexString(left));
        }
        return sb.toString();
    }

    /** C's {@code %#llx}: "0" for zero, else "0x" and lower-case hex. */
    private static String hexAlt(long v) {
        return v == 0 ? "0" : "0x" + Long.toHexString(v);
    }

    /** Lustre's {@code DFID}: {@code [%#llx:0x%x:0x%x]}. */
    private static String dfid(long seq, int oid, int ver) {
        return "[" + hexAlt(seq) + ":0x" + Integer.toHexString(oid) + ":0x" + Integer.toHexString(ver) + "]";
    }

    /**
     * {@code ostid_to_fid()} (lustre_ostid.h) on the 16 raw bytes of {@code l_ost_oi}: legacy
     * "group 0" ids and IDIF FIDs map to the IDIF FID of OST {@code ostIdx}; a FID with a version
     * is refused (lfs then prints a zero FID); anything else passes through.
     */
    static String ostFid(Fid raw, int ostIdx) {
        long oiId = raw.seq();
        long oiSeq = Integer.toUnsignedLong(raw.oid()) | ((long) raw.ver() << 32);
        boolean idif = Long.compareUnsigned(raw.seq(), 0x100000000L) >= 0
                && Long.compareUnsigned(raw.seq(), 0x1ffffffffL) <= 0;
        if (Integer.compareUnsigned(ostIdx, 0xffff) > 0) {
            return dfid(0, 0, 0);
        }
        if (oiSeq == 0 || (oiSeq != -1L && idif)) {
            long id = oiSeq == 0
                    ? oiId & ((1L << 48) - 1)
                    : ((raw.seq() & 0xffff) << 32) | Integer.toUnsignedLong(raw.oid());
            if (Long.compareUnsigned(id, (1L << 48) - 1) > 0) {
                return dfid(0, 0, 0);
            }
            long seq = 0x100000000L | ((long) ostIdx << 16) | ((id >>> 32) & 0xffff);
            return dfid(seq, (int) id, (int) (id >>> 48));
        }
        if (oiSeq == -1L || raw.ver() != 0) {
            return dfid(0, 0, 0);
        }
        return dfid(raw.seq(), raw.oid(), raw.ver());
    }
}
