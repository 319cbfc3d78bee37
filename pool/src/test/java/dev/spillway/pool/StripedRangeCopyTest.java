package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.layout.Layout;
import dev.spillway.pool.layout.LayoutCodec;
import dev.spillway.pool.layout.LayoutPrinter;
import dev.spillway.pool.layout.LovFormat;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.DeviceIndex;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.Span;
import dev.spillway.pool.meta.Stripe;
import dev.spillway.pool.meta.WorkIndex;
import dev.spillway.pool.ops.DeviceOps;
import dev.spillway.pool.ops.MoveResult;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Striped copies of ranges (issue 20): a range spilled onto a device of a striping tier is RAID0
 * over {@code stripe-count} of its devices, by the rule whole copies follow applied to the range's
 * length; its stripes hold the range's bytes from the range's start, each with its own checksums,
 * written and read side by side. The layout, reads, recalls, a lost stripe device, evacuation and
 * a remount are checked; after each test a deep fsck must find nothing.
 */
class StripedRangeCopyTest {
    private static final int K64 = 64 * 1024;
    private List<MemOsd> raw;
    private PoolConfig cfg;
    private PoolOsd pool;
    private int next = 1;

    // slow0 and slow1 (indexes 1, 2) stripe 2 wide in 64 KiB units; far (3) is a plain spill device.
    private static final String YAML = """
            name: stripedranges
            replicas: 1
            devices:
              - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {durability: simulated, strict-declares: true}}
              - {name: slow0, backend: mem, roles: [background], settings: {durability: simulated, strict-declares: true}}
              - {name: slow1, backend: mem, roles: [background], settings: {durability: simulated, strict-declares: true}}
              - {name: far, backend: mem, roles: [background], settings: {durability: simulated, strict-declares: true}}
            striping:
              - devices: [slow0, slow1]
                stripe-count: 2
                stripe-size: 64KiB
                min-object-size: 128KiB
            """;

    @BeforeEach
    void mountFresh() throws OsdException {
        cfg = PoolConfigParser.parse(YAML, "stripedranges");
        raw = PoolFixtures.memDevices(cfg);
        remount();
    }

    private void remount() throws OsdException {
        pool = PoolFixtures.mountOn(cfg, raw, PoolOsd.MountMode.RECOVER);
    }

    @AfterEach
    void fsckClean() throws Exception {
        assertThat(pool.fsck(false, true, null).problems()).isEmpty();
    }

    private Fid object(byte[] body) throws Exception {
        return PoolFixtures.create(pool, new Fid(0x200000400L, next++, 0), body);
    }

    private byte[] read(Fid f) throws Exception {
        return PoolFixtures.read(pool, f);
    }

    private PoolObject state(Fid f) throws Exception {
        return pool.object(f).orElseThrow();
    }

    private Copy range(Fid f) throws Exception {
        return state(f).ranges(0).get(0);
    }

    /** The bytes of stripe object {@code key} on device {@code d}. */
    private byte[] stripeBytes(int d, Fid key) throws Exception {
        return PoolFixtures.read(raw.get(d), key);
    }

