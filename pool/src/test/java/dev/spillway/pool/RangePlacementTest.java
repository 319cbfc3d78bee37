package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.filter.FilterOsd;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.layout.Component;
import dev.spillway.pool.layout.Layout;
import dev.spillway.pool.layout.LayoutCodec;
import dev.spillway.pool.layout.LayoutPrinter;
import dev.spillway.pool.layout.LovFormat;
import dev.spillway.pool.layout.StripeLayout;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.DeviceIndex;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.Span;
import dev.spillway.pool.meta.WorkIndex;
import dev.spillway.pool.ops.MoveResult;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Range-level placement (issue 20): a range of a body spilled to a background device and released
 * on the metadata device, the layout's PFL components, reads of resident ranges that never touch
 * the spill device, reads spanning both, writes, whole spills, promotions and remounts of a split
 * body. After each test a deep fsck must find nothing.
 */
class RangePlacementTest {
    private static final int K64 = 64 * 1024;
    private List<Osd> raw;
    private BrokenDevice slow;
    private final AtomicLong slowReads = new AtomicLong();
    private PoolConfig cfg;
    private PoolOsd pool;
    private int next = 1;

    private static final String YAML = """
            name: ranges
            replicas: 1
            devices:
              - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {durability: simulated, strict-declares: true}}
              - {name: slow, backend: mem, roles: [background], settings: {durability: simulated, strict-declares: true}}
              - {name: far, backend: mem, roles: [background], settings: {durability: simulated, strict-declares: true}}
            """;

    /** Counts the body reads a device serves. */
    private static final class Counting extends FilterOsd {
        private final AtomicLong reads;

        Counting(Osd in, AtomicLong reads) {
            super(in);
            this.reads = reads;
        }

        @Override
        public int read(Fid fid, long offset, ByteBuffer dst) throws OsdException {
            reads.incrementAndGet();
            return super.read(fid, offset, dst);
        }
    }

    @BeforeEach
    void mountFresh() throws OsdException {
        cfg = PoolConfigParser.parse(YAML, "ranges");
        raw = new ArrayList<>();
        for (var d : cfg.devices()) {
            raw.add(new MemOsd(new OsdConfig(d.name(), d.backend(), d.settings(), InstantSource.system())));
        }
        slow = new BrokenDevice(new Counting(raw.get(1), slowReads));
        remount();
    }

    private void remount() throws OsdException {
        pool = PoolOsd.mount(
                cfg,
                InstantSource.system(),
                PoolOsd.MountMode.RECOVER,
                (d, c) -> d.index() == 1 ? slow : raw.get(d.index()));
    }

    @AfterEach
    void fsckClean() throws Exception {
        slow.broken.set(false);
        assertThat(pool.fsck(false, true, null).problems()).isEmpty();
    }

    private Fid object(byte[] body) throws Exception {
        Fid f = new Fid(0x200000400L, next++, 0);
        try (Transaction tx = pool.newTransaction()) {
            tx.declareCreate(f, ObjectKind.DATA);
            tx.declareWrite(f, 0, body.length);
            tx.start();
            tx.create(f, ObjectKind.DATA, AttrChange.none().mode(0644));
            tx.write(f, 0, ByteBuffer.wrap(body));
        }
        return f;
    }

    private void write(Fid f, long off, byte[] b) throws Exception {
        try (Transaction tx = pool.newTransaction()) {
            tx.declareWrite(f, off, b.length);
            tx.start();
            tx.write(f, off, ByteBuffer.wrap(b));
        }
    }

    private byte[] read(Fid f, long off, int len) throws Exception {
        byte[] out = new byte[len];
        int pos = 0;
        while (pos < len) {
            int n = pool.read(f, off + pos, ByteBuffer.wrap(out, pos, len - pos));
            if (n <= 0) {
                break;
            }
            pos += n;
        }
        return Arrays.copyOf(out, pos);
    }

