package dev.spillway.osd.kv;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A read of a body of many extents starts at the extent holding its offset (a binary search over
 * the extent list, not a walk from its first entry) and still returns exactly the body's bytes:
 * across extent boundaries, through the holes between extents, short at the end of the body.
 */
class KvManyExtentsReadTest {
    private static final Fid A = new Fid(0x200000400L, 1, 0);
    private static final int EXTENTS = 64;
    private static final int PIECE = 64 << 10; // the default inline-max: each write is an extent
    private static final int STRIDE = 80 << 10; // 16 KiB holes between the extents
    private static final int TAIL = 100; // the last extent ends inside a block

    @TempDir
    Path tmp;

    /** The body as written: extent i at [i * STRIDE, i * STRIDE + PIECE), zeros between. */
    private static byte[] model() {
        int size = (EXTENTS - 1) * STRIDE + PIECE + TAIL;
        byte[] b = new byte[size];
        Random r = new Random(42);
        for (int i = 0; i < EXTENTS; i++) {
            int len = i == EXTENTS - 1 ? PIECE + TAIL : PIECE;
            byte[] piece = new byte[len];
            r.nextBytes(piece);
            System.arraycopy(piece, 0, b, i * STRIDE, len);
        }
        return b;
    }

    /** Writes {@code body} one extent a transaction, so osd-kv holds it as {@link #EXTENTS} extents. */
    private static void writeInExtents(KvOsd osd, byte[] body) throws OsdException {
        try (Transaction t = osd.newTransaction()) {
            t.declareCreate(A, ObjectKind.DATA);
            t.start();
            t.create(A, ObjectKind.DATA, AttrChange.none());
        }
        for (int i = 0; i < EXTENTS; i++) {
            int off = i * STRIDE;
            int len = i == EXTENTS - 1 ? PIECE + TAIL : PIECE;
            try (Transaction t = osd.newTransaction()) {
                t.declareWrite(A, off, len);
                t.start();
                t.write(A, off, ByteBuffer.wrap(body, off, len));
            }
        }
    }

    private static byte[] read(KvOsd osd, long off, int n) throws OsdException {
        ByteBuffer b = ByteBuffer.allocate(n);
        int got = osd.read(A, off, b);
        assertThat(b.position()).isEqualTo(Math.max(got, 0));
        return Arrays.copyOf(b.array(), Math.max(got, 0));
    }

    private static byte[] expected(byte[] body, long off, int n) {
        int from = (int) Math.min(off, body.length);
        return Arrays.copyOfRange(body, from, (int) Math.min(body.length, off + n));
    }

    @Test
    void readsOfAManyExtentBodyReturnExactlyItsBytesAtEveryBoundary() throws Exception {
        byte[] body = model();
        try (KvOsd osd = KvTestSupport.open(tmp.resolve("kv"))) {
            writeInExtents(osd, body);
            assertThat(osd.getAttr(A).size()).isEqualTo(body.length);
            List<Long> edges = new ArrayList<>();
            for (int i = 0; i < EXTENTS; i++) {
                for (long e : new long[] {(long) i * STRIDE, (long) i * STRIDE + PIECE}) {
                    edges.add(e - 1);
                    edges.add(e);
                    edges.add(e + 1);
                }
            }
            edges.add((long) body.length - 1);
            for (long off : edges) {
                if (off < 0) {
                    continue;
                }
                for (int n : new int[] {1, 4096, 4097, STRIDE, 3 * STRIDE + 5}) {
                    assertThat(read(osd, off, n)).as("read of %d at %d", n, off).isEqualTo(expected(body, off, n));
                }
            }
            Random r = new Random(7);
            for (int i = 0; i < 2000; i++) {
                long off = r.nextInt(body.length + 8192);
                int n = 1 + r.nextInt(6 * STRIDE);
                assertThat(read(osd, off, n)).as("read of %d at %d", n, off).isEqualTo(expected(body, off, n));
            }
            // Short at the end of the body, nothing at or past it.
            assertThat(read(osd, body.length - 10, 4096)).hasSize(10);
            assertThat(read(osd, body.length, 4096)).isEmpty();
            assertThat(read(osd, body.length + 5000L, 4096)).isEmpty();
            // The whole body in one read, and in 4 KiB reads from the far end backwards.
            assertThat(read(osd, 0, body.length + 1)).isEqualTo(body);
            for (long off = body.length - 4096; off >= 0; off -= 4096) {
                assertThat(read(osd, off, 4096)).isEqualTo(expected(body, off, 4096));
            }
        }
    }

    @Test
    void theSearchStartsAtTheFirstPieceEndingAfterTheBlockAsAWalkWouldFindIt() throws Exception {
        List<Piece> pieces = new ArrayList<>();
        long block = 3;
        Random r = new Random(11);
        for (int i = 0; i < 100; i++) {
            long blocks = 1 + r.nextInt(5);
            pieces.add(new Piece.Extent(block, blocks, i, 0, blocks * 4096));
            block += blocks + r.nextInt(3); // sometimes a gap (a hole)
        }
        for (int n = 0; n <= pieces.size(); n++) {
            List<Piece> list = List.copyOf(pieces.subList(0, n));
            for (long b = 0; b <= block + 2; b++) {
                List<Piece> walk = new ArrayList<>();
                for (Piece p : list) {
                    if (p.end() > b) {
                        walk.add(p);
                    }
                }
                List<Piece> searched = new ArrayList<>();
                BodyIo.Pieces from = BodyIo.Pieces.from(list, b);
                for (Piece p; (p = from.next()) != null; ) {
                    searched.add(p);
                }
                assertThat(searched).as("%d pieces, from block %d", n, b).isEqualTo(walk);
            }
        }
    }
}
