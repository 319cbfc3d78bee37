package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Transaction;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.meta.Span;
import dev.spillway.pool.ops.MoveResult;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A split body far larger than the fast tier's free space (issue 20): a write to its resident
 * ranges declares only the spilled ranges it overlaps, never a recall of the whole body — so an
 * object several times the tier's size can be written a piece at a time and range-spilled as it
 * goes, and its hot head rewritten in place.
 */
class RangeWriteSpaceTest {
    private static final int M = 1 << 20;
    private PoolOsd pool;

    @AfterEach
    void fsckClean() throws Exception {
        PoolFixtures.assertFsckClean(pool);
    }

    private void write(Fid f, long off, byte[] b) throws Exception {
        try (Transaction tx = pool.newTransaction()) {
            tx.declareWrite(f, off, b.length);
            tx.start();
            tx.write(f, off, ByteBuffer.wrap(b));
        }
    }

    @Test
    void anObjectFourTimesTheTierIsWrittenAPieceAtATimeAndItsHeadRewrittenWhileSplit() throws Exception {
        pool = PoolFixtures.mount(PoolConfigParser.parse("""
                name: space
                devices:
                  - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {capacity: 4MiB, strict-declares: true}}
                  - {name: slow, backend: mem, roles: [background], settings: {strict-declares: true}}
                """, "space"));
        Fid f = new Fid(0x200000400L, 1, 0);
        int size = 16 * M;
        try (Transaction tx = pool.newTransaction()) {
            tx.declareCreate(f, ObjectKind.DATA);
            tx.declareTruncate(f, size);
            tx.start();
            tx.create(f, ObjectKind.DATA, AttrChange.none().mode(0644));
            tx.truncate(f, size);
        }
        byte[] body = PoolFixtures.random(size, 9);
        for (int off = 0; off < size; off += M) {
            write(f, off, Arrays.copyOfRange(body, off, off + M));
            if (off > 0) {
                MoveResult r = pool.migrator().spillRange(f, pool.device(1), off, off + M >= size ? Span.EOF : off + M);
                assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Done.class);
            }
        }
        assertThat(pool.object(f).orElseThrow().ranges(0)).hasSize(15);
        // The hot head, rewritten in place: nothing recalled, nothing to declare for the rest.
        byte[] head = PoolFixtures.random(M, 10);
        write(f, 0, head);
        System.arraycopy(head, 0, body, 0, M);
        assertThat(pool.object(f).orElseThrow().split(0)).isTrue();
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(body);
    }
}
