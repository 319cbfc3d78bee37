package dev.spillway.osd.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reads of a large body reuse what an earlier read loaded while the object's change stamp is
 * unchanged (no RocksDB get per read), and every commit naming the object is seen by the next read.
 */
class KvReadViewTest {
    private static final Fid A = new Fid(0x200000400L, 1, 0);
    private static final int SIZE = 256 << 10; // above inline-max: the body is in an extent file

    @TempDir
    Path tmp;

    private static byte[] filled(int n, int v) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) v);
        return b;
    }

    private static byte[] read(KvOsd osd, Fid f, long off, int n) throws OsdException {
        ByteBuffer b = ByteBuffer.allocate(n);
        int got = osd.read(f, off, b);
        return Arrays.copyOf(b.array(), got);
    }

    private static void write(KvOsd osd, Fid f, long off, byte[] data) throws OsdException {
        try (Transaction t = osd.newTransaction()) {
            t.declareWrite(f, off, data.length);
            t.start();
            t.write(f, off, ByteBuffer.wrap(data));
        }
    }

    @Test
    void readsOfAnUnchangedLargeBodyLoadItsRecordsOnce() throws Exception {
        try (KvOsd osd = KvTestSupport.open(tmp.resolve("kv"))) {
            KvTestSupport.createData(osd, A, filled(SIZE, 7));
            long before = osd.viewLoads();
            for (int i = 0; i < 50; i++) {
                assertThat(read(osd, A, i * 4096L, 4096)).isEqualTo(filled(4096, 7));
            }
            assertThat(osd.viewLoads() - before).isEqualTo(1);
        }
    }

    @Test
    void everyCommitNamingTheObjectIsSeenByTheNextRead() throws Exception {
        try (KvOsd osd = KvTestSupport.open(tmp.resolve("kv"))) {
            KvTestSupport.createData(osd, A, filled(SIZE, 1));
            assertThat(read(osd, A, 0, SIZE)).isEqualTo(filled(SIZE, 1));

            write(osd, A, 0, filled(SIZE, 2));
            assertThat(read(osd, A, 0, SIZE)).isEqualTo(filled(SIZE, 2));

            try (Transaction t = osd.newTransaction()) {
                t.declareTruncate(A, 4096);
                t.start();
                t.truncate(A, 4096);
            }
            assertThat(read(osd, A, 0, SIZE)).isEqualTo(filled(4096, 2));

            try (Transaction t = osd.newTransaction()) {
                t.declareTruncate(A, SIZE);
                t.start();
                t.truncate(A, SIZE);
            }
            byte[] want = new byte[SIZE];
            Arrays.fill(want, 0, 4096, (byte) 2);
            assertThat(read(osd, A, 0, SIZE)).isEqualTo(want);

            write(osd, A, 0, filled(SIZE, 3));
            assertThat(read(osd, A, 0, SIZE)).isEqualTo(filled(SIZE, 3));
            try (Transaction t = osd.newTransaction()) {
                t.declarePunch(A, 65536, 65536);
                t.start();
                t.punch(A, 65536, 65536);
            }
            want = filled(SIZE, 3);
            Arrays.fill(want, 65536, 131072, (byte) 0);
            assertThat(read(osd, A, 0, SIZE)).isEqualTo(want);

            try (Transaction t = osd.newTransaction()) {
                t.declareSetAttr(A);
                t.start();
                t.setAttr(A, AttrChange.none().mode(0600));
            }
            assertThat(read(osd, A, 0, SIZE)).isEqualTo(want);

            try (Transaction t = osd.newTransaction()) {
                t.declareDestroy(A);
                t.start();
                t.destroy(A);
            }
            assertThatThrownBy(() -> read(osd, A, 0, SIZE))
                    .isInstanceOfSatisfying(
                            OsdException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ENOENT));
        }
    }

    @Test
    void aReadUnderCommitsSeesOneWholeBodyNeverAMix() throws Exception {
        try (KvOsd osd = KvTestSupport.open(tmp.resolve("kv"))) {
            KvTestSupport.createData(osd, A, filled(SIZE, 0));
            AtomicBoolean done = new AtomicBoolean();
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    for (int i = 1; i <= 200; i++) {
                        write(osd, A, 0, filled(SIZE, i));
                    }
                } catch (OsdException e) {
                    throw new RuntimeException(e);
                } finally {
                    done.set(true);
                }
            });
            int last = 0;
            while (!done.get()) {
                byte[] b = read(osd, A, 0, SIZE);
                assertThat(b).hasSize(SIZE);
                int v = b[0] & 0xff;
                assertThat(b).as("one commit's body").isEqualTo(filled(SIZE, v));
                assertThat(v).as("no read goes back in time").isGreaterThanOrEqualTo(last);
                last = v;
            }
            writer.get(5, TimeUnit.MINUTES); // a guard only: ends a hung run
            assertThat(read(osd, A, 0, SIZE)).isEqualTo(filled(SIZE, 200));
        }
    }
}
