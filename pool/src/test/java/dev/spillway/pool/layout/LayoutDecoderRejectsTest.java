package dev.spillway.pool.layout;

import static dev.spillway.pool.layout.LovFormat.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * One malformed input per rule: each is refused with the right errno, at the offset of the field
 * at fault, with a message naming that field. The base inputs are the hand-derived golden
 * vectors; offsets below refer to their layout (header 0..31, entry 0 at 32, entry 1 at 80,
 * blobs at 128 and 184 for {@code TWO_COPIES}).
 */
class LayoutDecoderRejectsTest {

    static byte[] two() {
        return HexVector.parse(LayoutCodecGoldenTest.TWO_COPIES);
    }

    static byte[] one() {
        return HexVector.parse(LayoutCodecGoldenTest.ONE_COPY);
    }

    static byte[] put32(byte[] b, int off, int v) {
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(off, v);
        return b;
    }

    static byte[] put16(byte[] b, int off, int v) {
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putShort(off, (short) v);
        return b;
    }

    static byte[] put64(byte[] b, int off, long v) {
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(off, v);
        return b;
    }

    static LayoutException rejected(byte[] b, Errno errno, int offset, String fragment) {
        byte[] copy = b.clone();
        LayoutException e = catchThrowableOfType(LayoutException.class, () -> LayoutCodec.decode(b));
        assertThat(e).as("decode must refuse").isNotNull();
        assertThat(e.errno()).as(e.getMessage()).isEqualTo(errno);
        assertThat(e.offset()).as(e.getMessage()).isEqualTo(offset);
        assertThat(e.problem()).contains(fragment);
        assertThat(b).as("the input is untouched").isEqualTo(copy);
        return e;
    }

    @Test
    void messageNamesDeviceObjectAndOffset() {
        byte[] b = put32(two(), 0, 0xdeadbeef);
        LayoutException e = catchThrowableOfType(
                LayoutException.class, () -> LayoutCodec.decode(b, "fast", Fid.of(0x200000401L, 1)));
        assertThat(e.getMessage())
                .isEqualTo("fast: [0x200000401:0x1:0x0]: EBADMSG: layout xattr, byte 0: "
                        + "lcm_magic 0xdeadbeef is not a LOV magic (want LOV_MAGIC_COMP_V1 0xbd60bd0)");
        assertThat(e.device()).isEqualTo("fast");
        assertThat(e.fid()).isEqualTo(Fid.of(0x200000401L, 1));
    }

    @Test
    void magics() {
        rejected(put32(two(), 0, 0xdeadbeef), Errno.EBADMSG, 0, "not a LOV magic");
        rejected(put32(two(), 0, Integer.reverseBytes(LOV_MAGIC_COMP_V1)), Errno.EBADMSG, 0, "byte-swapped");
        rejected(put32(two(), 0, LOV_MAGIC_V1), Errno.EPROTO, 0, "plain or foreign");
        rejected(put32(two(), 0, LOV_MAGIC_FOREIGN), Errno.EPROTO, 0, "plain or foreign");
        rejected(put32(two(), 0, LOV_MAGIC_SEL), Errno.EPROTO, 0, "SEL");
        rejected(put32(two(), 0, 0x0BD90BD0), Errno.EPROTO, 0, "unknown LOV magic");
        rejected(put32(two(), 128, 0x0BD90BD0), Errno.EPROTO, 128, "sub-layout magic");
        rejected(put32(two(), 128, LOV_MAGIC_COMP_V1), Errno.EPROTO, 128, "sub-layout magic");
        rejected(put32(two(), 184, 0x12345678), Errno.EBADMSG, 184, "not a LOV magic");
    }

    @Test
    void truncationAtEveryLength() {
        byte[] full = two();
        for (int n = 0; n < full.length; n++) {
            byte[] cut = Arrays.copyOf(full, n);
            LayoutException e = catchThrowableOfType(LayoutException.class, () -> LayoutCodec.decode(cut));
            assertThat(e).as("prefix of %d bytes", n).isNotNull();
            assertThat(e.errno()).isEqualTo(Errno.EBADMSG);
            assertThat(e.offset()).isBetween(0, n);
        }
        rejected(new byte[0], Errno.EBADMSG, 0, "truncated");
        rejected(Arrays.copyOf(full, 20), Errno.EBADMSG, 0, "lov_comp_md_v1 header");
    }

