package dev.spillway.osd.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Capability;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.XattrFlag;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The transaction protocol: order rules, declares, callbacks, failure and rollback, locking. */
public interface TransactionContract extends OsdContract {

    /** Waits for a callback's result: durable devices may fire it after stop returns. */
    private OsdException awaitCallback(CompletableFuture<OsdException> cb) throws Exception {
        if (!cb.isDone()) {
            osd().sync();
        }
        return cb.get(30, TimeUnit.SECONDS);
    }

    private static CompletableFuture<OsdException> callback(Transaction t) {
        CompletableFuture<OsdException> f = new CompletableFuture<>();
        t.addCommitCallback((id, err) -> f.complete(err));
        return f;
    }

    @Test
    default void stopWithoutStartIsAllowedAndCancelsTheCallbacks() throws Exception {
        Transaction t = osd().newTransaction();
        Fid f = newFid();
        t.declareCreate(f, ObjectKind.DATA);
        var cb = callback(t);
        t.stop();
        OsdException err = cb.get(10, TimeUnit.SECONDS);
        assertThat(err).isNotNull();
        assertThat(err.errno()).isEqualTo(Errno.ECANCELED);
        assertThat(osd().exists(f)).isFalse();
    }

    @Test
    default void startTwiceIsEinval() throws Exception {
        try (Transaction t = osd().newTransaction()) {
            t.start();
            assertErrno(Errno.EINVAL, t::start);
        }
    }

    @Test
    default void stopTwiceIsEinval() throws Exception {
        Transaction t = osd().newTransaction();
        t.start();
        t.stop();
        assertErrno(Errno.EINVAL, t::stop);
        t.close();
    }

    @Test
    default void updateBeforeStartIsEinval() throws Exception {
        Fid f = newFid();
        try (Transaction t = osd().newTransaction()) {
            t.declareCreate(f, ObjectKind.DATA);
            assertErrno(Errno.EINVAL, () -> t.create(f, ObjectKind.DATA, AttrChange.none()));
        }
        assertThat(osd().exists(f)).isFalse();
    }

    @Test
    default void declareAfterStartIsEinval() throws Exception {
        Fid f = newFid();
        try (Transaction t = osd().newTransaction()) {
            t.start();
            assertErrno(Errno.EINVAL, () -> t.declareCreate(f, ObjectKind.DATA));
        }
    }

    @Test
    default void updateAfterStopIsEinval() throws Exception {
        Fid f = newFid();
        Transaction t = osd().newTransaction();
        t.declareCreate(f, ObjectKind.DATA);
        t.start();
        t.stop();
        assertErrno(Errno.EINVAL, () -> t.create(f, ObjectKind.DATA, AttrChange.none()));
    }

    @Test
    default void undeclaredUpdateIsEinvalInStrictMode() throws Exception {
        Fid f = newFid();
        try (Transaction t = osd().newTransaction()) {
            t.start();
            assertErrno(Errno.EINVAL, () -> t.create(f, ObjectKind.DATA, AttrChange.none()));
        }
        assertThat(osd().exists(f)).isFalse();
    }

    @Test
    default void writeOutsideTheDeclaredRangeIsEinvalInStrictMode() throws Exception {
        Fid f = create(ObjectKind.DATA);
        try (Transaction t = osd().newTransaction()) {
            t.declareWrite(f, 0, 10);
            t.start();
            assertErrno(Errno.EINVAL, () -> t.write(f, 5, ByteBuffer.allocate(10)));
        }
        assertThat(osd().getAttr(f).size()).isZero();
    }

    @Test
    default void xattrLargerThanDeclaredIsEinvalInStrictMode() throws Exception {
        assumeCapability(Capability.XATTRS);
        Fid f = create(ObjectKind.DATA);
        try (Transaction t = osd().newTransaction()) {
            t.declareSetXattr(f, "user.a", 2);
            t.start();
            assertErrno(Errno.EINVAL, () -> t.setXattr(f, "user.a", new byte[3], XattrFlag.UPSERT));
        }
    }

