package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Fid;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.filter.FilterOsd;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.PoolObjectCodec;
import dev.spillway.pool.meta.Span;
import dev.spillway.pool.ops.MoveResult;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A read takes its {@link ReadPlan} (resident, split and the metadata device's ranges, or
 * elsewhere) from the record cache, made once per record load: the plan must follow every layout
 * change — range spill, range promotion, whole spill and promotion, a write's recall, a repair —
 * and never send a read to a placement that was. Each step reads the object once before the change
 * (so the plan is cached), changes it, and checks the bytes and the device the pool says served
 * them; between changes, reads load no record (the cache is used). Mem devices; deep fsck after.
 */
class ReadPlanTest {
    private static final int K64 = 64 * 1024;
    private static final Span HEAD = new Span(0, 2 * K64);
    private static final Span MIDDLE = new Span(2 * K64, 5 * K64);

    private PoolConfig cfg;
    private final List<Flaky> devices = new ArrayList<>();
    private PoolOsd pool;
    private final AtomicInteger recordLoads = new AtomicInteger();
    /** The device the pool reported for the last read. */
    private final AtomicInteger servedBy = new AtomicInteger(-1);

    /** Under the metadata device's {@link Flaky}: counts loads of the pool record. */
    private final class Counted extends FilterOsd {
        Counted(Osd in) {
            super(in);
        }

        @Override
        public byte[] getXattr(Fid fid, String name) throws OsdException {
            if (name.equals(PoolObjectCodec.XATTR)) {
                recordLoads.incrementAndGet();
            }
            return in.getXattr(fid, name);
        }
    }

    @BeforeEach
    void mount() throws OsdException {
        cfg = PoolFixtures.memMem("plan", 0, 1, 2);
        List<MemOsd> raw = PoolFixtures.memDevices(cfg);
        devices.add(new Flaky(new Counted(raw.get(0))));
        for (int i = 1; i < raw.size(); i++) {
            devices.add(new Flaky(raw.get(i)));
        }
        pool = PoolFixtures.mountOn(cfg, devices, PoolOsd.MountMode.RECOVER);
        pool.listener(new PoolListener() {
            @Override
            public void readAt(Fid fid, long size, long offset, int n, boolean access, int device) {
                servedBy.set(device);
            }
        });
    }

    @AfterEach
    void fsckClean() throws OsdException {
        devices.forEach(d -> d.failReads.set(false));
        pool.migrator().collectGarbage();
        PoolFixtures.assertFsckClean(pool);
    }

    /** Reads {@code len} bytes at {@code off} in one call, checks them against {@code body}; the device that served them. */
    private int readChecked(Fid f, long off, int len, byte[] body) throws OsdException {
        byte[] got = new byte[len];
        servedBy.set(-1);
        int n = pool.read(f, off, ByteBuffer.wrap(got));
        assertThat(n).as("read of %d at %d", len, off).isEqualTo(len);
        assertThat(got)
                .as(() -> "bytes at " + off + " of " + describe(f))
                .isEqualTo(Arrays.copyOfRange(body, (int) off, (int) off + len));
        return servedBy.get();
    }

    /** Reads twice (the second from the cached record and plan, no load), checks both; the device that served them. */
    private int readTwiceCached(Fid f, long off, int len, byte[] body) throws OsdException {
        int first = readChecked(f, off, len, body);
        int loads = recordLoads.get();
        int second = readChecked(f, off, len, body);
        assertThat(recordLoads.get())
                .as("record loads of a read of an unchanged object")
                .isEqualTo(loads);
        assertThat(second).isEqualTo(first);
        return first;
    }

    /** The record, for a failure's message only (loading it counts as a record load). */
    private String describe(Fid f) {
        try {
            return pool.object(f).map(PoolObject::toString).orElse("(no record)");
        } catch (OsdException e) {
            return "(record not loaded: " + e.getMessage() + ")";
        }
    }