    @Test
    void sizesAndCounts() {
        rejected(put32(two(), 4, 255), Errno.EBADMSG, 4, "lcm_size 255");
        rejected(Arrays.copyOf(two(), 264), Errno.EBADMSG, 4, "lcm_size 256");
        rejected(put32(Arrays.copyOf(two(), 264), 4, 264), Errno.EBADMSG, 256, "blobs end at byte 256");
        rejected(put16(two(), 14, 0), Errno.EBADMSG, 14, "lcm_entry_count is 0");
        rejected(put16(two(), 14, 0xffff), Errno.EBADMSG, 14, "entry table");
        rejected(put16(two(), 16, 0), Errno.EBADMSG, 16, "lcm_mirror_count 0");
        rejected(put16(two(), 16, 2), Errno.EBADMSG, 16, "lcm_mirror_count 2");
        rejected(new byte[XATTR_SIZE_MAX + 1], Errno.EBADMSG, XATTR_SIZE_MAX, "XATTR_SIZE_MAX");
    }

    @Test
    void offsetsAndOverlaps() {
        rejected(put32(two(), 56, 136), Errno.EBADMSG, 56, "lcme_offset 136 is not 128");
        rejected(put32(two(), 104, 128), Errno.EBADMSG, 104, "lcme_offset 128 is not 184"); // overlaps blob 0
        rejected(put32(two(), 104, 0), Errno.EBADMSG, 104, "lcme_offset 0"); // points into the header
        rejected(put32(two(), 104, 0xfffffff0), Errno.EBADMSG, 104, "lcme_offset 4294967280");
        rejected(put32(two(), 60, 80), Errno.EBADMSG, 60, "is not the 56 bytes");
        rejected(put32(two(), 60, 0x7fffffff), Errno.EBADMSG, 60, "runs past");
        rejected(put32(two(), 60, -1), Errno.EBADMSG, 60, "runs past");
        rejected(put32(two(), 60, 2), Errno.EBADMSG, 60, "cannot hold a magic");
        rejected(put32(two(), 108, 56), Errno.EBADMSG, 108, "is not the 72 bytes");
    }

    @Test
    void componentIdsAndFlags() {
        rejected(put32(two(), 32, 0), Errno.EBADMSG, 32, "LCME_ID_INVAL");
        rejected(put32(two(), 32, 0x80010001), Errno.EBADMSG, 32, "LCME_ID_MAX");
        rejected(put32(two(), 80, 0x00010001), Errno.EBADMSG, 80, "appears twice");
        rejected(put32(two(), 36, LCME_FL_INIT | LCME_FL_NEG), Errno.EBADMSG, 36, "LCME_FL_NEG");
        rejected(put32(two(), 36, LCME_FL_INIT | LCME_FL_PARITY), Errno.EPROTO, 36, "parity");
        rejected(put32(two(), 36, LCME_FL_INIT | LCME_FL_EXTENSION), Errno.EPROTO, 36, "extension");
        rejected(put32(two(), 36, LCME_FL_INIT | LCME_FL_COMPRESS), Errno.EPROTO, 36, "compress");
        rejected(put32(two(), 36, LCME_FL_INIT | 0x800), Errno.EPROTO, 36, "unknown bits 0x800");
        rejected(put16(two(), 12, LCM_FL_RDONLY | LCM_FL_PCC_RDONLY), Errno.EPROTO, 12, "LCM_FL_PCC_RDONLY");
        rejected(put16(two(), 12, 0x10), Errno.EPROTO, 12, "unknown bits 0x10");
    }