    private byte[] read(Fid f) throws Exception {
        return read(f, 0, (int) pool.getAttr(f).size());
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private PoolObject state(Fid f) throws Exception {
        return pool.object(f).orElseThrow();
    }

    private Copy range(Fid f) throws Exception {
        return state(f).ranges(0).get(0);
    }

    @Test
    void aSpilledTailLeavesTheHeadResidentAndReadsOfTheHeadNeverTouchTheSpillDevice() throws Exception {
        byte[] body = random(1_000_000, 1);
        Fid f = object(body);
        MoveResult r = pool.migrator().spillRange(f, pool.device(1), 4 * K64, Span.EOF);
        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Done.class);
        assertThat(r.bytes()).isEqualTo(1_000_000 - 4 * K64);

        PoolObject p = state(f);
        assertThat(p.split(0)).isTrue();
        assertThat(p.resident(0)).isFalse();
        assertThat(p.on(0).orElseThrow().spans()).containsExactly(new Span(0, 4 * K64));
        Copy c = range(f);
        assertThat(c.state()).isEqualTo(CopyState.IN_SYNC);
        assertThat(c.spans()).containsExactly(new Span(4 * K64, Span.EOF));
        assertThat(raw.get(1).getAttr(c.key()).size()).as("the range's object").isEqualTo(1_000_000 - 4 * K64);
        assertThat(raw.get(0).getAttr(f).size()).as("released: truncated").isEqualTo(4 * K64);
        assertThat(pool.getAttr(f).size()).isEqualTo(1_000_000);
        assertThat(DeviceIndex.contains(raw.get(0), 1, f, c.key())).isTrue();
        assertThat(WorkIndex.all(raw.get(0))).as("the COPY job is gone").isEmpty();
        assertThat(pool.copyTotals().get(1).get(CopyState.IN_SYNC)[1]).isEqualTo(1);

        assertThat(read(f)).isEqualTo(body);
        // The spill device dead: the resident head still reads, and nothing asked it.
        slow.broken.set(true);
        slowReads.set(0);
        assertThat(read(f, 0, 4 * K64)).isEqualTo(Arrays.copyOf(body, 4 * K64));
        assertThat(read(f, 1000, 5000)).isEqualTo(Arrays.copyOfRange(body, 1000, 6000));
        assertThat(slowReads.get()).isZero();
        assertThat(slow.failedCalls.get()).isZero();
        assertThatThrownBy(() -> read(f, 4 * K64 + 10, 100))
                .isInstanceOfSatisfying(
                        OsdException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EIO))
                .hasMessageContaining("no good copy of the range at " + (4 * K64 + 10));
    }

    @Test
    void aMiddleRangeIsPunchedOutAndAReadSpanningItIsSplit() throws Exception {
        byte[] body = random(10 * K64 + 123, 2);
        Fid f = object(body);
        assertThat(pool.migrator().spillRange(f, pool.device(1), 2 * K64, 5 * K64))
                .isInstanceOf(MoveResult.Done.class);
        PoolObject p = state(f);
        assertThat(p.on(0).orElseThrow().spans()).containsExactly(new Span(0, 2 * K64), new Span(5 * K64, Span.EOF));
        assertThat(raw.get(0).getAttr(f).size()).as("punched: the size stays").isEqualTo(body.length);
        assertThat(raw.get(0).seekHole(f, 0)).as("the punched range is a hole").isEqualTo(2L * K64);

        slowReads.set(0);
        assertThat(read(f, K64, 5 * K64)).isEqualTo(Arrays.copyOfRange(body, K64, 6 * K64));
        assertThat(slowReads.get()).as("the spilled middle came from slow").isPositive();
        slowReads.set(0);
        assertThat(read(f, 5 * K64, 5 * K64 + 123)).isEqualTo(Arrays.copyOfRange(body, 5 * K64, body.length));
        assertThat(read(f, 0, 2 * K64)).isEqualTo(Arrays.copyOf(body, 2 * K64));
        assertThat(slowReads.get()).as("resident ranges on either side").isZero();

        // A second range beside the first: two copies of ranges, the body holds the rest.
        assertThat(pool.migrator().spillRange(f, pool.device(2), 6 * K64, 8 * K64))
                .isInstanceOf(MoveResult.Done.class);
        assertThat(state(f).ranges(0)).hasSize(2);
        assertThat(read(f)).isEqualTo(body);
        remount();
        assertThat(read(f)).as("after a remount").isEqualTo(body);
    }

    @Test
    void theLayoutSplitsEachMirrorIntoPflComponentsByExtent() throws Exception {
        byte[] body = random(10 * K64, 3);
        Fid f = object(body);
        pool.migrator().spillRange(f, pool.device(1), 2 * K64, 5 * K64);
        Copy range = range(f);
        byte[] raw = pool.rawLayout(f);
        Layout l = LayoutCodec.decode(raw);
        assertThat(l.mirrorCount()).isEqualTo(2);
        // Mirror 1 (the fast device's body): [0,128K) in sync, [128K,320K) stale, [320K,EOF) in sync;
        // mirror 2 (slow's copy of the range): the other way round.
        long[][] want = {
            {1, 0, 2 * K64, 0}, {1, 2 * K64, 5 * K64, 1}, {1, 5 * K64, LovFormat.LUSTRE_EOF, 0},
            {2, 0, 2 * K64, 1}, {2, 2 * K64, 5 * K64, 0}, {2, 5 * K64, LovFormat.LUSTRE_EOF, 1}
        };
        assertThat(l.components()).hasSize(want.length);
        // Read back with nothing but Lustre's struct sizes and offsets (lov_comp_md_v1 32 bytes,
        // lov_comp_md_entry_v1 48: lcme_id at 0, lcme_flags 4, lcme_extent.e_start 8, e_end 16,
        // lcme_offset 24), as an MDT would.
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(b.getInt(0)).isEqualTo(LovFormat.LOV_MAGIC_COMP_V1);
        assertThat(Short.toUnsignedInt(b.getShort(14))).as("lcm_entry_count").isEqualTo(want.length);
        for (int i = 0; i < want.length; i++) {
            int e = LovFormat.LOV_COMP_MD_V1_SIZE + i * LovFormat.LOV_COMP_MD_ENTRY_V1_SIZE;
            int id = b.getInt(e);
            int flags = b.getInt(e + 4);
            assertThat(LovFormat.mirrorIdOf(id)).as("entry %d mirror", i).isEqualTo((int) want[i][0]);
            assertThat(b.getLong(e + 8)).as("entry %d e_start", i).isEqualTo(want[i][1]);
            assertThat(b.getLong(e + 16)).as("entry %d e_end", i).isEqualTo(want[i][2]);
            assertThat(flags & LovFormat.LCME_FL_STALE).as("entry %d stale", i).isEqualTo((int) want[i][3]);
            assertThat(flags & LovFormat.LCME_FL_INIT).isEqualTo(LovFormat.LCME_FL_INIT);
            int blob = b.getInt(e + 24);
            assertThat(b.getInt(blob)).as("entry %d lmm_magic", i).isEqualTo(LovFormat.LOV_MAGIC_V1);
            int obj = blob + LovFormat.LOV_MDS_MD_V1_SIZE;
            // lov_ost_data_v1: l_ost_oi (f_seq u64, f_oid u32, f_ver u32), l_ost_gen, l_ost_idx at 20.
            assertThat(b.getInt(obj + 20)).as("entry %d l_ost_idx", i).isEqualTo(want[i][0] == 1 ? 0 : 1);
            if (want[i][0] == 2) {
                assertThat(b.getLong(obj)).isEqualTo(range.key().seq());
            }
        }
        Component c = l.components().get(4);
        assertThat(c.subLayout()).isInstanceOf(StripeLayout.class);
        String v = LayoutPrinter.getstripe(l, f.toString(), ZoneOffset.UTC);
        assertThat(v)
                .contains(
                        "lcme_extent.e_start: 131072",
                        "lcme_extent.e_end:   327680",
                        "lcme_flags:          init,stale");
    }

    @Test
    void aWriteRecallsTheSpilledRangesAndCollectsTheirCopies() throws Exception {
        byte[] body = random(8 * K64, 4);
        Fid f = object(body);
        pool.migrator().spillRange(f, pool.device(1), 3 * K64, Span.EOF);
        Fid key = range(f).key();
        byte[] patch = random(1000, 5);
        write(f, 3 * K64 + 500, patch);
        System.arraycopy(patch, 0, body, 3 * K64 + 500, patch.length);
        PoolObject p = state(f);
        assertThat(p.resident(0)).isTrue();
        assertThat(p.ranges(0)).isEmpty();
        assertThat(WorkIndex.all(raw.get(0)))
                .extracting(Job::kind, Job::key)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(Job.Kind.GC, key));
        assertThat(read(f)).isEqualTo(body);
        pool.migrator().collectGarbage();
        assertThat(raw.get(1).exists(key)).isFalse();
    }

    @Test
    void aSplitBodySpillsWholeAndComesBackWhole() throws Exception {
        byte[] body = random(6 * K64 + 7, 6);
        Fid f = object(body);
        pool.migrator().spillRange(f, pool.device(1), 2 * K64, 4 * K64);
        MoveResult r = pool.migrator().spill(f, pool.device(2));
        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Done.class);
        PoolObject p = state(f);
        assertThat(p.resident(0) || p.split(0)).isFalse();
        assertThat(p.ranges(0)).as("the range's copy went with the body").isEmpty();
        assertThat(p.inSync()).hasSize(1);
        assertThat(read(f)).isEqualTo(body);
        assertThat(pool.migrator().promote(f)).isInstanceOf(MoveResult.Done.class);
        assertThat(state(f).resident(0)).isTrue();
        assertThat(read(f)).isEqualTo(body);
    }

    @Test
    void aPromotionRecallsTheRanges() throws Exception {
        byte[] body = random(6 * K64, 7);
        Fid f = object(body);
        assertThat(pool.migrator().spillRange(f, pool.device(1), K64, 2 * K64)).isInstanceOf(MoveResult.Done.class);
        MoveResult second = pool.migrator().spillRange(f, pool.device(2), 4 * K64, Span.EOF);
        assertThat(second).as(second.detail() + " " + state(f)).isInstanceOf(MoveResult.Done.class);
        assertThat(state(f).split(0)).as(state(f).toString()).isTrue();
        assertThat(pool.migrator().promote(f)).isInstanceOf(MoveResult.Done.class);
        assertThat(state(f).resident(0)).isTrue();
        assertThat(state(f).ranges(0)).isEmpty();
        slow.broken.set(true);
        assertThat(read(f)).isEqualTo(body);
    }

    @Test
    void rangesOffBoundariesOrCoveringAllThatIsResidentAreRefused() throws Exception {
        Fid f = object(random(4 * K64, 8));
        assertThatThrownBy(() -> pool.migrator().spillRange(f, pool.device(1), 1000, 2 * K64))
                .isInstanceOfSatisfying(
                        OsdException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EINVAL));
        assertThat(pool.migrator().spillRange(f, pool.device(1), 0, Span.EOF))
                .isInstanceOf(MoveResult.NothingToDo.class);
        assertThat(pool.migrator().spillRange(f, pool.device(1), 0, 2 * K64)).isInstanceOf(MoveResult.Done.class);
        assertThat(pool.migrator().spillRange(f, pool.device(1), K64, 3 * K64))
                .as("not resident whole")
                .isInstanceOf(MoveResult.NothingToDo.class);
        assertThat(pool.migrator().spillRange(f, pool.device(2), 2 * K64, Span.EOF))
                .as("all that is left")
                .isInstanceOf(MoveResult.NothingToDo.class);
        assertThat(state(f).copies()).hasSize(2);
    }

    @Test
    void aRangeSpillThatFailsLeavesTheBodyWholeAndNoCopy() throws Exception {
        byte[] body = random(4 * K64, 9);
        Fid f = object(body);
        slow.beforeSync = () -> slow.broken.set(true);
        MoveResult r = pool.migrator().spillRange(f, pool.device(1), K64, Span.EOF);
        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Parked.class);
        slow.broken.set(false);
        slow.beforeSync = () -> {};
        assertThat(state(f).resident(0)).isTrue();
        assertThat(state(f).ranges(0)).isEmpty();
        assertThat(read(f)).isEqualTo(body);
        pool.migrator().collectGarbage();
    }

    @Test
    void aCrashBeforeTheFlipRollsTheRangeBack() throws Exception {
        byte[] body = random(4 * K64, 10);
        Fid f = object(body);
        // The copy is written and synced, then the pool stops before step 3 (a remount, as after a crash).
        slow.beforeSync = () -> {
            throw new IllegalStateException("crash");
        };
        assertThatThrownBy(() -> pool.migrator().spillRange(f, pool.device(1), K64, Span.EOF))
                .hasMessageContaining("crash");
        slow.beforeSync = () -> {};
        assertThat(WorkIndex.all(raw.get(0))).extracting(Job::kind).containsExactly(Job.Kind.COPY);
        remount();
        assertThat(state(f).resident(0)).isTrue();
        assertThat(state(f).copies()).hasSize(1);
        assertThat(read(f)).isEqualTo(body);
    }

    @Test
    void evacuatingTheDeviceOfARangeMovesTheBodyElsewhere() throws Exception {
        byte[] body = random(6 * K64 + 1, 11);
        Fid f = object(body);
        pool.migrator().spillRange(f, pool.device(1), 2 * K64, Span.EOF);
        dev.spillway.pool.ops.DeviceOps.Progress p;
        int rounds = 0;
        do {
            p = pool.deviceOps().evacuateStep(pool.device(1), 4);
            rounds++;
        } while (!p.done() && rounds < 20);
        assertThat(p.done()).as("evacuated: %s", p).isTrue();
        assertThat(state(f).on(1)).isEmpty();
        pool.migrator().collectGarbage();
        assertThat(raw.get(1).statfs().objects()).isZero();
        slow.broken.set(true);
        assertThat(read(f)).isEqualTo(body);
    }

    @Test
    void aWriteRecallsOnlyTheRangesItTouchesAndTheOthersStayInSync() throws Exception {
        byte[] body = random(10 * K64, 12);
        Fid f = object(body);
        pool.migrator().spillRange(f, pool.device(1), 2 * K64, 4 * K64);
        pool.migrator().spillRange(f, pool.device(2), 6 * K64, Span.EOF);
        Fid touched = state(f).ranges(0).get(0).key();
        Fid untouched = state(f).ranges(0).get(1).key();
        // Inside slow's range, and inside the resident [4, 6) x 64K.
        byte[] a = random(3000, 13);
        byte[] b = random(500, 14);
        try (Transaction tx = pool.newTransaction()) {
            tx.declareWrite(f, 3 * K64, a.length);
            tx.declareWrite(f, 5 * K64, b.length);
            tx.start();
            tx.write(f, 3 * K64, ByteBuffer.wrap(a));
            tx.write(f, 5 * K64, ByteBuffer.wrap(b));
        }
        System.arraycopy(a, 0, body, 3 * K64, a.length);
        System.arraycopy(b, 0, body, 5 * K64, b.length);
        PoolObject p = state(f);
        assertThat(p.split(0)).isTrue();
        assertThat(p.on(0).orElseThrow().spans()).containsExactly(new Span(0, 6 * K64));
        assertThat(p.ranges(0)).singleElement().satisfies(c -> {
            assertThat(c.key()).isEqualTo(untouched);
            assertThat(c.state()).isEqualTo(CopyState.IN_SYNC);
            assertThat(c.version()).isEqualTo(p.dataVersion());
        });
        assertThat(WorkIndex.all(raw.get(0)))
                .extracting(Job::kind, Job::key)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(Job.Kind.GC, touched));
        assertThat(read(f)).isEqualTo(body);
        // The slow device is no longer needed: what it held came home.
        slow.broken.set(true);
        assertThat(read(f)).isEqualTo(body);
        slow.broken.set(false);
        remount();
        assertThat(read(f)).isEqualTo(body);
        // Growing the body recalls the rest.
        write(f, body.length, new byte[] {1, 2, 3});
        assertThat(state(f).resident(0)).isTrue();
        assertThat(read(f, 0, body.length)).isEqualTo(body);
    }

    @Test
    void aRangePromotionRecallsOnlyThatRangeAndTheOthersStaySpilled() throws Exception {
        byte[] body = random(8 * K64 + 100, 15);
        Fid f = object(body);
        pool.migrator().spillRange(f, pool.device(1), 2 * K64, 4 * K64);
        pool.migrator().spillRange(f, pool.device(2), 4 * K64, 6 * K64);
        pool.migrator().spillRange(f, pool.device(1), 6 * K64, Span.EOF);
        assertThat(state(f).ranges(0)).hasSize(3);
        Fid middle = state(f).ranges(0).get(1).key();
        long version = state(f).dataVersion();

        MoveResult r = pool.migrator().promoteRange(f, 4 * K64, 6 * K64);
        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Done.class);
        assertThat(r.bytes()).isEqualTo(2 * K64);
        PoolObject p = state(f);
        assertThat(p.split(0)).isTrue();
        assertThat(p.dataVersion()).as("a recall is not a write").isEqualTo(version);
        assertThat(p.on(0).orElseThrow().spans()).containsExactly(new Span(0, 2 * K64), new Span(4 * K64, 6 * K64));
        assertThat(p.ranges(0))
                .extracting(c -> c.spans().get(0))
                .containsExactly(new Span(2 * K64, 4 * K64), new Span(6 * K64, Span.EOF));
        assertThat(p.ranges(0)).allSatisfy(c -> assertThat(c.state()).isEqualTo(CopyState.IN_SYNC));
        assertThat(WorkIndex.all(raw.get(0)))
                .extracting(Job::kind, Job::key)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(Job.Kind.GC, middle));
        assertThat(DeviceIndex.contains(raw.get(0), 2, f, middle)).isFalse();
        assertThat(read(f)).isEqualTo(body);
        // The promoted range is local now: read without the device that held it.
        assertThat(read(f, 4 * K64, 2 * K64)).isEqualTo(Arrays.copyOfRange(body, 4 * K64, 6 * K64));
        assertThat(pool.migrator().promoteRange(f, 4 * K64, 5 * K64)).isInstanceOf(MoveResult.NothingToDo.class);
        remount();
        assertThat(read(f)).isEqualTo(body);
        // A range to EOF, then the last one: the body is whole again.
        assertThat(pool.migrator().promoteRange(f, 6 * K64, Span.EOF)).isInstanceOf(MoveResult.Done.class);
        assertThat(state(f).split(0)).isTrue();
        assertThat(pool.migrator().promoteRange(f, 0, 4 * K64)).isInstanceOf(MoveResult.Done.class);
        assertThat(state(f).resident(0)).isTrue();
        assertThat(state(f).ranges(0)).isEmpty();
        pool.migrator().collectGarbage();
        assertThat(WorkIndex.all(raw.get(0)))
                .as("the three copies of ranges collected")
                .isEmpty();
        assertThat(raw.get(1).exists(middle) || raw.get(2).exists(middle)).isFalse();
        slow.broken.set(true);
        assertThat(read(f)).isEqualTo(body);
    }

    @Test
    void aRangePromotionOfAResidentOrWholeBodyDoesNothingAndOffBoundariesIsRefused() throws Exception {
        Fid f = object(random(4 * K64, 16));
        assertThat(pool.migrator().promoteRange(f, 0, K64)).isInstanceOf(MoveResult.NothingToDo.class);
        assertThatThrownBy(() -> pool.migrator().promoteRange(f, 100, K64))
                .isInstanceOfSatisfying(
                        OsdException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EINVAL));
        pool.migrator().spillRange(f, pool.device(1), 2 * K64, Span.EOF);
        assertThat(pool.migrator().promoteRange(f, 0, 2 * K64)).isInstanceOf(MoveResult.NothingToDo.class);
        // The spill device dead: the range cannot come home, and nothing changes.
        slow.broken.set(true);
        assertThatThrownBy(() -> pool.migrator().promoteRange(f, 2 * K64, 3 * K64))
                .isInstanceOfSatisfying(
                        OsdException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EIO));
        slow.broken.set(false);
        assertThat(state(f).split(0)).isTrue();
        assertThat(state(f).ranges(0)).hasSize(1);
    }

    @Test
    void aRangePromotionOfABodySpilledWholeBringsOnlyThatRangeHomeAndTheWholeCopyHoldsTheRest() throws Exception {
        byte[] body = random(8 * K64 + 100, 17);
        Fid f = object(body);
        assertThat(pool.migrator().spill(f, pool.device(1))).isInstanceOf(MoveResult.Done.class);
        Copy whole = state(f).inSync().get(0);
        long version = state(f).dataVersion();
        assertThat(raw.get(0).getAttr(f).size())
                .as("a stub on the metadata device")
                .isZero();

        MoveResult r = pool.migrator().promoteRange(f, 2 * K64, 4 * K64);
        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Done.class);
        assertThat(r.bytes()).isEqualTo(2 * K64);
        PoolObject p = state(f);
        assertThat(p.split(0)).isTrue();
        assertThat(p.dataVersion()).as("a recall is not a write").isEqualTo(version);
        assertThat(p.on(0).orElseThrow().spans()).containsExactly(new Span(2 * K64, 4 * K64));
        assertThat(p.ranges(0))
                .as("no copy of a range: the whole copy holds the rest")
                .isEmpty();
        assertThat(p.inSync())
                .extracting(Copy::key, Copy::state)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(whole.key(), CopyState.IN_SYNC));
        assertThat(WorkIndex.all(raw.get(0))).as("nothing to collect").isEmpty();
        assertThat(DeviceIndex.contains(raw.get(0), 0, f, f)).isTrue();
        assertThat(raw.get(0).getAttr(f).size()).isEqualTo(4 * K64);
        // The promoted range reads locally, never from the spill device; the rest from the whole copy.
        slowReads.set(0);
        assertThat(read(f, 2 * K64, 2 * K64)).isEqualTo(Arrays.copyOfRange(body, 2 * K64, 4 * K64));
        assertThat(read(f, 3 * K64 + 7, 1000)).isEqualTo(Arrays.copyOfRange(body, 3 * K64 + 7, 3 * K64 + 1007));
        assertThat(slowReads.get()).isZero();
        assertThat(read(f)).isEqualTo(body);
        remount();
        assertThat(read(f)).isEqualTo(body);

        // A second range to EOF, then a whole promotion: the body whole again, the whole copy kept.
        assertThat(pool.migrator().promoteRange(f, 6 * K64, Span.EOF)).isInstanceOf(MoveResult.Done.class);
        assertThat(state(f).on(0).orElseThrow().spans())
                .containsExactly(new Span(2 * K64, 4 * K64), new Span(6 * K64, Span.EOF));
        assertThat(pool.migrator().promoteRange(f, 0, 2 * K64)).isInstanceOf(MoveResult.Done.class);
        assertThat(pool.migrator().promote(f)).isInstanceOf(MoveResult.Done.class);
        assertThat(state(f).resident(0)).isTrue();
        assertThat(state(f).inSync()).hasSize(2);
        slow.broken.set(true);
        assertThat(read(f)).isEqualTo(body);
    }

    @Test
    void aBodyPromotedByRangeFromItsWholeCopyIsReleasedWithoutACopyAndAWriteRecallsItWhole() throws Exception {
        byte[] body = random(8 * K64, 18);
        Fid f = object(body);
        pool.migrator().spill(f, pool.device(1));
        pool.migrator().promoteRange(f, 0, 2 * K64);
        assertThat(state(f).split(0)).isTrue();
        // A whole spill onto the device holding the whole copy: the resident range is dropped, no byte copied.
        MoveResult r = pool.migrator().spill(f, pool.device(1));
        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Done.class);
        assertThat(state(f).split(0) || state(f).resident(0)).isFalse();
        assertThat(state(f).copies()).hasSize(1);
        assertThat(raw.get(0).getAttr(f).size()).isZero();
        assertThat(DeviceIndex.contains(raw.get(0), 0, f, f)).isFalse();

        // Promoted by range again, then written inside its resident range: the whole copy is all
        // that holds the rest, so the write recalls the body whole (the copy is then garbage).
        pool.migrator().promoteRange(f, 0, 2 * K64);
        byte[] patch = random(100, 19);
        write(f, 10, patch);
        System.arraycopy(patch, 0, body, 10, patch.length);
        PoolObject p = state(f);
        assertThat(p.resident(0)).isTrue();
        assertThat(p.copies()).hasSize(1);
        assertThat(read(f)).isEqualTo(body);
        pool.migrator().collectGarbage();
        slow.broken.set(true);
        assertThat(read(f)).isEqualTo(body);
    }

    /** A fresh pool as {@link #YAML} with {@code replicas} (the same three mem devices, slow counted). */
    private void mountFresh(int replicas) throws Exception {
        pool.close();
        cfg = PoolConfigParser.parse(YAML.replace("replicas: 1", "replicas: " + replicas), "ranges");
        raw = new ArrayList<>();
        for (var d : cfg.devices()) {
            raw.add(new MemOsd(new OsdConfig(d.name(), d.backend(), d.settings(), InstantSource.system())));
        }
        slow = new BrokenDevice(new Counting(raw.get(1), slowReads));
        remount();
    }

    /** Each background device's used bytes and object count. */
    private List<Long> backgroundUse() throws Exception {
        List<Long> out = new ArrayList<>();
        for (int d = 1; d < raw.size(); d++) {
            out.add(raw.get(d).statfs().usedBytes());
            out.add(raw.get(d).statfs().objects());
        }
        return out;
    }

    @Test
    void aRangeSpillUnderReplicasTwoLeavesTwoInSyncCopiesOfTheRangeOnDistinctDevices() throws Exception {
        mountFresh(2);
        byte[] body = random(10 * K64 + 5, 20);
        Fid f = object(body);
        MoveResult r = pool.migrator().spillRange(f, pool.device(1), 2 * K64, 5 * K64);
        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Done.class);

        PoolObject p = state(f);
        assertThat(p.split(0)).isTrue();
        assertThat(p.on(0).orElseThrow().spans()).containsExactly(new Span(0, 2 * K64), new Span(5 * K64, Span.EOF));
        // The layout: the fast tier's mirror, then one copy of the range on each spill device.
        assertThat(p.copies())
                .extracting(
                        Copy::device, Copy::whole, Copy::state, c -> c.spans().toString())
                .containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple(
                                0,
                                false,
                                CopyState.IN_SYNC,
                                p.on(0).orElseThrow().spans().toString()),
                        org.assertj.core.groups.Tuple.tuple(
                                1,
                                false,
                                CopyState.IN_SYNC,
                                List.of(new Span(2 * K64, 5 * K64)).toString()),
                        org.assertj.core.groups.Tuple.tuple(
                                2,
                                false,
                                CopyState.IN_SYNC,
                                List.of(new Span(2 * K64, 5 * K64)).toString()));
        for (Copy c : p.ranges(0)) {
            assertThat(raw.get(c.device()).getAttr(c.key()).size()).isEqualTo(3 * K64);
            assertThat(DeviceIndex.contains(raw.get(0), c.device(), f, c.key())).isTrue();
        }
        assertThat(WorkIndex.all(raw.get(0))).as("the COPY jobs are gone").isEmpty();
        assertThat(pool.copyTotals().get(1).get(CopyState.IN_SYNC)[1]).isEqualTo(1);
        assertThat(pool.copyTotals().get(2).get(CopyState.IN_SYNC)[1]).isEqualTo(1);
        assertThat(read(f)).isEqualTo(body);
        // Either copy serves the range alone.
        slow.broken.set(true);
        assertThat(read(f)).isEqualTo(body);
        slow.broken.set(false);
        remount();
        assertThat(read(f)).isEqualTo(body);
    }

    @Test
    void aRangeAlreadyHeldByAWholeCopyIsReleasedWithoutACopyAndNothingIsWrittenToASpillDevice() throws Exception {
        byte[] body = random(8 * K64, 21);
        Fid f = object(body);
        assertThat(pool.migrator().copy(f, pool.device(1), false)).isInstanceOf(MoveResult.Done.class);
        Copy whole = state(f).inSync().stream()
                .filter(c -> c.device() == 1)
                .findFirst()
                .orElseThrow();
        List<Long> before = backgroundUse();

        MoveResult r = pool.migrator().spillRange(f, pool.device(2), 2 * K64, 4 * K64);
        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Done.class);
        assertThat(r.detail()).contains("no copy made");
        assertThat(backgroundUse()).as("no byte written to a spill device").isEqualTo(before);
        PoolObject p = state(f);
        assertThat(p.ranges(0)).as("no copy of a range").isEmpty();
        assertThat(p.on(0).orElseThrow().spans()).containsExactly(new Span(0, 2 * K64), new Span(4 * K64, Span.EOF));
        assertThat(p.inSync()).extracting(Copy::key).containsExactly(whole.key());
        assertThat(WorkIndex.all(raw.get(0))).isEmpty();
        assertThat(read(f)).isEqualTo(body);
        slowReads.set(0);
        assertThat(read(f, 0, 2 * K64)).isEqualTo(Arrays.copyOf(body, 2 * K64));
        assertThat(slowReads.get()).isZero();
        // A write now recalls the body whole (the whole copy alone held the range).
        byte[] patch = random(100, 22);
        write(f, 3 * K64, patch);
        System.arraycopy(patch, 0, body, 3 * K64, patch.length);
        assertThat(state(f).resident(0)).isTrue();
        assertThat(read(f)).isEqualTo(body);
        pool.migrator().collectGarbage();
    }

    @Test
    void aColdRangeOfABodyPromotedByRangeFromItsWholeCopyIsReleasedNotCopied() throws Exception {
        byte[] body = random(8 * K64 + 100, 23);
        Fid f = object(body);
        assertThat(pool.migrator().spill(f, pool.device(1))).isInstanceOf(MoveResult.Done.class);
        assertThat(pool.migrator().promoteRange(f, 0, 4 * K64)).isInstanceOf(MoveResult.Done.class);
        List<Long> before = backgroundUse();

        MoveResult r = pool.migrator().spillRange(f, pool.device(1), 2 * K64, 4 * K64);
        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Done.class);
        assertThat(backgroundUse()).as("no byte written to a spill device").isEqualTo(before);
        PoolObject p = state(f);
        assertThat(p.ranges(0)).isEmpty();
        assertThat(p.on(0).orElseThrow().spans()).containsExactly(new Span(0, 2 * K64));
        assertThat(read(f)).isEqualTo(body);
        remount();
        assertThat(read(f)).isEqualTo(body);
    }

    @Test
    void underReplicasTwoAWholeCopyCountsAndTheMissingCopyOfTheRangeGoesToAnotherDevice() throws Exception {
        mountFresh(2);
        byte[] body = random(8 * K64, 24);
        Fid f = object(body);
        assertThat(pool.migrator().copy(f, pool.device(1), false)).isInstanceOf(MoveResult.Done.class);
        // Asked for slow, which holds the whole copy: the one missing copy goes to far.
        MoveResult r = pool.migrator().spillRange(f, pool.device(1), 2 * K64, 4 * K64);
        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Done.class);
        PoolObject p = state(f);
        assertThat(p.ranges(0)).singleElement().satisfies(c -> {
            assertThat(c.device()).isEqualTo(2);
            assertThat(c.spans()).containsExactly(new Span(2 * K64, 4 * K64));
            assertThat(c.state()).isEqualTo(CopyState.IN_SYNC);
        });
        assertThat(read(f)).isEqualTo(body);

        // Another range with far read-only: only one device may take a copy, two are missing.
        pool.deviceOps().setState(pool.device(2), dev.spillway.pool.config.DeviceState.RO);
        Fid g = object(random(8 * K64, 25));
        MoveResult refused = pool.migrator().spillRange(g, pool.device(1), 2 * K64, 4 * K64);
        assertThat(refused).as(refused.detail()).isInstanceOf(MoveResult.Refused.class);
        assertThat(refused.detail()).contains("keeps 2 copies");
        assertThat(state(g).resident(0)).isTrue();
        assertThat(state(g).copies()).hasSize(1);
        assertThat(WorkIndex.all(raw.get(0))).isEmpty();
        pool.deviceOps().setState(pool.device(2), dev.spillway.pool.config.DeviceState.RW);
    }

    @Test
    void underReplicasTwoABodyPromotedByRangeFromTwoWholeCopiesIsReleasedByRangeWithoutACopy() throws Exception {
        mountFresh(2);
        byte[] body = random(8 * K64, 26);
        Fid f = object(body);
        pool.migrator().spill(f, pool.device(1));
        assertThat(pool.migrator().spill(f, pool.device(2))).isInstanceOf(MoveResult.Done.class);
        assertThat(state(f).inSync()).hasSize(2);
        assertThat(state(f).on(0)).isEmpty();
        pool.migrator().promoteRange(f, 0, 4 * K64);
        List<Long> before = backgroundUse();
        MoveResult r = pool.migrator().spillRange(f, pool.device(1), 2 * K64, 4 * K64);
        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Done.class);
        assertThat(backgroundUse()).isEqualTo(before);
        assertThat(state(f).ranges(0)).isEmpty();
        assertThat(state(f).on(0).orElseThrow().spans()).containsExactly(new Span(0, 2 * K64));
        assertThat(read(f)).isEqualTo(body);
    }
}
