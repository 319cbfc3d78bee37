package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.osd.Fid;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.filter.FilterOsd;
import dev.spillway.osd.filter.FilterTransaction;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.WorkIndex;
import dev.spillway.pool.ops.Migrator;
import dev.spillway.pool.ops.MoveOptions;
import dev.spillway.pool.ops.MoveResult;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A spill batch's copies written side by side ({@code MoveOptions.withWriters}, the daemon's
 * {@code policy.spill-writers}, issue 12): every copy still made durable by the batch's one sync
 * before its flip, a full target stops the batch's other writers, nothing left half-tracked.
 */
class SpillWritersTest {
    private static final MoveOptions FOUR_WRITERS = MoveOptions.DEFAULT.withWriters(4);

    private static final String YAML = """
            name: writers
            devices:
              - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {durability: simulated, strict-declares: true}}
              - {name: slow0, backend: mem, roles: [background], settings: {%sdurability: simulated, strict-declares: true}}
            """;

    private PoolOsd pool;
    private int next = 1;

    private void mount(String slowSettings, java.util.function.UnaryOperator<Osd> wrapSlow) throws OsdException {
        mount(slowSettings, in -> in, wrapSlow);
    }

    private void mount(
            String slowSettings,
            java.util.function.UnaryOperator<Osd> wrapFast,
            java.util.function.UnaryOperator<Osd> wrapSlow)
            throws OsdException {
        PoolConfig cfg = PoolConfigParser.parse(String.format(YAML, slowSettings), "writers");
        List<Osd> raw = new ArrayList<>(PoolFixtures.memDevices(cfg));
        raw.set(0, wrapFast.apply(raw.get(0)));
        raw.set(1, wrapSlow.apply(raw.get(1)));
        pool = PoolFixtures.mountOn(cfg, raw, PoolOsd.MountMode.RECOVER);
    }

    @AfterEach
    void fsckClean() throws Exception {
        if (pool != null) {
            assertThat(pool.fsck(false, true, null).problems()).isEmpty();
            pool.close();
        }
    }

    private Fid object(byte[] body) throws Exception {
        return PoolFixtures.create(pool, new Fid(0x200000400L, next++, 0), body);
    }

    private byte[] read(Fid f) throws Exception {
        return PoolFixtures.read(pool, f);
    }

    private static byte[] random(int n, long seed) {
        return PoolFixtures.random(n, seed);
    }

    /**
     * A spill device whose first {@code meet} body writes each wait until all of them have arrived:
     * they can only all pass if that many copies are written at once. A write that gave up waiting
     * (copies written one after another) is counted.
     */
    private static final class Rendezvous extends FilterOsd {
        final CountDownLatch arrived;
        final AtomicInteger gaveUp = new AtomicInteger();
        final AtomicInteger inFlight = new AtomicInteger();
        final AtomicInteger mostInFlight = new AtomicInteger();

        Rendezvous(Osd in, int meet) {
            super(in);
            this.arrived = new CountDownLatch(meet);
        }

        @Override
        protected Transaction wrap(Transaction tx) {
            return new FilterTransaction(tx) {
                @Override
                public void write(Fid fid, long offset, ByteBuffer src) throws OsdException {
                    mostInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                    try {
                        arrived.countDown();
                        // Not a timing verdict: with side-by-side writers the latch opens as soon as
                        // the last of them arrives; the bound only ends a run whose writers never meet.
                        if (!arrived.await(10, TimeUnit.SECONDS)) {
                            gaveUp.incrementAndGet();
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        gaveUp.incrementAndGet();
                    } finally {
                        inFlight.decrementAndGet();
                    }
                    super.write(fid, offset, src);
                }
            };
        }
    }

    @Test
    void aBatchsCopiesAreWrittenSideBySideAndAllSpilled() throws Exception {
        Rendezvous[] slow = new Rendezvous[1];
        mount("", in -> slow[0] = new Rendezvous(in, 4));
        List<Fid> fids = new ArrayList<>();
        List<byte[]> bodies = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            byte[] b = random(20_000 + i * 1000, i);
            bodies.add(b);
            fids.add(object(b));
        }
        List<Migrator.Spilled> out = pool.migrator().spillAll(fids, pool.device(1), FOUR_WRITERS);
        assertThat(slow[0].gaveUp.get())
                .as("writes that waited for other writers in vain (copies written one after another)")
                .isZero();
        assertThat(slow[0].mostInFlight.get()).isGreaterThanOrEqualTo(4);
        for (int i = 0; i < fids.size(); i++) {
            assertThat(out.get(i).fid()).isEqualTo(fids.get(i));
            assertThat(out.get(i).result()).isInstanceOf(MoveResult.Done.class);
            assertThat(pool.object(fids.get(i)).orElseThrow().resident(0)).isFalse();
            assertThat(read(fids.get(i))).isEqualTo(bodies.get(i));
        }
        assertThat(WorkIndex.all(pool.metadata().osd()))
                .as("no job left behind")
                .isEmpty();
    }

