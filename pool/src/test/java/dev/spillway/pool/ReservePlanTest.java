package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.SpaceClass;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.filter.FilterOsd;
import dev.spillway.osd.filter.FilterTransaction;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.osd.spi.OsdConfig;
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
import dev.spillway.pool.meta.Stripe;
import dev.spillway.pool.ops.Migrator;
import dev.spillway.pool.ops.MoveResult;
import dev.spillway.pool.space.ReservePlan;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The reserve's arithmetic ({@link ReservePlan}, docs/design.md "Reserve"): the formula, its
 * bounds against real records and layouts, and — measured on a real pool — that no RESERVED
 * transaction the pool runs declares more than the plan counts per batch, and that pending
 * copies grow the device by no more than the plan counts per copy.
 */
class ReservePlanTest {
    private static final HsmType POSIX = HsmType.POSIX;

    @Test
    void theReserveIsStreamsTimesABatchOfObjectsPlusTheCounters() {
        ReservePlan p = ReservePlan.of(2, 0, List.of(1), i -> POSIX, 64L << 20);
        assertThat(p.streams()).isEqualTo(ReservePlan.STREAMS);
        assertThat(p.batch()).isEqualTo(ReservePlan.BATCH);
        assertThat(p.total())
                .isEqualTo((long) p.streams()
                                * Math.max(
                                        (long) p.batch() * (p.perObject() + p.pendingPerObject()),
                                        p.splitPerObject() + p.splitPendingPerObject())
                        + p.counters());
        // 16 stripes x 2 devices x 4 copy states x 19 bytes.
        assertThat(p.counters()).isEqualTo(16L * 2 * 5 * 20);
        assertThat(p.maxCopies()).isEqualTo(3);
    }

    @Test
    void checksumsPerCopyFollowTheCapacityUpToTheFormatLimit() {
        assertThat(ReservePlan.of(2, 0, List.of(1), i -> POSIX, 1L << 20).chunks())
                .isEqualTo(1);
        assertThat(ReservePlan.of(2, 0, List.of(1), i -> POSIX, (64L << 20) + 1).chunks())
                .isEqualTo(65);
        assertThat(ReservePlan.of(2, 0, List.of(1), i -> POSIX, 1L << 40).chunks())
                .isEqualTo(Checksums.MAX_CHUNKS);
        // A larger tier keeps a larger reserve, but a small share of it.
        ReservePlan small = ReservePlan.of(2, 0, List.of(1), i -> POSIX, 64L << 20);
        ReservePlan large = ReservePlan.of(2, 0, List.of(1), i -> POSIX, 1L << 40);
        assertThat(large.total()).isGreaterThan(small.total());
        assertThat(small.total()).isLessThan((64L << 20) / 100);
        assertThat(large.total()).isLessThan((1L << 40) / 10_000);
    }

