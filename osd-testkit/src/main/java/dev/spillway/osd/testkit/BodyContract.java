package dev.spillway.osd.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Capability;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Body I/O: read, write at offset, holes, sizes, kinds and limits. */
public interface BodyContract extends OsdContract {

    @Test
    default void writeThenReadReturnsTheBytes() throws Exception {
        byte[] data = OsdContract.random(1, 10_000);
        Fid f = createData(data);
        assertThat(osd().getAttr(f).size()).isEqualTo(10_000);
        assertThat(readAll(f)).isEqualTo(data);
    }

    @Test
    default void readAtOrPastTheEndReturnsZero() throws Exception {
        Fid f = createData(new byte[] {1, 2, 3});
        assertThat(osd().read(f, 3, ByteBuffer.allocate(10))).isZero();
        assertThat(osd().read(f, 1000, ByteBuffer.allocate(10))).isZero();
    }

    @Test
    default void readIsShortOnlyAtTheEnd() throws Exception {
        Fid f = createData(OsdContract.random(2, 100));
        ByteBuffer b = ByteBuffer.allocate(64);
        assertThat(osd().read(f, 50, b)).isEqualTo(50);
        assertThat(b.position()).isEqualTo(50);
    }

    @Test
    default void writePastTheEndLeavesAHoleOfZeros() throws Exception {
        assumeCapability(Capability.PARTIAL_WRITE);
        Fid f = createData(new byte[] {1, 2, 3});
        write(f, 100_000, new byte[] {9});
        assertThat(osd().getAttr(f).size()).isEqualTo(100_001);
        byte[] all = readAll(f);
        assertThat(all[0]).isEqualTo((byte) 1);
        assertThat(Arrays.copyOfRange(all, 3, 100_000)).containsOnly(0);
        assertThat(all[100_000]).isEqualTo((byte) 9);
    }

    @Test
    default void overwriteInTheMiddleKeepsTheRest() throws Exception {
        assumeCapability(Capability.PARTIAL_WRITE);
        byte[] data = OsdContract.random(3, 20_000);
        Fid f = createData(data);
        byte[] patch = OsdContract.random(4, 5_000);
        write(f, 7_777, patch);
        System.arraycopy(patch, 0, data, 7_777, patch.length);
        assertThat(readAll(f, 3_333)).isEqualTo(data);
        assertThat(osd().getAttr(f).size()).isEqualTo(20_000);
    }

    @Test
    default void writeAcrossABlockBoundary() throws Exception {
        assumeCapability(Capability.PARTIAL_WRITE);
        int bs = osd().capabilities().blockSize();
        Fid f = createData(new byte[3 * bs]);
        byte[] patch = OsdContract.random(5, 10);
        write(f, bs - 3, patch);
        assertThat(read(f, bs - 3, 10)).isEqualTo(patch);
        assertThat(read(f, bs - 4, 1)).containsExactly(0);
        assertThat(read(f, bs + 7, 1)).containsExactly(0);
    }

    @Test
    default void largeBodyReadsBackInOddChunks() throws Exception {
        byte[] data = OsdContract.random(6, 8 << 20);
        Fid f = createData(data);
        assertThat(readAll(f, 65_537)).isEqualTo(data);
    }

    @Test
    default void manySequentialWritesInOneTransaction() throws Exception {
        Fid f = newFid();
        byte[] data = OsdContract.random(8, 1 << 20);
        tx(
                t -> {
                    t.declareCreate(f, ObjectKind.DATA);
                    t.declareWrite(f, 0, data.length);
                },
                t -> {
                    t.create(f, ObjectKind.DATA, AttrChange.none());
                    for (int off = 0; off < data.length; off += 10_000) {
                        t.write(f, off, ByteBuffer.wrap(data, off, Math.min(10_000, data.length - off)));
                    }
                });
        assertThat(readAll(f)).isEqualTo(data);
    }

