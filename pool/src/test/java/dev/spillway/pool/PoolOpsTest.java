package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.osd.Capabilities;
import dev.spillway.osd.Capability;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.StatFs;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.XattrFlag;
import dev.spillway.osd.filter.FilterOsd;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.layout.Layout;
import dev.spillway.pool.layout.LayoutCodec;
import dev.spillway.pool.layout.LayoutPrinter;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.PoolFids;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.WorkIndex;
import dev.spillway.pool.ops.Migrator;
import dev.spillway.pool.ops.MoveResult;
import java.nio.ByteBuffer;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The pool's own operations and guarantees, beyond the OSD contract. */
class PoolOpsTest {
    private List<MemOsd> raw;
    private PoolConfig cfg;
    private PoolOsd pool;
    private int next = 1;

    private static final String YAML = """
            name: ops
            replicas: %d
            devices:
              - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {durability: simulated, strict-declares: true}}
              - {name: slow0, backend: mem, roles: [background], settings: {durability: simulated, strict-declares: true}}
              - {name: slow1, backend: mem, roles: [background], settings: {durability: simulated, strict-declares: true}}
            """;

    private void mountFresh(int replicas) throws OsdException {
        cfg = PoolConfigParser.parse(String.format(YAML, replicas), "ops");
        raw = PoolFixtures.memDevices(cfg);
        remount(PoolOsd.MountMode.RECOVER);
    }

    private void remount(PoolOsd.MountMode mode) throws OsdException {
        pool = PoolFixtures.mountOn(cfg, raw, mode);
    }

    @BeforeEach
    void setUp() throws Exception {
        mountFresh(1);
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

    private static byte[] random(int n, long seed) {
        return PoolFixtures.random(n, seed);
    }

    private PoolObject state(Fid f) throws Exception {
        return pool.object(f).orElseThrow();
    }

    @Test
    void spillLeavesAStubWithItsAttributesAndReadsComeFromTheSpillDevice() throws Exception {
        byte[] body = random(3 << 20, 1);
        Fid f = object(body);
        var before = pool.getAttr(f);
        MoveResult r = pool.migrator().spill(f, pool.device(1));
        assertThat(r).isInstanceOf(MoveResult.Done.class);
        assertThat(raw.get(0).getAttr(f).size())
                .as("zero-length stub on the metadata device")
                .isZero();
        var after = pool.getAttr(f);
        assertThat(after.size()).isEqualTo(before.size());
        assertThat(after.mtime()).isEqualTo(before.mtime());
        assertThat(after.ctime()).isEqualTo(before.ctime());
        assertThat(after.dataVersion()).isEqualTo(before.dataVersion());
        assertThat(after.mode()).isEqualTo(0644);
        assertThat(read(f)).isEqualTo(body);
        assertThat(state(f).resident(0)).isFalse();
    }

    @Test
    void aBatchSpillBeginsEveryCopyInOneDurableTransactionAndSpillsThemAll() throws Exception {
        // Twenty objects: with 16 counter stripes, some share one, and fsck (after each test)
        // checks that their PENDING and IN_SYNC counts added up in the shared read-modify-write.
        List<Fid> fids = new ArrayList<>();
        List<byte[]> bodies = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            byte[] b = random(1000 + i * 777, 100 + i);
            bodies.add(b);
            fids.add(object(b));
        }
        List<Migrator.Spilled> out = pool.migrator().spillAll(fids, pool.device(1));
        assertThat(out).hasSize(20);
        for (int i = 0; i < 20; i++) {
            Migrator.Spilled sp = out.get(i);
            assertThat(sp.fid()).isEqualTo(fids.get(i));
            assertThat(sp.result()).isInstanceOf(MoveResult.Done.class);
            assertThat(state(fids.get(i)).resident(0)).isFalse();
            assertThat(read(fids.get(i))).isEqualTo(bodies.get(i));
        }
        assertThat(WorkIndex.all(pool.metadata().osd()))
                .as("no job left behind")
                .isEmpty();
    }