    @Test
    void aSplitBodyMayTakeWhatOneStreamsBatchMaySoTheReserveCoversItWithoutGrowing() {
        for (long capacity : new long[] {1L << 20, 64L << 20, 1L << 40}) {
            ReservePlan p = ReservePlan.of(3, 0, List.of(1, 2), i -> POSIX, capacity);
            long batchTerm = (long) p.batch() * (p.perObject() + p.pendingPerObject());
            // Equal, unless the two xattrs of the metadata device cannot hold that much (1 TiB).
            assertThat(p.splitPerObject() + p.splitPendingPerObject()).isLessThanOrEqualTo(batchTerm);
            if (capacity < 1L << 30) {
                assertThat(p.splitPerObject() + p.splitPendingPerObject()).isEqualTo(batchTerm);
            } else {
                assertThat(p.splitBudget()).isEqualTo(2 * 65536);
            }
            assertThat(p.splitPerObject() - p.splitBudget())
                    .as("the same overhead as an ordinary object's begin")
                    .isEqualTo(p.perObject() - p.record() - p.layout());
            assertThat(p.total()).isEqualTo(p.streams() * batchTerm + p.counters());
        }
        // A pending copy of a range: its record entry and span, a mirror of up to three components
        // (stale, the range, stale), its job and index entry — measured against real encodings.
        ReservePlan p = ReservePlan.of(3, 0, List.of(1, 2), i -> POSIX, 1L << 20);
        Fid fid = new Fid(0x200000400L, 7, 0);
        long a = Span.ALIGN;
        PoolObject before = split(fid, 5, List.of(1, 2), false);
        PoolObject after = split(fid, 5, List.of(1, 2), true);
        long grows = PoolObjectCodec.encode(after).length
                - PoolObjectCodec.encode(before).length
                + LayoutView.encode(fid, after, 0, i -> POSIX).length
                - LayoutView.encode(fid, before, 0, i -> POSIX).length;
        assertThat(grows).isPositive().isLessThanOrEqualTo(p.splitPendingPerObject());
        // Even on a 1 MiB tier the budget holds a body split in a dozen ranges.
        assertThat((long) PoolObjectCodec.encode(split(fid, 12, List.of(1, 2), false)).length
                        + LayoutView.encode(fid, split(fid, 12, List.of(1, 2), false), 0, i -> POSIX).length)
                .isLessThanOrEqualTo(p.splitBudget());
        // The budget never passes what the metadata device stores in the two xattrs.
        ReservePlan tight = ReservePlan.of(3, 0, List.of(1, 2), i -> POSIX, 1L << 40, 1, 1024);
        assertThat(tight.splitBudget()).isLessThanOrEqualTo(2048);
        assertThat(a).isEqualTo(65536);
    }

    /** A body with {@code n} ranges of 64 KiB spilled apart, in sync (one checksum each), the last pending if asked. */
    private static PoolObject split(Fid fid, int n, List<Integer> bg, boolean pendingOneMore) {
        long a = Span.ALIGN;
        List<Span> held = List.of(new Span(0, Span.EOF));
        List<Copy> cs = new ArrayList<>();
        int total = n + (pendingOneMore ? 1 : 0);
        for (int i = 0; i < total; i++) {
            Span x = new Span((2 * i + 1) * a, (2 * i + 2) * a);
            if (i < n) {
                held = Span.subtract(held, x);
            }
            cs.add(Copy.ranged(
                    i + 2,
                    bg.get(i % bg.size()),
                    PoolFids.copy(i + 1),
                    i < n ? CopyState.IN_SYNC : CopyState.PENDING,
                    1,
                    a,
                    i < n ? new Checksums(Checksums.MIN_SHIFT, new int[1]) : Checksums.NONE,
                    x));
        }
        cs.add(0, new Copy(1, 0, fid, CopyState.IN_SYNC, 1, 1, true, Checksums.NONE).withSpans(held));
        return new PoolObject((2L * total + 2) * a, 1, 1, 0, cs);
    }

    /**
     * On a real pool with a 1 MiB metadata device: range spills go on until the next would take
     * the split body past its budget, which is refused; no RESERVED transaction declared more than
     * the plan's per-stream term, and the object reads back whole.
     */
    @Test
    void rangeSpillsStopAtTheSplitBodysBudgetAndStayWithinThePlan() throws Exception {
        long capacity = 1L << 20;
        PoolConfig c = PoolConfigParser.parse("""
                name: plan
                devices:
                  - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {capacity: %d, strict-declares: true}}
                  - {name: slow0, backend: mem, roles: [background], settings: {strict-declares: true}}
                """.formatted(capacity), "plan test");
        List<MemOsd> raw = new ArrayList<>();
        for (var d : c.devices()) {
            raw.add(new MemOsd(new OsdConfig(d.name(), d.backend(), d.settings(), InstantSource.system())));
        }
        Charging md = new Charging(raw.get(0));
        PoolOsd pool = PoolOsd.mount(
                c,
                InstantSource.system(),
                PoolOsd.MountMode.RECOVER,
                (d, clk) -> d.index() == 0 ? md : raw.get(d.index()));
        ReservePlan plan = pool.reservePlan().orElseThrow();
        Fid f = new Fid(0x200000400L, 1, 0);
        // 4 MiB, sparse past its first 640 KiB: more ranges than the budget of a 1 MiB tier holds.
        byte[] body = new byte[4 << 20];
        byte[] head = new byte[640 * 1024];
        new Random(3).nextBytes(head);
        System.arraycopy(head, 0, body, 0, head.length);
        try (Transaction tx = pool.newTransaction()) {
            tx.declareCreate(f, ObjectKind.DATA);
            tx.declareWrite(f, 0, head.length);
            tx.declareTruncate(f, body.length);
            tx.start();
            tx.create(f, ObjectKind.DATA, AttrChange.none());
            tx.write(f, 0, ByteBuffer.wrap(head));
            tx.truncate(f, body.length);
        }
        long a = Span.ALIGN;
        int done = 0;
        MoveResult last = null;
        for (long off = a; off + a < body.length; off += 2 * a) {
            last = pool.migrator().spillRange(f, pool.device(1), off, off + a);
            if (!(last instanceof MoveResult.Done)) {
                break;
            }
            done++;
        }
        assertThat(done).isPositive();
        assertThat(last).as("%s after %d range spills", last, done).isInstanceOf(MoveResult.Refused.class);
        assertThat(last.detail()).contains("past what the reserve");
        PoolObject p = pool.object(f).orElseThrow();
        assertThat(p.ranges(0)).hasSize(done);
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(body);
        assertThat(md.reservedTransactions.get()).isPositive();
        assertThat(md.maxReserved.get()).isLessThanOrEqualTo(plan.splitPerObject());
        pool.close();
    }

