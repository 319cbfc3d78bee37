package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.StatFs;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.WorkIndex;
import dev.spillway.pool.ops.DeviceOps;
import dev.spillway.pool.ops.MoveResult;
import java.nio.ByteBuffer;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Devices: evacuation, failure and replica restoration, a device failing mid-copy. */
class PoolDeviceTest {
    private static final String YAML = """
            name: devs
            replicas: %d
            devices:
              - {name: fast, backend: mem, roles: [metadata, foreground, promote]}
              - {name: slow0, backend: mem, roles: [background]}
              - {name: slow1, backend: mem, roles: [background]}
              - {name: slow2, backend: mem, roles: [background]}
            """;

    private final Map<String, Flaky> devices = new HashMap<>();

    private PoolOsd mount(int replicas) throws OsdException {
        PoolConfig c = PoolConfigParser.parse(String.format(YAML, replicas), "devs");
        return PoolOsd.mount(c, InstantSource.system(), PoolOsd.MountMode.RECOVER, (d, clock) -> {
            Flaky f = new Flaky(new MemOsd(new OsdConfig(d.name(), "mem", Map.of("strict-declares", true), clock)));
            devices.put(d.name(), f);
            return f;
        });
    }

    private static Fid write(PoolOsd pool, int n, byte[] body) throws OsdException {
        return PoolFixtures.create(pool, new Fid(0x200000400L, n, 0), body);
    }

    private static byte[] read(PoolOsd pool, Fid f) throws OsdException {
        return PoolFixtures.read(pool, f);
    }

    @Test
    void evacuationEmptiesADeviceWhileClientsReadAndWrite() throws Exception {
        PoolOsd pool = mount(1);
        Random r = new Random(1);
        List<Fid> fids = new ArrayList<>();
        Map<Fid, byte[]> bodies = new HashMap<>();
        for (int i = 1; i <= 30; i++) {
            byte[] b = new byte[1000 + r.nextInt(20_000)];
            r.nextBytes(b);
            Fid f = write(pool, i, b);
            fids.add(f);
            bodies.put(f, b);
            pool.migrator().spill(f, pool.device(1 + i % 2));
        }
        DeviceOps.Progress p;
        int rounds = 0;
        do {
            p = pool.deviceOps().evacuateStep(pool.device(1), 4);
            // Clients keep going between steps: a write to an object being evacuated, and reads.
            Fid f = fids.get(rounds % fids.size());
            byte[] b = bodies.get(f).clone();
            b[0] ^= 1;
            try (Transaction tx = pool.newTransaction()) {
                tx.declareWrite(f, 0, 1);
                tx.start();
                tx.write(f, 0, ByteBuffer.wrap(new byte[] {b[0]}));
            }
            bodies.put(f, b);
            for (Fid g : fids) {
                assertThat(read(pool, g)).isEqualTo(bodies.get(g));
            }
            rounds++;
        } while (!p.done() && rounds < 50);
        assertThat(p.done()).as("evacuated: %s", p).isTrue();
        assertThat(pool.device(1).state()).isEqualTo(DeviceState.SPARE);
        assertThat(devices.get("slow0").statfs().objects()).isZero();
        assertThat(pool.fsck(false, true, null).problems()).isEmpty();
    }

    @Test
    void replicasAreRestoredAfterADeviceFails() throws Exception {
        PoolOsd pool = mount(2);
        List<Fid> fids = new ArrayList<>();
        for (int i = 1; i <= 10; i++) {
            Fid f = write(pool, i, new byte[5000 + i]);
            pool.migrator().copy(f, pool.device(1), false);
            pool.migrator().spill(f, pool.device(2));
            fids.add(f);
        }
        pool.deviceOps().setState(pool.device(1), DeviceState.FAILED);
        DeviceOps.Progress p = pool.deviceOps().replaceLost(pool.device(1), 100);
        assertThat(p.errors()).isEmpty();
        assertThat(p.moved()).isEqualTo(10);
        for (Fid f : fids) {
            var o = pool.requireObject(f);
            assertThat(o.inSync().stream().filter(c -> c.device() != 1).count()).isEqualTo(2);
            assertThat(o.on(1)).isEmpty();
            assertThat(read(pool, f)).hasSize((int) o.size());
        }
        assertThat(pool.statfs().flags()).contains(StatFs.Flag.DEGRADED);
    }

    @Test
    void aDeviceFailingMidCopyParksTheJobAndResidentReadsGoOn() throws Exception {
        PoolOsd pool = mount(1);
        byte[] body = new byte[300_000];
        new Random(2).nextBytes(body);
        Fid a = write(pool, 1, body);
        Fid b = write(pool, 2, new byte[1000]);
        devices.get("slow0").failWrites.set(true);
        MoveResult r = pool.migrator().spill(a, pool.device(1));
        assertThat(r).isInstanceOf(MoveResult.Parked.class);
        assertThat(r.detail()).contains("slow0").contains("EIO");
        assertThat(WorkIndex.all(pool.metadata().osd()))
                .anyMatch(j -> j.kind() == Job.Kind.PARKED && j.fid().equals(a));
        assertThat(read(pool, a)).hasSize(300_000);
        assertThat(read(pool, b)).hasSize(1000);
        devices.get("slow0").failWrites.set(false);
        assertThat(pool.migrator().spill(a, pool.device(1))).isInstanceOf(MoveResult.Done.class);
        assertThat(WorkIndex.all(pool.metadata().osd())).noneMatch(j -> j.kind() == Job.Kind.PARKED);
        pool.migrator().collectGarbage();
        assertThat(pool.fsck(false, true, null).problems()).isEmpty();
    }
}