    @Test
    default void commitCallbackFiresOnceWithNoError() throws Exception {
        Fid f = newFid();
        List<Long> calls = Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<OsdException> cb;
        long id;
        try (Transaction t = osd().newTransaction()) {
            id = t.id();
            t.declareCreate(f, ObjectKind.DATA);
            t.addCommitCallback((i, e) -> calls.add(i));
            cb = callback(t);
            t.start();
            t.create(f, ObjectKind.DATA, AttrChange.none());
        }
        assertThat(awaitCallback(cb)).isNull();
        osd().sync();
        assertThat(calls).containsExactly(id);
    }

    @Test
    default void callbacksOfOneTransactionFireInOrder() throws Exception {
        List<Integer> order = Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<OsdException> last;
        try (Transaction t = osd().newTransaction()) {
            for (int i = 0; i < 5; i++) {
                int n = i;
                t.addCommitCallback((id, e) -> order.add(n));
            }
            last = callback(t);
            t.start();
        }
        awaitCallback(last);
        assertThat(order).containsExactly(0, 1, 2, 3, 4);
    }

    @Test
    default void callbacksFireInCommitOrderAcrossTransactions() throws Exception {
        List<Long> order = Collections.synchronizedList(new ArrayList<>());
        List<Long> ids = new ArrayList<>();
        CompletableFuture<OsdException> last = null;
        for (int i = 0; i < 10; i++) {
            Fid f = newFid();
            try (Transaction t = osd().newTransaction()) {
                ids.add(t.id());
                t.declareCreate(f, ObjectKind.DATA);
                t.addCommitCallback((id, e) -> order.add(id));
                last = callback(t);
                t.start();
                t.create(f, ObjectKind.DATA, AttrChange.none());
            }
        }
        awaitCallback(last);
        osd().sync();
        assertThat(order).containsExactlyElementsOf(ids);
    }

    @Test
    default void syncTransactionIsCommittedWhenStopReturns() throws Exception {
        Fid f = newFid();
        CompletableFuture<OsdException> cb;
        try (Transaction t = osd().newTransaction()) {
            t.declareCreate(f, ObjectKind.DATA);
            t.setSync(true);
            cb = callback(t);
            t.start();
            t.create(f, ObjectKind.DATA, AttrChange.none());
        }
        assertThat(cb).isDone();
        assertThat(cb.get()).isNull();
        assertThat(osd().exists(f)).isTrue();
    }

    @Test
    default void idsAreUnique() throws Exception {
        Transaction a = osd().newTransaction();
        Transaction b = osd().newTransaction();
        assertThat(a.id()).isNotEqualTo(b.id());
        a.stop();
        b.stop();
    }

    @Test
    default void enospcComesAtStartAndChangesNothing() throws Exception {
        withCapacity(4L << 20);
        Fid f = newFid();
        CompletableFuture<OsdException> cb;
        try (Transaction t = osd().newTransaction()) {
            t.declareCreate(f, ObjectKind.DATA);
            t.declareWrite(f, 0, 64L << 20);
            cb = callback(t);
            assertErrno(Errno.ENOSPC, t::start);
            assertErrno(Errno.EINVAL, () -> t.create(f, ObjectKind.DATA, AttrChange.none()));
        }
        assertThat(cb.get(10, TimeUnit.SECONDS)).isNotNull();
        assertThat(osd().exists(f)).isFalse();
        Fid small = createData(new byte[1000]);
        assertThat(osd().getAttr(small).size()).isEqualTo(1000);
    }