    @Test
    void extentsAndMirrors() {
        rejected(put64(two(), 40, 4096), Errno.EBADMSG, 40, "LOV_MIN_STRIPE_SIZE");
        rejected(put64(two(), 96, 1 << 20), Errno.EBADMSG, 88, "an HSM component must cover");
        rejected(put64(two(), 48, 12345), Errno.EBADMSG, 48, "e_end 12345");
        rejected(put64(two(), 40, -65536L), Errno.EBADMSG, 40, "e_start");
        // the S3 copy given mirror id 1: mirror 1 then has a component after EOF
        rejected(put32(two(), 80, 0x00010003), Errno.EBADMSG, 80, "after one that ends at EOF");
        // a PFL mirror whose second component does not start where the first ends
        byte[] pfl = HexVector.parse(LayoutCodecGoldenTest.LFS_PFL_EXAMPLE);
        rejected(put64(pfl.clone(), 88, 2 << 20), Errno.EBADMSG, 80, "previous component ends at 1048576");
        // the same two components in different mirrors: mirror 1 would start at 1 MiB
        rejected(put32(pfl.clone(), 80, 0x00010002), Errno.EBADMSG, 80, "starts at 1048576, not 0");
        // empty extent
        rejected(put64(pfl.clone(), 48, 0), Errno.EBADMSG, 48, "is empty");
    }

    @Test
    void nonContiguousMirror() {
        // three whole-file copies: mirror ids 1, 2, 1
        StripeLayout s = StripeLayout.ostCopy(Fid.of(0x200000401L, 1), 0, Fid.of(0x200000401L, 1));
        Layout l = Layout.of(s).addMirror(s, LCME_FL_INIT).addMirror(s, LCME_FL_INIT);
        byte[] b = LayoutCodec.encode(l);
        put32(b, 32 + 2 * 48, pflrId(1, 9));
        rejected(b, Errno.EBADMSG, 32 + 2 * 48, "not contiguous");
    }

    @Test
    void reservedAndEcFields() {
        rejected(put16(two(), 18, 1), Errno.EPROTO, 18, "lcm_ec_count");
        rejected(put16(two(), 18, 0x100), Errno.EPROTO, 19, "lcm_padding3");
        rejected(put32(two(), 20, 1), Errno.EPROTO, 20, "lcm_padding1");
        rejected(put64(two(), 24, 1L << 40), Errno.EPROTO, 29, "lcm_padding2");
        rejected(put16(two(), 32 + 44, 0x0102), Errno.EPROTO, 76, "erasure coding");
        rejected(put16(two(), 32 + 46, 0x0001), Errno.EPROTO, 78, "compression");
    }

    @Test
    void stripeSubLayouts() {
        rejected(put32(two(), 132, LOV_PATTERN_MDT), Errno.EPROTO, 132, "mdt");
        rejected(put32(two(), 132, LOV_PATTERN_RAID0 | LOV_PATTERN_F_RELEASED), Errno.EPROTO, 132, "raid0,released");
        rejected(put32(two(), 152, 4096), Errno.EBADMSG, 152, "lmm_stripe_size 4096");
        rejected(put32(two(), 152, 0), Errno.EBADMSG, 152, "lmm_stripe_size 0");
        rejected(put16(two(), 156, 0), Errno.EBADMSG, 156, "lmm_stripe_count 0");
        rejected(put16(two(), 156, 0xffff), Errno.EBADMSG, 156, "lmm_stripe_count 65535");
        rejected(put16(two(), 156, 2), Errno.EBADMSG, 60, "lmm_stripe_count 2");
        // v3 magic without room for the pool name
        rejected(put32(two(), 128, LOV_MAGIC_V3), Errno.EBADMSG, 60, "is not the 72 bytes");
        byte[] v3 = HexVector.parse(LayoutCodecGoldenTest.V3_POOL);
        byte[] unterminated = v3.clone();
        Arrays.fill(unterminated, 0x70, 0x80, (byte) 'x');
        rejected(unterminated, Errno.EBADMSG, 0x7f, "not NUL-terminated");
        byte[] garbage = v3.clone();
        garbage[0x7a] = 'y';
        rejected(garbage, Errno.EBADMSG, 0x7a, "after its NUL");
        byte[] badUtf8 = v3.clone();
        badUtf8[0x70] = (byte) 0xc3; // a lead byte with no continuation
        badUtf8[0x71] = (byte) 0x28;
        rejected(badUtf8, Errno.EBADMSG, 0x70, "not valid UTF-8");
    }

