package dev.spillway.pool.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.filter.FilterOsd;
import dev.spillway.osd.filter.FilterTransaction;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.config.Role;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.meta.Checksums;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.Stripe;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Chunks larger than {@link CopyIo#SLICE} (a stripe's 4 MiB units, a body over 4 GiB) are moved
 * in slices of at most 1 MiB per read or write call, and are still checksummed, written sparse and
 * verified as whole chunks.
 */
class CopyIoSlicesTest {
    private static final int SHIFT = 22; // 4 MiB chunks, as a stripe of 4 MiB units has
    private static final long SIZE = (9L << 20) + 777;
    private static final Fid OBJECT = new Fid(0x200000400L, 1, 0);
    private static final Fid KEY = new Fid(0x200000401L, 1, 0);

    /** Counts the largest single read and write the device is asked for. */
    private static final class Sizes extends FilterOsd {
        final AtomicInteger largestRead = new AtomicInteger();
        final AtomicInteger largestWrite = new AtomicInteger();
        final AtomicLong written = new AtomicLong();
        final AtomicLong bytesRead = new AtomicLong();

        Sizes(Osd in) {
            super(in);
        }

        @Override
        public int read(Fid fid, long offset, ByteBuffer dst) throws OsdException {
            largestRead.accumulateAndGet(dst.remaining(), Math::max);
            int n = super.read(fid, offset, dst);
            bytesRead.addAndGet(Math.max(n, 0));
            return n;
        }

        @Override
        public Transaction newTransaction() throws OsdException {
            return new FilterTransaction(super.newTransaction()) {
                @Override
                public void write(Fid fid, long offset, ByteBuffer src) throws OsdException {
                    largestWrite.accumulateAndGet(src.remaining(), Math::max);
                    written.addAndGet(src.remaining());
                    super.write(fid, offset, src);
                }
            };
        }
    }

    /** Random bytes with a run of zeros across the boundary of the second chunk's first two slices. */
    private static byte[] body() {
        byte[] b = new byte[(int) SIZE];
        new Random(7).nextBytes(b);
        Arrays.fill(b, (5 << 20) - 8192, (6 << 20) + 12288, (byte) 0);
        return b;
    }

    private static PoolDevice device(Osd osd) {
        return device(1, osd);
    }

    private static PoolDevice device(int index, Osd osd) {
        return new PoolDevice(index, "spill" + index, "mem", Set.of(Role.BACKGROUND), DeviceState.RW, 1, osd);
    }

    /**
     * The body read from {@code src} written as a copy striped over {@code devices} (stripe
     * {@code i} under key oid {@code firstOid + i}), {@code unit} bytes a unit.
     */
    private static Copy writeStriped(CopyIo.Source src, List<PoolDevice> devs, int unit, int firstOid, int... devices)
            throws OsdException {
        List<Stripe> empty = new java.util.ArrayList<>();
        for (int i = 0; i < devices.length; i++) {
            empty.add(new Stripe(devices[i], new Fid(0x200000401L, firstOid + i, 0), 0, Checksums.NONE));
        }
        List<Stripe> written = StripedIo.writeUnsynced(src, OBJECT, SIZE, empty, unit, devs::get, CopyIo.Pacer.NONE);
        return Copy.striped(1, CopyState.IN_SYNC, 1, false, unit, written);
    }

    /** Object {@code key} on {@code osd} holds exactly {@code body}. */
    private static void assertHolds(Osd osd, Fid key, byte[] body) throws OsdException {
        byte[] back = new byte[body.length];
        assertThat(osd.read(key, 0, ByteBuffer.wrap(back))).isEqualTo(body.length);
        assertThat(back).isEqualTo(body);
    }

    private static CopyIo.Source of(byte[] body) {
        return (off, buf, len) -> {
            int n = (int) Math.max(0, Math.min(len, body.length - off));
            System.arraycopy(body, (int) off, buf, 0, n);
            return n;
        };
    }

    @Test
    void aCopyMadeFromAVerifiedCopyOfFourMiBChunksReadsEachOfItsBytesOnce() throws Exception {
        byte[] body = body();
        Sizes from = new Sizes(MemOsd.create("from"));
        Checksums sums = CopyIo.writeUnsynced(of(body), OBJECT, SIZE, device(1, from), KEY, CopyIo.Pacer.NONE, SHIFT);
        Copy c = new Copy(1, 1, KEY, CopyState.IN_SYNC, 1, SIZE, false, sums);
        MemOsd to = MemOsd.create("to");
        Fid key2 = new Fid(0x200000401L, 2, 0);

        Checksums copied = CopyIo.writeUnsynced(
                CopyIo.of(device(1, from), OBJECT, c, SIZE),
                OBJECT,
                SIZE,
                device(2, to),
                key2,
                CopyIo.Pacer.NONE,
                SHIFT);

        // Each 1 MiB slice of a 4 MiB chunk used to read and check the whole chunk: 4 times the body.
        assertThat(from.bytesRead.get()).isEqualTo(SIZE);
        assertThat(copied.crcs()).isEqualTo(sums.crcs());
        assertHolds(to, key2, body);
    }

    @Test
    void aCopyMadeFromAStripedCopyReadsEachOfItsBytesOnce() throws Exception {
        byte[] body = body();
        Sizes s1 = new Sizes(MemOsd.create("s1"));
        Sizes s2 = new Sizes(MemOsd.create("s2"));
        List<PoolDevice> devs = List.of(device(0, MemOsd.create("unused")), device(1, s1), device(2, s2));
        Copy c = writeStriped(of(body), devs, 4 << 20, 3, 1, 2);
        long readBefore = s1.bytesRead.get() + s2.bytesRead.get();
        MemOsd to = MemOsd.create("to");
        Fid key2 = new Fid(0x200000401L, 2, 0);

        CopyIo.writeUnsynced(
                CopyIo.of(devs::get, OBJECT, c, SIZE), OBJECT, SIZE, device(3, to), key2, CopyIo.Pacer.NONE, SHIFT);

        assertThat(s1.bytesRead.get() + s2.bytesRead.get() - readBefore).isEqualTo(SIZE);
        assertHolds(to, key2, body);
    }

    @Test
    void aStripedCopyMadeFromAStripedCopyHoldsTheBody() throws Exception {
        // The target's stripes read the one grained source side by side.
        byte[] body = body();
        List<PoolDevice> devs = new java.util.ArrayList<>();
        for (int i = 0; i < 5; i++) {
            devs.add(device(i, MemOsd.create("d" + i)));
        }
        int unit = 1 << 20; // 1 MiB units: each stripe chunk holds one, the source's grain is 2 MiB
        Copy c = writeStriped(of(body), devs, unit, 3, 1, 2);
        Copy copied = writeStriped(CopyIo.of(devs::get, OBJECT, c, SIZE), devs, 4 << 20, 5, 3, 4, 0);
        ByteBuffer back = ByteBuffer.allocate((int) SIZE);
        while (back.hasRemaining()) {
            assertThat(CopyIo.readVerified(devs::get, OBJECT, copied, SIZE, back.position(), back))
                    .isPositive();
        }
        assertThat(back.array()).isEqualTo(body);
    }

    @Test
    void aChunkOfFourMiBIsCopiedInOneMiBSlicesAndSummedWhole() throws Exception {
        byte[] body = body();
        Sizes dev = new Sizes(MemOsd.create("spill"));
        AtomicInteger largestAsked = new AtomicInteger();
        AtomicLong paced = new AtomicLong();
        CopyIo.Source src = (off, buf, len) -> {
            largestAsked.accumulateAndGet(len, Math::max);
            int n = (int) Math.min(len, SIZE - off);
            System.arraycopy(body, (int) off, buf, 0, n);
            return n;
        };

        Checksums sums = CopyIo.writeUnsynced(src, OBJECT, SIZE, device(dev), KEY, paced::addAndGet, SHIFT);

        assertThat(sums.chunkShift()).isEqualTo(SHIFT);
        assertThat(sums.crcs()).hasSize(3);
        for (int i = 0; i < 3; i++) {
            int start = i << SHIFT;
            int len = (int) Math.min(1 << SHIFT, SIZE - start);
            assertThat(sums.crcs()[i]).as("chunk %d", i).isEqualTo(Checksums.crc(body, start, len));
        }
        assertThat(largestAsked.get()).isEqualTo(CopyIo.SLICE);
        assertThat(dev.largestWrite.get()).isLessThanOrEqualTo(CopyIo.SLICE);
        assertThat(paced.get()).isEqualTo(SIZE);
        // The zero run (1 MiB + 20 KiB) is left a hole: that much less than the body was written.
        assertThat(dev.written.get()).isEqualTo(SIZE - (8192 + (1 << 20) + 12288));
        assertThat(dev.getAttr(KEY).size()).isEqualTo(SIZE);
        assertHolds(dev, KEY, body);
    }

    @Test
    void aVerifiedReadOfFourMiBChunksReadsOneMiBACallAndReturnsEveryRange() throws Exception {
        byte[] body = body();
        Sizes dev = new Sizes(MemOsd.create("spill"));
        CopyIo.Source src = of(body);
        Checksums sums = CopyIo.writeUnsynced(src, OBJECT, SIZE, device(dev), KEY, CopyIo.Pacer.NONE, SHIFT);

        long[][] ranges = {
            {0, SIZE}, {0, 4 << 20}, {(3 << 20) + 5, 3 << 20}, {(8 << 20) + 1, (1 << 20) + 700}, {SIZE - 10, 10}
        };
        for (long[] r : ranges) {
            ByteBuffer dst = ByteBuffer.allocateDirect((int) r[1]);
            int got = 0;
            while (dst.hasRemaining()) {
                int n = CopyIo.readVerified(device(dev), OBJECT, KEY, sums, SIZE, r[0] + got, dst);
                assertThat(n)
                        .as("read at %d of range %d+%d", r[0] + got, r[0], r[1])
                        .isPositive();
                got += n;
            }
            byte[] have = new byte[got];
            dst.flip().get(have);
            assertThat(have).as("bytes %d..%d", r[0], r[0] + r[1]).isEqualTo(Arrays.copyOfRange(body, (int) r[0], (int)
                    (r[0] + r[1])));
        }
        assertThat(dev.largestRead.get()).isLessThanOrEqualTo(CopyIo.SLICE);
    }

    @Test
    void aFlippedByteInALaterSliceFailsTheWholeChunkNamingIt() throws Exception {
        byte[] body = body();
        MemOsd mem = MemOsd.create("spill");
        CopyIo.Source src = of(body);
        Checksums sums = CopyIo.writeUnsynced(src, OBJECT, SIZE, device(mem), KEY, CopyIo.Pacer.NONE, SHIFT);
        long at = (7L << 20) + 3; // chunk 1, its fourth slice
        try (Transaction tx = mem.newTransaction()) {
            tx.declareWrite(KEY, at, 1);
            tx.start();
            tx.write(KEY, at, ByteBuffer.wrap(new byte[] {(byte) ~body[(int) at]}));
        }

        ByteBuffer dst = ByteBuffer.allocate(1 << 20);
        // Reading the chunk's first MiB only still checks the whole chunk, and finds the flip.
        assertThatThrownBy(() -> CopyIo.readVerified(device(mem), OBJECT, KEY, sums, SIZE, 4 << 20, dst))
                .isInstanceOfSatisfying(
                        OsdException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EIO))
                .hasMessageContaining("checksum mismatch")
                .hasMessageContaining("chunk 1")
                .hasMessageContaining(KEY.toString());
        // Chunk 0 is untouched and still reads.
        assertThat(CopyIo.readVerified(device(mem), OBJECT, KEY, sums, SIZE, 0, dst.clear()))
                .isEqualTo(1 << 20);
    }

    @Test
    void aSourceThatEndsInsideAChunkAbortsTheCopyNamingWhereItEnded() throws Exception {
        byte[] body = body();
        MemOsd mem = MemOsd.create("spill");
        long shortAt = (6L << 20) + 100; // chunk 1, its third slice
        CopyIo.Source src = (off, buf, len) -> {
            int n = (int) Math.max(0, Math.min(len, shortAt - off));
            System.arraycopy(body, (int) off, buf, 0, n);
            return n;
        };

        assertThatThrownBy(() -> CopyIo.writeUnsynced(src, OBJECT, SIZE, device(mem), KEY, CopyIo.Pacer.NONE, SHIFT))
                .isInstanceOfSatisfying(
                        OsdException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ESTALE))
                .hasMessageContaining("(" + shortAt + " < " + SIZE + ")");
        // The aborted copy left nothing behind.
        assertThatThrownBy(() -> mem.getAttr(KEY))
                .isInstanceOfSatisfying(
                        OsdException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ENOENT));
    }

    @Test
    void aCopyOfOneMiBChunksStillWritesWholeChunks() throws Exception {
        byte[] body = new byte[(3 << 20) + 5];
        new Random(3).nextBytes(body);
        Sizes dev = new Sizes(MemOsd.create("spill"));
        CopyIo.Source src = (off, buf, len) -> {
            int n = (int) Math.min(len, body.length - off);
            System.arraycopy(body, (int) off, buf, 0, n);
            return n;
        };
        Checksums sums = CopyIo.writeUnsynced(
                src, OBJECT, body.length, device(dev), KEY, CopyIo.Pacer.NONE, Checksums.MIN_SHIFT);
        assertThat(sums.chunkShift()).isEqualTo(20);
        assertThat(sums.crcs()).hasSize(4);
        assertThat(sums.crcs()[3]).isEqualTo(Checksums.crc(body, 3 << 20, 5));
        assertThat(dev.largestWrite.get()).isEqualTo(1 << 20);
        assertThat(dev.written.get()).isEqualTo(body.length);
    }
}
