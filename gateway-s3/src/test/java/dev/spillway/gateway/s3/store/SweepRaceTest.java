package dev.spillway.gateway.s3.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.spillway.gateway.s3.GatewayConfig;
import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.store.Records.BucketRecord;
import dev.spillway.gateway.s3.store.Records.KeyRecord;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.IndexCursor;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.filter.FilterOsd;
import dev.spillway.osd.filter.FilterTransaction;
import dev.spillway.osd.mem.MemOsd;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The garbage sweeper against the writers and readers it races (KillLoopTest, seed
 * 0x180aa20f660bf5b0: a writer's GET of its own key answered 503 "being overwritten too fast"
 * because the sweeper had claimed the key's current body). Each race is put in place by hooks in
 * a filter below the store — a cursor that runs the commit when the sweeper has read its batch,
 * a transaction that stops when it declares a destroy — so no verdict depends on timing.
 */
class SweepRaceTest {
    private static final String BUCKET = "loop";
    private static final byte[] KEY = "k".getBytes(StandardCharsets.UTF_8);

    /** A memory OSD with the hooks the races need. */
    private static final class HookOsd extends FilterOsd {
        Fid garbage;
        Fid keys;
        // Each runs once, on the thread that reached the point.
        volatile Runnable afterGarbageCursor;
        volatile Runnable afterKeyLookup;
        volatile DestroyHook onDeclareDestroy;
        /** The commit of this body's PENDING entry lands, then its stop reports EIO. */
        volatile Fid failAfterCommitOf;

        HookOsd() {
            super(MemOsd.create("mem0"));
        }

        @Override
        public Optional<byte[]> lookup(Fid index, byte[] key) throws OsdException {
            Optional<byte[]> v = super.lookup(index, key);
            if (index.equals(keys) && Arrays.equals(key, KEY)) {
                Runnable r = afterKeyLookup;
                afterKeyLookup = null;
                if (r != null) {
                    r.run();
                }
            }
            return v;
        }

        @Override
        public IndexCursor cursor(Fid index, byte[] fromKey) throws OsdException {
            IndexCursor c = super.cursor(index, fromKey);
            if (!index.equals(garbage)) {
                return c;
            }
            return new IndexCursor() {
                @Override
                public boolean next() throws OsdException {
                    return c.next();
                }

                @Override
                public byte[] key() {
                    return c.key();
                }

                @Override
                public byte[] value() {
                    return c.value();
                }

                @Override
                public void close() {
                    c.close();
                    Runnable r = afterGarbageCursor;
                    afterGarbageCursor = null;
                    if (r != null) {
                        r.run();
                    }
                }
            };
        }

        @Override
        protected Transaction wrap(Transaction tx) {
            return new FilterTransaction(tx) {
                boolean commitsPending;
                boolean stopped;

                @Override
                public void declareDestroy(Fid fid) throws OsdException {
                    DestroyHook h = onDeclareDestroy;
                    if (h != null) {
                        h.declared(fid);
                    }
                    super.declareDestroy(fid);
                }

                @Override
                public void delete(Fid index, byte[] key) throws OsdException {
                    super.delete(index, key);
                    Fid f = failAfterCommitOf;
                    if (f != null && index.equals(garbage) && Arrays.equals(key, f.toBytes())) {
                        commitsPending = true;
                    }
                }

                @Override
                public void stop() throws OsdException {
                    stopped = true;
                    super.stop();
                    if (commitsPending) {
                        commitsPending = false;
                        failAfterCommitOf = null;
                        // As the pool does when a write-commit policy's extra copies fail after
                        // the metadata transaction committed.
                        throw new OsdException(
                                Errno.EIO, name(), null, "extra copies failed after the commit (injected)");
                    }
                }

                @Override
                public void close() throws OsdException {
                    if (!stopped) {
                        stop();
                    }
                }
            };
        }
    }

    @FunctionalInterface
    private interface DestroyHook {
        void declared(Fid fid);
    }

    private HookOsd osd;
    private Namespace ns;
    private BucketObjects objects;
    private GarbageSweeper sweeper;
    private BucketRecord bucket;

    @BeforeEach
    void mount() throws Exception {
        osd = new HookOsd();
        ns = Namespace.mount(
                osd,
                GatewayConfig.DEFAULT_FID_SEQUENCE,
                16,
                InstantSource.fixed(Instant.parse("2026-12-04T12:00:00Z")));
        objects = new BucketObjects(ns);
        sweeper = new GarbageSweeper(ns);
        ns.createBucket(BUCKET);
        bucket = ns.bucket(BUCKET);
        osd.garbage = ns.garbage;
        osd.keys = bucket.keys();
    }

    /** A body larger than one I/O chunk: staged in its own DATA object with a PENDING entry. */
    private byte[] body(long seed) {
        byte[] b = new byte[ns.ioChunk + 4097];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    private StagedBody stage(byte[] bytes) throws Exception {
        StagedBody s =
                objects.stage(new ByteArrayInputStream(bytes), bytes.length, Long.MAX_VALUE, null, false, "loop/k");
        assertThat(s.isInline()).isFalse();
        return s;
    }

    private KeyRecord commit(StagedBody s) throws Exception {
        return objects.commit(bucket, BUCKET, KEY, s, s.record(ns.now(), null, List.of(), Records.Meta.NONE), "loop/k");
    }

    private byte[] get() throws Exception {
        try (BucketObjects.Handle h = objects.open(bucket, BUCKET, KEY);
                InputStream in = h.open(0, h.record().size())) {
            return in.readAllBytes();
        }
    }

    @Test
    void aSweepThatListedAPendingBodyBeforeItsCommitLeavesTheCommittedBodyAlone() throws Exception {
        byte[] bytes = body(1);
        StagedBody staged = stage(bytes);
        Fid fid = staged.fid();
        // The sweep reads its batch (the PENDING entry among it) while the PUT still streams; the
        // PUT commits before the sweep reaches the entry.
        osd.afterGarbageCursor = () -> {
            try {
                commit(staged);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        };
        List<String> destroysOfTheLiveBody = new CopyOnWriteArrayList<>();
        osd.onDeclareDestroy = f -> {
            if (f.equals(fid)) {
                // The sweeper holds its claim now: what a GET of the key answers meanwhile.
                String get;
                try {
                    get = get().length + " bytes";
                } catch (Exception e) {
                    get = e.toString();
                }
                destroysOfTheLiveBody.add("a destroy of " + fid + ", the key's current body; a GET meanwhile: " + get);
            }
        };

        Throwable sweep = catchThrowable(sweeper::runOnce);

        assertThat(destroysOfTheLiveBody)
                .as("the sweeper acted on a PENDING entry the commit had removed")
                .isEmpty();
        assertThat(sweep).as("the sweep pass").isNull();
        assertThat(osd.exists(fid)).isTrue();
        assertThat(get()).isEqualTo(bytes);
        assertThat(sweeper.pending()).isZero();
    }

    @Test
    void aReadThatFindsTheOldBodyClaimedWaitsForTheSweeperAndReadsTheNewOne() throws Exception {
        commit(stage(body(1)));
        byte[] newer = body(2);
        StagedBody next = stage(newer);
        Fid old = objects.lookup(bucket, BUCKET, KEY).orElseThrow().fid();
        CountDownLatch claimed = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        AtomicReference<Throwable> sweepFailed = new AtomicReference<>();
        Thread[] sweep = new Thread[1];
        osd.onDeclareDestroy = f -> {
            if (f.equals(old)) {
                claimed.countDown();
                await(go);
            }
        };
        // The reader has looked the key up (the old body); then the overwrite commits and the
        // sweeper claims the old body and stays in its destroy until the reader waits.
        osd.afterKeyLookup = () -> {
            try {
                commit(next);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            sweep[0] = Thread.ofPlatform().name("sweeper").start(() -> {
                try {
                    sweeper.runOnce();
                } catch (Throwable e) {
                    sweepFailed.set(e);
                }
            });
            await(claimed);
        };
        Reader reader = new Reader();

        reader.waitUntilBlockedOrDone();
        go.countDown();
        reader.thread.join();
        sweep[0].join();

        assertThat(reader.failure.get()).as("the GET").isNull();
        assertThat(reader.got.get()).isEqualTo(newer);
        assertThat(sweepFailed.get()).isNull();
        assertThat(osd.exists(old)).isFalse();
    }

    @Test
    void aCurrentBodyListedAsGarbageIsAnInternalErrorNamingTheObjectNotARetry() throws Exception {
        commit(stage(body(1)));
        Fid fid = objects.lookup(bucket, BUCKET, KEY).orElseThrow().fid();
        // The state no path may leave (the key's current body in the garbage index), made by hand.
        try (Transaction tx = osd.newTransaction()) {
            tx.declareInsert(ns.garbage, Fid.BYTES, Garbage.VALUE_BYTES);
            tx.start();
            tx.upsert(ns.garbage, fid.toBytes(), Garbage.value(Garbage.DATA, ns.now()));
        }
        CountDownLatch claimed = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        AtomicReference<Throwable> sweepFailed = new AtomicReference<>();
        Thread[] sweep = new Thread[1];
        osd.onDeclareDestroy = f -> {
            if (f.equals(fid)) {
                claimed.countDown();
                await(go);
            }
        };
        osd.afterKeyLookup = () -> {
            sweep[0] = Thread.ofPlatform().name("sweeper").start(() -> {
                try {
                    sweeper.runOnce();
                } catch (Throwable e) {
                    sweepFailed.set(e);
                }
            });
            await(claimed);
        };
        Reader reader = new Reader();

        reader.waitUntilBlockedOrDone();
        go.countDown();
        reader.thread.join();
        sweep[0].join();

        assertThat(sweepFailed.get()).isNull();
        assertThat(reader.failure.get()).isInstanceOf(S3Exception.class);
        S3Exception e = (S3Exception) reader.failure.get();
        assertThat(e.error()).isEqualTo(S3Error.INTERNAL_ERROR);
        assertThat(e.getMessage()).contains("loop/k", fid.toString(), "garbage");
    }

    @Test
    void aCommitThatLandedAndThenFailedKeepsTheBodyTheKeyNowNames() throws Exception {
        byte[] bytes = body(1);
        StagedBody staged = stage(bytes);
        osd.failAfterCommitOf = staged.fid();

        Throwable commit = catchThrowable(() -> commit(staged));

        assertThat(commit).isInstanceOf(OsdException.class);
        assertThat(objects.lookup(bucket, BUCKET, KEY).orElseThrow().fid()).isEqualTo(staged.fid());
        assertThat(osd.exists(staged.fid()))
                .as("the body the key names after a commit that landed")
                .isTrue();
        assertThat(get()).isEqualTo(bytes);
        assertThat(ns.inUse().size()).isZero();
    }

    /** A GET of the key on a thread of its own. */
    private final class Reader {
        final AtomicReference<byte[]> got = new AtomicReference<>();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Thread thread;

        Reader() {
            thread = Thread.ofPlatform().name("reader").start(() -> {
                try {
                    got.set(get());
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
        }

        /**
         * Waits until the reader, past its lookup hook, blocks (on the sweeper's claim) or ends.
         * An event, not a deadline: the reader has nothing else to block on.
         */
        void waitUntilBlockedOrDone() throws InterruptedException {
            while (osd.afterKeyLookup != null || !(parked() || thread.getState() == Thread.State.TERMINATED)) {
                Thread.sleep(1);
            }
        }

        private boolean parked() {
            if (thread.getState() != Thread.State.WAITING) {
                return false;
            }
            // Not the hook's own wait for the sweeper's claim: the store's wait for its decision.
            return Arrays.stream(thread.getStackTrace())
                    .anyMatch(f -> f.getMethodName().equals("awaitUnclaimed"));
        }
    }

    private static void await(CountDownLatch l) {
        try {
            l.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