    private void done(MoveResult r) {
        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Done.class);
    }

    private PoolObject state(Fid f) throws OsdException {
        return pool.object(f).orElseThrow();
    }

    @Test
    void everyLayoutChangeOfASplitBodyIsSeenByTheNextReadOfTheCachedPlan() throws Exception {
        byte[] body = PoolFixtures.random(8 * K64, 1);
        Fid f = PoolFixtures.create(pool, new Fid(0x200000400L, 1, 0), body);
        assertThat(readTwiceCached(f, 0, 4096, body)).isZero();

        // Resident -> split: the middle range spilled; the head still reads here, the middle there.
        done(pool.migrator().spillRange(f, pool.device(1), MIDDLE.start(), MIDDLE.end()));
        assertThat(readTwiceCached(f, MIDDLE.start() + 4096, 4096, body)).isEqualTo(1);
        assertThat(readTwiceCached(f, 4096, 4096, body)).isZero();

        // The head, read from the cached plan just now, spilled too: its bytes are punched here. A
        // stale plan would read them from the metadata device (zeros).
        done(pool.migrator().spillRange(f, pool.device(2), HEAD.start(), HEAD.end()));
        assertThat(state(f).split(0)).isTrue();
        assertThat(readTwiceCached(f, 4096, 4096, body)).isEqualTo(2);
        // The rest, still here.
        assertThat(readTwiceCached(f, 6 * K64, 4096, body)).isZero();

        // The middle promoted back: read here, not from its old copy (garbage now).
        done(pool.migrator().promoteRange(f, MIDDLE.start(), MIDDLE.end()));
        assertThat(readTwiceCached(f, MIDDLE.start() + 4096, 4096, body)).isZero();
        // A read spanning the head (slow1) and the middle (here) is split at the boundary.
        assertThat(readTwiceCached(f, HEAD.end() - 4096, 8192, body)).isZero();

        // A client write into the spilled head recalls only the bytes it needs; the next read of
        // the head sees the write, from the metadata device.
        byte[] v2 = body.clone();
        Arrays.fill(v2, 100, 200, (byte) 7);
        try (Transaction tx = pool.newTransaction()) {
            tx.declareWrite(f, 100, 100);
            tx.start();
            tx.write(f, 100, ByteBuffer.wrap(v2, 100, 100));
        }
        assertThat(readTwiceCached(f, 0, 4096, v2)).isZero();
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(v2);
    }

    @Test
    void aWholeSpillAndPromotionOfAnObjectReadFromTheCachedPlanAreSeen() throws Exception {
        byte[] body = PoolFixtures.random(8 * K64, 2);
        Fid f = PoolFixtures.create(pool, new Fid(0x200000400L, 2, 0), body);
        assertThat(readTwiceCached(f, 4096, 4096, body)).isZero();
        done(pool.migrator().spill(f, pool.device(1)));
        assertThat(readTwiceCached(f, 4096, 4096, body)).isEqualTo(1);
        done(pool.migrator().promote(f));
        assertThat(readTwiceCached(f, 4096, 4096, body)).isZero();

        // Resident -> split by a range spill, then spilled whole: nothing is read here any more.
        done(pool.migrator().spillRange(f, pool.device(2), MIDDLE.start(), MIDDLE.end()));
        assertThat(readTwiceCached(f, 4096, 4096, body)).isZero();
        done(pool.migrator().spill(f, pool.device(1)));
        assertThat(state(f).on(0).map(Copy::whole).orElse(false)).isFalse();
        assertThat(readTwiceCached(f, 4096, 4096, body)).isEqualTo(1);
    }

    @Test
    void aRepairOfACopyOfARangeReadFromTheCachedPlanIsSeen() throws Exception {
        byte[] body = PoolFixtures.random(8 * K64, 3);
        Fid f = PoolFixtures.create(pool, new Fid(0x200000400L, 3, 0), body);
        done(pool.migrator().spillRange(f, pool.device(1), MIDDLE.start(), MIDDLE.end()));
        done(pool.migrator().copy(f, pool.device(2), false));
        assertThat(readTwiceCached(f, MIDDLE.start(), 4096, body)).isEqualTo(1);

        // The copy of the range fails its read: served by the whole copy, the failed one marked
        // stale (a layout change); then its resync makes a new one (another).
        devices.get(1).failReads.set(true);
        assertThat(readChecked(f, MIDDLE.start(), 4096, body)).isEqualTo(2);
        devices.get(1).failReads.set(false);
        assertThat(readTwiceCached(f, MIDDLE.start(), 4096, body)).isEqualTo(2);
        done(pool.migrator().resync(f, 1));
        assertThat(readTwiceCached(f, MIDDLE.start(), 4096, body)).isEqualTo(1);

        // Its device lost: the read goes to the whole copy.
        pool.deviceOps().setState(pool.device(1), DeviceState.FAILED);
        assertThat(readTwiceCached(f, MIDDLE.start(), 4096, body)).isEqualTo(2);
        assertThat(readTwiceCached(f, 0, 4096, body)).isZero();
    }
}
