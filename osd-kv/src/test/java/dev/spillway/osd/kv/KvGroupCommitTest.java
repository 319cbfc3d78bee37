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
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Group commit, made deterministic by holding the sync round at its start: commits that arrive
 * while a round is held share the next WAL sync, and no callback fires before the sync that
 * covers its transaction.
 */
class KvGroupCommitTest {
    @TempDir
    Path tmp;

    private static CompletableFuture<OsdException> createAsync(KvOsd osd, Fid f, boolean sync, List<Long> order)
            throws OsdException {
        CompletableFuture<OsdException> cb = new CompletableFuture<>();
        try (Transaction t = osd.newTransaction()) {
            t.declareCreate(f, ObjectKind.DATA);
            t.declareWrite(f, 0, 8);
            t.setSync(sync);
            long id = t.id();
            t.addCommitCallback((i, e) -> {
                order.add(id);
                cb.complete(e);
            });
            t.start();
            t.create(f, ObjectKind.DATA, AttrChange.none());
            t.write(f, 0, ByteBuffer.allocate(8).putLong(0, f.oid()));
        }
        return cb;
    }

    @Test
    void aCallbackWaitsForTheSyncAndPublishedDataIsReadableBefore() throws Exception {
        try (KvOsd osd = KvTestSupport.open(tmp.resolve("dev"))) {
            CountDownLatch held = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            osd.pipeline.beforeRound = () -> {
                held.countDown();
                await(release);
            };
            List<Long> order = Collections.synchronizedList(new ArrayList<>());
            Fid f = Fid.of(0x200000401L, 1);
            CompletableFuture<OsdException> cb = createAsync(osd, f, false, order);
            assertThat(held.await(30, TimeUnit.SECONDS))
                    .as("the background round started")
                    .isTrue();
            assertThat(osd.exists(f)).as("visible once stop returned").isTrue();
            assertThat(cb).as("no callback before the WAL sync").isNotDone();
            osd.pipeline.beforeRound = null;
            release.countDown();
            assertThat(cb.get(30, TimeUnit.SECONDS)).isNull();
        }
    }

    @Test
    void concurrentSyncTransactionsShareOneWalSync() throws Exception {
        int writers = 8;
        try (KvOsd osd = KvTestSupport.open(tmp.resolve("dev"))) {
            CountDownLatch held = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            osd.pipeline.beforeRound = () -> {
                held.countDown();
                await(release);
            };
            List<Long> order = Collections.synchronizedList(new ArrayList<>());
            // A first sync transaction leads a round and is held at its start.
            Thread first = Thread.ofPlatform().start(() -> {
                try {
                    createAsync(osd, Fid.of(0x200000402L, 100), true, order);
                } catch (OsdException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(held.await(30, TimeUnit.SECONDS)).isTrue();
            List<Thread> ts = new ArrayList<>();
            for (int i = 0; i < writers; i++) {
                int n = i;
                ts.add(Thread.ofPlatform().start(() -> {
                    try {
                        createAsync(osd, Fid.of(0x200000402L, n + 1), true, order);
                    } catch (OsdException e) {
                        throw new IllegalStateException(e);
                    }
                }));
            }
            while (osd.pipeline.pendingCount() < writers + 1) {
                Thread.onSpinWait();
            }
            long before = osd.pipeline.walSyncs();
            osd.pipeline.beforeRound = null;
            release.countDown();
            first.join();
            for (Thread t : ts) {
                t.join();
            }
            assertThat(osd.pipeline.walSyncs() - before)
                    .as("one WAL sync made all %d transactions durable", writers + 1)
                    .isEqualTo(1);
            assertThat(order).hasSize(writers + 1);
            for (int i = 0; i < writers; i++) {
                assertThat(osd.exists(Fid.of(0x200000402L, i + 1))).isTrue();
            }
        }
    }

    private static void await(CountDownLatch l) {
        try {
            l.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
