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
import dev.spillway.pool.layout.HsmType;
import dev.spillway.pool.meta.Checksums;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.LayoutView;
import dev.spillway.pool.meta.PoolFids;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.PoolObjectCodec;
import dev.spillway.pool.meta.Span;
import dev.spillway.pool.meta.WorkIndex;
import dev.spillway.pool.ops.MoveOptions;
import dev.spillway.pool.ops.MoveResult;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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
            pool.migrator().collectGarbage();
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
                                    // whose copies never meet (written one after another), and is
                                    // long enough that no loaded machine keeps two started copy
                                    // writers apart that long.
                                    if (!arrived.await(120, TimeUnit.SECONDS)) {
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

        // Two writers (the daemon's spill-writers): both copies of the range at once.
        MoveResult r =
                pool.migrator().spillRange(f, pool.device(1), 2 * K64, 6 * K64, MoveOptions.DEFAULT.withWriters(2));

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

    /**
     * Spill devices that record which threads write bodies and how many body writes are in flight
     * at once (over both devices).
     */
    private static final class Writers {
        final Set<Thread> threads = ConcurrentHashMap.newKeySet();
        final AtomicInteger active = new AtomicInteger();
        final AtomicInteger most = new AtomicInteger();

        Osd wrap(Osd in) {
            return new FilterOsd(in) {
                @Override
                protected Transaction wrap(Transaction tx) {
                    return new FilterTransaction(tx) {
                        @Override
                        public void write(Fid fid, long offset, ByteBuffer src) throws OsdException {
                            threads.add(Thread.currentThread());
                            most.accumulateAndGet(active.incrementAndGet(), Math::max);
                            try {
                                super.write(fid, offset, src);
                            } finally {
                                active.decrementAndGet();
                            }
                        }
                    };
                }
            };
        }
    }

    @Test
    void theCopiesOfARangeCountAgainstTheMovesWritersOneWriterWritesThemOneAfterAnotherOnTheCallersThread()
            throws Exception {
        Writers w = new Writers();
        mount(YAML, w::wrap);
        byte[] body = PoolFixtures.random(10 * K64 + 5, 2);
        Fid f = object(body);

        // Writers 1 (spill-writers: 1, or an emergency spill): the two copies of the range are
        // written one after another on the caller's thread, not on two copy writers at once.
        MoveResult r = pool.migrator().spillRange(f, pool.device(1), 2 * K64, 6 * K64, MoveOptions.DEFAULT);

        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Done.class);
        // Failed before: the copies went to two copy-writer threads whatever the move's writers.
        assertThat(w.threads)
                .as("threads that wrote the range's copies with one writer allowed")
                .containsExactly(Thread.currentThread());
        assertThat(w.most.get()).as("body writes in flight at once").isEqualTo(1);
        assertThat(pool.object(f).orElseThrow().ranges(0))
                .extracting(Copy::device, Copy::state)
                .containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple(1, CopyState.IN_SYNC),
                        org.assertj.core.groups.Tuple.tuple(2, CopyState.IN_SYNC));
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

    /** {@code n} mem spill devices {@code slow0..}, the first {@code tier} of them a striping tier {@code count} wide. */
    private static String tiered(int n, int tier, int count) {
        StringBuilder y = new StringBuilder("name: rangereplicas\nreplicas: 2\ndevices:\n"
                + "  - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {durability:"
                + " simulated, strict-declares: true}}\n");
        List<String> names = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            y.append("  - {name: slow")
                    .append(i)
                    .append(", backend: mem, roles: [background], settings: {durability: simulated, strict-declares:"
                            + " true}}\n");
            if (i < tier) {
                names.add("slow" + i);
            }
        }
        y.append("striping:\n  - {devices: [")
                .append(String.join(", ", names))
                .append("], stripe-count: ")
                .append(count)
                .append(", stripe-size: 64KiB, min-object-size: 128KiB}\n");
        return y.toString();
    }

    /** The devices each copy of a range of {@code p} is on, a list per copy. */
    private static List<List<Integer>> placement(PoolObject p) {
        List<List<Integer>> out = new ArrayList<>();
        for (Copy c : p.ranges(0)) {
            assertThat(c.state()).isEqualTo(CopyState.IN_SYNC);
            out.add(
                    c.striped()
                            ? c.stripes().stream()
                                    .map(dev.spillway.pool.meta.Stripe::device)
                                    .toList()
                            : List.of(c.device()));
        }
        return out;
    }

    /** Every device appears in at most one copy: one device's loss takes at most one copy of a byte. */
    private static void assertDisjoint(List<List<Integer>> copies) {
        List<Integer> all = copies.stream().flatMap(List::stream).toList();
        assertThat(all).as("devices of the copies " + copies).doesNotHaveDuplicates();
    }

    @Test
    void aTierStripedAcrossBothSpillDevicesTakesTwoCopiesOfARangeOneDeviceEach() throws Exception {
        mount(tiered(2, 2, 2), in -> in);
        byte[] body = PoolFixtures.random(10 * K64 + 7, 3);
        Fid f = object(body);

        MoveResult r = pool.migrator().spillRange(f, pool.device(1), 2 * K64, 6 * K64);

        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Done.class);
        assertThat(r.detail()).contains("stripe count lowered to 1");
        List<List<Integer>> copies = placement(pool.object(f).orElseThrow());
        assertThat(copies).containsExactlyInAnyOrder(List.of(1), List.of(2));
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(body);
    }

    @Test
    void aFourWideTierUnderReplicasTwoStripesEachCopyOfARangeTwoWideOnDevicesOfItsOwn() throws Exception {
        mount(tiered(4, 4, 4), in -> in);
        byte[] body = PoolFixtures.random(16 * K64, 4);
        Fid f = object(body);

        MoveResult r = pool.migrator().spillRange(f, pool.device(2), 4 * K64, 12 * K64);

        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Done.class);
        assertThat(r.detail()).contains("stripe count lowered to 2");
        List<List<Integer>> copies = placement(pool.object(f).orElseThrow());
        assertThat(copies).hasSize(2).allSatisfy(c -> assertThat(c).hasSize(2));
        assertThat(copies.get(0).get(0)).as("the named target first").isEqualTo(2);
        assertDisjoint(copies);
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(body);
        // A range spilled whole from a split body and promoted back: the narrowed copies read right.
        assertThat(pool.migrator().promote(f)).isInstanceOf(MoveResult.Done.class);
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(body);
    }

    @Test
    void aTierThatLeavesAnotherDeviceForTheSecondCopyKeepsItsFullStripeCount() throws Exception {
        mount(tiered(3, 2, 2), in -> in);
        byte[] body = PoolFixtures.random(8 * K64, 5);
        Fid f = object(body);

        MoveResult r = pool.migrator().spillRange(f, pool.device(1), 2 * K64, 6 * K64);

        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Done.class);
        assertThat(r.detail()).doesNotContain("lowered");
        assertThat(placement(pool.object(f).orElseThrow())).containsExactlyInAnyOrder(List.of(1, 2), List.of(3));
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(body);
    }

    @Test
    void tooFewDevicesEvenOneEachAreRefusedNamingTheCountsAndWhatToChange() throws Exception {
        mount(tiered(2, 2, 2).replace("replicas: 2", "replicas: 3"), in -> in);
        byte[] body = PoolFixtures.random(8 * K64, 6);
        Fid f = object(body);

        MoveResult r = pool.migrator().spillRange(f, pool.device(1), 2 * K64, 6 * K64);

        assertThat(r).isInstanceOf(MoveResult.Refused.class);
        assertThat(r.detail()).contains("3 copies", "2 of the 3 missing", "add background devices");
        assertThat(pool.object(f).orElseThrow().resident(0)).isTrue();
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(body);
    }

    /**
     * A split body's record and layout are xattrs of one object on the metadata device, each at
     * most its largest value ({@code max-xattr-value}: 4,040 bytes here, an ext4 file's). Range
     * spills that would take either past it are refused, not failed: failed before with E2BIG from
     * the metadata device's transaction (the layout grows about 830 bytes per spilled 64 KiB range
     * under {@code replicas: 2}, and passed 4,040 bytes long before the split body's budget, the two
     * together, did).
     */
    @Test
    void rangeSpillsThatWouldPassTheMetadataDevicesXattrValueLimitAreRefusedNotFailed() throws Exception {
        mount(
                YAML.replace(
                        "promote], settings: {durability: simulated, strict-declares: true}}",
                        "promote], settings: {durability: simulated, strict-declares: true, max-xattr-value: 4040}}"),
                in -> in);
        assertThat(pool.metadata().osd().capabilities().maxXattrValue()).isEqualTo(4040);
        byte[] body = PoolFixtures.random(40 * K64, 7);
        Fid f = object(body);
        int done = 0;
        MoveResult r = null;
        for (int i = 1; i < 40; i += 2) {
            r = pool.migrator().spillRange(f, pool.device(1), (long) i * K64, (long) (i + 1) * K64);
            if (!(r instanceof MoveResult.Done)) {
                break;
            }
            done++;
        }
        assertThat(done).as("range spills done before the limit").isGreaterThan(0);
        assertThat(r).isInstanceOf(MoveResult.Refused.class);
        assertThat(r.detail()).contains("4040");
        assertThat(pool.metadata().osd().getXattr(f, "trusted.lov").length).isLessThanOrEqualTo(4040);
        assertThat(pool.object(f).orElseThrow().ranges(0)).hasSize(2 * done);
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(body);
    }

    /** Record and layout bytes of a split body: a resident 64 MiB head and {@code extents} spilled 64 MiB extents, {@code replicas} copies each. */
    private static int[] splitSizes(int extents, int replicas) {
        long ext = 64L << 20;
        long size = (extents + 1) * ext;
        Fid fid = new Fid(0x200000400L, 1, 0);
        List<Copy> cs = new ArrayList<>();
        cs.add(new Copy(1, 0, fid, CopyState.IN_SYNC, 1, 1, true, Checksums.NONE).withSpans(List.of(new Span(0, ext))));
        int mirror = 2;
        int shift = Checksums.shiftFor(ext);
        for (int e = 1; e <= extents; e++) {
            Span sp = e == extents ? new Span(e * ext, Span.EOF) : new Span(e * ext, (e + 1) * ext);
            for (int r = 0; r < replicas; r++) {
                cs.add(Copy.ranged(
                        mirror,
                        1 + r,
                        PoolFids.copy(mirror),
                        CopyState.IN_SYNC,
                        1,
                        ext,
                        new Checksums(shift, new int[(int) (ext >>> shift)]),
                        sp));
                mirror++;
            }
        }
        PoolObject p = new PoolObject(size, 1, 1, 0, cs);
        return new int[] {PoolObjectCodec.encode(p).length, LayoutView.encode(fid, p, 0, d -> HsmType.POSIX).length};
    }

    /**
     * The daemon's cap (64 spilled extents of one object) under {@code replicas: 2} with its default
     * 64 MiB extents: 128 copies of ranges, 64 checksums each. The record and the layout each fit
     * an xattr value of a kv metadata device (64 KiB), and both together the reserve's budget for a
     * split body (2 x 64 KiB); under {@code replicas: 3} too, just. Larger extents (more checksums
     * per copy) pass the bound before 64 extents: the pool refuses the range spill that would
     * (above), so the daemon gets fewer extents there.
     */
    @Test
    void sixtyFourSpilledExtentsOf64MiBUnderReplicasTwoFitTheRecordAndTheLayout() {
        int[] two = splitSizes(64, 2);
        int[] three = splitSizes(64, 3);
        System.out.printf(
                "64 extents of 64 MiB: replicas 2 record %d, layout %d bytes; replicas 3 record %d, layout %d%n",
                two[0], two[1], three[0], three[1]);
        assertThat(two[0]).as("record").isLessThanOrEqualTo(65536);
        assertThat(two[1]).as("layout").isLessThanOrEqualTo(65536);
        // replicas: 3 still fits at 64 MiB (about 61 and 58 KiB), just: larger extents, with more
        // checksums per copy, reach the bound before 64 extents, and the pool refuses there.
        assertThat(three[0]).as("record under replicas 3").isLessThanOrEqualTo(65536);
        assertThat(three[1]).as("layout under replicas 3").isLessThanOrEqualTo(65536);
    }
}
