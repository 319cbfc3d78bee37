package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.filter.FilterOsd;
import dev.spillway.osd.filter.FilterTransaction;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.Span;
import dev.spillway.pool.meta.WorkIndex;
import dev.spillway.pool.ops.MoveResult;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The copies of one range spill under {@code replicas} above 1 (issue 20): written side by side,
 * each to its own devices, on the pool's copy-writer threads; one failing makes every new copy
 * garbage. After each test a deep fsck must find nothing and no job may be left.
 */
class RangeReplicaCopiesTest {
    private static final int K64 = 64 * 1024;

    private static final String YAML = """
            name: rangereplicas
            replicas: 2
            devices:
              - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {durability: simulated, strict-declares: true}}
              - {name: slow, backend: mem, roles: [background], settings: {durability: simulated, strict-declares: true}}
              - {name: far, backend: mem, roles: [background], settings: {durability: simulated, strict-declares: true}}
            """;

    private PoolOsd pool;
    private int next = 1;

    private void mount(String yaml, UnaryOperator<Osd> wrapBackground) throws OsdException {
        PoolConfig cfg = PoolConfigParser.parse(yaml, "rangereplicas");
        List<Osd> raw = new ArrayList<>(PoolFixtures.memDevices(cfg));
        for (int i = 1; i < raw.size(); i++) {
            raw.set(i, wrapBackground.apply(raw.get(i)));
        }
        pool = PoolFixtures.mountOn(cfg, raw, PoolOsd.MountMode.RECOVER);
    }

    @AfterEach
    void fsckClean() throws Exception {
        if (pool != null) {
            assertThat(pool.fsck(false, true, null).problems()).isEmpty();
            assertThat(WorkIndex.all(pool.metadata().osd()))
                    .as("no job left behind")
                    .isEmpty();
            pool.close();
        }
    }

    private Fid object(byte[] body) throws Exception {
        return PoolFixtures.create(pool, new Fid(0x200000400L, next++, 0), body);
    }

    /**
     * Spill devices whose body writes each wait, the first time, until {@code meet} devices have a
     * write in flight: they can only all pass if that many copies are written at once. A write that
     * gave up waiting (copies written one after another) is counted.
     */
    private static final class Rendezvous {
        final CountDownLatch arrived;
        final AtomicInteger gaveUp = new AtomicInteger();

        Rendezvous(int meet) {
            this.arrived = new CountDownLatch(meet);
        }

        Osd wrap(Osd in) {
            AtomicBoolean first = new AtomicBoolean(true);
            return new FilterOsd(in) {
                @Override
                protected Transaction wrap(Transaction tx) {
                    return new FilterTransaction(tx) {
                        @Override
                        public void write(Fid fid, long offset, ByteBuffer src) throws OsdException {
                            if (first.getAndSet(false)) {
                                arrived.countDown();
                                try {
                                    // Not a timing verdict: side by side, the latch opens as soon as
                                    // the last copy's first write arrives; the bound only ends a run
                                    // whose copies never meet (written one after another).
                                    if (!arrived.await(10, TimeUnit.SECONDS)) {
                                        gaveUp.incrementAndGet();
                                    }
                                } catch (InterruptedException e) {
                                    Thread.currentThread().interrupt();
                                    gaveUp.incrementAndGet();
                                }
                            }
                            super.write(fid, offset, src);
                        }
                    };
                }
            };
        }
    }

    @Test
    void theCopiesOfARangeAreWrittenSideBySideAndBothFlipInSync() throws Exception {
        Rendezvous meet = new Rendezvous(2);
        mount(YAML, meet::wrap);
        byte[] body = PoolFixtures.random(10 * K64 + 5, 1);
        Fid f = object(body);

        MoveResult r = pool.migrator().spillRange(f, pool.device(1), 2 * K64, 6 * K64);

        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Done.class);
        assertThat(meet.gaveUp.get())
                .as("copy writes that waited in vain for the other copy (copies written one after another)")
                .isZero();
        PoolObject p = pool.object(f).orElseThrow();
        assertThat(p.ranges(0))
                .extracting(Copy::device, Copy::state, c -> c.spans().get(0))
                .containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple(1, CopyState.IN_SYNC, new Span(2 * K64, 6 * K64)),
                        org.assertj.core.groups.Tuple.tuple(2, CopyState.IN_SYNC, new Span(2 * K64, 6 * K64)));
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(body);
    }

    /** A spill device that refuses body writes (ENOSPC) while {@code full} is set. */
    private static Osd fullWhen(Osd in, AtomicBoolean full) {
        String name = in.name();
        return new FilterOsd(in) {
            @Override
            protected Transaction wrap(Transaction tx) {
                return new FilterTransaction(tx) {
                    @Override
                    public void write(Fid fid, long offset, ByteBuffer src) throws OsdException {
                        if (full.get()) {
                            throw new OsdException(Errno.ENOSPC, name, fid, "full (test)");
                        }
                        super.write(fid, offset, src);
                    }
                };
            }
        };
    }

    @Test
    void oneCopyFailingMakesEveryNewCopyGarbageAndTheRangeStaysResident() throws Exception {
        AtomicBoolean farFull = new AtomicBoolean(true);
        AtomicInteger wrapped = new AtomicInteger();
        mount(YAML, in -> wrapped.incrementAndGet() == 2 ? fullWhen(in, farFull) : in);
        byte[] body = PoolFixtures.random(10 * K64, 2);
        Fid f = object(body);
        long slowObjects = pool.device(1).osd().statfs().objects();

        MoveResult r = pool.migrator().spillRange(f, pool.device(1), 2 * K64, 6 * K64);

        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Parked.class);
        assertThat(r.detail()).contains("far");
        PoolObject p = pool.object(f).orElseThrow();
        assertThat(p.resident(0)).isTrue();
        assertThat(p.ranges(0)).isEmpty();
        pool.migrator().collectGarbage();
        assertThat(pool.device(1).osd().statfs().objects())
                .as("the copy written on slow was collected")
                .isEqualTo(slowObjects);
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(body);

        farFull.set(false);
        MoveResult again = pool.migrator().spillRange(f, pool.device(1), 2 * K64, 6 * K64);
        assertThat(again).as(again.detail()).isInstanceOf(MoveResult.Done.class);
        assertThat(pool.object(f).orElseThrow().ranges(0)).hasSize(2);
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(body);
    }
}
