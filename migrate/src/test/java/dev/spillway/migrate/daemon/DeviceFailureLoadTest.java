package dev.spillway.migrate.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.testkit.fault.FaultInjectingStorage;
import dev.spillway.osd.testkit.fault.SteppingClock;
import dev.spillway.osd.vfs.VfsOsd;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.ops.DeviceOps;
import dev.spillway.pool.ops.MoveResult;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A spill device that dies under load: concurrent readers and writers run on a pool whose spill
 * devices are osd-vfs on {@link FaultInjectingStorage}; mid-load, the storage under slow1 starts
 * failing every call with EIO. No read of an object that still has a copy elsewhere may fail;
 * the device trips on its errors (no admin), its copies are marked lost, and the migration
 * daemon, woken by the failure, restores every object to {@code replicas} in-sync copies. Every
 * wait is on an event (latches, the failure's future, the daemon's passes), never on time.
 */
class DeviceFailureLoadTest {
    private static final int OBJECTS = 40;
    private static final int READERS = 4;
    private static final int WRITERS = 2;
    private static final int READS_EACH_SIDE = 60;

    private static final String YAML = """
            name: load
            replicas: 2
            fail-after-errors: 4
            devices:
              - {name: fast, backend: mem, roles: [metadata, foreground, promote]}
              - {name: slow0, backend: vfs, roles: [background], settings: {journal: "off"}}
              - {name: slow1, backend: vfs, roles: [background], settings: {journal: "off"}}
              - {name: slow2, backend: vfs, roles: [background], settings: {journal: "off"}}
            policy: {enabled: true, checkpoint-interval: 1h}
            """;

    private final Map<String, FaultInjectingStorage> storages = new HashMap<>();
    private final SteppingClock clock = new SteppingClock();

    private PoolOsd mount(PoolConfig c) throws OsdException {
        return PoolOsd.mount(c, clock, PoolOsd.MountMode.RECOVER, (d, deviceClock) -> {
            OsdConfig oc = new OsdConfig(d.name(), d.backend(), d.settings(), deviceClock);
            if (d.backend().equals("mem")) {
                return new MemOsd(oc);
            }
            FaultInjectingStorage s = new FaultInjectingStorage(
                    FaultInjectingStorage.Features.ext4(), FaultInjectingStorage.Root.FOLDER, null, d.name());
            storages.put(d.name(), s);
            return VfsOsd.open(oc, s, Runnable::run);
        });
    }

    private static Fid fid(int n) {
        return new Fid(0x200000400L, n, 0);
    }

    private static void write(PoolOsd pool, Fid f, byte[] body, boolean create) throws OsdException {
        try (Transaction tx = pool.newTransaction()) {
            if (create) {
                tx.declareCreate(f, ObjectKind.DATA);
            }
            tx.declareTruncate(f, 0);
            tx.declareWrite(f, 0, body.length);
            tx.start();
            if (create) {
                tx.create(f, ObjectKind.DATA, AttrChange.none());
            }
            tx.truncate(f, 0);
            tx.write(f, 0, ByteBuffer.wrap(body));
        }
    }

    /** Reads the whole body in 16 KiB steps (a read stream), as a client would. */
    private static byte[] read(PoolOsd pool, Fid f, int size) throws OsdException {
        byte[] out = new byte[size];
        int pos = 0;
        while (pos < size) {
            pos += pool.read(f, pos, ByteBuffer.wrap(out, pos, Math.min(16 << 10, size - pos)));
        }
        return out;
    }