    /**
     * A write takes its bytes before it returns ({@code Transaction.write}'s contract): one buffer
     * refilled chunk after chunk, as the pool's copies write, and scribbled over before the commit,
     * commits the bytes each write was given. Small chunks and large ones (a backend may store them
     * differently), from a heap and from a direct buffer.
     */
    @Test
    default void aWritesBytesAreTakenBeforeItReturns() throws Exception {
        for (int chunk : new int[] {1_000, 100_000}) {
            for (boolean direct : new boolean[] {false, true}) {
                int chunks = 3;
                byte[] data = OsdContract.random(10 + chunk, chunk * chunks);
                Fid f = newFid();
                ByteBuffer buf = direct ? ByteBuffer.allocateDirect(chunk) : ByteBuffer.allocate(chunk);
                tx(
                        t -> {
                            t.declareCreate(f, ObjectKind.DATA);
                            t.declareWrite(f, 0, data.length);
                        },
                        t -> {
                            t.create(f, ObjectKind.DATA, AttrChange.none());
                            for (int i = 0; i < chunks; i++) {
                                buf.clear().put(data, i * chunk, chunk).flip();
                                t.write(f, (long) i * chunk, buf);
                            }
                            // Scribbled over before the commit: what commits is what the writes saw.
                            buf.clear();
                            while (buf.hasRemaining()) {
                                buf.put((byte) 0x5a);
                            }
                        });
                assertThat(readAll(f))
                        .as("%d-byte chunks from a %s buffer", chunk, direct ? "direct" : "heap")
                        .isEqualTo(data);
            }
        }
    }

    @Test
    default void readIntoADirectBuffer() throws Exception {
        byte[] data = OsdContract.random(9, 5000);
        Fid f = createData(data);
        ByteBuffer d = ByteBuffer.allocateDirect(5000);
        assertThat(osd().read(f, 0, d)).isEqualTo(5000);
        byte[] out = new byte[5000];
        d.flip().get(out);
        assertThat(out).isEqualTo(data);
    }

    @Test
    default void negativeOffsetsAreEinval() throws Exception {
        Fid f = createData(new byte[10]);
        assertErrno(Errno.EINVAL, () -> osd().read(f, -1, ByteBuffer.allocate(1)));
        assertErrno(Errno.EINVAL, () -> write(f, -5, new byte[1]));
    }

    @Test
    default void bodyCallsOnAnIndexAreEisdir() throws Exception {
        assumeCapability(Capability.INDEX);
        Fid f = create(ObjectKind.INDEX);
        assertErrno(Errno.EISDIR, () -> osd().read(f, 0, ByteBuffer.allocate(1)));
        assertErrno(Errno.EISDIR, () -> write(f, 0, new byte[1]));
    }

    @Test
    default void bodyCallsOnAMissingObjectAreEnoent() throws Exception {
        Fid f = newFid();
        assertErrno(Errno.ENOENT, () -> osd().read(f, 0, ByteBuffer.allocate(1)));
        assertErrno(Errno.ENOENT, () -> write(f, 0, new byte[1]));
    }

    @Test
    default void writePastTheLargestObjectIsEfbig() throws Exception {
        assumeCapability(Capability.PARTIAL_WRITE);
        long max = osd().capabilities().maxObjectSize();
        Fid f = create(ObjectKind.DATA);
        assertErrno(Errno.EFBIG, () -> write(f, max, new byte[1]));
    }

    @Test
    default void blocksGrowWithWrittenData() throws Exception {
        Fid f = createData(OsdContract.random(10, 1 << 20));
        assertThat(osd().getAttr(f).blocks() * 512).isGreaterThanOrEqualTo(1 << 19);
    }

    @Test
    default void writeBumpsTheDataVersionEveryTime() throws Exception {
        assumeCapability(Capability.PARTIAL_WRITE);
        Fid f = createData(new byte[10]);
        long v = osd().getAttr(f).dataVersion();
        for (int i = 0; i < 3; i++) {
            write(f, i, new byte[] {(byte) i});
            long nv = osd().getAttr(f).dataVersion();
            assertThat(nv).isGreaterThan(v);
            v = nv;
        }
    }

    @Test
    default void withoutPartialWritesARandomWriteIsEopnotsupp() throws Exception {
        assumeLacks(Capability.PARTIAL_WRITE);
        Fid f = createData(new byte[100]);
        assertErrno(Errno.EOPNOTSUPP, () -> write(f, 50, new byte[1]));
        assertThat(readAll(f)).hasSize(100);
    }

    @Test
    default void emptyObjectReadsNothing() throws Exception {
        Fid f = create(ObjectKind.DATA);
        assertThat(osd().read(f, 0, ByteBuffer.allocate(10))).isZero();
    }
}
