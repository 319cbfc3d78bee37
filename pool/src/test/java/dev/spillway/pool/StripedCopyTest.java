package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.layout.Component;
import dev.spillway.pool.layout.Layout;
import dev.spillway.pool.layout.LayoutCodec;
import dev.spillway.pool.layout.LovFormat;
import dev.spillway.pool.layout.StripeLayout;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.DeviceIndex;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.Stripe;
import dev.spillway.pool.meta.WorkIndex;
import dev.spillway.pool.ops.DeviceOps;
import dev.spillway.pool.ops.Migrator;
import dev.spillway.pool.ops.MoveResult;
import dev.spillway.pool.recovery.Fsck;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Striped background copies (issue 20): a copy placed on a device of a striping tier is RAID0
 * over {@code stripe-count} of its devices, one stripe object per device; spill, read, promote,
 * write, evacuate, migrate, recovery and fsck handle it, with 2 and 4 stripes, bodies of odd sizes
 * and bodies smaller than one stripe. After each test a deep fsck must find nothing.
 */
class StripedCopyTest {
    private static final int UNIT = 1 << 20;
    private List<MemOsd> raw;
    private PoolConfig cfg;
    private PoolOsd pool;
    private int next = 1;

    // Five tier devices (slow0..slow4) and one plain spill device (far, index 6).
    private static final String YAML = """
            name: striped
            replicas: %d
            devices:
              - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {durability: simulated, strict-declares: true}}
              - {name: slow0, backend: mem, roles: [background], settings: {durability: simulated, strict-declares: true}}
              - {name: slow1, backend: mem, roles: [background], settings: {durability: simulated, strict-declares: true}}
              - {name: slow2, backend: mem, roles: [background], settings: {durability: simulated, strict-declares: true}}
              - {name: slow3, backend: mem, roles: [background], settings: {durability: simulated, strict-declares: true}}
              - {name: slow4, backend: mem, roles: [background], settings: {durability: simulated, strict-declares: true}}
              - {name: far, backend: mem, roles: [background], settings: {durability: simulated, strict-declares: true}}
            striping:
              - devices: [slow0, slow1, slow2, slow3, slow4]
                stripe-count: %d
                stripe-size: 1MiB
            """;

    private void mountFresh(int stripes, int replicas) throws OsdException {
        cfg = PoolConfigParser.parse(String.format(YAML, replicas, stripes), "striped");
        raw = PoolFixtures.memDevices(cfg);
        remount(PoolOsd.MountMode.RECOVER);
    }

    private void remount(PoolOsd.MountMode mode) throws OsdException {
        pool = PoolFixtures.mountOn(cfg, raw, mode);
    }

