package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.testkit.fault.FaultInjectingStorage;
import dev.spillway.osd.vfs.VfsOsd;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.ops.SyncKeys;
import dev.spillway.pool.recovery.Fsck;
import java.nio.ByteBuffer;
import java.time.InstantSource;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A sync write's extra copy on a device whose copies are files (osd-vfs, journal off) goes into
 * the empty object precreated under its leased key (SyncKeys): the write forces the copy's file
 * and neither creates a file nor forces a folder; the batch's creates and folder fsyncs are paid
 * when its keys are leased. Unused precreated objects are the leases': fsck finds no orphan, and a
 * mount deletes them.
 */
class SyncCopyPrecreateTest {
    private static final String YAML = """
            name: pre
            replicas: 2
            write-commit: sync 2
            devices:
              - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {durability: simulated, strict-declares: true}}
              - {name: slow, backend: vfs, roles: [background], settings: {journal: "off", strict-declares: true}}
            """;

    private final PoolConfig config = parse();
    private MemOsd md;
    private final FaultInjectingStorage slow = new FaultInjectingStorage(FaultInjectingStorage.Features.ext4());

    private static PoolConfig parse() {
        try {
            return PoolConfigParser.parse(YAML, "precreate test");
        } catch (OsdException e) {
            throw new IllegalStateException(e);
        }
    }

    private PoolOsd mount() throws OsdException {
        return mount(config);
    }

    private PoolOsd mount(PoolConfig c) throws OsdException {
        return PoolOsd.mount(c, InstantSource.system(), PoolOsd.MountMode.RECOVER, (d, clock) -> {
            if (d.backend().equals("mem")) {
                // The metadata device: fresh, or what the last one had durable at its close.
                md = md == null ? new MemOsd(new OsdConfig(d.name(), d.backend(), d.settings(), clock)) : md.crash();
                return md;
            }
            return VfsOsd.open(new OsdConfig(d.name(), d.backend(), d.settings(), clock), slow, Runnable::run);
        });
    }

    private static Fid object(int i) {
        return CrashCampaign.object(i);
    }

    /** A new object holding {@code body}, created in one transaction (as a write-around takes it). */
    private static void create(PoolOsd pool, Fid f, byte[] body) throws OsdException {
        try (Transaction tx = pool.newTransaction()) {
            tx.declareCreate(f, ObjectKind.DATA);
            tx.declareWrite(f, 0, body.length);
            tx.start();
            tx.create(f, ObjectKind.DATA, AttrChange.none());
            tx.write(f, 0, ByteBuffer.wrap(body));
        }
    }

    @Test
    void aBodyWrittenAroundAFullFastTierGoesIntoAPrecreatedObject() throws Exception {
        // Write-around leases its key as a sync write does, so it gets a precreated object too.
        PoolConfig c = PoolConfigParser.parse("""
                name: around
                devices:
                  - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {capacity: 4MiB, durability: simulated, strict-declares: true}}
                  - {name: slow, backend: vfs, roles: [background], settings: {journal: "off", strict-declares: true}}
                space: {writer-wait: 0s, write-around: full}
                """, "precreate test");
        int mib = 1 << 20;
        try (PoolOsd pool = mount(c)) {
            int i = 0;
            while (pool.metadataStatfs().availableBytes() > mib) {
                create(pool, object(i), PoolFixtures.random(mib, i));
                i++;
            }
            for (int k = 0; k < 3; k++, i++) {
                create(pool, object(i), PoolFixtures.random(mib, i));
                PoolObject p = pool.requireObject(object(i));
                assertThat(p.copies())
                        .extracting(Copy::device)
                        .as("object %d, tier full", i)
                        .containsExactly(1);
                assertThat(PoolFixtures.read(pool, object(i))).isEqualTo(PoolFixtures.random(mib, i));
            }
            assertThat(pool.fsck(false, true, null).problems()).isEmpty();
        }
    }

