package dev.spillway.pool;

import static dev.spillway.pool.layout.LovFormat.HS_LOST;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.StatFs;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.config.FailureConfig;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.device.DeviceHealth;
import dev.spillway.pool.device.DeviceTable;
import dev.spillway.pool.device.IoErrors;
import dev.spillway.pool.layout.HsmForeign;
import dev.spillway.pool.layout.Layout;
import dev.spillway.pool.layout.LayoutPrinter;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.ops.DeviceOps;
import dev.spillway.pool.ops.LostCopies;
import java.nio.ByteBuffer;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A device that fails: set failed by the admin or tripped by its I/O errors, its copies marked
 * lost in one pass over its own index, reads going to the other copies (an open read stream
 * included), a clear EIO for an object whose only copy was there, replicas restored from what is
 * left, and a device that comes back verified against the checksums before its copies count.
 */
class DeviceFailureTest {
    private static final String YAML = """
            name: fail
            replicas: %d
            fail-after-errors: %d
            devices:
              - {name: fast, backend: mem, roles: [metadata, foreground, promote]}
              - {name: slow0, backend: mem, roles: [background]}
              - {name: slow1, backend: mem, roles: [background]}
              - {name: slow2, backend: mem, roles: [background]}
            """;

    private final Map<String, MemOsd> raw = new HashMap<>();
    private final Map<String, BrokenDevice> devices = new HashMap<>();
    private PoolConfig config;

    private PoolOsd mount(int replicas, int failAfter) throws OsdException {
        config = PoolConfigParser.parse(String.format(YAML, replicas, failAfter), "fail");
        return remount();
    }

    /**
     * Mounts again on the same devices, their contents kept (a restart; the pool mounted before is
     * abandoned, not closed, as a crash leaves it).
     */
    private PoolOsd remount() throws OsdException {
        return PoolOsd.mount(config, InstantSource.system(), PoolOsd.MountMode.RECOVER, (d, clock) -> {
            MemOsd m = raw.get(d.name());
            if (m == null) {
                Map<String, Object> settings = new HashMap<>(d.settings());
                settings.put("strict-declares", true);
                m = new MemOsd(new OsdConfig(d.name(), "mem", settings, clock));
                raw.put(d.name(), m);
            }
            BrokenDevice b = new BrokenDevice(m);
            devices.put(d.name(), b);
            return b;
        });
    }

    static Fid write(PoolOsd pool, int n, byte[] body) throws OsdException {
        return PoolFixtures.create(pool, new Fid(0x200000400L, n, 0), body);
    }

    static byte[] read(PoolOsd pool, Fid f) throws OsdException {
        return PoolFixtures.read(pool, f);
    }