    @AfterEach
    void fsckClean() throws Exception {
        if (pool != null) {
            assertThat(pool.fsck(false, true, null).problems()).isEmpty();
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

    private PoolObject state(Fid f) throws Exception {
        return pool.object(f).orElseThrow();
    }

    private Copy striped(Fid f) throws Exception {
        return state(f).copies().stream().filter(Copy::striped).findFirst().orElseThrow();
    }

    /** The body sizes every test runs: empty, under one stripe, one stripe, odd, several rows. */
    private static final int[] SIZES = {0, 1, 1000, UNIT - 1, UNIT, UNIT + 1, 3 * UNIT + 12345, 9 * UNIT + 7};

    @ParameterizedTest(name = "{0} stripes")
    @ValueSource(ints = {2, 4})
    void aSpillStripesTheBodyOverTheTierAndReadsItBack(int stripes) throws Exception {
        mountFresh(stripes, 1);
        for (int size : SIZES) {
            byte[] body = random(size, size);
            Fid f = object(body);
            MoveResult r = pool.migrator().spill(f, pool.device(1));
            assertThat(r).as("size %d: %s", size, r.detail()).isInstanceOf(MoveResult.Done.class);
            assertThat(r.detail()).contains(stripes + " stripes on slow0, slow1");
            Copy c = striped(f);
            assertThat(state(f).resident(0)).isFalse();
            assertThat(c.state()).isEqualTo(CopyState.IN_SYNC);
            assertThat(c.stripeSize()).isEqualTo(UNIT);
            assertThat(c.stripes()).hasSize(stripes);
            Set<Integer> devices = new HashSet<>();
            for (int i = 0; i < stripes; i++) {
                Stripe s = c.stripes().get(i);
                assertThat(s.device())
                        .as("stripe %d in tier order from the target", i)
                        .isEqualTo(1 + i);
                devices.add(s.device());
                long want = Stripe.length(size, stripes, UNIT, i);
                assertThat(raw.get(s.device()).getAttr(s.key()).size())
                        .as("size %d stripe %d holds its share", size, i)
                        .isEqualTo(want);
                assertThat(DeviceIndex.contains(raw.get(0), s.device(), f, s.key()))
                        .isTrue();
            }
            assertThat(devices).hasSize(stripes);
            assertThat(read(f)).as("size %d read back", size).isEqualTo(body);
            // Ranged reads across stripe boundaries.
            Random rnd = new Random(size);
            for (int k = 0; k < 20 && size > 0; k++) {
                int off = rnd.nextInt(size);
                int len = 1 + rnd.nextInt(Math.min(size - off, 3 * UNIT));
                ByteBuffer b = ByteBuffer.allocate(len);
                int n = pool.read(f, off, b);
                assertThat(n).isEqualTo(len);
                assertThat(b.array()).isEqualTo(Arrays.copyOfRange(body, off, off + len));
            }
            // The layout: a plain RAID0 component, one lov_ost_data per stripe.
            Layout l = LayoutCodec.decode(pool.rawLayout(f));
            Component comp = l.components().get(0);
            assertThat(comp.subLayout()).isInstanceOf(StripeLayout.class);
            StripeLayout sl = (StripeLayout) comp.subLayout();
            assertThat(sl.magic()).isEqualTo(LovFormat.LOV_MAGIC_V1);
            assertThat(sl.stripeCount()).isEqualTo(stripes);
            assertThat(sl.stripeSize()).isEqualTo(UNIT);
            for (int i = 0; i < stripes; i++) {
                assertThat(sl.objects().get(i).ostIdx())
                        .isEqualTo(c.stripes().get(i).device());
                assertThat(sl.objects().get(i).fid())
                        .isEqualTo(c.stripes().get(i).key());
            }
        }
        assertThat(WorkIndex.all(raw.get(0))).as("no job left behind").isEmpty();
        Map<Integer, Map<CopyState, long[]>> totals = pool.copyTotals();
        for (int d = 1; d <= stripes; d++) {
            assertThat(totals.get(d).get(CopyState.IN_SYNC)[1])
                    .as("slow%d counts one stripe per object", d - 1)
                    .isEqualTo(SIZES.length);
        }
    }

    @ParameterizedTest(name = "{0} stripes")
    @ValueSource(ints = {2, 4})
    void aBatchSpillStripesEveryObjectAndSyncsEachDeviceOnce(int stripes) throws Exception {
        mountFresh(stripes, 1);
        List<Fid> fids = new ArrayList<>();
        List<byte[]> bodies = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            byte[] b = random(SIZES[i % SIZES.length] + i, 40 + i);
            bodies.add(b);
            fids.add(object(b));
        }
        List<Migrator.Spilled> out = pool.migrator().spillAll(fids, pool.device(3));
        for (int i = 0; i < fids.size(); i++) {
            assertThat(out.get(i).result()).isInstanceOf(MoveResult.Done.class);
            assertThat(striped(fids.get(i)).stripes().get(0).device())
                    .as("the target is stripe 0")
                    .isEqualTo(3);
            assertThat(read(fids.get(i))).isEqualTo(bodies.get(i));
        }
        assertThat(WorkIndex.all(raw.get(0))).isEmpty();
    }

    @ParameterizedTest(name = "{0} stripes")
    @ValueSource(ints = {2, 4})
    void promoteReadsEveryStripeAndAWriteCollectsThemAll(int stripes) throws Exception {
        mountFresh(stripes, 1);
        byte[] body = random(5 * UNIT + 333, 7);
        Fid f = object(body);
        pool.migrator().spill(f, pool.device(2));
        Copy c = striped(f);
        MoveResult r = pool.migrator().promote(f);
        assertThat(r).isInstanceOf(MoveResult.Done.class);
        assertThat(r.detail()).contains(stripes + " stripes");
        assertThat(state(f).resident(0)).isTrue();
        assertThat(raw.get(0).getAttr(f).size()).isEqualTo(body.length);
        assertThat(read(f)).isEqualTo(body);
        // A write makes the striped copy garbage: one GC job per stripe, each on its device.
        try (Transaction tx = pool.newTransaction()) {
            tx.declareWrite(f, 0, 1);
            tx.start();
            tx.write(f, 0, ByteBuffer.wrap(new byte[] {1}));
        }
        List<Job> gc = WorkIndex.all(raw.get(0)).stream()
                .filter(j -> j.kind() == Job.Kind.GC)
                .toList();
        assertThat(gc)
                .extracting(Job::key)
                .containsExactlyInAnyOrderElementsOf(
                        c.stripes().stream().map(Stripe::key).toList());
        assertThat(pool.migrator().collectGarbage()).isEqualTo(stripes);
        for (Stripe s : c.stripes()) {
            assertThat(raw.get(s.device()).statfs().objects())
                    .as("stripe device %d emptied", s.device())
                    .isZero();
        }
        body[0] = 1;
        assertThat(read(f)).isEqualTo(body);
    }

    @ParameterizedTest(name = "{0} stripes")
    @ValueSource(ints = {2, 4})
    void aWriteToASpilledStripedObjectRecallsItFromItsStripes(int stripes) throws Exception {
        mountFresh(stripes, 1);
        byte[] body = random(2 * UNIT + 5, 8);
        Fid f = object(body);
        pool.migrator().spill(f, pool.device(1));
        assertThat(striped(f).stripes()).hasSize(stripes);
        try (Transaction tx = pool.newTransaction()) {
            tx.declareWrite(f, UNIT, 3);
            tx.start();
            tx.write(f, UNIT, ByteBuffer.wrap(new byte[] {9, 9, 9}));
        }
        body[UNIT] = body[UNIT + 1] = body[UNIT + 2] = 9;
        assertThat(read(f)).isEqualTo(body);
        assertThat(state(f).resident(0)).isTrue();
        pool.migrator().collectGarbage();
        assertThat(WorkIndex.all(raw.get(0))).isEmpty();
    }

    @ParameterizedTest(name = "{0} stripes")
    @ValueSource(ints = {2, 4})
    void evacuatingAStripeDeviceRestripesItsCopiesElsewhere(int stripes) throws Exception {
        mountFresh(stripes, 1);
        List<Fid> fids = new ArrayList<>();
        List<byte[]> bodies = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            byte[] b = random(SIZES[(i + 2) % SIZES.length] + 3 * i, 60 + i);
            bodies.add(b);
            Fid f = object(b);
            fids.add(f);
            pool.migrator().spill(f, pool.device(1));
        }
        DeviceOps.Progress p;
        int rounds = 0;
        do {
            p = pool.deviceOps().evacuateStep(pool.device(2), 4);
            rounds++;
        } while (!p.done() && rounds < 20);
        assertThat(p.done()).as("evacuated: %s", p).isTrue();
        assertThat(pool.device(2).state()).isEqualTo(DeviceState.SPARE);
        assertThat(raw.get(2).statfs().objects()).isZero();
        for (int i = 0; i < fids.size(); i++) {
            Copy c = state(fids.get(i)).inSync().get(0);
            assertThat(c.onDevice(2)).isFalse();
            assertThat(c.striped())
                    .as("still striped, over the tier's other devices")
                    .isTrue();
            assertThat(c.stripes()).hasSize(stripes);
            assertThat(read(fids.get(i))).isEqualTo(bodies.get(i));
        }
    }