    @Test
    void aSyncWritesCopyIsWrittenIntoItsPrecreatedObjectWithoutACreateOrAFolderFsync() throws Exception {
        Map<FaultInjectingStorage.Op, Integer> ops = new EnumMap<>(FaultInjectingStorage.Op.class);
        Map<Fid, byte[]> bodies = new HashMap<>();
        try (PoolOsd pool = mount()) {
            // The first write leases (and precreates) a batch of keys on the vfs device.
            bodies.put(object(0), PoolFixtures.random(4096, 0));
            PoolFixtures.replace(pool, object(0), bodies.get(object(0)), tx -> {});
            Osd vfs = pool.device(1).osd();
            int precreated = PoolFixtures.onDevice(vfs).size();
            assertThat(precreated).as("the copy and the precreated objects").isGreaterThan(2);

            slow.setFault((op, path, i) -> {
                ops.merge(op, 1, Integer::sum);
                return null;
            });
            bodies.put(object(1), PoolFixtures.random(4096, 1));
            PoolFixtures.replace(pool, object(1), bodies.get(object(1)), tx -> {});
            slow.setFault(null);
            assertThat(ops.getOrDefault(FaultInjectingStorage.Op.FORCE_DIR, 0))
                    .as("folder fsyncs of the second write's copy (%s)", ops)
                    .isZero();
            assertThat(ops.getOrDefault(FaultInjectingStorage.Op.FORCE, 0))
                    .as("file fsyncs of the second write's copy (%s)", ops)
                    .isEqualTo(1);
            // Its object was there already: nothing new on the device.
            assertThat(PoolFixtures.onDevice(vfs)).hasSize(precreated);
            for (Fid f : bodies.keySet()) {
                PoolFixtures.assertTwoInSyncCopies(pool, f);
            }
            Fsck.Report r = pool.fsck(false, true, null);
            assertThat(r.problems())
                    .as("fsck with precreated objects under leases")
                    .isEmpty();
        }
        try (PoolOsd pool = mount()) {
            // The mount deleted every precreated object no write used, and ended their leases:
            // only the two copies are left.
            assertThat(PoolFixtures.onDevice(pool.device(1).osd())).hasSize(2);
            assertThat(SyncKeys.all(md)).isEmpty();
            for (Map.Entry<Fid, byte[]> e : bodies.entrySet()) {
                assertThat(PoolFixtures.read(pool, e.getKey())).isEqualTo(e.getValue());
                PoolFixtures.assertTwoInSyncCopies(pool, e.getKey());
            }
            assertThat(pool.fsck(false, true, null).problems()).isEmpty();
        }
    }

    /**
     * One precreated object that cannot be deleted at mount (its file fails every delete, as a
     * damaged one might) keeps its own lease for the next mount; every other unused precreated
     * object on the device is still deleted and its lease ended. Before, the device's one
     * transaction failed and every lease on it stayed, at this mount and each after.
     */
    @Test
    void anUndeletablePrecreatedObjectKeepsOnlyItsOwnLeaseAtMount() throws Exception {
        byte[] body = PoolFixtures.random(4096, 7);
        try (PoolOsd pool = mount()) {
            PoolFixtures.replace(pool, object(0), body, tx -> {});
            assertThat(PoolFixtures.onDevice(pool.device(1).osd()).size()).isGreaterThan(3);
        }
        String[] bad = new String[1];
        slow.setFault((op, path, i) -> {
            if (op != FaultInjectingStorage.Op.DELETE || !path.startsWith("objects/")) {
                return null;
            }
            synchronized (bad) {
                if (bad[0] == null) {
                    bad[0] = path;
                }
                return path.equals(bad[0]) ? new java.io.IOException("injected: this file cannot be deleted") : null;
            }
        });
        try (PoolOsd pool = mount()) {
            assertThat(bad[0]).as("a delete was tried").isNotNull();
            assertThat(SyncKeys.all(md))
                    .as("leases left (the undeletable one's only; %s)", bad[0])
                    .hasSize(1);
            assertThat(PoolFixtures.onDevice(pool.device(1).osd()))
                    .as("the copy and the undeletable object")
                    .hasSize(2);
            assertThat(PoolFixtures.read(pool, object(0))).isEqualTo(body);
            PoolFixtures.assertTwoInSyncCopies(pool, object(0));
        }
        slow.setFault(null);
        try (PoolOsd pool = mount()) {
            assertThat(SyncKeys.all(md)).isEmpty();
            assertThat(PoolFixtures.onDevice(pool.device(1).osd())).hasSize(1);
            assertThat(PoolFixtures.read(pool, object(0))).isEqualTo(body);
            assertThat(pool.fsck(false, true, null).problems()).isEmpty();
        }
    }
}