    private static byte[] body(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    /** Objects spilled to slow0 and slow1 (two in-sync copies, no local body). */
    private List<Fid> mirrored(PoolOsd pool, Map<Fid, byte[]> bodies, int from, int count) throws OsdException {
        Random r = new Random(from);
        List<Fid> out = new ArrayList<>();
        for (int i = from; i < from + count; i++) {
            byte[] b = body(r, 3000 + 1000 * (i % 7));
            Fid f = write(pool, i, b);
            bodies.put(f, b);
            pool.migrator().copy(f, pool.device(1), false);
            pool.migrator().spill(f, pool.device(2));
            out.add(f);
        }
        return out;
    }

    private static Copy copyOn(PoolObject p, int device) {
        return p.on(device).orElseThrow(() -> new AssertionError("no copy on device " + device + ": " + p));
    }

    @Test
    void failAfterErrorsIsPoolWideWithADefaultAndPerDevice() throws Exception {
        String two = """
                name: p
                %s
                devices:
                  - {name: fast, backend: mem, roles: [metadata, foreground, promote]}
                  - {name: slow, backend: mem, roles: [background]%s}
                """;
        PoolConfig dflt = PoolConfigParser.parse(String.format(two, "", ""), "t");
        assertThat(dflt.failure().failAfterErrors("slow")).isEqualTo(FailureConfig.DEFAULT_FAIL_AFTER_ERRORS);
        PoolConfig set =
                PoolConfigParser.parse(String.format(two, "fail-after-errors: 3", ", fail-after-errors: 0"), "t");
        assertThat(set.failure().failAfterErrors("fast")).isEqualTo(3);
        assertThat(set.failure().failAfterErrors("slow")).isZero();
        assertThatThrownBy(() -> PoolConfigParser.parse(String.format(two, "fail-after-errors: -1", ""), "t"))
                .hasMessageContaining("fail-after-errors")
                .hasMessageContaining(">= 0");
        assertThatThrownBy(() -> PoolConfigParser.parse(String.format(two, "", ", fail-after-errors: -2"), "t"))
                .hasMessageContaining("devices[1].fail-after-errors");
        // 0 on a device: it is never tripped, but its errors are still counted.
        config = set;
        PoolOsd pool = remount();
        assertThat(pool.device(1).osd())
                .isInstanceOfSatisfying(
                        DeviceHealth.class, h -> assertThat(h.failAfter()).isZero());
    }

    @Test
    void failingADeviceMarksItsCopiesLostInOnePassOverItsIndexAlone() throws Exception {
        PoolOsd pool = mount(2, 0);
        Map<Fid, byte[]> bodies = new HashMap<>();
        List<Fid> onSlow0 = mirrored(pool, bodies, 1, 12);
        // Objects with no copy on slow0 must not be touched: the pass walks slow0's index only.
        Fid elsewhere = write(pool, 100, new byte[4000]);
        pool.migrator().copy(elsewhere, pool.device(2), false);
        pool.migrator().copy(elsewhere, pool.device(3), false);
        int genElsewhere = pool.requireObject(elsewhere).layoutGen();
        Map<Fid, Integer> gens = new HashMap<>();
        for (Fid f : onSlow0) {
            gens.put(f, pool.requireObject(f).layoutGen());
        }

        DeviceOps.StateChange c = pool.deviceOps().setState(pool.device(1), DeviceState.FAILED);

        assertThat(c.lost().lost()).isEqualTo(12);
        assertThat(c.lost().noCopyLeft()).isZero();
        assertThat(c.lost().errors()).isEmpty();
        for (Fid f : onSlow0) {
            PoolObject p = pool.requireObject(f);
            assertThat(copyOn(p, 1).state()).isEqualTo(CopyState.LOST);
            assertThat(copyOn(p, 2).state()).isEqualTo(CopyState.IN_SYNC);
            assertThat(p.layoutGen()).isGreaterThan(gens.get(f));
            // The Lustre layout as getstripe shows it: the HSM component lost and stale.
            Layout l = pool.layout(f);
            var lost =
                    l.mirror(copyOn(p, 1).mirrorId()).orElseThrow().components().get(0);
            assertThat(lost.isStale()).isTrue();
            assertThat(((HsmForeign) lost.subLayout()).hsmFlags() & HS_LOST).isEqualTo(HS_LOST);
            assertThat(LayoutPrinter.getstripe(l)).contains("lost").contains("stale");
            assertThat(read(pool, f)).isEqualTo(bodies.get(f));
        }
        assertThat(pool.requireObject(elsewhere).layoutGen()).isEqualTo(genElsewhere);
        var totals = pool.copyTotals().get(1);
        assertThat(totals.get(CopyState.LOST)[1]).isEqualTo(12);
        assertThat(totals.getOrDefault(CopyState.IN_SYNC, new long[2])[1]).isZero();
        assertThat(DeviceTable.lostCursor(pool.metadata().osd(), 1)).isEmpty();
        assertThat(pool.fsck(false, true, null).problems()).isEmpty();
        // Persisted: a restart (the same devices mounted again) finds the device failed, the copies lost.
        PoolOsd again = remount();
        assertThat(again.device(1).state()).isEqualTo(DeviceState.FAILED);
        assertThat(copyOn(again.requireObject(onSlow0.get(0)), 1).state()).isEqualTo(CopyState.LOST);
    }

    @Test
    void thePassRunsOnAMetadataDeviceClientsHaveFilledToItsReserve() throws Exception {
        config = PoolConfigParser.parse("""
                name: full
                replicas: 2
                devices:
                  - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {capacity: 2MiB, strict-declares: true}}
                  - {name: slow0, backend: mem, roles: [background]}
                  - {name: slow1, backend: mem, roles: [background]}
                space: {writer-wait: 0s}
                """, "full");
        PoolOsd pool = remount();
        Map<Fid, byte[]> bodies = new HashMap<>();
        List<Fid> fids = mirrored(pool, bodies, 1, 20);
        // Clients fill the fast device up to the reserve, with ever smaller writes until even a
        // 16-byte one is refused: what is left is the reserve (clients never reach it).
        int n = 1000;
        int size = 64 << 10;
        while (size >= 16) {
            assertThat(n).as("the 2 MiB device fills up").isLessThan(2000);
            try {
                // Random bytes: zeros would be a hole and take no room.
                write(pool, n, body(new Random(n), size));
                n++;
            } catch (OsdException e) {
                assertThat(e.errno()).isEqualTo(Errno.ENOSPC);
                size /= 2;
            }
        }
        assertThat(pool.metadata().osd().statfs().availableBytes()).isLessThan(1024);

        DeviceOps.StateChange c = pool.deviceOps().setState(pool.device(1), DeviceState.FAILED);

        assertThat(c.lost().lost()).isEqualTo(20);
        assertThat(c.lost().errors()).isEmpty();
        for (Fid f : fids) {
            assertThat(copyOn(pool.requireObject(f), 1).state()).isEqualTo(CopyState.LOST);
            assertThat(read(pool, f)).isEqualTo(bodies.get(f));
        }
        assertThat(DeviceTable.lostCursor(pool.metadata().osd(), 1)).isEmpty();
        assertThat(pool.fsck(false, true, null).problems()).isEmpty();
    }

    @Test
    void aPassInterruptedByACrashIsResumedAtMountFromItsCursor() throws Exception {
        PoolOsd pool = mount(2, 0);
        Map<Fid, byte[]> bodies = new HashMap<>();
        List<Fid> fids = mirrored(pool, bodies, 1, 6);
        // What a crash right after the failure was persisted leaves: FAILED, cursor at the start.
        DeviceTable.fail(pool.metadata().osd(), pool.device(1));
        pool.metadata().osd().sync();
        PoolOsd again = remount();
        assertThat(again.device(1).state()).isEqualTo(DeviceState.FAILED);
        for (Fid f : fids) {
            assertThat(copyOn(again.requireObject(f), 1).state()).isEqualTo(CopyState.LOST);
            assertThat(read(again, f)).isEqualTo(bodies.get(f));
        }
        assertThat(DeviceTable.lostCursor(again.metadata().osd(), 1)).isEmpty();
        assertThat(again.fsck(false, true, null).problems()).isEmpty();
    }

    @Test
    void aDeviceFailingEveryCallTripsAndReadsGoOnFromTheOtherCopyMidStream() throws Exception {
        PoolOsd pool = mount(2, 3);
        Map<Fid, byte[]> bodies = new HashMap<>();
        List<Fid> fids = mirrored(pool, bodies, 1, 8);
        // slow1 (the spill target) is the preferred read copy: reads start there.
        Fid f = fids.get(0);
        assertThat(copyOn(pool.requireObject(f), 2).preferred()).isTrue();
        byte[] want = bodies.get(f);
        byte[] got = new byte[want.length];
        int half = want.length / 2;
        assertThat(pool.read(f, 0, ByteBuffer.wrap(got, 0, half))).isEqualTo(half);

        devices.get("slow1").broken.set(true);
        // The open stream goes on at its offset, from slow0, without the caller noticing.
        int pos = half;
        while (pos < got.length) {
            pos += pool.read(f, pos, ByteBuffer.wrap(got, pos, got.length - pos));
        }
        assertThat(got).isEqualTo(want);
        for (Fid g : fids) {
            assertThat(read(pool, g)).as("read of %s while slow1 is dying", g).isEqualTo(bodies.get(g));
        }
        // Three consecutive errors tripped it: failed, persisted, its copies lost.
        DeviceOps.StateChange c = pool.deviceFailures().failure(pool.device(2)).get(30, TimeUnit.SECONDS);
        assertThat(c).isNotNull();
        assertThat(pool.device(2).state()).isEqualTo(DeviceState.FAILED);
        assertThat(DeviceTable.read(pool.metadata().osd()).get(2).state()).isEqualTo(DeviceState.FAILED);
        for (Fid g : fids) {
            PoolObject p = pool.requireObject(g);
            assertThat(copyOn(p, 2).state()).isIn(CopyState.LOST);
            assertThat(read(pool, g)).isEqualTo(bodies.get(g));
        }
        assertThat(pool.statfs().flags()).contains(StatFs.Flag.DEGRADED);
    }

    @Test
    void aDeviceFailingOnlySomeCallsIsNotTrippedButItsErrorsAreCounted() throws Exception {
        PoolOsd pool = mount(2, 3);
        Map<Fid, byte[]> bodies = new HashMap<>();
        List<Fid> fids = mirrored(pool, bodies, 1, 4);
        Fid f = fids.get(0);
        // Bad sectors under one copy on slow1 (the preferred read copy): its reads fail, others work.
        devices.get("slow1").badObject = copyOn(pool.requireObject(f), 2).key();
        for (int i = 0; i < 10; i++) {
            assertThat(read(pool, f)).isEqualTo(bodies.get(f));
            // Reads of the other objects on slow1 succeed in between: the device is not dead.
            assertThat(read(pool, fids.get(1 + i % 3))).isEqualTo(bodies.get(fids.get(1 + i % 3)));
        }
        assertThat(pool.device(2).state()).isEqualTo(DeviceState.RW);
        assertThat(pool.device(2).ioErrors().reads()).as("read errors of slow1").isPositive();
        assertThat(pool.device(2).ioErrors().writes()).isZero();
        assertThat(pool.device(1).ioErrors()).isEqualTo(IoErrors.NONE);
        assertThat(pool.device(0).ioErrors())
                .as("the metadata device is not counted")
                .isEqualTo(IoErrors.NONE);
    }

    @Test
    void failAfterErrorsZeroCountsErrorsAndNeverTrips() throws Exception {
        PoolOsd pool = mount(2, 0);
        Map<Fid, byte[]> bodies = new HashMap<>();
        List<Fid> fids = mirrored(pool, bodies, 1, 3);
        devices.get("slow1").broken.set(true);
        for (Fid f : fids) {
            for (int i = 0; i < 5; i++) {
                assertThat(read(pool, f)).isEqualTo(bodies.get(f));
            }
        }
        assertThat(pool.device(2).state()).isEqualTo(DeviceState.RW);
        assertThat(pool.device(2).ioErrors().reads()).isGreaterThanOrEqualTo(3);
        devices.get("slow1").broken.set(false);
    }

    @Test
    void anObjectWhoseOnlyCopyWasLostFailsWithEioNamingTheDeviceAndWhatToDo() throws Exception {
        PoolOsd pool = mount(1, 0);
        Fid f = write(pool, 1, new byte[5000]);
        pool.migrator().spill(f, pool.device(1));
        assertThat(pool.requireObject(f).resident(0)).isFalse();

        DeviceOps.StateChange c = pool.deviceOps().setState(pool.device(1), DeviceState.FAILED);
        assertThat(c.lost().noCopyLeft()).isEqualTo(1);

        assertThatThrownBy(() -> pool.read(f, 0, ByteBuffer.allocate(100)))
                .isInstanceOfSatisfying(
                        OsdException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EIO))
                .hasMessageContaining(f.toString())
                .hasMessageContaining("only copy was on failed device slow0")
                .hasMessageContaining("spillway device lost slow0")
                .hasMessageContaining("set-state slow0 rw");
        List<LostCopies.LostObject> lost = pool.deviceOps().lostCopies().lostOn(pool.device(1));
        assertThat(lost).extracting(LostCopies.LostObject::fid).containsExactly(f);
        assertThat(lost.get(0).survivors()).isZero();
        LostCopies.Health h = pool.deviceOps().lostCopies().health();
        assertThat(h.failedDevices()).containsExactly("slow0");
        assertThat(h.noCopyLeft()).isEqualTo(1);
        assertThat(h.degraded()).isTrue();
    }

