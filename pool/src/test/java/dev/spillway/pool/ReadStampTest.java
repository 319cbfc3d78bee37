package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.AttrChange;
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
import dev.spillway.pool.meta.PoolObjectCodec;
import dev.spillway.pool.ops.MoveResult;
import java.nio.ByteBuffer;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A resident read takes the object's record from the cache while its change stamp is unchanged,
 * and never misses a layout change: not one made between two reads, not one made while a read is
 * inside the metadata device, and not one a crash undid.
 */
class ReadStampTest {
    private static final String YAML = """
            name: stamps
            devices:
              - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {durability: simulated, strict-declares: true}}
              - {name: slow, backend: mem, roles: [background], settings: {durability: simulated, strict-declares: true}}
            """;

    private PoolConfig cfg;
    private List<MemOsd> raw;
    private PoolOsd pool;
    /** Counts record loads (getXattr of the pool record) on the metadata device. */
    private final AtomicInteger recordLoads = new AtomicInteger();
    /** When set, the next body read of the metadata device waits here (after counting down entered). */
    private final AtomicReference<CountDownLatch[]> holdNextRead = new AtomicReference<>();

    private final class Observed extends FilterOsd {
        Observed(Osd in) {
            super(in);
        }

        @Override
        public byte[] getXattr(Fid fid, String name) throws OsdException {
            if (name.equals(PoolObjectCodec.XATTR)) {
                recordLoads.incrementAndGet();
            }
            return in.getXattr(fid, name);
        }

        @Override
        public int read(Fid fid, long offset, ByteBuffer dst) throws OsdException {
            CountDownLatch[] hold = holdNextRead.getAndSet(null);
            if (hold != null) {
                hold[0].countDown();
                try {
                    hold[1].await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }
            return in.read(fid, offset, dst);
        }
    }

    @BeforeEach
    void setUp() throws Exception {
        cfg = PoolConfigParser.parse(YAML, "stamps");
        raw = new ArrayList<>();
        for (var d : cfg.devices()) {
            raw.add(new MemOsd(new OsdConfig(d.name(), d.backend(), d.settings(), InstantSource.system())));
        }
        mount();
    }

    private void mount() throws OsdException {
        pool = PoolOsd.mount(
                cfg,
                InstantSource.system(),
                PoolOsd.MountMode.RECOVER,
                (d, c) -> d.index() == 0 ? new Observed(raw.get(0)) : raw.get(d.index()));
    }

    @AfterEach
    void fsckClean() throws Exception {
        assertThat(pool.fsck(false, true, null).problems()).isEmpty();
    }

    private Fid write(int oid, byte[] body, boolean create) throws Exception {
        Fid f = new Fid(0x200000400L, oid, 0);
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
        return f;
    }

    private byte[] read(Fid f, int length) throws Exception {
        byte[] out = new byte[length];
        int pos = 0;
        while (pos < length) {
            int n = pool.read(f, pos, ByteBuffer.wrap(out, pos, length - pos));
            assertThat(n).as("read of %s at %d", f, pos).isPositive();
            pos += n;
        }
        return out;
    }

    private static byte[] random(int n, long seed) {
        return PoolFixtures.random(n, seed);
    }

    @Test
    void aReadOfAnUnchangedResidentObjectLoadsNoRecord() throws Exception {
        byte[] body = random(10_000, 1);
        Fid f = write(1, body, true);
        assertThat(read(f, body.length)).isEqualTo(body);
        int loads = recordLoads.get();
        for (int i = 0; i < 5; i++) {
            assertThat(read(f, body.length)).isEqualTo(body);
        }
        assertThat(recordLoads.get())
                .as("record loads of five reads of an unchanged object")
                .isEqualTo(loads);
    }

    @Test
    void aSpillBetweenTwoReadsIsSeenByTheSecond() throws Exception {
        byte[] body = random(10_000, 2);
        Fid f = write(1, body, true);
        assertThat(read(f, body.length)).isEqualTo(body);
        assertThat(pool.migrator().spill(f, pool.device(1))).isInstanceOf(MoveResult.Done.class);
        // The metadata device holds a zero-length stub now: a read trusting the cached resident
        // record would end at 0.
        assertThat(read(f, body.length)).isEqualTo(body);
        assertThat(pool.object(f).orElseThrow().resident(0)).isFalse();
        // And back: a recall (a client write) between two reads.
        byte[] v2 = random(12_000, 3);
        write(1, v2, false);
        assertThat(read(f, v2.length)).isEqualTo(v2);
    }

    @Test
    void aSpillWhileAReadIsInsideTheMetadataDeviceMakesTheReadRetry() throws Exception {
        byte[] body = random(10_000, 4);
        Fid f = write(1, body, true);
        assertThat(read(f, body.length)).isEqualTo(body); // the record is cached now
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        holdNextRead.set(new CountDownLatch[] {entered, go});
        CompletableFuture<byte[]> reader = CompletableFuture.supplyAsync(() -> {
            try {
                return read(f, body.length);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        // The reader has its record (resident) and stamp, and is about to read the metadata device.
        entered.await();
        assertThat(pool.migrator().spill(f, pool.device(1))).isInstanceOf(MoveResult.Done.class);
        go.countDown();
        // Its body read found the stub; the stamp moved, so it read again from the spilled copy.
        assertThat(reader.join()).isEqualTo(body);
    }

    @Test
    void aRemountAfterACrashNeverServesARecordCachedBeforeIt() throws Exception {
        byte[] v1 = random(10_000, 5);
        Fid f = write(1, v1, true);
        pool.sync();
        assertThat(read(f, v1.length)).isEqualTo(v1);
        // Not synced: lost in the crash. Read, so the cache holds its record.
        byte[] v2 = random(20_000, 6);
        write(1, v2, false);
        assertThat(read(f, v2.length)).isEqualTo(v2);
        assertThat(pool.getAttr(f).size()).isEqualTo(v2.length);
        List<MemOsd> survived = new ArrayList<>();
        for (MemOsd m : raw) {
            survived.add(m.crash());
        }
        raw = survived;
        mount();
        assertThat(pool.getAttr(f).size()).isEqualTo(v1.length);
        assertThat(pool.object(f).orElseThrow().size()).isEqualTo(v1.length);
        assertThat(read(f, v1.length)).isEqualTo(v1);
        ByteBuffer past = ByteBuffer.allocate(100);
        assertThat(pool.read(f, v1.length, past)).as("nothing past v1's end").isZero();
    }
}
