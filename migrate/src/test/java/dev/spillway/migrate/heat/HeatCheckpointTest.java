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
import java.util.Arrays;
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

    /** The same checkpoint in version 2 (no frequency keys): records of 37 bytes, a new CRC. */
    private static byte[] asVersion2(byte[] v3) {
        ByteBuffer in = ByteBuffer.wrap(v3);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(v3, 0, 8);
        out.writeBytes(new byte[] {0, 0, 0, 2});
        out.write(v3, 12, 20); // epoch, logical time, block count
        int pos = 32;
        int blocks = in.getInt(28);
        for (int b = 0; b < blocks; b++) {
            int n = in.getInt(pos);
            out.write(v3, pos, 4);
            pos += 4;
            for (int r = 0; r < n; r++, pos += 41) {
                out.write(v3, pos, 24); // seq, oid, ver, key
                out.write(v3, pos + 28, 13); // last, since, size, flags
            }
        }
        CRC32C crc = new CRC32C();
        byte[] body = out.toByteArray();
        crc.update(body);
        out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
        return out.toByteArray();
    }

    @Test
    void aVersion2CheckpointIsReadAndFrequencyRestartsAtTheHeat() throws Exception {
        HeatTracker a = populated(7);
        byte[] v2 = asVersion2(write(a));
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
}