    @Test
    void replicasAreRestoredFromTheCopiesLeftAndOnlyUnrecoverableObjectsStayLost() throws Exception {
        // One object whose only copy is on slow0 (spilled while the pool kept one replica).
        PoolOsd first = mount(1, 0);
        Fid alone = write(first, 50, new byte[7000]);
        first.migrator().spill(alone, first.device(1));
        config = PoolConfigParser.parse(String.format(YAML, 2, 0), "fail");
        PoolOsd pool = remount();
        Map<Fid, byte[]> bodies = new HashMap<>();
        List<Fid> fids = mirrored(pool, bodies, 1, 10);
        pool.deviceOps().setState(pool.device(1), DeviceState.FAILED);

        LostCopies.Health before = pool.deviceOps().lostCopies().health();
        assertThat(before.atRisk()).isEqualTo(10);
        assertThat(before.noCopyLeft()).isEqualTo(1);

        DeviceOps.Progress p = pool.deviceOps().replaceLost(pool.device(1), 100);
        assertThat(p.errors()).isEmpty();
        assertThat(p.moved()).isEqualTo(10);
        assertThat(p.unrecoverable()).isEqualTo(1);
        for (Fid f : fids) {
            PoolObject o = pool.requireObject(f);
            assertThat(o.inSync().stream()
                            .filter(c -> c.device() != 1)
                            .mapToInt(Copy::device)
                            .distinct()
                            .count())
                    .isEqualTo(2);
            assertThat(o.on(1)).isEmpty();
            assertThat(read(pool, f)).isEqualTo(bodies.get(f));
        }
        LostCopies.Health after = pool.deviceOps().lostCopies().health();
        assertThat(after.atRisk()).isZero();
        assertThat(after.noCopyLeft()).isEqualTo(1);
        assertThat(pool.deviceOps().lostCopies().lostOn(pool.device(1)))
                .extracting(LostCopies.LostObject::fid)
                .containsExactly(alone);
        assertThat(pool.fsck(false, true, null).problems())
                .singleElement()
                .satisfies(pr -> assertThat(pr.toString()).contains("lost with failed device slow0"));
    }