    @Test
    void aBatchSpillNamesWhatItLeftAloneAndWhy() throws Exception {
        Fid spilled = object(random(5000, 1));
        Fid busy = object(random(5000, 2));
        Fid plain = object(random(5000, 3));
        Fid absent = new Fid(0x200000400L, 999, 0);
        pool.migrator().spill(spilled, pool.device(1));
        Job pending = pool.migrator().begin(busy, pool.device(1)).orElseThrow();
        List<Migrator.Spilled> out = pool.migrator().spillAll(List.of(spilled, busy, plain, absent), pool.device(1));
        assertThat(out.get(0).result()).as("already spilled there").isInstanceOf(MoveResult.NothingToDo.class);
        assertThat(((MoveResult.Failed) out.get(1).result()).error().errno())
                .as("a copy to the target already under way")
                .isEqualTo(Errno.EBUSY);
        assertThat(((MoveResult.Failed) out.get(1).result()).error().getMessage())
                .contains(busy.toString())
                .contains("slow0");
        assertThat(out.get(2).result()).isInstanceOf(MoveResult.Done.class);
        assertThat(((MoveResult.Failed) out.get(3).result()).error().errno()).isEqualTo(Errno.ENOENT);
        assertThat(((MoveResult.Failed) out.get(3).result()).error().getMessage())
                .contains(absent.toString());
        // The copy begun outside the batch is untouched by it and can still be completed.
        assertThat(pool.migrator().complete(pending, true)).isInstanceOf(MoveResult.Done.class);
        Migrator.Spilled toFast =
                pool.migrator().spillAll(List.of(plain), pool.device(0)).get(0);
        assertThat(toFast.result()).isInstanceOf(MoveResult.Refused.class);
        assertThat(toFast.result().detail()).contains("fast is not a background device");
    }

    @Test
    void theLayoutIsALustreCompositeLayoutWithAnHsmMirror() throws Exception {
        Fid f = object(random(5000, 2));
        pool.migrator().copy(f, pool.device(1), false);
        byte[] xattr = pool.getXattr(f, "trusted.lov");
        Layout l = LayoutCodec.decode(xattr);
        assertThat(l.mirrorCount()).isEqualTo(2);
        String yaml = LayoutPrinter.getstripe(l);
        assertThat(yaml)
                .contains("lcm_mirror_count:  2")
                .contains("lhm_archive_id:")
                .contains("lmm_stripe_count:  1");
        assertThat(pool.listXattrs(f)).doesNotContain("trusted.lov");
        assertThatThrownBy(() -> {
                    try (Transaction tx = pool.newTransaction()) {
                        tx.declareSetXattr(f, "trusted.lov", 4);
                        tx.start();
                        tx.setXattr(f, "trusted.lov", new byte[4], XattrFlag.UPSERT);
                    }
                })
                .isInstanceOf(OsdException.class)
                .hasMessageContaining("EPERM");
    }

    @Test
    void aCorruptSpillCopyIsCaughtMarkedStaleAndHealedFromAGoodOne() throws Exception {
        mountFresh(2);
        byte[] body = random(100_000, 3);
        Fid f = object(body);
        pool.migrator().copy(f, pool.device(1), false);
        assertThat(pool.migrator().spill(f, pool.device(2))).isInstanceOf(MoveResult.Done.class);
        // Corrupt the preferred copy behind the pool's back.
        Copy pref =
                state(f).copies().stream().filter(Copy::preferred).findFirst().orElseThrow();
        MemOsd holder = raw.get(pref.device());
        try (Transaction tx = holder.newTransaction()) {
            tx.declareWrite(pref.key(), 10, 3);
            tx.start();
            tx.write(pref.key(), 10, ByteBuffer.wrap(new byte[] {1, 2, 3}));
        }
        assertThat(read(f)).as("served from the other copy").isEqualTo(body);
        assertThat(state(f).byKey(pref.key()).orElseThrow().state()).isEqualTo(CopyState.STALE);
        assertThat(WorkIndex.all(raw.get(0))).anyMatch(j -> j.kind() == Job.Kind.RESYNC);
        assertThat(pool.migrator().resync(f, pref.device())).isInstanceOf(MoveResult.Done.class);
        pool.migrator().collectGarbage();
        assertThat(state(f).inSync()).hasSize(2);
    }

