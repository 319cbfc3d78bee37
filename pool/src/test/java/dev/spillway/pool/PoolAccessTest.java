package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Transaction;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The access rule of {@link PoolListener}: placement sees one access per client request — one
 * per transaction that changed a body (unless it continues an earlier one's access), one per
 * read stream — not one per OSD call. Objects of several MiB, read and written in chunks.
 */
class PoolAccessTest {
    static final int MIB = 1 << 20;

    /** What the listener heard, in order. */
    static final class Heard implements PoolListener {
        final List<String> events = new ArrayList<>();
        long readCalls;

        @Override
        public synchronized void read(Fid fid, long size, long bytes, int device) {
            readCalls++;
        }

        @Override
        public synchronized void readAccess(Fid fid, long size, int device) {
            events.add("read " + fid.oid() + " dev" + device);
        }

        @Override
        public synchronized void written(Fid fid, long size) {
            events.add("write " + fid.oid() + " " + size);
        }

        @Override
        public synchronized void resized(Fid fid, long size) {
            events.add("resize " + fid.oid() + " " + size);
        }
    }

    PoolOsd pool;
    final Heard heard = new Heard();

    @BeforeEach
    void mount() throws Exception {
        pool = PoolFixtures.mount(PoolFixtures.memMem("access", 0, 1, 1));
        pool.listener(heard);
    }

    @AfterEach
    void close() throws Exception {
        pool.close();
    }

    static Fid fid(int i) {
        return new Fid(0x200000400L, i, 0);
    }

    /** Writes {@code chunks} MiB of {@code f} a chunk per transaction, the later ones continuing the first's access. */
    void stage(Fid f, int chunks, boolean markContinuation) throws Exception {
        for (int c = 0; c < chunks; c++) {
            try (Transaction tx = pool.newTransaction()) {
                if (c == 0) {
                    tx.declareCreate(f, ObjectKind.DATA);
                }
                tx.declareWrite(f, (long) c * MIB, MIB);
                if (c > 0 && markContinuation) {
                    tx.continuesAccess(f);
                }
                tx.start();
                if (c == 0) {
                    tx.create(f, ObjectKind.DATA, AttrChange.none());
                }
                tx.write(f, (long) c * MIB, ByteBuffer.allocate(MIB));
            }
        }
    }

    /** Reads {@code [from, to)} of {@code f} in reads of {@code chunk} bytes. */
    void readRange(Fid f, long from, long to, int chunk) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(chunk);
        for (long off = from; off < to; ) {
            b.clear().limit((int) Math.min(chunk, to - off));
            int n = pool.read(f, off, b);
            if (n <= 0) {
                break;
            }
            off += n;
        }
    }

    @Test
    void aBodyStagedInChunksIsOneWriteAccessWhenTheCallerSaysSo() throws Exception {
        stage(fid(1), 4, true);
        assertThat(heard.events)
                .containsExactly("write 1 1048576", "resize 1 2097152", "resize 1 3145728", "resize 1 4194304");
        heard.events.clear();
        stage(fid(2), 3, false); // without the mark, each transaction is a request of its own
        assertThat(heard.events).containsExactly("write 2 1048576", "write 2 2097152", "write 2 3145728");
    }

    @Test
    void manyWritesInOneTransactionAreOneAccess() throws Exception {
        Fid f = fid(3);
        try (Transaction tx = pool.newTransaction()) {
            tx.declareCreate(f, ObjectKind.DATA);
            for (int c = 0; c < 5; c++) {
                tx.declareWrite(f, (long) c * MIB, MIB);
            }
            tx.start();
            tx.create(f, ObjectKind.DATA, AttrChange.none());
            for (int c = 0; c < 5; c++) {
                tx.write(f, (long) c * MIB, ByteBuffer.allocate(MIB));
            }
        }
        assertThat(heard.events).containsExactly("write 3 5242880");
    }

    @Test
    void aReadStreamInChunksIsOneAccessAndReadingAgainIsAnother() throws Exception {
        Fid f = fid(4);
        stage(f, 6, true);
        heard.events.clear();
        readRange(f, 0, 6L * MIB, 256 * 1024); // 24 calls
        assertThat(heard.readCalls).isEqualTo(24);
        assertThat(heard.events).containsExactly("read 4 dev0");
        assertThat(pool.openReadStreams()).isZero(); // it reached the end: closed
        readRange(f, 0, 6L * MIB, MIB);
        assertThat(heard.events).containsExactly("read 4 dev0", "read 4 dev0");
        // A ranged read that stops halfway leaves its stream open; resuming it is the same access.
        readRange(f, 0, 3L * MIB, MIB);
        assertThat(pool.openReadStreams()).isEqualTo(1);
        readRange(f, 3L * MIB, 6L * MIB, MIB);
        assertThat(heard.events).hasSize(3);
        assertThat(pool.openReadStreams()).isZero();
        // A read that starts in the middle with no stream waiting there is an access.
        readRange(f, 5L * MIB, 6L * MIB, MIB);
        assertThat(heard.events).hasSize(4);
    }

    @Test
    void twoReadersInterleavedAreTwoAccessesAndASpilledReadNamesItsDevice() throws Exception {
        Fid f = fid(5);
        stage(f, 4, true);
        pool.migrator().spill(f, pool.device(1));
        heard.events.clear();
        ByteBuffer a = ByteBuffer.allocate(MIB);
        ByteBuffer b = ByteBuffer.allocate(MIB);
        for (int c = 0; c < 4; c++) {
            pool.read(f, (long) c * MIB, a.clear());
            pool.read(f, (long) c * MIB, b.clear());
        }
        assertThat(heard.events).containsExactly("read 5 dev1", "read 5 dev1");
        assertThat(pool.openReadStreams()).isZero();
    }

    @Test
    void aNewDataVersionStartsANewAccess() throws Exception {
        Fid f = fid(6);
        stage(f, 2, true);
        heard.events.clear();
        readRange(f, 0, MIB, MIB); // stream open at 1 MiB
        try (Transaction tx = pool.newTransaction()) {
            tx.declareWrite(f, 0, 10);
            tx.start();
            tx.write(f, 0, ByteBuffer.allocate(10));
        }
        readRange(f, MIB, 2L * MIB, MIB); // same offset, another version of the body
        assertThat(heard.events).containsExactly("read 6 dev0", "write 6 2097152", "read 6 dev0");
    }

    @Test
    void openStreamsAreBounded() throws Exception {
        Fid f = fid(7);
        stage(f, 1, true);
        ByteBuffer one = ByteBuffer.allocate(1);
        for (int i = 0; i < 3 * ReadStreams.STREAMS; i++) {
            pool.read(f, i % 1000, one.clear()); // each leaves a stream waiting one byte further
        }
        assertThat(pool.openReadStreams()).isLessThanOrEqualTo(ReadStreams.STREAMS);
    }

    /** What the offset-aware methods heard. */
    static final class Where implements PoolListener {
        final List<String> events = new ArrayList<>();

        @Override
        public synchronized void readAt(Fid fid, long size, long offset, int n, boolean access, int device) {
            events.add("read " + offset + "+" + n + (access ? " access" : ""));
        }

        @Override
        public synchronized void written(Fid fid, long size, List<dev.spillway.pool.meta.Span> touched) {
            events.add("write " + size + " " + touched);
        }

        @Override
        public synchronized void resized(Fid fid, long size, List<dev.spillway.pool.meta.Span> touched) {
            events.add("resize " + size + " " + touched);
        }
    }

    @Test
    void theListenerHearsEachReadsOffsetAndTheRangesATransactionChanged() throws Exception {
        Where where = new Where();
        pool.listener(where);
        Fid f = fid(40);
        stage(f, 2, true);
        assertThat(where.events).containsExactly("write 1048576 [[0, 1048576)]", "resize 2097152 [[1048576, 2097152)]");
        where.events.clear();
        readRange(f, 0, 3 * 65536, 65536);
        readRange(f, 100, 200, 100);
        assertThat(where.events)
                .containsExactly("read 0+65536 access", "read 65536+65536", "read 131072+65536", "read 100+100 access");
        where.events.clear();
        // Writes, a punch and a truncate in one transaction: their ranges, rounded out to 64 KiB and merged.
        try (Transaction tx = pool.newTransaction()) {
            tx.declareWrite(f, 10, 5);
            tx.declareWrite(f, 65536 + 3, 65536);
            tx.declarePunch(f, 600_000, 10);
            tx.declareTruncate(f, 1_500_000);
            tx.start();
            tx.write(f, 10, ByteBuffer.allocate(5));
            tx.write(f, 65536 + 3, ByteBuffer.allocate(65536));
            tx.punch(f, 600_000, 10);
            tx.truncate(f, 1_500_000);
        }
        assertThat(where.events).containsExactly("write 1500000 [[0, 196608), [589824, 655360), [1441792, 2097152)]");
        where.events.clear();
        // More than 16 ranges: the closest are joined, never a byte less.
        try (Transaction tx = pool.newTransaction()) {
            for (int i = 0; i < 20; i++) {
                tx.declareWrite(f, (long) i * 3 * 65536 + (i == 5 ? 65536 : 0), 1);
            }
            tx.start();
            for (int i = 0; i < 20; i++) {
                tx.write(f, (long) i * 3 * 65536 + (i == 5 ? 65536 : 0), ByteBuffer.allocate(1));
            }
        }
        assertThat(where.events).hasSize(1);
        String heardRanges = where.events.get(0);
        assertThat(heardRanges.split("\\), \\[")).hasSize(PoolListener.MAX_TOUCHED);
        // [16, 17) and [18, 19) x 64 KiB are the closest: joined first; then the first of equal gaps.
        assertThat(heardRanges)
                .startsWith("write 3735553 [[0, 655360), [786432, 851968), [1048576, 1245184), ")
                .endsWith("[3735552, 3801088)]");
    }
}