    @Test
    void replacingAFailedDeviceRebuildsOnTheNewOneAndRetiresTheOldOnceNothingNeedsIt() throws Exception {
        PoolOsd pool = mount(2, 0);
        Map<Fid, byte[]> bodies = new HashMap<>();
        List<Fid> fids = mirrored(pool, bodies, 1, 6);
        pool.deviceOps().setState(pool.device(1), DeviceState.FAILED);
        assertThatThrownBy(() -> pool.deviceOps().replaceStep(pool.device(2), pool.device(3), 10))
                .hasMessageContaining("not failed")
                .hasMessageContaining("device evacuate slow1");

        DeviceOps.Progress p = pool.deviceOps().replaceStep(pool.device(1), pool.device(3), 100);

        assertThat(p.moved()).isEqualTo(6);
        assertThat(p.done()).isTrue();
        for (Fid f : fids) {
            PoolObject o = pool.requireObject(f);
            assertThat(copyOn(o, 3).state()).isEqualTo(CopyState.IN_SYNC);
            assertThat(o.on(1)).isEmpty();
            assertThat(read(pool, f)).isEqualTo(bodies.get(f));
        }
        assertThat(pool.device(1).state()).isEqualTo(DeviceState.SPARE);
        // Retired: its copies deleted (it still answers here), no job or counter left for it.
        assertThat(raw.get("slow0").statfs().objects()).isZero();
        assertThat(pool.jobs()).noneMatch(j -> j.device() == 1);
        assertThat(pool.fsck(false, true, null).problems()).isEmpty();
        // The retired disk dies for good: fsck does not stop on it.
        devices.get("slow0").broken.set(true);
        assertThat(pool.fsck(false, true, null).problems()).isEmpty();
    }

