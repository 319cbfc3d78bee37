package dev.spillway.osd.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The formats osd-s3 stores, without a server: metadata, block sums, keys, part sizes, errno. */
class EncodingTest {
    private static final Fid F = Fid.of(0x200000400L, 7);

    @Test
    void metadataRoundTripsEveryFieldAndByte() throws Exception {
        ObjectMeta m = ObjectMeta.created(
                        AttrChange.none()
                                .mode(0100644)
                                .uid(-2)
                                .gid(Integer.MAX_VALUE)
                                .atime(-5)
                                .mtime(Long.MAX_VALUE)
                                .ctime(Long.MIN_VALUE)
                                .flags(0xdeadbeef),
                        1)
                .bodyChanged(42)
                .withXattr("user.A,b=c%d", new byte[] {0, 1, (byte) 0xff}, 43)
                .withXattr("trusted.lov", new byte[0], 44)
                .withXattr("user.日本", "x".getBytes(), 45)
                .withSums(new BlockSums(3, new int[] {0x12345678}).encode(null));
        Map<String, String> md = m.toMetadata();
        assertThat(md.keySet()).containsExactly("spillway-attr", "spillway-sums", "spillway-xattrs");
        for (String v : md.values()) {
            assertThat(v.chars().allMatch(c -> c > 32 && c < 127))
                    .as("header-safe value %s", v)
                    .isTrue();
        }
        ObjectMeta back = ObjectMeta.parse(md, "d", F, "k");
        assertThat(back.toMetadata()).isEqualTo(md);
        assertThat(back.xattrs().keySet()).containsExactlyInAnyOrder("user.A,b=c%d", "trusted.lov", "user.日本");
        assertThat(back.xattrs().get("user.A,b=c%d")).containsExactly(0, 1, 0xff);
        assertThat(back.attr(3).uid()).isEqualTo(-2);
        assertThat(back.attr(3).mtime()).isEqualTo(42);
        assertThat(back.attr(3).dataVersion()).isEqualTo(2);
        assertThat(back.attr(3).blocks()).isEqualTo(1);
        // A server that lower-cases metadata keys changes nothing.
        Map<String, String> upper = new java.util.HashMap<>();
        md.forEach((k, v) -> upper.put(k.toUpperCase(), v));
        assertThat(ObjectMeta.parse(upper, "d", F, "k").xattrs().keySet()).contains("user.A,b=c%d");
    }

    @Test
    void theReservedRoomHoldsTheLargestAttributesAndSums() {
        ObjectMeta worst = new ObjectMeta(
                -1,
                -1,
                -1,
                Long.MIN_VALUE,
                Long.MIN_VALUE,
                Long.MIN_VALUE,
                -1,
                Long.MIN_VALUE,
                new java.util.TreeMap<>(),
                new BlockSums(8L << 20, new int[BlockSums.INLINE_MAX]).encode(null));
        assertThat(worst.metadataBytes()).isLessThanOrEqualTo(ObjectMeta.RESERVED);
        assertThat(ObjectMeta.MAX_VALUE).isEqualTo(1089);
    }

    @Test
    void objectsNotWrittenBySpillwayAreEproto() {
        assertThatThrownBy(() -> ObjectMeta.parse(Map.of("color", "blue"), "dev", F, "k"))
                .isInstanceOfSatisfying(
                        OsdException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EPROTO));
        assertThatThrownBy(() -> ObjectMeta.parse(Map.of("spillway-attr", "2;0", "spillway-sums", "i"), "dev", F, "k"))
                .isInstanceOf(OsdException.class);
    }

    @Test
    void blockSumsFollowTheBytesWhateverTheWriteSizes() {
        byte[] b = new byte[(3 << 20) + 5];
        new Random(1).nextBytes(b);
        BlockSums.Builder one = new BlockSums.Builder();
        one.update(b, 0, b.length);
        BlockSums.Builder many = new BlockSums.Builder();
        for (int off = 0; off < b.length; off += 777) {
            many.update(b, off, Math.min(777, b.length - off));
        }
        BlockSums s = one.build();
        assertThat(many.build().crcs()).isEqualTo(s.crcs());
        assertThat(s.crcs()).hasSize(4);
        assertThat(s.crcs()[3]).isEqualTo(BlockSums.crc(b, 3 << 20, 5));
        assertThat(BlockSums.inlineCrcs(s.encode(null))).isEqualTo(s.crcs());
        assertThat(BlockSums.parseSidecar(s.sidecar()).crcs()).isEqualTo(s.crcs());
        assertThat(BlockSums.parseSidecar(s.sidecar()).size()).isEqualTo(b.length);
        assertThat(new BlockSums(9L << 20, new int[9]).encode("abc")).isEqualTo("sabc");
        assertThat(BlockSums.token("sabc")).isEqualTo("abc");
    }

    @Test
    void keysNameObjectsByFidAndNothingElse() {
        S3Keys k = new S3Keys("p/q/");
        assertThat(k.object(F)).isEqualTo("p/q/objects/0x200000400:0x7:0x0");
        assertThat(k.fidOf(k.object(F))).isEqualTo(F);
        assertThat(k.fidOf("p/q/objects/0x0200000400:0x7:0x0"))
                .as("not the canonical text")
                .isNull();
        assertThat(k.fidOf("p/q/objects/x/0x200000400:0x7:0x0")).isNull();
        assertThat(k.fidOf("p/q/.spillway/statfs")).isNull();
        assertThat(k.sums(F, "t")).isEqualTo("p/q/sums/0x200000400:0x7:0x0/t");
    }

    @Test
    void aBodyDeclaredPastTenThousandPartsGetsLargerParts() {
        assertThat(BodyUpload.partSizeFor(8 << 20, 0)).isEqualTo(8 << 20);
        assertThat(BodyUpload.partSizeFor(8 << 20, 78L << 30)).isEqualTo(8 << 20);
        assertThat(BodyUpload.partSizeFor(8 << 20, 100L << 30)).isEqualTo(11 << 20);
        assertThat(BodyUpload.partSizeFor(8 << 20, 5L << 40)).isEqualTo(525 << 20);
        assertThat((5L << 40) / BodyUpload.partSizeFor(8 << 20, 5L << 40)).isLessThanOrEqualTo(BodyUpload.MAX_PARTS);
    }

    @Test
    void s3ErrorsMapToErrno() {
        assertThat(S3Errors.errnoOf(404, "NoSuchKey")).isEqualTo(Errno.ENOENT);
        assertThat(S3Errors.errnoOf(403, "AccessDenied")).isEqualTo(Errno.EACCES);
        assertThat(S3Errors.errnoOf(403, "SignatureDoesNotMatch")).isEqualTo(Errno.EACCES);
        assertThat(S3Errors.errnoOf(503, "SlowDown")).isEqualTo(Errno.EIO);
        assertThat(S3Errors.errnoOf(500, "InternalError")).isEqualTo(Errno.EIO);
        assertThat(S3Errors.errnoOf(400, "EntityTooLarge")).isEqualTo(Errno.EFBIG);
        assertThat(S3Errors.errnoOf(400, "MetadataTooLarge")).isEqualTo(Errno.E2BIG);
        assertThat(S3Errors.errnoOf(507, null)).isEqualTo(Errno.ENOSPC);
        assertThat(S3Errors.errnoOf(412, null)).isEqualTo(Errno.ESTALE);
    }
}