    @Test
    void theRecordAndLayoutBoundsHoldForEveryObjectShapeUpToTheBound() {
        List<Integer> bg = List.of(1, 2);
        ReservePlan p = ReservePlan.of(3, 0, bg, i -> i == 2 ? HsmType.S3 : POSIX, 16L << 20);
        Random r = new Random(5);
        Fid fid = new Fid(0x200000400L, 7, 0);
        for (int trial = 0; trial < 500; trial++) {
            List<Copy> cs = new ArrayList<>();
            int id = 1;
            if (r.nextBoolean()) {
                cs.add(new Copy(id++, 0, fid, CopyState.IN_SYNC, 1, 1, true, Checksums.NONE));
            }
            for (int dev : bg) {
                for (int k = r.nextInt(3); k > 0; k--) {
                    CopyState st = CopyState.values()[r.nextInt(3)];
                    cs.add(new Copy(
                            id++,
                            dev,
                            PoolFids.copy(id),
                            st,
                            1,
                            1,
                            false,
                            new Checksums(Checksums.MIN_SHIFT, new int[1 + r.nextInt(p.chunks())])));
                }
            }
            if (cs.isEmpty() || cs.size() > p.maxCopies()) {
                continue;
            }
            PoolObject o = new PoolObject(r.nextLong() & Long.MAX_VALUE, 9, 3, 8, cs);
            assertThat((long) PoolObjectCodec.encode(o).length).isLessThanOrEqualTo(p.record());
            assertThat((long) LayoutView.encode(fid, o, 0, i -> i == 2 ? HsmType.S3 : POSIX).length)
                    .isLessThanOrEqualTo(p.layout());
        }
    }