    @Test
    void aDeviceThatComesBackIsVerifiedAgainstTheChecksumsBeforeItsCopiesCount() throws Exception {
        PoolOsd pool = mount(1, 0);
        Random r = new Random(3);
        Map<Fid, byte[]> bodies = new HashMap<>();
        List<Fid> fids = new ArrayList<>();
        for (int i = 1; i <= 5; i++) {
            byte[] b = body(r, 6000 + i);
            Fid f = write(pool, i, b);
            pool.migrator().spill(f, pool.device(1));
            bodies.put(f, b);
            fids.add(f);
        }
        pool.deviceOps().setState(pool.device(1), DeviceState.FAILED);
        // While it was away, one of its copies rotted.
        Fid rotten = fids.get(2);
        Fid key = copyOn(pool.requireObject(rotten), 1).key();
        try (Transaction tx = raw.get("slow0").newTransaction()) {
            tx.declareWrite(key, 10, 1);
            tx.start();
            tx.write(key, 10, ByteBuffer.wrap(new byte[] {(byte) ~bodies.get(rotten)[10]}));
        }

        DeviceOps.StateChange c = pool.deviceOps().setState(pool.device(1), DeviceState.RW);

        assertThat(c.returned().restored()).isEqualTo(4);
        assertThat(c.returned().mismatched())
                .singleElement()
                .satisfies(m -> assertThat(m).contains(rotten.toString()));
        for (Fid f : fids) {
            if (f.equals(rotten)) {
                assertThat(copyOn(pool.requireObject(f), 1).state()).isEqualTo(CopyState.LOST);
                assertThatThrownBy(() -> read(pool, f)).isInstanceOf(OsdException.class);
            } else {
                assertThat(copyOn(pool.requireObject(f), 1).state()).isEqualTo(CopyState.IN_SYNC);
                assertThat(read(pool, f)).isEqualTo(bodies.get(f));
            }
        }
        assertThat(pool.copyTotals().get(1).get(CopyState.IN_SYNC)[1]).isEqualTo(4);
        assertThat(pool.copyTotals().get(1).get(CopyState.LOST)[1]).isEqualTo(1);
    }

