package dev.spillway.pool.layout;

import static dev.spillway.pool.layout.LovFormat.*;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Encodes a {@link Layout} to the bytes of Lustre's {@code trusted.lov} xattr and decodes them
 * back, bit for bit as {@code lod_generate_lovea()} (lustre/lod/lod_lov.c) writes them:
 * little-endian packed structs; the {@code lov_comp_md_v1} header; the entry table; then each
 * entry's blob at {@code lcme_offset}, back to back in entry order, starting right after the
 * table. Every struct size is a multiple of 8, so each blob starts 8-byte aligned, which
 * {@code lod_generate_lovea()} asserts ({@code offset % sizeof(__u64) == 0}).
 *
 * <p>The decoder is canonical: it accepts exactly the byte strings {@link #encode} produces, so
 * {@code encode(decode(b))} equals {@code b} whenever {@code decode(b)} returns. Anything else is
 * refused with a {@link LayoutException} naming the field and its byte offset; the decoder throws
 * nothing else, reads each byte at most a few times, and allocates in proportion to the input
 * (counts are checked against the bytes present before anything is sized by them).
 */
public final class LayoutCodec {
    private LayoutCodec() {}

    /** The encoded size of a layout with these components. */
    static int encodedSize(List<Component> components) {
        long size = LOV_COMP_MD_V1_SIZE + (long) components.size() * LOV_COMP_MD_ENTRY_V1_SIZE;
        for (Component c : components) {
            size += c.subLayout().encodedSize();
        }
        return (int) Math.min(size, Integer.MAX_VALUE);
    }

    /** The encoded size of {@code layout} ({@code lcm_size}). */
    public static int encodedSize(Layout layout) {
        return encodedSize(layout.components());
    }

    /** Where each component's blob starts ({@code lcme_offset}), in entry order. */
    public static int[] blobOffsets(Layout layout) {
        List<Component> comps = layout.components();
        int[] offsets = new int[comps.size()];
        int at = LOV_COMP_MD_V1_SIZE + comps.size() * LOV_COMP_MD_ENTRY_V1_SIZE;
        for (int i = 0; i < offsets.length; i++) {
            offsets[i] = at;
            at += comps.get(i).subLayout().encodedSize();
        }
        return offsets;
    }

    /** The xattr value for {@code layout}. */
    public static byte[] encode(Layout layout) {
        List<Component> comps = layout.components();
        int size = encodedSize(comps);
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(LOV_MAGIC_COMP_V1);
        b.putInt(size);
        b.putInt(layout.layoutGen());
        b.putShort((short) layout.flrState().lcmFlag());
        b.putShort((short) comps.size());
        b.putShort((short) (layout.mirrorCount() - 1));
        // lcm_ec_count, lcm_padding3, lcm_padding1, lcm_padding2: already zero
        int[] offsets = blobOffsets(layout);
        for (int i = 0; i < comps.size(); i++) {
            Component c = comps.get(i);
            int e = LOV_COMP_MD_V1_SIZE + i * LOV_COMP_MD_ENTRY_V1_SIZE;
            b.putInt(e, c.id());
            b.putInt(e + 4, c.flags());
            b.putLong(e + 8, c.extentStart());
            b.putLong(e + 16, c.extentEnd());
            b.putInt(e + 24, offsets[i]);
            b.putInt(e + 28, c.subLayout().encodedSize());
            b.putInt(e + 32, c.layoutGen());
            b.putLong(e + 36, c.timestamp() | ((long) c.mirrorLinkId() << 48));
            // lcme_dstripe_count, lcme_cstripe_count, lcme_compr_*: zero
            switch (c.subLayout()) {
                case StripeLayout s -> putStripeLayout(b, offsets[i], s);
                case HsmForeign h -> putHsm(b, offsets[i], h);
            }
        }
        return b.array();
    }

    private static void putStripeLayout(ByteBuffer b, int at, StripeLayout s) {
        b.putInt(at, s.magic());
        b.putInt(at + 4, s.pattern());
        Fid oi = s.lmmOi();
        b.putLong(at + 8, Integer.toUnsignedLong(oi.oid()) | ((long) oi.ver() << 32));
        b.putLong(at + 16, oi.seq());
        b.putInt(at + 24, s.stripeSize());
        b.putShort(at + 28, (short) s.stripeCount());
        b.putShort(at + 30, (short) s.layoutGen());
        int objects = at + LOV_MDS_MD_V1_SIZE;
        if (s.magic() == LOV_MAGIC_V3) {
            byte[] pool = s.poolName().getBytes(StandardCharsets.UTF_8);
            b.put(objects, pool);
            objects = at + LOV_MDS_MD_V3_SIZE;
        }
        for (OstStripe o : s.objects()) {
            b.putLong(objects, o.fid().seq());
            b.putInt(objects + 8, o.fid().oid());
            b.putInt(objects + 12, o.fid().ver());
            b.putInt(objects + 16, o.ostGen());
            b.putInt(objects + 20, o.ostIdx());
            objects += LOV_OST_DATA_V1_SIZE;
        }
    }

    private static void putHsm(ByteBuffer b, int at, HsmForeign h) {
        b.putInt(at, LOV_MAGIC_FOREIGN);
        b.putInt(at + 4, LOV_HSM_BASE_SIZE);
        b.putInt(at + 8, h.type().lfmType());
        b.putInt(at + 12, h.hsmFlags());
        b.putLong(at + 16, h.archiveId());
        b.putLong(at + 24, h.archiveVersion());
        b.put(at + 32, h.identifier().getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Decodes a layout xattr.
     *
     * @throws LayoutException EBADMSG or EPROTO (see there), naming the byte offset at fault
     */
    public static Layout decode(byte[] xattr) throws LayoutException {
        return decode(xattr, null, null);
    }

    /**
     * Decodes the layout xattr of object {@code fid} read from {@code device}; both appear in the
     * error message.
     *
     * @throws LayoutException EBADMSG or EPROTO (see there), naming the device, the object and the
     *     byte offset at fault
     */
    public static Layout decode(byte[] xattr, String device, Fid fid) throws LayoutException {
        Objects.requireNonNull(xattr, "xattr");
        return new Decoder(xattr, device, fid).layout();
    }

    /** One decode: the input, and where errors are reported. */
    private static final class Decoder {
        private final ByteBuffer b;
        private final int len;
        private final String device;
        private final Fid fid;

        Decoder(byte[] xattr, String device, Fid fid) {
            this.b = ByteBuffer.wrap(xattr).order(ByteOrder.LITTLE_ENDIAN);
            this.len = xattr.length;
            this.device = device;
            this.fid = fid;
        }

        private LayoutException bad(int offset, String problem) {
            return new LayoutException(Errno.EBADMSG, device, fid, offset, problem);
        }

        private LayoutException unsupported(int offset, String problem) {
            return new LayoutException(Errno.EPROTO, device, fid, offset, problem);
        }

        private LayoutException at(int offset, LayoutRules.Violation v) {
            return new LayoutException(v.errno, device, fid, offset, v.getMessage());
        }

        private void need(int offset, int bytes, String what) throws LayoutException {
            if (offset + bytes > len) {
                throw bad(
                        Math.min(offset, len),
                        "truncated: " + what + " needs bytes [" + offset + ", " + (offset + bytes)
                                + ") but the xattr is " + len + " bytes");
            }
        }

        private void zero(int offset, int bytes, String field) throws LayoutException {
            for (int i = 0; i < bytes; i++) {
                if (b.get(offset + i) != 0) {
                    throw unsupported(offset + i, field + " is not zero (a field of a newer Lustre, or corruption)");
                }
            }
        }

        Layout layout() throws LayoutException {
            if (len > XATTR_SIZE_MAX) {
                throw bad(XATTR_SIZE_MAX, "the xattr is " + len + " bytes, more than XATTR_SIZE_MAX " + XATTR_SIZE_MAX);
            }
            need(0, 4, "lcm_magic");
            int magic = b.getInt(0);
            checkMagic(magic);
            need(0, LOV_COMP_MD_V1_SIZE, "the lov_comp_md_v1 header");
            int lcmSize = b.getInt(4);
            if (lcmSize != len) {
                throw bad(4, "lcm_size " + Integer.toUnsignedString(lcmSize) + " is not the xattr's size " + len);
            }
            int gen = b.getInt(8);
            int lcmFlags = Short.toUnsignedInt(b.getShort(12));
            try {
                LayoutRules.lcmFlags(lcmFlags);
            } catch (LayoutRules.Violation v) {
                throw at(12, v);
            }
            int entryCount = Short.toUnsignedInt(b.getShort(14));
            if (entryCount == 0) {
                throw bad(14, "lcm_entry_count is 0");
            }
            int tableEnd = LOV_COMP_MD_V1_SIZE + entryCount * LOV_COMP_MD_ENTRY_V1_SIZE;
            if (tableEnd > len) {
                throw bad(
                        14,
                        "lcm_entry_count " + entryCount + " needs an entry table up to byte " + tableEnd
                                + " but the xattr is " + len + " bytes");
            }
            int mirrorCountField = Short.toUnsignedInt(b.getShort(16));
            if (b.get(18) != 0) {
                throw unsupported(
                        18,
                        "lcm_ec_count " + Byte.toUnsignedInt(b.get(18))
                                + ": erasure-coded layouts are not served by the pool");
            }
            zero(19, 1, "lcm_padding3");
            zero(20, 4, "lcm_padding1");
            zero(24, 8, "lcm_padding2");

            List<Component> comps = new ArrayList<>(entryCount);
            int expectedOffset = tableEnd;
            for (int i = 0; i < entryCount; i++) {
                int e = LOV_COMP_MD_V1_SIZE + i * LOV_COMP_MD_ENTRY_V1_SIZE;
                Component c = entry(i, e, expectedOffset);
                comps.add(c);
                expectedOffset += c.subLayout().encodedSize();
            }
            if (expectedOffset != len) {
                throw bad(expectedOffset, "the blobs end at byte " + expectedOffset + " but lcm_size is " + len);
            }
            int mirrors;
            try {
                mirrors = LayoutRules.mirrors(comps);
            } catch (LayoutRules.Violation v) {
                throw at(LOV_COMP_MD_V1_SIZE + Math.max(v.entry, 0) * LOV_COMP_MD_ENTRY_V1_SIZE, v);
            }
            if (mirrors != mirrorCountField + 1) {
                throw bad(
                        16,
                        "lcm_mirror_count " + mirrorCountField + " says " + (mirrorCountField + 1)
                                + " mirrors, the entries hold " + mirrors);
            }
            try {
                return new Layout(gen, FlrState.ofLcmFlags(lcmFlags), comps);
            } catch (IllegalArgumentException e) {
                // every rule above mirrors the constructor's; this is a safety net, not a path
                throw bad(0, "invalid layout: " + e.getMessage());
            }
        }

        private void checkMagic(int magic) throws LayoutException {
            if (magic == LOV_MAGIC_COMP_V1) {
                return;
            }
            if (magic == LOV_MAGIC_V1
                    || magic == LOV_MAGIC_V3
                    || magic == LOV_MAGIC_FOREIGN
                    || magic == LOV_MAGIC_SPECIFIC) {
                throw unsupported(
                        0,
                        "lcm_magic " + LayoutRules.hex32(magic)
                                + " is a plain or foreign layout; pool layouts are composite (LOV_MAGIC_COMP_V1 0xbd60bd0)");
            }
            if (magic == LOV_MAGIC_SEL) {
                throw unsupported(
                        0, "lcm_magic 0xbd80bd0 is a self-extending (SEL) layout, which the pool does not serve");
            }
            if (Integer.reverseBytes(magic) == LOV_MAGIC_COMP_V1) {
                throw bad(
                        0,
                        "lcm_magic " + LayoutRules.hex32(magic)
                                + " is LOV_MAGIC_COMP_V1 byte-swapped: the layout was stored big-endian");
            }
            if ((magic & LOV_MAGIC_MASK) == LOV_MAGIC_MAGIC) {
                throw unsupported(0, "lcm_magic " + LayoutRules.hex32(magic) + " is an unknown LOV magic");
            }
            throw bad(
                    0,
                    "lcm_magic " + LayoutRules.hex32(magic) + " is not a LOV magic (want LOV_MAGIC_COMP_V1 0xbd60bd0)");
        }

        private Component entry(int i, int e, int expectedOffset) throws LayoutException {
            int id = b.getInt(e);
            try {
                LayoutRules.componentId(id);
            } catch (LayoutRules.Violation v) {
                throw at(e, v);
            }
            int flags = b.getInt(e + 4);
            try {
                LayoutRules.lcmeFlags(flags);
            } catch (LayoutRules.Violation v) {
                throw at(e + 4, v);
            }
            long start = b.getLong(e + 8);
            long end = b.getLong(e + 16);
            try {
                LayoutRules.extentStart(start);
            } catch (LayoutRules.Violation v) {
                throw at(e + 8, v);
            }
            try {
                LayoutRules.extentEnd(start, end);
            } catch (LayoutRules.Violation v) {
                throw at(e + 16, v);
            }
            int offset = b.getInt(e + 24);
            if (offset != expectedOffset) {
                throw bad(
                        e + 24,
                        "entry " + i + ": lcme_offset " + Integer.toUnsignedString(offset) + " is not " + expectedOffset
                                + " (blobs follow the entry table back to back, in entry order)");
            }
            int size = b.getInt(e + 28);
            if (size < 0 || size > len - offset) {
                throw bad(
                        e + 28,
                        "entry " + i + ": lcme_size " + Integer.toUnsignedString(size) + " at lcme_offset " + offset
                                + " runs past the xattr's " + len + " bytes");
            }
            int layoutGen = b.getInt(e + 32);
            long timeAndId = b.getLong(e + 36);
            if (b.get(e + 44) != 0 || b.get(e + 45) != 0) {
                throw unsupported(
                        e + 44,
                        "entry " + i + ": lcme_dstripe_count/lcme_cstripe_count are set: "
                                + "erasure coding is not served by the pool");
            }
            if (b.get(e + 46) != 0 || b.get(e + 47) != 0) {
                throw unsupported(
                        e + 46,
                        "entry " + i + ": lcme_compr_type/lcme_compr_lvl are set: "
                                + "compression is not served by the pool");
            }
            SubLayout sub = blob(i, offset, size);
            if (sub instanceof HsmForeign) {
                try {
                    LayoutRules.wholeFile(start, end);
                } catch (LayoutRules.Violation v) {
                    throw at(e + 8, v);
                }
            }
            try {
                return new Component(
                        id,
                        flags,
                        start,
                        end,
                        layoutGen,
                        timeAndId & Component.TIMESTAMP_MASK,
                        (int) (timeAndId >>> 48),
                        sub);
            } catch (IllegalArgumentException ex) {
                throw bad(e, "entry " + i + ": " + ex.getMessage());
            }
        }

        private SubLayout blob(int i, int at, int size) throws LayoutException {
            if (size < 4) {
                throw bad(
                        LOV_COMP_MD_V1_SIZE + i * LOV_COMP_MD_ENTRY_V1_SIZE + 28,
                        "entry " + i + ": lcme_size " + size + " cannot hold a magic");
            }
            int magic = b.getInt(at);
            if (magic == LOV_MAGIC_V1 || magic == LOV_MAGIC_V3) {
                return stripes(i, at, size, magic);
            }
            if (magic == LOV_MAGIC_FOREIGN) {
                return hsm(i, at, size);
            }
            if ((magic & LOV_MAGIC_MASK) == LOV_MAGIC_MAGIC) {
                throw unsupported(
                        at,
                        "entry " + i + ": sub-layout magic " + LayoutRules.hex32(magic)
                                + " is not LOV_MAGIC_V1, LOV_MAGIC_V3 or LOV_MAGIC_FOREIGN");
            }
            throw bad(at, "entry " + i + ": sub-layout magic " + LayoutRules.hex32(magic) + " is not a LOV magic");
        }

        private void blobSize(int i, int at, int size, int want, String what) throws LayoutException {
            if (size != want) {
                throw bad(
                        LOV_COMP_MD_V1_SIZE + i * LOV_COMP_MD_ENTRY_V1_SIZE + 28,
                        "entry " + i + ": lcme_size " + size + " is not the " + want + " bytes of its " + what
                                + " at byte " + at);
            }
        }

        private StripeLayout stripes(int i, int at, int size, int magic) throws LayoutException {
            int header = magic == LOV_MAGIC_V1 ? LOV_MDS_MD_V1_SIZE : LOV_MDS_MD_V3_SIZE;
            if (size < header) {
                throw bad(
                        at,
                        "entry " + i + ": lcme_size " + size + " is too small for a "
                                + (magic == LOV_MAGIC_V1 ? "lov_mds_md_v1" : "lov_mds_md_v3") + " header of " + header
                                + " bytes");
            }
            int pattern = b.getInt(at + 4);
            try {
                LayoutRules.pattern(pattern);
            } catch (LayoutRules.Violation v) {
                throw at(at + 4, v);
            }
            long oiId = b.getLong(at + 8);
            long oiSeq = b.getLong(at + 16);
            int stripeSize = b.getInt(at + 24);
            try {
                LayoutRules.stripeSize(stripeSize);
            } catch (LayoutRules.Violation v) {
                throw at(at + 24, v);
            }
            int stripeCount = Short.toUnsignedInt(b.getShort(at + 28));
            try {
                LayoutRules.stripeCount(stripeCount);
            } catch (LayoutRules.Violation v) {
                throw at(at + 28, v);
            }
            int layoutGen = Short.toUnsignedInt(b.getShort(at + 30));
            blobSize(
                    i,
                    at,
                    size,
                    header + stripeCount * LOV_OST_DATA_V1_SIZE,
                    "lov_mds_md with lmm_stripe_count " + stripeCount);
            String pool = null;
            if (magic == LOV_MAGIC_V3) {
                pool = nulPadded(at + LOV_MDS_MD_V1_SIZE, LOV_MAXPOOLNAME + 1, true, "lmm_pool_name");
            }
            List<OstStripe> objects = new ArrayList<>(stripeCount);
            for (int s = 0, o = at + header; s < stripeCount; s++, o += LOV_OST_DATA_V1_SIZE) {
                objects.add(new OstStripe(
                        new Fid(b.getLong(o), b.getInt(o + 8), b.getInt(o + 12)), b.getInt(o + 16), b.getInt(o + 20)));
            }
            Fid lmmOi = new Fid(oiSeq, (int) oiId, (int) (oiId >>> 32));
            try {
                return new StripeLayout(magic, pattern, lmmOi, stripeSize, layoutGen, pool, objects);
            } catch (IllegalArgumentException ex) {
                throw bad(at, "entry " + i + ": " + ex.getMessage());
            }
        }

        private HsmForeign hsm(int i, int at, int size) throws LayoutException {
            if (size < LOV_FOREIGN_MD_SIZE) {
                throw bad(
                        at,
                        "entry " + i + ": lcme_size " + size + " is too small for a lov_foreign_md header of "
                                + LOV_FOREIGN_MD_SIZE + " bytes");
            }
            int type = b.getInt(at + 8);
            try {
                LayoutRules.hsmType(type);
            } catch (LayoutRules.Violation v) {
                throw at(at + 8, v);
            }
            try {
                LayoutRules.hsmLength(b.getInt(at + 4));
            } catch (LayoutRules.Violation v) {
                throw at(at + 4, v);
            }
            blobSize(i, at, size, LOV_HSM_MD_SIZE, "lov_hsm_md");
            int flags = b.getInt(at + 12);
            try {
                LayoutRules.hsmFlags(flags);
            } catch (LayoutRules.Violation v) {
                throw at(at + 12, v);
            }
            String id = nulPadded(at + 32, UUID_MAX, false, "lhm_archive_uuid");
            try {
                return new HsmForeign(HsmType.ofLfmType(type), flags, b.getLong(at + 16), b.getLong(at + 24), id);
            } catch (IllegalArgumentException ex) {
                throw bad(at, "entry " + i + ": " + ex.getMessage());
            }
        }

        /**
         * A NUL-padded string field: the bytes up to the first NUL, strict UTF-8, then only NULs
         * (anything after the terminator would be lost on re-encode).
         */
        private String nulPadded(int at, int width, boolean terminated, String field) throws LayoutException {
            int n = 0;
            while (n < width && b.get(at + n) != 0) {
                n++;
            }
            if (terminated && n == width) {
                throw bad(at + width - 1, field + " is not NUL-terminated within its " + width + " bytes");
            }
            for (int k = n; k < width; k++) {
                if (b.get(at + k) != 0) {
                    throw bad(at + k, field + " has bytes after its NUL terminator");
                }
            }
            try {
                CharBuffer chars = StandardCharsets.UTF_8
                        .newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(b.duplicate().position(at).limit(at + n));
                return chars.toString();
            } catch (CharacterCodingException ex) {
                throw bad(at, field + " is not valid UTF-8");
            }
        }
    }
}
