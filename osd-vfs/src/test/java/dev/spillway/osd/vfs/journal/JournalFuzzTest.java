package dev.spillway.osd.vfs.journal;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.spillway.osd.Attr;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.testkit.fuzz.AllocationBound;
import dev.spillway.osd.testkit.fuzz.SeedCorpus;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/**
 * Coverage-guided fuzzing (Jazzer; {@code docs/fuzzing.md}) of osd-vfs's journal decoders.
 *
 * <ul>
 *   <li>{@link #record}: one record. The input is an op count (u32 little-endian) and a body; the
 *       target writes the header with the right CRC32Cs, since a checksum only guards against
 *       torn and flipped bytes, not against a bug or a newer build writing what this build
 *       cannot read. {@link RecordCodec#decodeBody} must return ops that encode back to exactly
 *       the body, or throw its EBADMSG {@link OsdException}; never anything else, and never
 *       allocate what the body's lengths and counts claim before checking they are there. The
 *       input is also fed to {@link RecordCodec#decodeHeader} as it is.</li>
 *   <li>{@link #replay}: mount-time replay of a whole journal folder. The input is one segment's
 *       bytes after its header (the first input byte chooses point-in-time recovery and whether a
 *       checkpoint exists); every record header in it (magic "SWJR") gets its CRC32Cs made right
 *       where its length allows, so the fuzzer builds chains of valid records, torn tails and
 *       damage. {@link Recovery#replay} must return a result or throw its EBADMSG.</li>
 * </ul>
 */
class JournalFuzzTest {
    static final UUID DEVICE = new UUID(0x5eedL, 0x10a1L);
    private static final AllocationBound BOUND = new AllocationBound(256 << 10, 64);

    @FuzzTest
    void record(byte[] input) {
        RecordCodec.decodeHeader(input, 0, input.length);
        if (input.length < 4) {
            return;
        }
        int opCount = ByteBuffer.wrap(input).order(ByteOrder.LITTLE_ENDIAN).getInt(0);
        ByteBuffer body = ByteBuffer.wrap(input, 4, input.length - 4).slice();
        byte[] rec = withHeader(body, opCount, 1);
        RecordCodec.Header h = RecordCodec.decodeHeader(rec, 0, rec.length);
        assertThat(h).isNotNull();
        assertThat(RecordCodec.bodyValid(rec, 0, rec.length, h)).isTrue();
        List<List<Op>> out = new ArrayList<>();
        try {
            BOUND.check(input.length, () -> out.add(RecordCodec.decodeBody(rec, 0, h)));
        } catch (OsdException e) {
            assertThat(e.errno()).isEqualTo(Errno.EBADMSG);
            return;
        }
        List<Op> ops = out.get(0);
        assertThat(ops).hasSize(opCount);
        ByteBuffer again = RecordCodec.encodeBody(ops);
        byte[] encoded = new byte[again.remaining()];
        again.get(encoded);
        assertThat(encoded).as("an accepted record is canonical").isEqualTo(Arrays.copyOfRange(input, 4, input.length));
    }

    @FuzzTest
    void replay(byte[] input) {
        if (input.length < 1) {
            return;
        }
        int mode = input[0];
        byte[] records = fixCrcs(Arrays.copyOfRange(input, 1, input.length));
        byte[] segment = new byte[LogFiles.SEGMENT_HEADER + records.length];
        LogFiles.segmentHeader(DEVICE, 1).get(segment, 0, LogFiles.SEGMENT_HEADER);
        System.arraycopy(records, 0, segment, LogFiles.SEGMENT_HEADER, records.length);
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put(LogFiles.segment(1), segment);
        if ((mode & 2) != 0) {
            files.put(LogFiles.CHECKPOINT, LogFiles.checkpoint(DEVICE, (mode >>> 2) & 7));
        }
        List<Integer> applied = new ArrayList<>();
        Recovery.Result r;
        try {
            r = Recovery.replay(new ReadOnlyStorage(files), "fuzz", DEVICE, (mode & 1) != 0, recs -> {
                for (List<Op> ops : recs) {
                    applied.add(ops.size());
                }
            });
        } catch (OsdException e) {
            assertThat(e.errno()).as(e.getMessage()).isEqualTo(Errno.EBADMSG);
            return;
        }
        assertThat(r.replayed()).isEqualTo(applied.size());
        assertThat(r.lastLsn()).isGreaterThanOrEqualTo(r.checkpointLsn());
        assertThat(r.lastLsn() - r.checkpointLsn()).isEqualTo(r.replayed());
    }

    /** A record with a right header: the body's CRC32C, its own CRC32C. */
    static byte[] withHeader(ByteBuffer body, int opCount, long lsn) {
        int len = body.remaining();
        ByteBuffer h = RecordCodec.encodeHeader(len, opCount, lsn, lsn - 1, lsn, RecordCodec.crc(body));
        byte[] rec = new byte[RecordCodec.HEADER + len];
        h.get(rec, 0, RecordCodec.HEADER);
        body.duplicate().get(rec, RecordCodec.HEADER, len);
        return rec;
    }

