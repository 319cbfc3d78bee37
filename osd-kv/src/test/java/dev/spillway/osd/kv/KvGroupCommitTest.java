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

    /**
     * Early lock release: sync transactions that all update one index (an S3 bucket's keys) commit
     * while the first one's WAL sync is held, and share the next sync. Before, each held the
     * index's lock through its own sync, so the others could not start until it was durable.
     */
    @Test
    void syncTransactionsOfOneIndexCommitWhileTheFirstWaitsAndShareASync() throws Exception {
        int writers = 4;
        Fid index = Fid.of(0x200000403L, 1);
        try (KvOsd osd = KvTestSupport.open(tmp.resolve("dev"))) {
            try (Transaction t = osd.newTransaction()) {
                t.declareCreate(index, ObjectKind.INDEX);
                t.start();
                t.create(index, ObjectKind.INDEX, AttrChange.none());
            }
            osd.sync();
            CountDownLatch held = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            osd.pipeline.beforeRound = () -> {
                held.countDown();
                await(release);
            };
            List<CompletableFuture<Void>> done = new ArrayList<>();
            done.add(insertOn(osd, index, 0));
            assertThat(held.await(30, TimeUnit.SECONDS))
                    .as("the first sync transaction leads a round, held at its start")
                    .isTrue();
            for (int i = 1; i <= writers; i++) {
                done.add(insertOn(osd, index, i));
            }
            // A guard only ends a hung run: before early lock release the others waited for the
            // index's lock, which the first held through its sync.
            long guard = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (osd.pipeline.pendingCount() < writers + 1 && System.nanoTime() < guard) {
                Thread.sleep(1);
            }
            assertThat(osd.pipeline.pendingCount())
                    .as("every writer of the index committed while the first one's sync is held")
                    .isEqualTo(writers + 1);
            for (CompletableFuture<Void> d : done) {
                assertThat(d).as("a sync stop returns only once durable").isNotDone();
            }
            long before = osd.pipeline.walSyncs();
            osd.pipeline.beforeRound = null;
            release.countDown();
            for (CompletableFuture<Void> d : done) {
                d.get(60, TimeUnit.SECONDS);
            }
            assertThat(osd.pipeline.walSyncs() - before)
                    .as("the held round and one more made all of them durable")
                    .isLessThanOrEqualTo(2);
            for (int i = 0; i <= writers; i++) {
                assertThat(osd.lookup(index, new byte[] {(byte) i})).isPresent();
            }
        }
    }

    private static CompletableFuture<Void> insertOn(KvOsd osd, Fid index, int key) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread.ofPlatform().start(() -> {
            try (Transaction t = osd.newTransaction()) {
                t.declareInsert(index, 1, 1);
                t.setSync(true);
                t.start();
                t.insert(index, new byte[] {(byte) key}, new byte[] {1});
            } catch (Throwable e) {
                done.completeExceptionally(e);
                return;
            }
            done.complete(null);
        });
        return done;
    }

    private static void await(CountDownLatch l) {
        try {
            l.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