    @Test
    void aSyncWriteWhoseCopyDeviceFailsBeforeTheFlipTakesASpareAndIsNotAcknowledgedOnTheFailedOne() throws Exception {
        config = PoolConfigParser.parse(
                String.format(YAML, 2, 0).replace("replicas: 2\n", "replicas: 2\nwrite-commit: sync 2\n"), "fail");
        PoolOsd pool = remount();
        // slow0 fails (as a trip marks it) after its copy is written, before the flip.
        devices.get("slow0").beforeSync = () -> pool.device(1).state(DeviceState.FAILED);
        byte[] b = body(new Random(7), 9000);
        Fid f = write(pool, 1, b);
        PoolObject p = pool.requireObject(f);
        assertThat(p.copies()).noneMatch(c -> c.device() == 1 && c.state() == CopyState.IN_SYNC);
        assertThat(p.inSync().stream().mapToInt(Copy::device).distinct().count())
                .as("acknowledged with two in-sync copies off the failed device: %s", p)
                .isEqualTo(2);
        assertThat(read(pool, f)).isEqualTo(b);
    }

    @Test
    void aCopyBegunOnADeviceThatFailsMeanwhileIsNeverFlippedInSync() throws Exception {
        PoolOsd pool = mount(2, 0);
        Fid f = write(pool, 1, new byte[9000]);
        var job = pool.migrator().begin(f, pool.device(1)).orElseThrow();
        pool.deviceOps().setState(pool.device(1), DeviceState.FAILED);
        pool.migrator().complete(job, false);
        PoolObject p = pool.requireObject(f);
        assertThat(p.copies()).noneMatch(c -> c.device() == 1 && c.state() == CopyState.IN_SYNC);
        assertThat(pool.fsck(false, false, null).problems()).isEmpty();
    }
}
