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
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.spi.Osds;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.meta.Job;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mount-time roll-back of many copies in flight is batched: the metadata transactions a mount
 * spends on N rolled-back COPY jobs are one per batch of 128 jobs (the pending copies are deleted
 * first, so no GC job is written and removed again), the pending copies go from their device in
 * one device transaction per batch of up to 1,024 ({@code Garbage.DESTROY_BATCH}), not one each
 * (most were never written), and their debris on the target is gone.
 */
class RollBackBatchTest {
    private static final int JOBS = 300;

    @TempDir
    Path dir;

    private PoolConfig config() throws OsdException {
        return PoolConfigParser.parse("""
                name: batch
                devices:
                  - {name: fast, backend: kv, roles: [metadata, foreground, promote], settings: {path: '%s'}}
                  - {name: slow, backend: vfs, roles: [background], settings: {path: '%s', journal: 'off'}}
                """.formatted(dir.resolve("fast"), dir.resolve("slow")), "roll-back batch test");
    }

    /** Counts the metadata device's transactions (and syncs). */
    private static final class Counting extends FilterOsd {
        final AtomicInteger transactions;

        Counting(Osd in, AtomicInteger transactions) {
            super(in);
            this.transactions = transactions;
        }

        @Override
        public Transaction newTransaction() throws OsdException {
            transactions.incrementAndGet();
            return super.newTransaction();
        }
    }

    private PoolOsd mountCounting(PoolConfig c, AtomicInteger count) throws OsdException {
        return mountCounting(c, count, new AtomicInteger());
    }

    /** Counts the metadata device's transactions in {@code count}, the spill device's in {@code slow}. */
    private PoolOsd mountCounting(PoolConfig c, AtomicInteger count, AtomicInteger slow) throws OsdException {
        return PoolOsd.mount(c, InstantSource.system(), PoolOsd.MountMode.RECOVER, (d, clock) -> {
            Osd o = Osds.open(new OsdConfig(d.name(), d.backend(), d.settings(), clock));
            return new Counting(o, d.index() == 0 ? count : slow);
        });
    }

    @Test
    void aMountRollsBackManyCopiesInOneMetadataTransactionPerBatch() throws Exception {
        PoolConfig c = config();
        List<Job> pending = new ArrayList<>();
        try (PoolOsd pool = PoolOsd.mount(c, InstantSource.system(), PoolOsd.MountMode.RECOVER)) {
            for (int i = 1; i <= JOBS; i++) {
                PoolFixtures.create(pool, new Fid(0x200000400L, i, 0), new byte[] {(byte) i, 2, 3});
            }
            for (int i = 1; i <= JOBS; i++) {
                pending.add(pool.migrator()
                        .begin(new Fid(0x200000400L, i, 0), pool.device(1))
                        .orElseThrow());
            }
            // Some copies got partly written before the crash: debris on the target.
            Osd slow = pool.device(1).osd();
            for (int i = 0; i < JOBS; i += 3) {
                Fid key = pending.get(i).key();
                try (Transaction tx = slow.newTransaction()) {
                    tx.declareCreate(key, ObjectKind.DATA);
                    tx.declareWrite(key, 0, 1);
                    tx.start();
                    tx.create(key, ObjectKind.DATA, AttrChange.none());
                    tx.write(key, 0, ByteBuffer.wrap(new byte[] {1}));
                }
            }
            pool.sync();
        }
        AtomicInteger counter = new AtomicInteger();
        AtomicInteger slowCounter = new AtomicInteger();
        int withJobs;
        int slowWithJobs;
        try (PoolOsd pool = mountCounting(c, counter, slowCounter)) {
            withJobs = counter.get();
            slowWithJobs = slowCounter.get();
            assertThat(pool.recoveryReport().rolledBack()).isEqualTo(JOBS);
            assertThat(pool.recoveryReport().collected() + pool.recoveryReport().missing())
                    .isEqualTo(JOBS);
            assertThat(pool.recoveryReport().collected()).isEqualTo(JOBS / 3);
            assertThat(pool.fsck(false, true, null).problems()).isEmpty();
            for (Job j : pending) {
                assertThatThrownBy(() -> pool.device(1).osd().getAttr(j.key()))
                        .isInstanceOfSatisfying(
                                OsdException.class,
                                e -> assertThat(e.is(Errno.ENOENT)).isTrue());
            }
        }
        // The same pool mounted with no work in flight: the mount's fixed metadata transactions.
        counter.set(0);
        slowCounter.set(0);
        int idle;
        int slowIdle;
        try (PoolOsd pool = mountCounting(c, counter, slowCounter)) {
            idle = counter.get();
            slowIdle = slowCounter.get();
            assertThat(pool.recoveryReport().jobs()).isEmpty();
        }
        int batches = (JOBS + 127) / 128;
        assertThat(withJobs - idle)
                .as(
                        "metadata transactions for %d rolled-back jobs (mount with them %d, without %d)",
                        JOBS, withJobs, idle)
                .isLessThanOrEqualTo(batches);
        // The spill device: the pending copies (a third of them partly written, the rest never)
        // are deleted in one transaction per batch, not one each.
        assertThat(slowWithJobs - slowIdle)
                .as(
                        "spill-device transactions for %d rolled-back copies (mount with them %d, without %d)",
                        JOBS, slowWithJobs, slowIdle)
                .isLessThanOrEqualTo(1); // one batch holds up to 1,024 (Garbage.DESTROY_BATCH)
    }
}