    @Test
    void aFullTargetStopsTheBatchAndEveryObjectIsSpilledParkedOrLeftIntact() throws Exception {
        // Room for about two of the eight copies: the writers side by side meet ENOSPC.
        mount("capacity: 96KiB, ", in -> in);
        List<Fid> fids = new ArrayList<>();
        List<byte[]> bodies = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            byte[] b = random(40_000, 100 + i);
            bodies.add(b);
            fids.add(object(b));
        }
        List<Migrator.Spilled> out = pool.migrator().spillAll(fids, pool.device(1), FOUR_WRITERS);
        int done = 0;
        int parked = 0;
        for (int i = 0; i < fids.size(); i++) {
            Migrator.Spilled sp = out.get(i);
            MoveResult r = sp.result();
            assertThat(r).as("%s", sp.fid()).isNotInstanceOf(MoveResult.Failed.class);
            assertThat(r.outcome()).isIn("DONE", "PARKED", "REFUSED");
            done += r instanceof MoveResult.Done ? 1 : 0;
            parked += r instanceof MoveResult.Parked ? 1 : 0;
            assertThat(pool.object(fids.get(i)).orElseThrow().resident(0))
                    .as("only a spilled object leaves the fast tier")
                    .isEqualTo(!(r instanceof MoveResult.Done));
            assertThat(read(fids.get(i))).isEqualTo(bodies.get(i));
        }
        assertThat(parked).as("the full target parked a spill").isPositive();
        assertThat(done).isLessThan(8);
        assertThat(WorkIndex.all(pool.metadata().osd()))
                .as("no copy left begun: parked moves and the garbage of abandoned copies")
                .noneMatch(j -> j.kind() == Job.Kind.COPY);
        pool.migrator().collectGarbage();
    }

    /** The copy-writer threads of the pool named {@code writers} alive now. */
    private static List<Thread> copyWriters() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("spillway-copy-writers-"))
                .toList();
    }

    @Test
    void closingThePoolEndsItsCopyWriterThreads() throws Exception {
        mount("", in -> in);
        List<Fid> fids = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            fids.add(object(random(20_000, 200 + i)));
        }
        assertThat(pool.migrator().spillAll(fids, pool.device(1), FOUR_WRITERS))
                .allMatch(sp -> sp.result() instanceof MoveResult.Done);
        List<Thread> writers = copyWriters();
        assertThat(writers).as("the pool's own copy writers wrote the batch").isNotEmpty();
        assertThat(pool.fsck(false, true, null).problems()).isEmpty();
        pool.close();
        pool = null;
        for (Thread t : writers) {
            // Not a timing verdict: closing ends an idle writer at once; the bound only ends a hung run
            // (a writer kept after close lived on for its 30 s idle time).
            t.join(Duration.ofSeconds(20));
            assertThat(t.isAlive()).as("%s after the pool closed", t.getName()).isFalse();
        }
    }

    /** An Error of the pool's own code (not of a device). */
    private static final class InjectedError extends Error {
        InjectedError() {
            super("injected into a flip");
        }
    }

    @Test
    void anErrorInAFlipIsRethrownAsItIsAndBlamesNoDevice() throws Exception {
        // Armed by the batch's sync of its copies on the spill device; the next metadata
        // transaction to start is a flip, and it dies of an Error.
        AtomicBoolean armed = new AtomicBoolean();
        mount(
                "",
                in -> new FilterOsd(in) {
                    @Override
                    protected Transaction wrap(Transaction tx) {
                        return new FilterTransaction(tx) {
                            @Override
                            public void start() throws OsdException {
                                if (armed.compareAndSet(true, false)) {
                                    throw new InjectedError();
                                }
                                super.start();
                            }
                        };
                    }
                },
                in -> new FilterOsd(in) {
                    @Override
                    public void sync(Collection<Fid> fids) throws OsdException {
                        super.sync(fids);
                        armed.set(true);
                    }
                });
        List<Fid> fids = new ArrayList<>();
        List<byte[]> bodies = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            byte[] b = random(20_000, 300 + i);
            bodies.add(b);
            fids.add(object(b));
        }
        // Before: the flip's thread died, the Error was logged, and the object's result was an EIO
        // "did not finish", as if a device had failed it.
        assertThatThrownBy(() -> pool.migrator().spillAll(fids, pool.device(1), FOUR_WRITERS))
                .isInstanceOf(InjectedError.class);
        int resident = 0;
        for (int i = 0; i < fids.size(); i++) {
            resident += pool.object(fids.get(i)).orElseThrow().resident(0) ? 1 : 0;
            assertThat(read(fids.get(i))).isEqualTo(bodies.get(i));
        }
        assertThat(resident).as("only the object whose flip died stays home").isEqualTo(1);
        List<Job> left = WorkIndex.all(pool.metadata().osd()).stream()
                .filter(j -> j.kind() == Job.Kind.COPY)
                .toList();
        assertThat(left).as("the dead flip's job, for the stuck-copy roll-back").hasSize(1);
        pool.migrator().rollBack(left.get(0));
        pool.migrator().collectGarbage();
    }
}