    @Test
    void withNoGoodCopyLeftAReadIsEioNamingTheObjectAndDevices() throws Exception {
        Fid f = object(random(10_000, 4));
        pool.migrator().spill(f, pool.device(1));
        Copy c = state(f).copies().get(0);
        try (Transaction tx = raw.get(1).newTransaction()) {
            tx.declareWrite(c.key(), 0, 1);
            tx.start();
            tx.write(c.key(), 0, ByteBuffer.wrap(new byte[] {42}));
        }
        assertThatThrownBy(() -> read(f))
                .isInstanceOf(OsdException.class)
                .hasMessageContaining(f.toString())
                .hasMessageContaining("EIO")
                .hasMessageContaining("slow0");
        // Not lost from view: fsck reports it. The last in-sync copy is never demoted (nothing
        // could resync it, and a read error may be its device's passing failure).
        assertThat(state(f).copies().get(0).state()).isEqualTo(CopyState.IN_SYNC);
        assertThat(pool.fsck(false, true, null).problems())
                .anyMatch(p -> p.kind().equals("checksum"));
        // Restored (as an operator would restore the device), the copy serves again.
        try (Transaction tx = raw.get(1).newTransaction()) {
            tx.declareWrite(c.key(), 0, 1);
            tx.start();
            tx.write(c.key(), 0, ByteBuffer.wrap(new byte[] {random(10_000, 4)[0]}));
        }
        assertThat(read(f)).isEqualTo(random(10_000, 4));
        assertThat(pool.fsck(false, true, null).problems()).isEmpty();
    }

    @Test
    void aWriteToASpilledObjectRecallsItAndCollectsTheOldCopy() throws Exception {
        byte[] body = random(200_000, 5);
        Fid f = object(body);
        pool.migrator().spill(f, pool.device(1));
        long v = pool.getAttr(f).dataVersion();
        try (Transaction tx = pool.newTransaction()) {
            tx.declareWrite(f, 1000, 4);
            tx.start();
            tx.write(f, 1000, ByteBuffer.wrap(new byte[] {9, 9, 9, 9}));
        }
        System.arraycopy(new byte[] {9, 9, 9, 9}, 0, body, 1000, 4);
        assertThat(read(f)).isEqualTo(body);
        assertThat(pool.getAttr(f).dataVersion()).isGreaterThan(v);
        PoolObject p = state(f);
        assertThat(p.resident(0)).isTrue();
        assertThat(p.copies()).hasSize(1);
        assertThat(pool.migrator().collectGarbage()).isEqualTo(1);
        assertThat(raw.get(1).statfs().objects()).isZero();
    }

    @Test
    void promoteBringsTheBodyBackAndKeepsTheSpillCopy() throws Exception {
        byte[] body = random(50_000, 6);
        Fid f = object(body);
        pool.migrator().spill(f, pool.device(1));
        assertThat(pool.migrator().promote(f)).isInstanceOf(MoveResult.Done.class);
        PoolObject p = state(f);
        assertThat(p.resident(0)).isTrue();
        assertThat(p.inSync()).hasSize(2);
        assertThat(raw.get(0).getAttr(f).size()).isEqualTo(50_000);
        // A later spill only releases: the copy is already there.
        assertThat(pool.migrator().spill(f, pool.device(1)).detail()).contains("released");
        assertThat(read(f)).isEqualTo(body);
    }

    @Test
    void migrateMovesACopyBetweenSpillDevicesAndDropRefusesTheLastCopy() throws Exception {
        byte[] body = random(70_000, 7);
        Fid f = object(body);
        pool.migrator().spill(f, pool.device(1));
        assertThat(pool.migrator().migrate(f, pool.device(1), pool.device(2))).isInstanceOf(MoveResult.Done.class);
        pool.migrator().collectGarbage();
        PoolObject p = state(f);
        assertThat(p.copies()).extracting(Copy::device).containsExactly(2);
        assertThat(raw.get(1).statfs().objects()).isZero();
        assertThat(pool.migrator().dropMirror(f, p.copies().get(0).mirrorId())).isInstanceOf(MoveResult.Refused.class);
        assertThat(read(f)).isEqualTo(body);
    }

    @Test
    void releaseNeedsEnoughDurableCopies() throws Exception {
        mountFresh(2);
        Fid f = object(random(1000, 8));
        pool.migrator().copy(f, pool.device(1), false);
        assertThat(pool.migrator().release(f)).isInstanceOf(MoveResult.Refused.class);
        pool.migrator().copy(f, pool.device(2), false);
        assertThat(pool.migrator().release(f)).isInstanceOf(MoveResult.Done.class);
    }

