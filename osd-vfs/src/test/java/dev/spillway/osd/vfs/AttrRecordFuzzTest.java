package dev.spillway.osd.vfs;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.spillway.osd.Attr;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.testkit.fuzz.SeedCorpus;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/**
 * Coverage-guided fuzzing (Jazzer; {@code docs/fuzzing.md}) of osd-vfs's per-object record
 * ({@code <fid>.attr}, two 96-byte slots). For any file content the reader returns the valid
 * slot with the highest generation or null (its contract: neither slot valid), never throws;
 * an accepted slot is canonical (it encodes back to the same 84 checked bytes). Each slot is
 * also decoded with its CRC32C made right, so that the fuzzer reaches the checks behind it.
 */
class AttrRecordFuzzTest {
    static final Fid FID = new Fid(0x200000401L, 0x2004c, 0);

    @FuzzTest
    void record(byte[] file) {
        slots(file);
        byte[] fixed = Arrays.copyOf(file, AttrRecord.FILE_SIZE);
        for (int at = 0; at < AttrRecord.FILE_SIZE; at += AttrRecord.SLOT) {
            CRC32C crc = new CRC32C();
            crc.update(fixed, at, 80);
            ByteBuffer.wrap(fixed).order(ByteOrder.LITTLE_ENDIAN).putInt(at + 80, (int) crc.getValue());
        }
        slots(fixed);
    }

    private static void slots(byte[] file) {
        AttrRecord.Stored best = null;
        for (int at = 0; at + AttrRecord.SLOT <= file.length && at < AttrRecord.FILE_SIZE; at += AttrRecord.SLOT) {
            AttrRecord.Stored s = AttrRecord.decodeSlot(FID, file, at);
            if (s != null) {
                byte[] again = AttrRecord.encodeSlot(FID, s.attr(), s.generation());
                assertThat(Arrays.copyOf(again, 84))
                        .as("an accepted slot is canonical")
                        .isEqualTo(Arrays.copyOfRange(file, at, at + 84));
                assertThat(s.attr().size()).isZero();
                if (best == null || s.generation() > best.generation()) {
                    best = s;
                }
            }
        }
    }

    static Map<String, byte[]> seeds() {
        long now = 1_767_225_600_000_000_000L;
        Attr data = new Attr(ObjectKind.DATA, 0, 0, 0100644, 1000, 1000, now, now, now, 0, 1);
        Attr index = new Attr(ObjectKind.INDEX, 0, 0, 040755, 0, 0, now, now + 1, now + 1, 0, 7);
        Map<String, byte[]> s = new LinkedHashMap<>();
        s.put("fresh", AttrRecord.fresh(FID, data).array());
        byte[] both = AttrRecord.fresh(FID, data).array();
        System.arraycopy(
                AttrRecord.encodeSlot(FID, data.bodyChanged(4096, 8, now + 9), 2), 0, both, 0, AttrRecord.SLOT);
        s.put("two-generations", both);
        s.put("index", AttrRecord.fresh(FID, index).array());
        return s;
    }

    @Test
    void seedCorpusHoldsValidRecords() {
        for (var e : seeds().entrySet()) {
            byte[] f = e.getValue();
            assertThat(AttrRecord.decodeSlot(FID, f, AttrRecord.SLOT))
                    .as(e.getKey())
                    .isNotNull();
        }
        SeedCorpus.of(getClass(), "record").check(seeds());
    }
}
