package dev.spillway.migrate.heat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.OsdException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

class HeatCheckpointTest {
    final TestClock clock = new TestClock();
    static final Fid CKPT = Fid.of(0x1, 7);

    private HeatTracker populated(long seed) {
        Random rnd = new Random(seed);
        HeatTracker h = new HeatTracker(HeatConfig.defaults(), clock);
        for (int i = 0; i < 5_000; i++) {
            clock.advance(Duration.ofSeconds(1 + rnd.nextInt(30)));
            Fid f = Fid.of(0x200000400L + rnd.nextInt(3), rnd.nextInt(2_000));
            switch (rnd.nextInt(6)) {
                case 0 ->
                    h.recordWrite(f, rnd.nextInt(10) == 0 ? ObjectKind.INDEX : ObjectKind.DATA, rnd.nextInt(1 << 20));
                case 1 -> h.markSpilled(f);
                case 2 -> h.markPromoted(f, rnd.nextBoolean());
                case 3 -> h.setPinned(f, rnd.nextBoolean());
                default -> h.recordRead(f, ObjectKind.DATA, rnd.nextInt(1 << 20), rnd.nextBoolean());
            }
        }
        return h;
    }

    private static byte[] write(HeatTracker h) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        HeatCheckpoint.write(h, out);
        return out.toByteArray();
    }

    @Test
    void roundTripKeepsEveryObjectAndTheOrder() throws Exception {
        HeatTracker a = populated(42);
        byte[] bytes = write(a);
        HeatTracker b =
                HeatCheckpoint.read(new ByteArrayInputStream(bytes), HeatConfig.defaults(), clock, "fast", CKPT);
        assertThat(b.tracked()).isEqualTo(a.tracked());
        assertThat(b.coldest(10_000, Long.MAX_VALUE, Duration.ZERO))
                .isEqualTo(a.coldest(10_000, Long.MAX_VALUE, Duration.ZERO));
        assertThat(b.coldestOnProbation(10_000, Long.MAX_VALUE, Duration.ZERO))
                .isEqualTo(a.coldestOnProbation(10_000, Long.MAX_VALUE, Duration.ZERO));
        assertThat(b.inactive(Duration.ZERO, 100_000, true)).hasSameSizeAs(a.inactive(Duration.ZERO, 100_000, true));
        for (int i = 0; i < 2_000; i++) {
            Fid f = Fid.of(0x200000400L, i);
            assertThat(b.lookup(f)).isEqualTo(a.lookup(f));
            assertThat(b.frequency(f)).isEqualTo(a.frequency(f));
        }
        // Written again, the same bytes: the format is a pure function of the state.
        assertThat(write(b)).isEqualTo(bytes);
        // Time has not moved (no access since): the same heat.
        clock.advance(Duration.ofHours(10));
        Fid some = a.coldest(1, Long.MAX_VALUE, Duration.ZERO).get(0).fid();
        assertThat(b.heat(some)).isCloseTo(a.heat(some), within(1e-12));
    }

    /** Bytes of a version 4 header (magic to block count) and of version 2 / 3 ones. */
    private static final int V4_HEADER = 64;

    private static final int V3_HEADER = 32;

    /**
     * The same checkpoint (version 5) in an older version: 4 drops the heat per extent after the
     * records, 3 also the policy state from the header (the
     * records, ghost flags included, stay as they are: the reader must ignore those), 2 also each
     * record's frequency key (37 bytes). A new CRC.
     */
    private static byte[] asVersion(byte[] v4, int version) {
        ByteBuffer in = ByteBuffer.wrap(v4);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(v4, 0, 8);
        out.writeBytes(new byte[] {0, 0, 0, (byte) version});
        if (version == 4) {
            out.write(v4, 12, V4_HEADER - 12); // the same header; the extents (version 5) dropped below
        } else {
            out.write(v4, 12, 16); // epoch, logical time
            out.write(v4, V4_HEADER - 4, 4); // block count
        }
        int pos = V4_HEADER;
        int blocks = in.getInt(V4_HEADER - 4);
        for (int b = 0; b < blocks; b++) {
            int n = in.getInt(pos);
            out.write(v4, pos, 4);
            pos += 4;
            for (int r = 0; r < n; r++, pos += 41) {
                if (version == 2) {
                    out.write(v4, pos, 24); // seq, oid, ver, key
                    out.write(v4, pos + 28, 13); // last, since, size, flags
                } else {
                    out.write(v4, pos, 41);
                }
            }
        }
        assertThat(out.size()).isGreaterThan(V3_HEADER);
        CRC32C crc = new CRC32C();
        byte[] body = out.toByteArray();
        crc.update(body);
        out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
        return out.toByteArray();
    }

    private HeatTracker read(byte[] bytes) throws OsdException {
        return HeatCheckpoint.read(new ByteArrayInputStream(bytes), HeatConfig.defaults(), clock, "fast", CKPT);
    }

    /** Spills a few resident objects of both parts, then reads every object, collecting ghost tokens. */
    private static long[] spillThenReadEverything(HeatTracker h, List<Fid> resident) {
        for (int i = 0; i < resident.size(); i += 3) {
            h.markSpilled(resident.get(i));
        }
        long[] tokens = new long[2_000];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = h.recordRead(0x200000400L, i, 0, ObjectKind.DATA, -1, false);
        }
        return tokens;
    }

    @Test
    void theGhostMarksTheirClocksAndTheTrialShareSurviveTheCheckpoint() throws Exception {
        HeatTracker a = populated(11);
        long tracked = a.tracked();
        a.saveTrialShare(0.10, 0.37);
        HeatTracker b = read(write(a));
        assertThat(b.savedTrialShare(0.10)).isEqualTo(0.37);
        assertThat(b.savedTrialShare(0.20))
                .as("saved from another configured start")
                .isNaN();
        // The same ghosts with the same marks, on clocks that go on from the same bytes: every
        // read of a spilled object (some spilled after the load) returns the same token.
        List<Fid> resident = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) {
            Fid f = Fid.of(0x200000400L, i);
            if (a.lookup(f).filter(o -> o.resident() && o.spillable()).isPresent()) {
                resident.add(f);
            }
        }
        long[] ta = spillThenReadEverything(a, resident);
        long[] tb = spillThenReadEverything(b, resident);
        assertThat(tb).isEqualTo(ta);
        assertThat(Arrays.stream(ta).filter(t -> t != 0 && (t & 2) != 0).count())
                .as("trial ghosts")
                .isPositive();
        assertThat(Arrays.stream(ta).filter(t -> t != 0 && (t & 2) == 0).count())
                .as("main ghosts")
                .isPositive();
        assertThat(Arrays.stream(ta).filter(t -> t != 0 && t >>> 2 > 100).count())
                .as("ghosts that are not from the last spills only")
                .isPositive();

        // Version 3 carried neither: the share starts again, nothing spilled is a ghost.
        HeatTracker c = read(asVersion(write(populated(11)), 3));
        assertThat(c.savedTrialShare(0.10)).isNaN();
        assertThat(c.tracked()).isEqualTo(tracked);
        assertThat(spillThenReadEverything(c, List.of())).containsOnly(0L);
    }

    @Test
    void aVersion2CheckpointIsReadAndFrequencyRestartsAtTheHeat() throws Exception {
        HeatTracker a = populated(7);
        byte[] v2 = asVersion(write(a), 2);
        HeatTracker b = HeatCheckpoint.read(new ByteArrayInputStream(v2), HeatConfig.defaults(), clock, "fast", CKPT);
        assertThat(b.tracked()).isEqualTo(a.tracked());
        assertThat(b.coldest(10_000, Long.MAX_VALUE, Duration.ZERO))
                .isEqualTo(a.coldest(10_000, Long.MAX_VALUE, Duration.ZERO));
        int checked = 0;
        for (int i = 0; i < 2_000; i++) {
            Fid f = Fid.of(0x200000400L, i);
            assertThat(b.lookup(f)).isEqualTo(a.lookup(f));
            if (a.heat(f) > 1e-6) {
                assertThat(b.frequency(f)).isCloseTo(a.heat(f), within(1e-4 * a.heat(f)));
                assertThat(a.frequency(f)).isGreaterThanOrEqualTo(a.heat(f) * (1 - 1e-6));
                checked++;
            }
        }
        assertThat(checked).isPositive();
    }

    @Test
    void theLogicalClockResumesWhereItWas() throws Exception {
        HeatTracker a = new HeatTracker(HeatConfig.defaults().withHalfLife(1).withMinResidents(100), clock);
        for (int i = 0; i < 250; i++) {
            a.recordWrite(Fid.of(2, 1), ObjectKind.DATA, 10);
        }
        HeatTracker b = HeatCheckpoint.read(new ByteArrayInputStream(write(a)), a.config(), clock, "fast", CKPT);
        assertThat(b.logicalNow()).isEqualTo(a.logicalNow());
        assertThat(b.heat(Fid.of(2, 1))).isCloseTo(a.heat(Fid.of(2, 1)), within(1e-12));
        for (int i = 0; i < 100; i++) {
            b.recordRead(Fid.of(2, 2), ObjectKind.INDEX, 0, true); // a half-life of other accesses
        }
        assertThat(b.heat(Fid.of(2, 1))).isCloseTo(a.heat(Fid.of(2, 1)) / 2, within(1e-9));
    }

    @Test
    void damageIsReportedNeverHalfLoaded() throws Exception {
        byte[] good = write(populated(7));
        byte[] flipped = good.clone();
        flipped[flipped.length / 2] ^= 0x10;
        assertThatThrownBy(() -> HeatCheckpoint.read(
                        new ByteArrayInputStream(flipped), HeatConfig.defaults(), clock, "fast", CKPT))
                .isInstanceOfSatisfying(OsdException.class, e -> {
                    assertThat(e.errno()).isEqualTo(Errno.EBADMSG);
                    assertThat(e.getMessage()).contains("fast").contains(CKPT.toString());
                });
        byte[] cut = Arrays.copyOf(good, good.length - 100);
        assertThatThrownBy(() ->
                        HeatCheckpoint.read(new ByteArrayInputStream(cut), HeatConfig.defaults(), clock, "fast", CKPT))
                .isInstanceOfSatisfying(
                        OsdException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EBADMSG));
        byte[] alien = "not a checkpoint at all, just text".getBytes();
        assertThatThrownBy(() -> HeatCheckpoint.read(
                        new ByteArrayInputStream(alien), HeatConfig.defaults(), clock, "fast", CKPT))
                .isInstanceOfSatisfying(
                        OsdException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EPROTO));
        assertThatThrownBy(() -> HeatCheckpoint.read(
                        new ByteArrayInputStream(new byte[3]), HeatConfig.defaults(), clock, "fast", CKPT))
                .isInstanceOfSatisfying(
                        OsdException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EBADMSG));
    }

    /** A tracker and the heat per extent of a few big objects on its clock: 1 MiB objects, 256 KiB extents. */
    private static ExtentHeat extentsOn(HeatTracker h) {
        ExtentHeat x = new ExtentHeat(new ExtentConfig(1 << 20, 256 << 10, 1000), h::logicalNow);
        for (int i = 0; i < 5; i++) {
            Fid f = Fid.of(0x200000500L, i);
            long size = (1 << 20) + i * 100_000L;
            for (int k = 0; k <= i; k++) {
                h.recordRead(f, ObjectKind.DATA, size, true);
                x.read(f, size, (long) k * (256 << 10), 4096, true, k % 2 == 0, 99);
            }
        }
        return x;
    }

    private static byte[] write(HeatTracker h, ExtentHeat x) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        HeatCheckpoint.write(h, x, out);
        return out.toByteArray();
    }

    private static String describe(ExtentHeat x) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            Fid f = Fid.of(0x200000500L, i);
            s.append(f).append(x.extents(f, (1 << 20) + i * 100_000L)).append('\n');
        }
        return s.toString();
    }

    @Test
    void heatPerExtentSurvivesACheckpointCountsAndResidencyBitsAlike() throws Exception {
        HeatTracker h = populated(3);
        ExtentHeat a = extentsOn(h);
        byte[] bytes = write(h, a);
        HeatCheckpoint.Loaded l =
                HeatCheckpoint.load(new ByteArrayInputStream(bytes), HeatConfig.defaults(), clock, "fast", CKPT);
        assertThat(l.extentSize()).isEqualTo(256 << 10);
        assertThat(l.extents()).hasSize(5);
        ExtentHeat b = new ExtentHeat(a.config(), l.heat()::logicalNow);
        assertThat(b.restore(l.extentSize(), l.extents())).isEqualTo(5);
        assertThat(describe(b)).isEqualTo(describe(a)).contains("spilled=true");
        assertThat(b.extents(Fid.of(0x200000500L, 4), (1 << 20) + 400_000L))
                .extracting(ExtentHeat.Extent::count)
                .hasSize(6)
                .satisfies(c -> assertThat(c.subList(0, 5))
                        .allSatisfy(x -> assertThat(x).isPositive()))
                .satisfies(c -> assertThat(c.get(5)).as("never read").isZero());
        assertThat(b.trackedExtents()).isEqualTo(a.trackedExtents());
        // Written again, the same bytes.
        assertThat(write(l.heat(), b)).isEqualTo(bytes);
        // Another extent size: the extents are not the same ones, all start cold.
        ExtentHeat other = new ExtentHeat(new ExtentConfig(1 << 20, 128 << 10, 1000), l.heat()::logicalNow);
        assertThat(other.restore(l.extentSize(), l.extents())).isZero();
        // Past the cap: the objects beyond it start cold.
        ExtentHeat small = new ExtentHeat(new ExtentConfig(1 << 20, 256 << 10, 10), l.heat()::logicalNow);
        assertThat(small.restore(l.extentSize(), l.extents())).isEqualTo(2);
        assertThat(small.trackedExtents()).isLessThanOrEqualTo(10);
    }

    @Test
    void aVersion4CheckpointIsStillReadItsBigObjectsStartingCold() throws Exception {
        HeatTracker h = populated(5);
        byte[] v5 = write(h, extentsOn(h));
        byte[] v4 = asVersion(v5, 4);
        HeatCheckpoint.Loaded l =
                HeatCheckpoint.load(new ByteArrayInputStream(v4), HeatConfig.defaults(), clock, "fast", CKPT);
        assertThat(l.extents()).isEmpty();
        assertThat(l.heat().tracked()).isEqualTo(h.tracked());
        for (int i = 0; i < 2_000; i++) {
            Fid f = Fid.of(0x200000400L, i);
            assertThat(l.heat().lookup(f)).isEqualTo(h.lookup(f));
        }
        assertThat(read(asVersion(v5, 3)).tracked()).isEqualTo(h.tracked());
    }

    @Test
    void aTornCheckpointWithExtentsIsRefusedWhole() throws Exception {
        HeatTracker h = populated(9);
        byte[] good = write(h, extentsOn(h));
        // Cut inside the extent section (it ends 4 bytes before the end, at the CRC).
        for (int cut : new int[] {5, 40, 200}) {
            byte[] torn = Arrays.copyOf(good, good.length - cut);
            assertThatThrownBy(() -> HeatCheckpoint.load(
                            new ByteArrayInputStream(torn), HeatConfig.defaults(), clock, "fast", CKPT))
                    .isInstanceOfSatisfying(
                            OsdException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EBADMSG));
        }
        byte[] flipped = good.clone();
        flipped[good.length - 30] ^= 0x01;
        assertThatThrownBy(() -> HeatCheckpoint.load(
                        new ByteArrayInputStream(flipped), HeatConfig.defaults(), clock, "fast", CKPT))
                .isInstanceOfSatisfying(
                        OsdException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EBADMSG));
    }
}
