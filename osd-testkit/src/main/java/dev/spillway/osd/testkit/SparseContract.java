package dev.spillway.osd.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Capability;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Punch, truncate and seek data/hole, across block boundaries. */
public interface SparseContract extends OsdContract {

    private Fid filled(int blocks) throws Exception {
        int bs = osd().capabilities().blockSize();
        byte[] data = new byte[blocks * bs];
        Arrays.fill(data, (byte) 0x5a);
        return createData(data);
    }

    @Test
    default void punchZeroesTheRangeAndKeepsTheSize() throws Exception {
        assumeCapability(Capability.PUNCH);
        int bs = osd().capabilities().blockSize();
        Fid f = filled(4);
        punch(f, bs, 2L * bs);
        assertThat(osd().getAttr(f).size()).isEqualTo(4L * bs);
        assertThat(read(f, bs, 2 * bs)).containsOnly(0);
        assertThat(read(f, 0, bs)).containsOnly(0x5a);
        assertThat(read(f, 3L * bs, bs)).containsOnly(0x5a);
    }

    @Test
    default void unalignedPunchZeroesExactlyItsBytes() throws Exception {
        assumeCapability(Capability.PUNCH);
        int bs = osd().capabilities().blockSize();
        Fid f = filled(3);
        punch(f, bs - 10, bs + 20);
        byte[] all = readAll(f);
        for (int i = 0; i < all.length; i++) {
            boolean in = i >= bs - 10 && i < 2 * bs + 10;
            assertThat(all[i]).as("byte %d", i).isEqualTo(in ? (byte) 0 : (byte) 0x5a);
        }
    }

    @Test
    default void punchPastTheEndKeepsTheSize() throws Exception {
        assumeCapability(Capability.PUNCH);
        Fid f = filled(1);
        long size = osd().getAttr(f).size();
        punch(f, size / 2, size * 10);
        assertThat(osd().getAttr(f).size()).isEqualTo(size);
        assertThat(read(f, size / 2, (int) (size - size / 2))).containsOnly(0);
    }

    @Test
    default void punchBumpsTheDataVersion() throws Exception {
        assumeCapability(Capability.PUNCH);
        Fid f = filled(2);
        long v = osd().getAttr(f).dataVersion();
        punch(f, 0, 10);
        assertThat(osd().getAttr(f).dataVersion()).isGreaterThan(v);
    }

    @Test
    default void alignedPunchFreesBlocks() throws Exception {
        assumeCapability(Capability.PUNCH);
        int bs = osd().capabilities().blockSize();
        Fid f = filled(64);
        long before = osd().getAttr(f).blocks();
        punch(f, 0, 32L * bs);
        assertThat(osd().getAttr(f).blocks()).isLessThan(before);
    }

    @Test
    default void truncateDownCutsTheBody() throws Exception {
        assumeCapability(Capability.PARTIAL_WRITE);
        byte[] data = OsdContract.random(11, 10_000);
        Fid f = createData(data);
        truncate(f, 4_321);
        assertThat(osd().getAttr(f).size()).isEqualTo(4_321);
        assertThat(readAll(f)).isEqualTo(Arrays.copyOf(data, 4_321));
    }

    @Test
    default void truncateUpAddsZeros() throws Exception {
        assumeCapability(Capability.PARTIAL_WRITE);
        Fid f = createData(new byte[] {1, 2, 3});
        truncate(f, 50_000);
        assertThat(osd().getAttr(f).size()).isEqualTo(50_000);
        assertThat(read(f, 3, 49_997)).containsOnly(0);
    }

    @Test
    default void truncateDownThenUpNeverRevivesOldBytes() throws Exception {
        assumeCapability(Capability.PARTIAL_WRITE);
        int bs = osd().capabilities().blockSize();
        Fid f = filled(3);
        truncate(f, bs + 100);
        truncate(f, 3L * bs);
        assertThat(read(f, bs + 100, 2 * bs - 100)).containsOnly(0);
        assertThat(read(f, 0, bs + 100)).containsOnly(0x5a);
    }

    @Test
    default void truncateToZeroEmptiesTheObject() throws Exception {
        assumeCapability(Capability.PARTIAL_WRITE);
        Fid f = filled(5);
        truncate(f, 0);
        assertThat(osd().getAttr(f).size()).isZero();
        assertThat(osd().getAttr(f).blocks()).isZero();
    }