    @ParameterizedTest(name = "{0} stripes")
    @ValueSource(ints = {2, 4})
    void migrateMovesAStripedCopyWholeAndRefusesADeviceItAlreadyUses(int stripes) throws Exception {
        mountFresh(stripes, 1);
        byte[] body = random(3 * UNIT + 1, 9);
        Fid f = object(body);
        pool.migrator().spill(f, pool.device(1));
        MoveResult no = pool.migrator().migrate(f, pool.device(1), pool.device(2));
        assertThat(no).isInstanceOf(MoveResult.Refused.class);
        assertThat(no.detail()).contains("slow1").contains("striped");
        Copy old = striped(f);
        MoveResult r = pool.migrator().migrate(f, pool.device(2), pool.device(6));
        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Done.class);
        assertThat(state(f).copies()).hasSize(1);
        Copy now = state(f).copies().get(0);
        assertThat(now.striped()).as("far is not in the tier: a whole copy").isFalse();
        assertThat(now.device()).isEqualTo(6);
        pool.migrator().collectGarbage();
        for (Stripe s : old.stripes()) {
            assertThat(raw.get(s.device()).statfs().objects()).isZero();
        }
        assertThat(read(f)).isEqualTo(body);
    }

    @ParameterizedTest(name = "{0} stripes")
    @ValueSource(ints = {2, 4})
    void aCrashMidCopyRollsBackEveryStripeAtMount(int stripes) throws Exception {
        mountFresh(stripes, 1);
        byte[] body = random(4 * UNIT + 99, 10);
        Fid f = object(body);
        Job lead = pool.migrator().begin(f, pool.device(1)).orElseThrow();
        List<Job> copies = WorkIndex.all(raw.get(0));
        assertThat(copies).as("a COPY job per stripe").hasSize(stripes);
        assertThat(copies).allMatch(j -> j.kind() == Job.Kind.COPY && j.copy().equals(lead.key()));
        assertThat(pool.fsck(false, false, null).problems())
                .as("online, mid-copy")
                .isEmpty();
        pool.sync();
        for (MemOsd m : raw) {
            m.sync();
        }
        remount(PoolOsd.MountMode.RECOVER);
        pool.migrator().collectGarbage();
        assertThat(WorkIndex.all(raw.get(0))).isEmpty();
        assertThat(state(f).copies()).hasSize(1);
        assertThat(read(f)).isEqualTo(body);
        // The object deleted while its striped copy is under way: the copy's jobs find each other.
        Fid g = object(random(2 * UNIT + 1, 11));
        Job gl = pool.migrator().begin(g, pool.device(1)).orElseThrow();
        try (Transaction tx = pool.newTransaction()) {
            tx.declareDestroy(g);
            tx.start();
            tx.destroy(g);
        }
        assertThat(pool.migrator().complete(gl, true)).isInstanceOf(MoveResult.Changed.class);
        pool.migrator().collectGarbage();
        assertThat(WorkIndex.all(raw.get(0))).as("every stripe's job collected").isEmpty();
    }

    @ParameterizedTest(name = "{0} stripes")
    @ValueSource(ints = {2, 4})
    void aLostStripeLosesItsCopyAndAReplicaServesAndHealsIt(int stripes) throws Exception {
        mountFresh(stripes, 2);
        byte[] body = random(6 * UNIT + 77, 12);
        Fid f = object(body);
        assertThat(pool.migrator().copy(f, pool.device(6), false)).isInstanceOf(MoveResult.Done.class);
        assertThat(pool.migrator().spill(f, pool.device(1))).isInstanceOf(MoveResult.Done.class);
        Copy c = striped(f);
        assertThat(state(f).resident(0)).isFalse();
        // Stripe 1's object vanishes from its device (as with a lost disk).
        Stripe gone = c.stripes().get(1);
        try (Transaction tx = raw.get(gone.device()).newTransaction()) {
            tx.declareDestroy(gone.key());
            tx.start();
            tx.destroy(gone.key());
        }
        Fsck.Report rep = pool.fsck(false, true, null);
        assertThat(rep.problems()).as("fsck names the stripe and its device").anySatisfy(p -> {
            assertThat(p.device()).isEqualTo("slow1");
            assertThat(p.detail()).contains(gone.key().toString());
        });
        // Reads go on from the replica; the read that failed on the stripe marked the whole
        // striped copy bad (stale, with a RESYNC job), then it is remade.
        assertThat(read(f)).isEqualTo(body);
        assertThat(WorkIndex.all(raw.get(0)))
                .anyMatch(j -> j.kind() == Job.Kind.RESYNC && j.key().equals(c.key()));
        Copy bad = state(f).byKey(c.key()).orElseThrow();
        assertThat(bad.state()).isEqualTo(CopyState.STALE);
        MoveResult r = pool.migrator().resync(f, bad.device());
        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Done.class);
        pool.migrator().collectGarbage();
        Copy healed = striped(f);
        assertThat(healed.state()).isEqualTo(CopyState.IN_SYNC);
        assertThat(healed.key()).isNotEqualTo(c.key());
        assertThat(read(f)).isEqualTo(body);
        assertThat(pool.migrator().verify(f)).isInstanceOf(MoveResult.Done.class);
    }

    @ParameterizedTest(name = "{0} stripes")
    @ValueSource(ints = {2, 4})
    void aFailedStripeDeviceLosesTheWholeCopyAndReplicasAreRestored(int stripes) throws Exception {
        mountFresh(stripes, 2);
        byte[] body = random(5 * UNIT + 3, 13);
        Fid f = object(body);
        assertThat(pool.migrator().copy(f, pool.device(6), false)).isInstanceOf(MoveResult.Done.class);
        assertThat(pool.migrator().spill(f, pool.device(1))).isInstanceOf(MoveResult.Done.class);
        Copy c = striped(f);
        // The last stripe's device fails: the one pass over its index marks the whole copy lost.
        int dead = c.stripes().get(stripes - 1).device();
        pool.deviceOps().setState(pool.device(dead), DeviceState.FAILED);
        Copy lost = state(f).byKey(c.key()).orElseThrow();
        assertThat(lost.state()).isEqualTo(CopyState.LOST);
        Map<Integer, Map<CopyState, long[]>> totals = pool.copyTotals();
        for (Stripe s : c.stripes()) {
            assertThat(totals.get(s.device()).get(CopyState.LOST)[1])
                    .as("stripe on device %d counted lost", s.device())
                    .isEqualTo(1);
        }
        assertThat(read(f)).as("served by the replica on far").isEqualTo(body);
        DeviceOps.Progress p = pool.deviceOps().replaceLost(pool.device(dead), 100);
        assertThat(p.failed()).as("%s", p).isZero();
        pool.migrator().collectGarbage();
        PoolObject now = state(f);
        assertThat(now.inSync().stream().filter(x -> !x.onDevice(dead)).count())
                .as("replicas restored without the failed device")
                .isGreaterThanOrEqualTo(2);
        assertThat(read(f)).isEqualTo(body);
        assertThat(pool.deviceOps().lostCopies().lostOn(pool.device(dead))).isEmpty();
    }

    /**
     * Under {@code replicas: 2}, a second whole copy placed on the tier stripes only over devices
     * the first copy does not use, so one device's loss takes one copy, never both. The tier has
     * five devices and stripes over three: the first copy takes slow0..slow2; the second, placed
     * on slow3, would wrap around to slow0 if it took the tier's next devices. It is striped over
     * slow3 and slow4 instead, and a failed slow0 leaves it in sync to serve and heal from.
     */
    @org.junit.jupiter.api.Test
    void aSecondCopyOnTheTierNeverSharesADeviceWithTheFirst() throws Exception {
        mountFresh(3, 2);
        byte[] body = random(7 * UNIT + 5, 21);
        Fid f = object(body);
        assertThat(pool.migrator().copy(f, pool.device(1), false)).isInstanceOf(MoveResult.Done.class);
        Copy first = striped(f);
        assertThat(first.stripes()).extracting(Stripe::device).containsExactly(1, 2, 3);
        MoveResult r = pool.migrator().spill(f, pool.device(4));
        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Done.class);
        Copy second = state(f).inSync().stream()
                .filter(c -> c.device() != 0 && c.mirrorId() != first.mirrorId())
                .findFirst()
                .orElseThrow();
        Set<Integer> a = new HashSet<>();
        first.parts().forEach(s -> a.add(s.device()));
        Set<Integer> b = new HashSet<>();
        second.parts().forEach(s -> b.add(s.device()));
        assertThat(b).as("the second copy's devices").containsExactlyInAnyOrder(4, 5);
        assertThat(a).doesNotContainAnyElementsOf(b);
        assertThat(state(f).resident(0)).isFalse();
        pool.deviceOps().setState(pool.device(1), DeviceState.FAILED);
        assertThat(state(f).byKey(second.key()).orElseThrow().state()).isEqualTo(CopyState.IN_SYNC);
        assertThat(read(f)).as("served by the second copy").isEqualTo(body);
        DeviceOps.Progress p = pool.deviceOps().replaceLost(pool.device(1), 100);
        assertThat(p.failed()).as("%s", p).isZero();
        pool.migrator().collectGarbage();
        assertThat(read(f)).isEqualTo(body);
    }
}