    @Test
    default void declaredUpdatesNeverFailForSpaceAfterStart() throws Exception {
        withCapacity(8L << 20);
        List<Fid> written = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            Fid f = newFid();
            byte[] data = OsdContract.random(i, 512 << 10);
            try (Transaction t = osd().newTransaction()) {
                t.declareCreate(f, ObjectKind.DATA);
                t.declareWrite(f, 0, data.length);
                try {
                    t.start();
                } catch (OsdException e) {
                    assertThat(e.errno()).isIn(Errno.ENOSPC, Errno.EDQUOT);
                    break;
                }
                t.create(f, ObjectKind.DATA, AttrChange.none());
                t.write(f, 0, ByteBuffer.wrap(data));
            }
            written.add(f);
        }
        assertThat(written).as("some writes fit").isNotEmpty().hasSizeLessThan(64);
        for (Fid f : written) {
            assertThat(osd().getAttr(f).size()).isEqualTo(512 << 10);
        }
    }

    @Test
    default void aFailedUpdateRollsTheTransactionBack() throws Exception {
        assumeCapability(Capability.TRANSACTIONS);
        Fid a = newFid();
        Fid missing = newFid();
        CompletableFuture<OsdException> cb;
        try (Transaction t = osd().newTransaction()) {
            t.declareCreate(a, ObjectKind.DATA);
            t.declareDestroy(missing);
            cb = callback(t);
            t.start();
            t.create(a, ObjectKind.DATA, AttrChange.none());
            assertErrno(Errno.ENOENT, () -> t.destroy(missing));
            assertErrno(Errno.EINVAL, () -> t.create(a, ObjectKind.DATA, AttrChange.none()));
        }
        assertThat(cb.get(10, TimeUnit.SECONDS)).isNotNull();
        assertThat(osd().exists(a)).isFalse();
    }

    @Test
    default void destroyIfExistsSkipsMissingObjectsWithoutFailingTheTransaction() throws Exception {
        Fid a = createData(new byte[] {1, 2, 3});
        Fid missing = newFid();
        Fid b = createData(new byte[] {4});
        Fid fresh = newFid();
        CompletableFuture<OsdException> cb;
        try (Transaction t = osd().newTransaction()) {
            t.declareDestroy(a);
            t.declareDestroy(missing);
            t.declareDestroy(b);
            t.declareCreate(fresh, ObjectKind.DATA);
            cb = callback(t);
            t.start();
            assertThat(t.destroyIfExists(a)).isTrue();
            assertThat(t.destroyIfExists(missing)).isFalse();
            assertThat(t.destroyIfExists(b)).isTrue();
            assertThat(t.destroyIfExists(b))
                    .as("destroyed earlier in the transaction")
                    .isFalse();
            // The transaction is still good: a later update goes through.
            t.create(fresh, ObjectKind.DATA, AttrChange.none());
        }
        assertThat(cb.get(10, TimeUnit.SECONDS)).isNull();
        assertThat(osd().exists(a)).isFalse();
        assertThat(osd().exists(b)).isFalse();
        assertThat(osd().exists(missing)).isFalse();
        assertThat(osd().exists(fresh)).isTrue();
    }

    @Test
    default void abortDiscardsEveryUpdate() throws Exception {
        assumeCapability(Capability.TRANSACTIONS);
        Fid kept = createData(new byte[] {1, 2, 3});
        Fid fresh = newFid();
        CompletableFuture<OsdException> cb;
        try (Transaction t = osd().newTransaction()) {
            t.declareCreate(fresh, ObjectKind.DATA);
            t.declareTruncate(kept, 0);
            cb = callback(t);
            t.start();
            t.create(fresh, ObjectKind.DATA, AttrChange.none());
            t.truncate(kept, 0);
            t.abort();
        }
        assertThat(cb.get(10, TimeUnit.SECONDS).errno()).isEqualTo(Errno.ECANCELED);
        assertThat(osd().exists(fresh)).isFalse();
        assertThat(readAll(kept)).containsExactly(1, 2, 3);
    }

    @Test
    default void updatesAreInvisibleUntilStop() throws Exception {
        assumeCapability(Capability.TRANSACTIONS);
        Fid f = newFid();
        Fid existing = createData(new byte[] {7});
        try (Transaction t = osd().newTransaction()) {
            t.declareCreate(f, ObjectKind.DATA);
            t.declareWrite(f, 0, 3);
            t.declareTruncate(existing, 0);
            t.start();
            t.create(f, ObjectKind.DATA, AttrChange.none());
            t.write(f, 0, ByteBuffer.wrap(new byte[] {1, 2, 3}));
            t.truncate(existing, 0);
            assertThat(osd().exists(f)).isFalse();
            assertThat(osd().getAttr(existing).size()).isEqualTo(1);
        }
        assertThat(readAll(f)).containsExactly(1, 2, 3);
        assertThat(osd().getAttr(existing).size()).isZero();
    }

    @Test
    default void createWriteAndXattrInOneTransaction() throws Exception {
        Fid f = newFid();
        boolean x = osd().capabilities().has(Capability.XATTRS);
        tx(
                t -> {
                    t.declareCreate(f, ObjectKind.DATA);
                    t.declareWrite(f, 0, 5);
                    if (x) {
                        t.declareSetXattr(f, "user.k", 1);
                    }
                },
                t -> {
                    t.create(f, ObjectKind.DATA, AttrChange.none());
                    t.write(f, 0, ByteBuffer.wrap(new byte[] {1, 2, 3, 4, 5}));
                    if (x) {
                        t.setXattr(f, "user.k", new byte[] {9}, XattrFlag.CREATE);
                    }
                });
        assertThat(readAll(f)).containsExactly(1, 2, 3, 4, 5);
        if (x) {
            assertThat(osd().getXattr(f, "user.k")).containsExactly(9);
        }
    }

    @Test
    default void destroyAndRecreateInOneTransaction() throws Exception {
        assumeCapability(Capability.TRANSACTIONS);
        Fid f = createData(new byte[] {1, 2, 3});
        tx(
                t -> {
                    t.declareDestroy(f);
                    t.declareCreate(f, ObjectKind.DATA);
                    t.declareWrite(f, 0, 1);
                },
                t -> {
                    t.destroy(f);
                    t.create(f, ObjectKind.DATA, AttrChange.none());
                    t.write(f, 0, ByteBuffer.wrap(new byte[] {4}));
                });
        assertThat(readAll(f)).containsExactly(4);
    }

    @Test
    default void multiObjectTransactionIsAllOrNothing() throws Exception {
        assumeCapability(Capability.TRANSACTIONS);
        List<Fid> fids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            fids.add(newFid());
        }
        try (Transaction t = osd().newTransaction()) {
            for (Fid f : fids) {
                t.declareCreate(f, ObjectKind.DATA);
            }
            t.start();
            for (Fid f : fids) {
                t.create(f, ObjectKind.DATA, AttrChange.none());
            }
            t.create(fids.get(0), ObjectKind.DATA, AttrChange.none());
        } catch (OsdException e) {
            assertThat(e.errno()).isEqualTo(Errno.EEXIST);
        }
        for (Fid f : fids) {
            assertThat(osd().exists(f)).as("%s of a failed transaction", f).isFalse();
        }
    }

    @Test
    default void nestedTransactionOnOneThreadIsEinval() throws Exception {
        try (Transaction outer = osd().newTransaction()) {
            outer.start();
            try (Transaction inner = osd().newTransaction()) {
                assertErrno(Errno.EINVAL, inner::start);
            }
        }
        try (Transaction again = osd().newTransaction()) {
            again.start();
        }
    }

    @Test
    default void closeCommitsAnUnstoppedTransaction() throws Exception {
        Fid f = newFid();
        try (Transaction t = osd().newTransaction()) {
            t.declareCreate(f, ObjectKind.DATA);
            t.start();
            t.create(f, ObjectKind.DATA, AttrChange.none());
        }
        assertThat(osd().exists(f)).isTrue();
    }

    @Test
    default void transactionsOnDisjointObjectsRunConcurrently() throws Exception {
        Fid a = create(ObjectKind.DATA);
        // Several other objects, so that one surely lies outside a's lock stripe.
        List<Fid> others = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            others.add(create(ObjectKind.DATA));
        }
        CountDownLatch aStarted = new CountDownLatch(1);
        CountDownLatch oneOtherDone = new CountDownLatch(1);
        ExecutorService ex = Executors.newFixedThreadPool(1 + others.size());
        try {
            Future<?> ta = ex.submit(() -> {
                try (Transaction t = osd().newTransaction()) {
                    t.declareWrite(a, 0, 1);
                    t.start();
                    aStarted.countDown();
                    assertThat(oneOtherDone.await(60, TimeUnit.SECONDS))
                            .as("another object was written while a's transaction held a")
                            .isTrue();
                    t.write(a, 0, ByteBuffer.wrap(new byte[] {1}));
                }
                return null;
            });
            List<Future<?>> tb = new ArrayList<>();
            for (Fid b : others) {
                tb.add(ex.submit(() -> {
                    aStarted.await();
                    write(b, 0, new byte[] {2});
                    oneOtherDone.countDown();
                    return null;
                }));
            }
            ta.get(120, TimeUnit.SECONDS);
            for (Future<?> f : tb) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            ex.shutdownNow();
        }
        assertThat(readAll(a)).containsExactly(1);
        for (Fid b : others) {
            assertThat(readAll(b)).containsExactly(2);
        }
    }

    @Test
    default void startSerializesReadModifyWriteOnOneObject() throws Exception {
        assumeCapability(Capability.TRANSACTIONS);
        assumeCapability(Capability.PARTIAL_WRITE);
        Fid counter = createData(new byte[8]);
        int threads = 4;
        int rounds = 50;
        ExecutorService ex = Executors.newFixedThreadPool(threads);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                fs.add(ex.submit(() -> {
                    for (int r = 0; r < rounds; r++) {
                        try (Transaction t = osd().newTransaction()) {
                            t.declareWrite(counter, 0, 8);
                            t.start();
                            long v = ByteBuffer.wrap(read(counter, 0, 8)).getLong();
                            t.write(counter, 0, ByteBuffer.allocate(8).putLong(0, v + 1));
                        } catch (Throwable e) {
                            failure.compareAndSet(null, e);
                        }
                    }
                }));
            }
            for (Future<?> f : fs) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            ex.shutdownNow();
        }
        assertThat(failure.get()).isNull();
        assertThat(ByteBuffer.wrap(read(counter, 0, 8)).getLong()).isEqualTo((long) threads * rounds);
    }

    @Test
    default void withoutTransactionsEachUpdateIsVisibleAtOnce() throws Exception {
        assumeLacks(Capability.TRANSACTIONS);
        Fid f = newFid();
        try (Transaction t = osd().newTransaction()) {
            t.declareCreate(f, ObjectKind.DATA);
            t.start();
            t.create(f, ObjectKind.DATA, AttrChange.none());
            assertThat(osd().exists(f)).isTrue();
        }
    }

    @Test
    default void emptyTransactionCommits() throws Exception {
        CompletableFuture<OsdException> cb;
        try (Transaction t = osd().newTransaction()) {
            cb = callback(t);
            t.start();
        }
        assertThat(awaitCallback(cb)).isNull();
    }

    @Test
    default void abortBeforeAnyUpdateLeavesNothing() throws Exception {
        Fid f = newFid();
        try (Transaction t = osd().newTransaction()) {
            t.declareCreate(f, ObjectKind.DATA);
            t.start();
            t.abort();
            assertErrno(Errno.EINVAL, () -> t.create(f, ObjectKind.DATA, AttrChange.none()));
        }
        assertThat(osd().exists(f)).isFalse();
    }

    @Test
    default void aCallbackThatThrowsDoesNotBreakTheDevice() throws Exception {
        Fid f = newFid();
        CompletableFuture<OsdException> after;
        try (Transaction t = osd().newTransaction()) {
            t.declareCreate(f, ObjectKind.DATA);
            t.addCommitCallback((id, e) -> {
                throw new IllegalStateException("test callback throws on purpose");
            });
            after = callback(t);
            t.start();
            t.create(f, ObjectKind.DATA, AttrChange.none());
        }
        assertThat(awaitCallback(after)).isNull();
        assertThat(osd().exists(f)).isTrue();
    }
}