    @Test
    void theBoundsHoldForStripedCopiesUpToTheWidestStripeSet() {
        List<Integer> bg = List.of(1, 2, 3, 4, 5);
        long capacity = 64L << 20;
        int width = 4;
        ReservePlan plain = ReservePlan.of(6, 0, bg, i -> POSIX, capacity);
        ReservePlan plan = ReservePlan.of(6, 0, bg, i -> POSIX, capacity, width);
        Fid fid = new Fid(0x200000400L, 7, 0);
        long chunk = 1L << Checksums.MIN_SHIFT;
        int unit = 64 << 10;
        long worstRecord = 0;
        long worstLayout = 0;
        Random r = new Random(11);
        for (int trial = 0; trial < 200; trial++) {
            // A body as large as the tier, in copies striped 2..width wide, each stripe with the
            // checksums of its own length.
            long size = trial == 0 ? capacity : 1 + (r.nextLong() & Long.MAX_VALUE) % capacity;
            List<Copy> cs = new ArrayList<>();
            cs.add(new Copy(1, 0, fid, CopyState.IN_SYNC, 1, size, true, Checksums.NONE));
            for (int c = 1; c < plan.maxCopies(); c++) {
                int count = trial == 0 ? width : 2 + r.nextInt(width - 1);
                List<Stripe> ss = new ArrayList<>();
                for (int k = 0; k < count; k++) {
                    long len = Stripe.length(size, count, unit, k);
                    int n = (int) Math.min(Checksums.MAX_CHUNKS, Math.max(1, (len + chunk - 1) / chunk));
                    ss.add(new Stripe(
                            bg.get((c + k) % bg.size()),
                            PoolFids.copy(c * 8 + k),
                            len,
                            new Checksums(Checksums.MIN_SHIFT, new int[n])));
                }
                CopyState st = c == plan.maxCopies() - 1 ? CopyState.PENDING : CopyState.IN_SYNC;
                cs.add(Copy.striped(c + 1, st, 1, false, unit, ss));
            }
            PoolObject o = new PoolObject(size, 9, 3, 8, cs);
            worstRecord = Math.max(worstRecord, PoolObjectCodec.encode(o).length);
            worstLayout = Math.max(worstLayout, LayoutView.encode(fid, o, 0, i -> POSIX).length);
        }
        assertThat(worstRecord).isLessThanOrEqualTo(plan.record());
        assertThat(worstLayout).isLessThanOrEqualTo(plan.layout());
        // A copy's jobs, index entries and counters are per stripe.
        assertThat(plan.perObject()).isGreaterThan(plain.perObject());
        assertThat(plan.pendingPerObject()).isGreaterThan(plain.pendingPerObject());
        // Without the stripes, the plan would not cover these objects.
        assertThat(plain.record() < worstRecord || plain.layout() < worstLayout)
                .as(
                        "an unstriped plan (record %d, layout %d) vs striped objects (record %d, layout %d)",
                        plain.record(), plain.layout(), worstRecord, worstLayout)
                .isTrue();
    }

    /** The bytes a device charges for a transaction's declares (the model osd-kv and osd-mem share). */
    static final class Charging extends FilterOsd {
        final AtomicLong maxReserved = new AtomicLong();
        final AtomicLong reservedTransactions = new AtomicLong();

        Charging(Osd in) {
            super(in);
        }

        @Override
        protected Transaction wrap(Transaction tx) {
            return new FilterTransaction(tx) {
                long declared;
                SpaceClass space = SpaceClass.CLIENT;

                @Override
                public void declareSetXattr(Fid fid, String name, int valueLength) throws OsdException {
                    declared += name.getBytes(StandardCharsets.UTF_8).length + valueLength;
                    super.declareSetXattr(fid, name, valueLength);
                }

                @Override
                public void declareInsert(Fid index, int keyLength, int valueLength) throws OsdException {
                    declared += keyLength + valueLength;
                    super.declareInsert(index, keyLength, valueLength);
                }

                @Override
                public void declareWrite(Fid fid, long offset, long length) throws OsdException {
                    declared += length;
                    super.declareWrite(fid, offset, length);
                }

                @Override
                public void setSpaceClass(SpaceClass c) throws OsdException {
                    space = c;
                    super.setSpaceClass(c);
                }

                @Override
                public void start() throws OsdException {
                    if (space == SpaceClass.RESERVED) {
                        reservedTransactions.incrementAndGet();
                        maxReserved.accumulateAndGet(declared, Math::max);
                    }
                    super.start();
                }
            };
        }
    }

    @Test
    void whatThePoolReservesAndLeavesPendingStaysWithinThePlan() throws Exception {
        checkThePlanOnARealPool("""
                name: plan
                devices:
                  - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {capacity: %d, strict-declares: true}}
                  - {name: slow0, backend: mem, roles: [background], settings: {strict-declares: true}}
                  - {name: slow1, backend: mem, roles: [background], settings: {strict-declares: true}}
                """);
    }