    @Test
    void hsmSubLayouts() {
        rejected(put32(two(), 192, LU_FOREIGN_TYPE_SYMLINK), Errno.EPROTO, 192, "not an HSM foreign type");
        rejected(put32(two(), 192, LU_FOREIGN_TYPE_NONE), Errno.EPROTO, 192, "not an HSM foreign type");
        rejected(put32(two(), 188, 40), Errno.EBADMSG, 188, "lhm_length 40");
        rejected(put32(two(), 188, -1), Errno.EBADMSG, 188, "lhm_length 4294967295");
        rejected(put32(two(), 196, 0), Errno.EBADMSG, 196, "lhm_flags is 0");
        rejected(put32(two(), 196, HS_EXISTS | 0x200), Errno.EPROTO, 196, "unknown bits 0x200");
        byte[] tail = two();
        tail[0xf0] = 'z'; // after the identifier's NUL
        rejected(tail, Errno.EBADMSG, 0xf0, "after its NUL");
        byte[] badUtf8 = two();
        badUtf8[0xd8] = (byte) 0xff;
        rejected(badUtf8, Errno.EBADMSG, 0xd8, "not valid UTF-8");
        byte[] overlong = two(); // "/" as the overlong 2-byte form c0 af
        overlong[0xd8] = (byte) 0xc0;
        overlong[0xd9] = (byte) 0xaf;
        rejected(overlong, Errno.EBADMSG, 0xd8, "not valid UTF-8");
    }

    @Test
    void aFullFortyByteIdentifierNeedsNoNul() throws Exception {
        String key = "0xffffffffffffffff:0xffffffff:0xffffffff";
        assertThat(key).hasSize(UUID_MAX);
        Layout l = Layout.of(HsmForeign.copy(HsmType.POSIX, 1, 7, key, HS_EXISTS | HS_ARCHIVED));
        byte[] b = LayoutCodec.encode(l);
        assertThat(LayoutCodec.decode(b)).isEqualTo(l);
        assertThat(b[b.length - 1]).isEqualTo((byte) 'f');
    }

    @Test
    void recordsRefuseWhatTheDecoderRefuses() {
        Fid f = Fid.of(0x200000401L, 1);
        assertThatThrownBy(() -> HsmForeign.copy(HsmType.S3, 1, 1, "x".repeat(41), HS_EXISTS))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("UUID_MAX");
        assertThatThrownBy(() -> HsmForeign.copy(HsmType.S3, 1, 1, "a\0b", HS_EXISTS))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("NUL");
        assertThatThrownBy(() -> HsmForeign.copy(HsmType.S3, 1, 1, "\ud800", HS_EXISTS))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("surrogate");
        assertThatThrownBy(() -> HsmForeign.copy(HsmType.S3, 1, 1, "k", 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("lhm_flags is 0");
        assertThatThrownBy(() -> Component.wholeFile(0, LCME_FL_INIT, StripeLayout.ostCopy(f, 0, f)))
                .hasMessageContaining("LCME_ID_INVAL");
        assertThatThrownBy(() -> new Component(1, 0, 0, 1 << 20, 0, 0, 0, HsmForeign.copy(HsmType.S3, 1, 1, "k", 1)))
                .hasMessageContaining("[0, EOF)");
        assertThatThrownBy(() -> new StripeLayout(LOV_MAGIC_V1, LOV_PATTERN_RAID0, f, 1 << 20, 0, null, List.of()))
                .hasMessageContaining("lmm_stripe_count 0");
        assertThatThrownBy(() -> new StripeLayout(
                        LOV_MAGIC_V3,
                        LOV_PATTERN_RAID0,
                        f,
                        1 << 20,
                        0,
                        "sixteen-bytes-xx",
                        List.of(OstStripe.of(0, f))))
                .hasMessageContaining("LOV_MAXPOOLNAME");
        assertThatThrownBy(() -> new Layout(1, FlrState.NONE, List.of())).hasMessageContaining("lcm_entry_count");
    }
}