    @Test
    void aWriteWithReplicasStalesTheOtherCopiesInTheSameTransaction() throws Exception {
        mountFresh(2);
        Fid f = object(random(1000, 9));
        pool.migrator().copy(f, pool.device(1), false);
        try (Transaction tx = pool.newTransaction()) {
            tx.declareWrite(f, 0, 1);
            tx.start();
            tx.write(f, 0, ByteBuffer.wrap(new byte[] {1}));
        }
        PoolObject p = state(f);
        assertThat(p.on(1).orElseThrow().state()).isEqualTo(CopyState.STALE);
        Layout l = pool.layout(f);
        assertThat(l.flrState().name()).isEqualTo("WRITE_PENDING");
        assertThat(pool.migrator().resync(f, 1)).isInstanceOf(MoveResult.Done.class);
        pool.migrator().collectGarbage();
        assertThat(pool.layout(f).flrState().name()).isEqualTo("RDONLY");
    }

    @Test
    void destroyingASpilledObjectCollectsItsCopies() throws Exception {
        Fid f = object(random(9000, 10));
        pool.migrator().spill(f, pool.device(1));
        try (Transaction tx = pool.newTransaction()) {
            tx.declareDestroy(f);
            tx.start();
            tx.destroy(f);
        }
        assertThat(pool.migrator().collectGarbage()).isEqualTo(1);
        assertThat(raw.get(1).statfs().objects()).isZero();
    }

    /**
     * A delete while the object's spill is under way leaves its pending copy to the COPY job (which
     * collects it when it finds the object gone): the copy's device-index entry and PENDING count
     * are the job's, not a leak. fsck — online, or offline on what a SIGKILL left — must say clean.
     * Found by the cli's KillLoopTest (seed 0x7c960293bba1b1d2, round 7: "device index names copy
     * … that no layout has", "PENDING: counted … the layouts say …").
     */
    @Test
    void aSpillUnderWayOfAnObjectDeletedMeanwhileOwnsItsCopyAndFsckIsClean() throws Exception {
        Fid kept = object(random(5000, 15));
        pool.migrator().begin(kept, pool.device(1)).orElseThrow();
        Fid f = object(random(9000, 14));
        Job pending = pool.migrator().begin(f, pool.device(1)).orElseThrow();
        try (Transaction tx = pool.newTransaction()) {
            tx.declareDestroy(f);
            tx.start();
            tx.destroy(f);
        }
        assertThat(pool.fsck(false, true, null).problems()).as("online").isEmpty();
        // What a kill leaves, checked offline without recovery (a read-only mount).
        pool.sync();
        for (MemOsd m : raw) {
            m.sync();
        }
        remount(PoolOsd.MountMode.CHECK);
        assertThat(pool.fsck(false, true, null).problems())
                .as("offline, before recovery")
                .isEmpty();
        remount(PoolOsd.MountMode.RECOVER);
        pool.migrator().collectGarbage();
        assertThat(WorkIndex.all(raw.get(0)))
                .as("recovery rolled both copies back, %s among them", pending)
                .isEmpty();
        assertThat(read(kept)).isEqualTo(random(5000, 15));
    }

    @Test
    void statfsHasOneRowPerDeviceAndCountsSpilledBytesExactly() throws Exception {
        Fid f = object(random(1 << 20, 11));
        pool.migrator().spill(f, pool.device(1));
        StatFs s = pool.statfs();
        assertThat(s.devices()).extracting(StatFs::device).containsExactly("fast", "slow0", "slow1");
        assertThat(s.devices().get(1).objects()).isEqualTo(1);
        assertThat(s.devices().get(1).usedBytes()).isBetween((long) (1 << 20), (long) (1 << 20) + 4096);
        assertThat(s.devices().get(2).usedBytes()).isZero();
    }

    @Test
    void aFullTargetParksTheSpill() throws Exception {
        String y = String.format(YAML, 1)
                .replace(
                        "{name: slow0, backend: mem, roles: [background], settings: {durability: simulated,",
                        "{name: slow0, backend: mem, roles: [background], settings: {capacity: 64KiB, durability: simulated,");
        cfg = PoolConfigParser.parse(y, "ops");
        raw = PoolFixtures.memDevices(cfg);
        remount(PoolOsd.MountMode.RECOVER);
        Fid f = object(random(1 << 20, 12));
        MoveResult r = pool.migrator().spill(f, pool.device(1));
        assertThat(r).isInstanceOf(MoveResult.Parked.class);
        assertThat(r.detail()).contains("slow0").contains("ENOSPC");
        assertThat(WorkIndex.all(raw.get(0))).anyMatch(j -> j.kind() == Job.Kind.PARKED);
        assertThat(state(f).resident(0)).isTrue();
        pool.migrator().collectGarbage();
    }