    @Test
    default void truncateBumpsTheDataVersion() throws Exception {
        assumeCapability(Capability.PARTIAL_WRITE);
        Fid f = filled(1);
        long v = osd().getAttr(f).dataVersion();
        truncate(f, 1);
        assertThat(osd().getAttr(f).dataVersion()).isGreaterThan(v);
    }

    @Test
    default void seekDataInADenseBodyIsTheOffset() throws Exception {
        Fid f = filled(2);
        assertThat(osd().seekData(f, 0)).isZero();
        assertThat(osd().seekData(f, 17)).isEqualTo(17);
    }

    @Test
    default void seekHoleInADenseBodyIsTheSize() throws Exception {
        Fid f = filled(2);
        long size = osd().getAttr(f).size();
        assertThat(osd().seekHole(f, 5)).isEqualTo(size);
    }

    @Test
    default void seekAtOrPastTheEndIsEnxio() throws Exception {
        Fid f = filled(1);
        long size = osd().getAttr(f).size();
        assertErrno(Errno.ENXIO, () -> osd().seekData(f, size));
        assertErrno(Errno.ENXIO, () -> osd().seekHole(f, size + 5));
    }

    @Test
    default void seekDataSkipsALeadingHole() throws Exception {
        assumeCapability(Capability.SPARSE_SEEK);
        assumeCapability(Capability.PARTIAL_WRITE);
        int bs = osd().capabilities().blockSize();
        Fid f = createData(new byte[0]);
        write(f, 16L * bs, new byte[] {1, 2, 3});
        assertThat(osd().seekData(f, 0)).isEqualTo(16L * bs);
        assertThat(osd().seekHole(f, 0)).isZero();
    }

    @Test
    default void seekHoleFindsAPunchedRange() throws Exception {
        assumeCapability(Capability.SPARSE_SEEK);
        assumeCapability(Capability.PUNCH);
        int bs = osd().capabilities().blockSize();
        Fid f = filled(8);
        punch(f, 2L * bs, 3L * bs);
        assertThat(osd().seekHole(f, 0)).isEqualTo(2L * bs);
        assertThat(osd().seekData(f, 2L * bs)).isEqualTo(5L * bs);
    }

    @Test
    default void holesReadAsZerosAndDataIsNeverReportedAsHole() throws Exception {
        assumeCapability(Capability.PARTIAL_WRITE);
        int bs = osd().capabilities().blockSize();
        Random r = new Random(12);
        long size = 64L * bs;
        Fid f = createData(new byte[0]);
        truncate(f, size);
        boolean[] written = new boolean[(int) size];
        for (int i = 0; i < 12; i++) {
            int off = r.nextInt((int) size - 100);
            int len = 1 + r.nextInt(Math.min(3 * bs, (int) size - off));
            byte[] d = new byte[len];
            Arrays.fill(d, (byte) 1);
            write(f, off, d);
            Arrays.fill(written, off, off + len, true);
        }
        byte[] all = readAll(f);
        long pos = 0;
        while (pos < size) {
            long hole = osd().seekHole(f, pos);
            assertThat(hole).isBetween(pos, size);
            for (long i = pos; i < hole; i++) {
                assertThat(all[(int) i] == 0 || written[(int) i]).isTrue();
            }
            if (hole >= size) {
                break;
            }
            long data;
            try {
                data = osd().seekData(f, hole);
            } catch (dev.spillway.osd.OsdException e) {
                assertThat(e.errno()).isEqualTo(Errno.ENXIO);
                data = size;
            }
            assertThat(data).isGreaterThan(hole);
            for (long i = hole; i < data; i++) {
                assertThat(written[(int) i])
                        .as("byte %d written but inside a reported hole", i)
                        .isFalse();
                assertThat(all[(int) i]).isZero();
            }
            pos = data;
        }
    }

    @Test
    default void withoutPunchItIsEopnotsupp() throws Exception {
        assumeLacks(Capability.PUNCH);
        Fid f = filled(2);
        assertErrno(Errno.EOPNOTSUPP, () -> punch(f, 0, 10));
        assertThat(read(f, 0, 10)).containsOnly(0x5a);
    }
}