    /**
     * A striped copy begins with a job, an index entry and a counter per stripe, and its record
     * carries each stripe: the plan counts the widest stripe set of the pool's striping tiers.
     */
    @Test
    void stripedCopiesStayWithinThePlanToo() throws Exception {
        checkThePlanOnARealPool("""
                name: plan
                devices:
                  - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {capacity: %d, strict-declares: true}}
                  - {name: slow0, backend: mem, roles: [background], settings: {strict-declares: true}}
                  - {name: slow1, backend: mem, roles: [background], settings: {strict-declares: true}}
                  - {name: slow2, backend: mem, roles: [background], settings: {strict-declares: true}}
                  - {name: slow3, backend: mem, roles: [background], settings: {strict-declares: true}}
                  - {name: slow4, backend: mem, roles: [background], settings: {strict-declares: true}}
                  - {name: slow5, backend: mem, roles: [background], settings: {strict-declares: true}}
                  - {name: slow6, backend: mem, roles: [background], settings: {strict-declares: true}}
                  - {name: slow7, backend: mem, roles: [background], settings: {strict-declares: true}}
                striping:
                  - devices: [slow0, slow1, slow2, slow3, slow4, slow5, slow6, slow7]
                    stripe-count: 4
                    stripe-size: 64KiB
                """, 5);
    }

    private void checkThePlanOnARealPool(String yaml) throws Exception {
        checkThePlanOnARealPool(yaml, 2);
    }

    /** Spills on device 1, promotes, then begins a batch on device {@code second} and checks the plan. */
    private void checkThePlanOnARealPool(String yaml, int second) throws Exception {
        long capacity = 16L << 20;
        PoolConfig c = PoolConfigParser.parse(yaml.formatted(capacity), "plan test");
        List<MemOsd> raw = new ArrayList<>();
        for (var d : c.devices()) {
            raw.add(new MemOsd(new OsdConfig(d.name(), d.backend(), d.settings(), InstantSource.system())));
        }
        Charging md = new Charging(raw.get(0));
        PoolOsd pool = PoolOsd.mount(
                c,
                InstantSource.system(),
                PoolOsd.MountMode.RECOVER,
                (d, clk) -> d.index() == 0 ? md : raw.get(d.index()));
        ReservePlan plan = pool.reservePlan().orElseThrow();
        Random r = new Random(9);
        List<Fid> fids = new ArrayList<>();
        for (int i = 1; i <= 2 * ReservePlan.BATCH; i++) {
            Fid f = new Fid(0x200000400L, i, 0);
            // Bodies up to a sixteenth of the tier: checksum lists of up to a sixteenth of the bound.
            byte[] b = new byte[1 + r.nextInt((int) (capacity / 16))];
            r.nextBytes(b);
            try (Transaction tx = pool.newTransaction()) {
                tx.declareCreate(f, ObjectKind.DATA);
                tx.declareWrite(f, 0, b.length);
                tx.start();
                tx.create(f, ObjectKind.DATA, AttrChange.none());
                tx.write(f, 0, ByteBuffer.wrap(b));
            }
            fids.add(f);
        }
        // Copies on one device, promoted back, then a batch begun (pending) on the other.
        for (Fid f : fids) {
            pool.migrator().spill(f, pool.device(1));
            pool.migrator().promote(f);
        }
        List<Fid> batch = fids.subList(0, ReservePlan.BATCH);
        long before = raw.get(0).statfs().usedBytes();
        Migrator.Begun b = pool.migrator().beginAll(batch, pool.device(second));
        long pendingGrowth = raw.get(0).statfs().usedBytes() - before;
        assertThat(b.jobs().values()).allMatch(j -> j.isPresent());
        // Counter records new to a stripe are counted once for the whole pool (plan.counters()).
        assertThat(pendingGrowth)
                .isPositive()
                .isLessThanOrEqualTo(plan.batch() * plan.pendingPerObject() + plan.counters());
        for (var j : b.jobs().values()) {
            pool.migrator().complete(j.orElseThrow(), true);
        }
        assertThat(pool.migrator().spillAll(fids, pool.device(second))).hasSize(fids.size());
        assertThat(md.reservedTransactions.get()).isPositive();
        assertThat(md.maxReserved.get()).isLessThanOrEqualTo(plan.batch() * plan.perObject());
        pool.close();
    }
}