    @Test
    void recoveryReadsOnlyTheWorkIndexAndRollsBackAnInterruptedCopy() throws Exception {
        for (int i = 0; i < 20; i++) {
            object(random(1000, 100 + i));
        }
        // Leave a pending copy behind, as a crash between steps 1 and 3 would.
        Fid f = object(random(4000, 13));
        pool.migrator().spill(f, pool.device(1));
        pool.sync();
        for (MemOsd m : raw) {
            m.sync();
        }
        remount(PoolOsd.MountMode.RECOVER);
        assertThat(pool.recoveryReport().objectsScanned()).isZero();
        remount(PoolOsd.MountMode.FULL_SCAN);
        assertThat(pool.recoveryReport().objectsScanned()).isGreaterThanOrEqualTo(21);
        assertThat(pool.recoveryReport().mode()).isEqualTo("full-scan");
    }

    @Test
    void mountChecksCapabilitiesAgainstRoles() throws Exception {
        String y = """
                name: caps
                devices:
                  - {name: meta, backend: mem, roles: [metadata, foreground]}
                """;
        PoolConfig c = PoolConfigParser.parse(y, "caps");
        // A metadata device that advertises no xattrs: the thread's "OSD advertises that it doesn't support EA" case.
        assertThatThrownBy(() -> PoolOsd.mount(
                        c,
                        InstantSource.system(),
                        PoolOsd.MountMode.RECOVER,
                        (d, clock) -> new FilterOsd(new MemOsd(new OsdConfig(d.name(), "mem", Map.of(), clock))) {
                            @Override
                            public Capabilities capabilities() {
                                var in = super.capabilities();
                                var f = EnumSet.copyOf(in.features());
                                f.remove(Capability.XATTRS);
                                return new Capabilities(
                                        f,
                                        0,
                                        0,
                                        in.maxObjectSize(),
                                        in.maxIndexKey(),
                                        in.maxIndexValue(),
                                        in.preferredIoSize(),
                                        in.blockSize());
                            }
                        }))
                .isInstanceOf(OsdException.class)
                .hasMessageContaining("meta")
                .hasMessageContaining("XATTRS")
                .hasMessageContaining("EOPNOTSUPP");
    }

    @Test
    void devicesCannotSwapPlaces() throws Exception {
        String swapped = String.format(YAML, 1)
                .replace("name: slow0", "name: tmp")
                .replace("name: slow1", "name: slow0")
                .replace("name: tmp", "name: slow1");
        PoolConfig c = PoolConfigParser.parse(swapped, "ops");
        pool.sync();
        // The same devices, seen by a second mount (a failed mount closes what it opened).
        List<MemOsd> again = new ArrayList<>();
        for (MemOsd m : raw) {
            m.sync();
            again.add(m.crash());
        }
        assertThatThrownBy(() -> PoolOsd.mount(
                        c, InstantSource.system(), PoolOsd.MountMode.RECOVER, (d, clock) -> again.get(d.index())))
                .isInstanceOf(OsdException.class)
                .hasMessageContaining("swap");
        raw = again;
        for (int i = 0; i < raw.size(); i++) {
            raw.set(i, raw.get(i).crash());
        }
        remount(PoolOsd.MountMode.RECOVER);
    }

    @Test
    void clientsCannotTouchThePoolsOwnObjects() throws Exception {
        assertThatThrownBy(() -> pool.getAttr(PoolFids.SUPER))
                .isInstanceOf(OsdException.class)
                .satisfies(e -> assertThat(((OsdException) e).errno()).isEqualTo(Errno.ENOENT));
        Fid f = object(new byte[10]);
        List<Fid> listed = new ArrayList<>();
        try (var c = pool.listObjects()) {
            while (c.next()) {
                listed.add(c.fid());
            }
        }
        assertThat(listed).containsExactly(f);
    }
}