    @Test
    void aRangeSpillOnAStripingTierMakesAStripedCopyReadBackByteExact() throws Exception {
        byte[] body = PoolFixtures.random(16 * K64 + 1234, 1);
        Fid f = object(body);
        MoveResult r = pool.migrator().spillRange(f, pool.device(1), 2 * K64, 11 * K64);
        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Done.class);
        assertThat(r.detail()).contains("2 stripes on slow0, slow1");
        Copy c = range(f);
        assertThat(c.state()).isEqualTo(CopyState.IN_SYNC);
        assertThat(c.spans()).containsExactly(new Span(2 * K64, 11 * K64));
        assertThat(c.striped()).isTrue();
        assertThat(c.stripeSize()).isEqualTo(K64);
        assertThat(c.stripes()).extracting(Stripe::device).containsExactly(1, 2);
        // RAID0 from the range's start: its 9 units alternate, unit u on stripe u % 2 at u / 2.
        byte[] s0 = stripeBytes(1, c.stripes().get(0).key());
        byte[] s1 = stripeBytes(2, c.stripes().get(1).key());
        assertThat(s0).hasSize(5 * K64);
        assertThat(s1).hasSize(4 * K64);
        for (int u = 0; u < 9; u++) {
            byte[] stripe = u % 2 == 0 ? s0 : s1;
            int at = (u / 2) * K64;
            assertThat(Arrays.copyOfRange(stripe, at, at + K64))
                    .as("unit %d of the range", u)
                    .isEqualTo(Arrays.copyOfRange(body, (2 + u) * K64, (3 + u) * K64));
        }
        for (Stripe s : c.stripes()) {
            assertThat(s.checksums().crcs())
                    .as("each stripe has its own checksums")
                    .isNotEmpty();
            assertThat(DeviceIndex.contains(raw.get(0), s.device(), f, s.key())).isTrue();
        }
        assertThat(WorkIndex.all(raw.get(0))).isEmpty();
        assertThat(read(f)).isEqualTo(body);
        // A read across the range's edges and a stripe boundary.
        ByteBuffer b = ByteBuffer.allocate(3 * K64);
        assertThat(pool.read(f, 2 * K64 - 100, b)).isEqualTo(3 * K64);
        assertThat(b.array()).isEqualTo(Arrays.copyOfRange(body, 2 * K64 - 100, 5 * K64 - 100));
        remount();
        assertThat(range(f)).isEqualTo(c);
        assertThat(read(f)).as("after a remount").isEqualTo(body);
    }

    @Test
    void aRangeShorterThanTheTiersMinimumIsOneObject() throws Exception {
        byte[] body = PoolFixtures.random(8 * K64, 2);
        Fid f = object(body);
        pool.migrator().spillRange(f, pool.device(1), 2 * K64, 3 * K64);
        assertThat(range(f).striped()).as("64 KiB < min-object-size 128 KiB").isFalse();
        assertThat(read(f)).isEqualTo(body);
    }

    @Test
    void theLayoutHasTheRangesComponentWithOneOstDataPerStripe() throws Exception {
        byte[] body = PoolFixtures.random(12 * K64, 3);
        Fid f = object(body);
        pool.migrator().spillRange(f, pool.device(1), 2 * K64, 6 * K64);
        Copy c = range(f);
        byte[] bytes = pool.rawLayout(f);
        // Read back with nothing but Lustre's struct sizes and offsets (lov_comp_md_v1 32,
        // lov_comp_md_entry_v1 48, lov_user_md_v1 32, lov_user_ost_data_v1 24), as an MDT would.
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(b.getInt(0)).isEqualTo(LovFormat.LOV_MAGIC_COMP_V1);
        int entries = Short.toUnsignedInt(b.getShort(14));
        int found = 0;
        for (int i = 0; i < entries; i++) {
            int e = LovFormat.LOV_COMP_MD_V1_SIZE + i * LovFormat.LOV_COMP_MD_ENTRY_V1_SIZE;
            if (LovFormat.mirrorIdOf(b.getInt(e)) != c.mirrorId()) {
                continue;
            }
            int blob = b.getInt(e + 24);
            assertThat(b.getInt(blob)).isEqualTo(LovFormat.LOV_MAGIC_V1);
            assertThat(b.getInt(blob + 24)).as("lmm_stripe_size").isEqualTo(K64);
            int count = Short.toUnsignedInt(b.getShort(blob + 28));
            assertThat(count).as("lmm_stripe_count").isEqualTo(2);
            assertThat(b.getInt(e + 28)).isEqualTo(LovFormat.LOV_MDS_MD_V1_SIZE + 2 * LovFormat.LOV_OST_DATA_V1_SIZE);
            for (int k = 0; k < count; k++) {
                int o = blob + LovFormat.LOV_MDS_MD_V1_SIZE + k * LovFormat.LOV_OST_DATA_V1_SIZE;
                Fid key = c.stripes().get(k).key();
                assertThat(b.getLong(o)).isEqualTo(key.seq());
                assertThat(b.getInt(o + 8)).isEqualTo((int) key.oid());
                assertThat(b.getInt(o + 20))
                        .as("l_ost_idx")
                        .isEqualTo(c.stripes().get(k).device());
            }
            boolean stale = (b.getInt(e + 4) & LovFormat.LCME_FL_STALE) != 0;
            if (!stale) {
                assertThat(b.getLong(e + 8)).as("e_start").isEqualTo(2 * K64);
                assertThat(b.getLong(e + 16)).as("e_end").isEqualTo(6 * K64);
            }
            found++;
        }
        assertThat(found)
                .as("the range's mirror: stale before, the range, stale after")
                .isEqualTo(3);
        Layout l = LayoutCodec.decode(bytes);
        String v = LayoutPrinter.getstripe(l, f.toString(), ZoneOffset.UTC);
        assertThat(v).contains("lcme_extent.e_start: 131072", "lcme_extent.e_end:   393216", "lmm_stripe_count:  2");
    }

    @Test
    void aPromotionAndAWriteBringTheStripedRangeHomeAndCollectEveryStripe() throws Exception {
        byte[] body = PoolFixtures.random(16 * K64, 4);
        Fid f = object(body);
        pool.migrator().spillRange(f, pool.device(1), 2 * K64, 6 * K64);
        pool.migrator().spillRange(f, pool.device(1), 8 * K64, Span.EOF);
        Copy first = state(f).ranges(0).get(0);
        Copy last = state(f).ranges(0).get(1);
        assertThat(first.striped()).isTrue();
        assertThat(last.striped()).isTrue();
        MoveResult r = pool.migrator().promoteRange(f, 2 * K64, 6 * K64);
        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Done.class);
        assertThat(state(f).ranges(0)).containsExactly(last);
        assertThat(WorkIndex.all(raw.get(0)))
                .extracting(Job::kind, Job::key)
                .containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple(
                                Job.Kind.GC, first.stripes().get(0).key()),
                        org.assertj.core.groups.Tuple.tuple(
                                Job.Kind.GC, first.stripes().get(1).key()));
        assertThat(read(f)).isEqualTo(body);
        // A write to the striped range at the end recalls it.
        byte[] patch = PoolFixtures.random(1000, 5);
        try (Transaction tx = pool.newTransaction()) {
            tx.declareWrite(f, 9 * K64 + 7, patch.length);
            tx.start();
            tx.write(f, 9 * K64 + 7, ByteBuffer.wrap(patch));
        }
        System.arraycopy(patch, 0, body, 9 * K64 + 7, patch.length);
        assertThat(state(f).resident(0)).isTrue();
        assertThat(read(f)).isEqualTo(body);
        pool.migrator().collectGarbage();
        for (Copy c : List.of(first, last)) {
            for (Stripe s : c.stripes()) {
                assertThat(raw.get(s.device()).exists(s.key())).isFalse();
            }
        }
    }

    @Test
    void aFailedStripeDeviceLosesTheCopyOfTheRangeAndTheWholeCopyServes() throws Exception {
        byte[] body = PoolFixtures.random(12 * K64 + 5, 6);
        Fid f = object(body);
        // The range first: under replicas: 1 a whole copy holding it would only release it.
        pool.migrator().spillRange(f, pool.device(1), 4 * K64, 10 * K64);
        assertThat(pool.migrator().copy(f, pool.device(3), false)).isInstanceOf(MoveResult.Done.class);
        Copy c = range(f);
        assertThat(c.stripes()).extracting(Stripe::device).containsExactly(1, 2);
        pool.deviceOps().setState(pool.device(2), DeviceState.FAILED);
        assertThat(state(f).byKey(c.key()).orElseThrow().state()).isEqualTo(CopyState.LOST);
        assertThat(read(f)).as("the range served by the whole copy on far").isEqualTo(body);
        DeviceOps.Progress p = pool.deviceOps().replaceLost(pool.device(2), 100);
        assertThat(p.failed()).as("%s", p).isZero();
        pool.migrator().collectGarbage();
        assertThat(state(f).copies().stream().anyMatch(x -> x.onDevice(2)))
                .as("the lost copy of the range left the layout")
                .isFalse();
        assertThat(read(f)).isEqualTo(body);
    }

    @Test
    void evacuatingAStripeDeviceMovesTheRangeOff() throws Exception {
        byte[] body = PoolFixtures.random(10 * K64 + 99, 7);
        Fid f = object(body);
        pool.migrator().spillRange(f, pool.device(1), 0, 4 * K64);
        assertThat(range(f).striped()).isTrue();
        DeviceOps.Progress p;
        int rounds = 0;
        do {
            p = pool.deviceOps().evacuateStep(pool.device(2), 4);
            rounds++;
        } while (!p.done() && rounds < 20);
        assertThat(p.done()).as("evacuated: %s", p).isTrue();
        pool.migrator().collectGarbage();
        assertThat(raw.get(2).statfs().objects()).isZero();
        assertThat(state(f).copies().stream().anyMatch(x -> x.onDevice(2))).isFalse();
        assertThat(read(f)).isEqualTo(body);
    }

    @Test
    void aCorruptStripeIsCaughtOnReadAndTheCopyMarkedBad() throws Exception {
        byte[] body = PoolFixtures.random(8 * K64, 8);
        Fid f = object(body);
        pool.migrator().spillRange(f, pool.device(1), 2 * K64, 6 * K64);
        assertThat(pool.migrator().copy(f, pool.device(3), false)).isInstanceOf(MoveResult.Done.class);
        Copy c = range(f);
        Stripe s1 = c.stripes().get(1);
        try (Transaction tx = raw.get(2).newTransaction()) {
            tx.declareWrite(s1.key(), 10, 1);
            tx.start();
            tx.write(s1.key(), 10, ByteBuffer.wrap(new byte[] {(byte) ~stripeBytes(2, s1.key())[10]}));
        }
        assertThat(read(f)).as("served by the whole copy").isEqualTo(body);
        assertThat(state(f).byKey(c.key()).orElseThrow().state()).isEqualTo(CopyState.STALE);
        // The resync rebuilds the range (onto its own device) from the other holders.
        MoveResult r = pool.migrator().resync(f, c.device());
        assertThat(r.settled()).as(r.detail()).isTrue();
        pool.migrator().collectGarbage();
        assertThat(read(f)).isEqualTo(body);
    }
}