    /** Makes the CRC32Cs of every record header ("SWJR") in {@code d} right, where its body fits. */
    static byte[] fixCrcs(byte[] d) {
        ByteBuffer b = ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN);
        for (int at = 0; at + RecordCodec.HEADER <= d.length; at++) {
            if (b.getInt(at) != RecordCodec.MAGIC) {
                continue;
            }
            int len = b.getInt(at + 8);
            if (len >= 0 && len <= d.length - at - RecordCodec.HEADER) {
                CRC32C c = new CRC32C();
                c.update(d, at + RecordCodec.HEADER, len);
                b.putInt(at + 40, (int) c.getValue());
            }
            CRC32C c = new CRC32C();
            c.update(d, at, 44);
            b.putInt(at + 44, (int) c.getValue());
        }
        return d;
    }

    // ---- seeds: records as JournalTransaction writes them ----

    static List<Op> sampleOps(int n) {
        Fid f = new Fid(0x200000401L, n, 0);
        long now = 1_767_225_600_000_000_000L;
        List<Op> ops = new ArrayList<>();
        ops.add(new Op.Create(f, ObjectKind.DATA));
        ops.add(new Op.Write(f, 0, "hello, journal".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        ops.add(new Op.SetXattr(f, "trusted.lov", new byte[] {0x0b, 0x0d, 0x60, 0x0b}));
        ops.add(new Op.SetAttr(f, new Attr(ObjectKind.DATA, 0, 0, 0100644, 0, 0, now, now, now, 0, 2)));
        if (n % 2 == 0) {
            ops.add(new Op.Punch(f, 4096, 8192));
            ops.add(new Op.Truncate(f, 100));
            ops.add(new Op.RemoveXattr(f, "user.é"));
            ops.add(new Op.Install(f, ObjectKind.DATA, "staging/0000000000000001.tmp"));
            ops.add(new Op.Destroy(new Fid(0x200000401L, n + 100, 0)));
        }
        return ops;
    }

    static byte[] encoded(List<Op> ops) {
        ByteBuffer b = RecordCodec.encodeBody(ops);
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    static Map<String, byte[]> recordSeeds() {
        Map<String, byte[]> s = new LinkedHashMap<>();
        for (int n : new int[] {1, 2}) {
            byte[] body = encoded(sampleOps(n));
            byte[] in = new byte[4 + body.length];
            ByteBuffer.wrap(in)
                    .order(ByteOrder.LITTLE_ENDIAN)
                    .putInt(sampleOps(n).size());
            System.arraycopy(body, 0, in, 4, body.length);
            s.put("ops-" + n, in);
        }
        return s;
    }

    static Map<String, byte[]> replaySeeds() {
        Map<String, byte[]> s = new LinkedHashMap<>();
        ByteArrayOutputStream three = new ByteArrayOutputStream();
        for (int lsn = 1; lsn <= 3; lsn++) {
            List<Op> ops = sampleOps(lsn);
            three.writeBytes(withHeader(ByteBuffer.wrap(encoded(ops)), ops.size(), lsn));
        }
        byte[] end = new byte[LogFiles.END_MARK];
        byte[] chain = three.toByteArray();
        s.put("three-records", concat(new byte[] {0}, chain, end));
        s.put("three-records-checkpoint-at-1", concat(new byte[] {2 | (1 << 2)}, chain, end));
        s.put("torn-tail", concat(new byte[] {0}, Arrays.copyOf(chain, chain.length - 7)));
        s.put("point-in-time", concat(new byte[] {1}, chain, end));
        return s;
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    @Test
    void seedCorporaHoldValidJournals() throws Exception {
        for (byte[] in : recordSeeds().values()) {
            record(in);
        }
        List<Integer> applied = new ArrayList<>();
        byte[] three = replaySeeds().get("three-records");
        byte[] segment = concat(new byte[LogFiles.SEGMENT_HEADER], Arrays.copyOfRange(three, 1, three.length));
        LogFiles.segmentHeader(DEVICE, 1).get(segment, 0, LogFiles.SEGMENT_HEADER);
        Recovery.Result r = Recovery.replay(
                new ReadOnlyStorage(Map.of(LogFiles.segment(1), segment)),
                "fuzz",
                DEVICE,
                false,
                recs -> recs.forEach(ops -> applied.add(ops.size())));
        assertThat(r.replayed()).isEqualTo(3);
        assertThat(applied).containsExactly(4, 9, 4);
        SeedCorpus.of(getClass(), "record").check(recordSeeds());
        SeedCorpus.of(getClass(), "replay").check(replaySeeds());
    }

    /**
     * Found by {@link #record} before the fix: an op count of 0x7fffffff sized an ArrayList
     * (OutOfMemoryError), a negative WRITE length was a NegativeArraySizeException — both
     * escaped replay's catch, which knew only IllegalArgumentException.
     */
    @Test
    void countsAndLengthsAreCheckedBeforeTheyAllocate() {
        byte[] body = encoded(List.of(new Op.Write(new Fid(1, 1, 0), 0, new byte[3])));
        ByteBuffer.wrap(body).order(ByteOrder.LITTLE_ENDIAN).putInt(1 + 16 + 8, -5);
        for (int count : new int[] {Integer.MAX_VALUE, 1}) {
            byte[] rec = withHeader(ByteBuffer.wrap(body), count, 1);
            RecordCodec.Header h = RecordCodec.decodeHeader(rec, 0, rec.length);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> RecordCodec.decodeBody(rec, 0, h))
                    .isInstanceOf(OsdException.class)
                    .hasMessageContaining("journal record lsn 1");
        }
    }
}