    @Test
    void aDeviceDyingUnderLoadFailsNoReadOfASurvivingObjectAndThePoolRepairsItself() throws Exception {
        PoolConfig c = PoolConfigParser.parse(YAML, "load test");
        PoolOsd pool = mount(c);
        Random r = new Random(19);
        Map<Fid, byte[]> bodies = new HashMap<>();
        // Read-only objects, mirrored on slow0 and slow1 and released from the fast tier: reads go
        // to slow1 (the spill target, preferred) until it dies.
        for (int i = 1; i <= OBJECTS; i++) {
            byte[] b = new byte[20_000 + r.nextInt(60_000)];
            r.nextBytes(b);
            write(pool, fid(i), b, true);
            bodies.put(fid(i), b);
            assertThat(pool.migrator().copy(fid(i), pool.device(1), false)).isInstanceOf(MoveResult.Done.class);
            assertThat(pool.migrator().spill(fid(i), pool.device(2))).isInstanceOf(MoveResult.Done.class);
        }
        MigrationDaemon daemon = MigrationDaemon.attach(pool, DaemonConfig.parse(c.policy(), c.name()), clock);
        CountDownLatch failedEvent = new CountDownLatch(1);
        pool.deviceFailures().onFailure(ch -> failedEvent.countDown());

        AtomicInteger readFailures = new AtomicInteger();
        List<String> failures = new CopyOnWriteArrayList<>();
        AtomicLong reads = new AtomicLong();
        // Every reader and writer reaches the barrier after its first half; the action kills slow1.
        CyclicBarrier half = new CyclicBarrier(
                READERS + WRITERS,
                () -> storages.get("slow1")
                        .setFault((op, path, n) ->
                                new IOException("injected: slow1's disk is dead (" + op + " " + path + ")")));
        Map<Fid, byte[]> written = new ConcurrentHashMap<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < READERS; t++) {
            long seed = 1000 + t;
            threads.add(Thread.ofPlatform().name("reader-" + t).start(() -> {
                Random rr = new Random(seed);
                try {
                    for (int k = 0; k < 2 * READS_EACH_SIDE; k++) {
                        if (k == READS_EACH_SIDE) {
                            half.await(60, TimeUnit.SECONDS);
                        }
                        Fid f = fid(1 + rr.nextInt(OBJECTS));
                        byte[] want = bodies.get(f);
                        try {
                            byte[] got = read(pool, f, want.length);
                            reads.incrementAndGet();
                            if (!Arrays.equals(got, want)) {
                                readFailures.incrementAndGet();
                                failures.add(f + ": read back different bytes");
                            }
                        } catch (OsdException e) {
                            readFailures.incrementAndGet();
                            failures.add(f + ": " + e.getMessage());
                        }
                    }
                } catch (Exception e) {
                    failures.add(Thread.currentThread().getName() + ": " + e);
                }
            }));
        }
        for (int t = 0; t < WRITERS; t++) {
            int base = 1000 + 100 * t;
            threads.add(Thread.ofPlatform().name("writer-" + t).start(() -> {
                Random rw = new Random(base);
                try {
                    for (int k = 0; k < 40; k++) {
                        if (k == 20) {
                            half.await(60, TimeUnit.SECONDS);
                        }
                        Fid f = fid(base + rw.nextInt(10));
                        byte[] b = new byte[1 + rw.nextInt(30_000)];
                        rw.nextBytes(b);
                        write(pool, f, b, !written.containsKey(f));
                        written.put(f, b);
                    }
                } catch (Exception e) {
                    failures.add(Thread.currentThread().getName() + ": " + e);
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(failures).as("reads and writes while slow1 died").isEmpty();
        assertThat(readFailures.get()).isZero();
        assertThat(reads.get()).isEqualTo((long) READERS * 2 * READS_EACH_SIDE);

        // slow1 tripped on its own errors: failed and persisted, its copies lost.
        assertThat(failedEvent.await(60, TimeUnit.SECONDS)).as("slow1 tripped").isTrue();
        DeviceOps.StateChange change =
                pool.deviceFailures().failure(pool.device(2)).get(60, TimeUnit.SECONDS);
        assertThat(change.to()).isEqualTo(DeviceState.FAILED);
        assertThat(pool.device(2).state()).isEqualTo(DeviceState.FAILED);
        for (int i = 1; i <= OBJECTS; i++) {
            PoolObject p = pool.requireObject(fid(i));
            assertThat(p.on(2).map(Copy::state)).as("%s", p).hasValue(CopyState.LOST);
        }

        // The daemon, pass by pass, restores replicas from the copies left (each pass replaces a
        // batch); no object is left with fewer than two in-sync copies off the failed device.
        for (int pass = 0; pass < 100 && pool.deviceOps().lostCopies().health().atRisk() > 0; pass++) {
            daemon.runOnce();
        }
        assertThat(pool.deviceOps().lostCopies().health().atRisk()).isZero();
        for (int i = 1; i <= OBJECTS; i++) {
            PoolObject p = pool.requireObject(fid(i));
            long good = p.inSync().stream()
                    .filter(x -> x.device() != 2 && x.version() == p.dataVersion())
                    .mapToInt(Copy::device)
                    .distinct()
                    .count();
            assertThat(good).as("%s restored to replicas: %s", fid(i), p).isGreaterThanOrEqualTo(2);
            assertThat(read(pool, fid(i), bodies.get(fid(i)).length)).isEqualTo(bodies.get(fid(i)));
        }
        for (var e : written.entrySet()) {
            assertThat(read(pool, e.getKey(), e.getValue().length)).isEqualTo(e.getValue());
        }
        daemon.close();
    }
}
