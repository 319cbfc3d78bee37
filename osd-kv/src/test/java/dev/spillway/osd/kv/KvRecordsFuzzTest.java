package dev.spillway.osd.kv;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.spillway.osd.Attr;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.testkit.fuzz.AllocationBound;
import dev.spillway.osd.testkit.fuzz.SeedCorpus;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/**
 * Coverage-guided fuzzing (Jazzer; {@code docs/fuzzing.md}) of osd-kv's record decoders: the
 * attribute record ({@code 'O' fid 'A'}), the extent record ({@code 'O' fid 'E' block}) and the
 * superblock. For any bytes a decoder returns a value that encodes back to exactly those bytes,
 * or throws its own checked error ({@link CorruptRecord}, {@link Superblock.Invalid}); nothing
 * else, within a bounded allocation. The superblock is also decoded with its CRC32C made right,
 * so that the fuzzer reaches the checks behind the checksum.
 */
class KvRecordsFuzzTest {
    private static final int BLOCK = 4096;
    private static final AllocationBound BOUND = new AllocationBound(64 << 10, 16);

    @FuzzTest
    void objectRecord(byte[] value) {
        InodeRecord[] out = new InodeRecord[1];
        try {
            BOUND.check(value.length, () -> out[0] = InodeRecord.decode(value, BLOCK));
        } catch (CorruptRecord e) {
            assertThat(e.getMessage()).isNotBlank();
            return;
        }
        assertThat(out[0].encode()).as("an accepted record is canonical").isEqualTo(value);
        assertThat(out[0].attr().blocks()).isNotNegative();
    }

    @FuzzTest
    void extent(byte[] keyBlockAndValue) {
        if (keyBlockAndValue.length < 8) {
            return;
        }
        long start = ByteBuffer.wrap(keyBlockAndValue).getLong();
        byte[] value = Arrays.copyOfRange(keyBlockAndValue, 8, keyBlockAndValue.length);
        Piece.Extent[] out = new Piece.Extent[1];
        try {
            BOUND.check(value.length, () -> out[0] = Piece.Extent.decode(start, value));
        } catch (CorruptRecord e) {
            assertThat(e.getMessage()).isNotBlank();
            return;
        }
        assertThat(out[0].encode()).as("an accepted extent is canonical").isEqualTo(value);
        assertThat(out[0].end()).isGreaterThan(out[0].start());
    }

    @FuzzTest
    void superblock(byte[] file) {
        superblockContract(file);
        if (file.length == Superblock.SIZE) {
            byte[] fixed = file.clone();
            CRC32C crc = new CRC32C();
            crc.update(fixed, 0, Superblock.SIZE - 4);
            ByteBuffer.wrap(fixed).putInt(Superblock.SIZE - 4, (int) crc.getValue());
            superblockContract(fixed);
        }
    }

    private static void superblockContract(byte[] file) {
        Superblock[] out = new Superblock[1];
        try {
            BOUND.check(file.length, () -> out[0] = Superblock.decode(file));
        } catch (Superblock.Invalid e) {
            assertThat(e.getMessage()).isNotBlank();
            return;
        }
        assertThat(out[0].encode()).as("an accepted superblock is canonical").isEqualTo(file);
    }

    static Map<String, byte[]> objectRecords() {
        Map<String, byte[]> s = new LinkedHashMap<>();
        long now = 1_767_225_600_000_000_000L; // 2026-01-01 in ns
        s.put(
                "new-data",
                new InodeRecord(new Attr(ObjectKind.DATA, 0, 0, 0644, 0, 0, now, now, now, 0, 1), 0, 0, 0, 0, 1)
                        .encode());
        s.put(
                "inline-body",
                new InodeRecord(
                                new Attr(ObjectKind.DATA, 10_000, 24, 0644, 1000, 1000, now, now + 5, now + 5, 0, 3),
                                3,
                                120,
                                0,
                                InodeRecord.MAY_HAVE_INLINE,
                                42)
                        .encode());
        s.put(
                "extent-body",
                new InodeRecord(
                                new Attr(ObjectKind.DATA, 1L << 30, (1L << 30) / 512, 0600, 0, 0, now, now, now, 0, 9),
                                (1L << 30) / BLOCK,
                                0,
                                0,
                                0,
                                77)
                        .encode());
        s.put(
                "index",
                new InodeRecord(new Attr(ObjectKind.INDEX, 0, 0, 0755, 0, 0, now, now, now, 0, 1), 0, 64, 4096, 0, 1)
                        .encode());
        return s;
    }

    static Map<String, byte[]> extents() {
        Map<String, byte[]> s = new LinkedHashMap<>();
        s.put(
                "first-mib",
                ByteBuffer.allocate(40)
                        .putLong(0)
                        .put(new Piece.Extent(0, 256, 1, 0, 1 << 20).encode())
                        .array());
        s.put(
                "short-tail",
                ByteBuffer.allocate(40)
                        .putLong(256)
                        .put(new Piece.Extent(256, 3, 7, 4096, 9000).encode())
                        .array());
        return s;
    }

    static Map<String, byte[]> superblocks() {
        Map<String, byte[]> s = new LinkedHashMap<>();
        s.put("4k", new Superblock(1, 4096, new UUID(0x5eedL, 0x1eafL), 1_767_225_600_000L).encode());
        s.put("64k", new Superblock(1, 65536, new UUID(-1L, 1L), 0).encode());
        return s;
    }

    @Test
    void seedCorporaHoldValidRecords() throws Exception {
        for (byte[] b : objectRecords().values()) {
            assertThat(InodeRecord.decode(b, BLOCK).encode()).isEqualTo(b);
        }
        for (byte[] b : extents().values()) {
            assertThat(Piece.Extent.decode(ByteBuffer.wrap(b).getLong(), Arrays.copyOfRange(b, 8, b.length))
                            .encode())
                    .isEqualTo(Arrays.copyOfRange(b, 8, b.length));
        }
        for (byte[] b : superblocks().values()) {
            assertThat(Superblock.decode(b).encode()).isEqualTo(b);
        }
        SeedCorpus.of(getClass(), "objectRecord").check(objectRecords());
        SeedCorpus.of(getClass(), "extent").check(extents());
        SeedCorpus.of(getClass(), "superblock").check(superblocks());
    }

    /** Found by this target before the fix: an unknown kind was an ArrayIndexOutOfBoundsException. */
    @Test
    void anUnknownKindIsACorruptRecordNotAnIndexError() {
        byte[] b = objectRecords().get("new-data");
        b[1] = 7;
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> InodeRecord.decode(b, BLOCK))
                .isInstanceOf(CorruptRecord.class)
                .hasMessageContaining("unknown object kind 7");
    }
}
