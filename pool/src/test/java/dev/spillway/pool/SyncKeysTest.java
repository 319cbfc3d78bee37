package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.filter.FilterOsd;
import dev.spillway.osd.filter.FilterTransaction;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.testkit.fault.FaultInjectingStorage;
import dev.spillway.osd.vfs.VfsOsd;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.ops.SyncKeys;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The leased keys of sync copies ({@link SyncKeys}) on a device whose copies are precreated (osd-vfs,
 * journal off), when things go wrong: a precreation that fails, refills side by side with writers,
 * a device that fails. The clock is the test's. (The order of an unforced delete and a lease's
 * end at mount is argued in design.md, Write-commit; no test here.)
 */
class SyncKeysTest {
    private static final String YAML = """
            name: keys
            replicas: 2
            write-commit: sync 2
            devices:
              - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {durability: simulated, strict-declares: true}}
              - {name: slow, backend: vfs, roles: [background], settings: {journal: "off", strict-declares: true}}
            """;

    /**
     * The vfs device. While {@link #failBatches} is set, a transaction's third create fails (a
     * batch's precreation: a copy's own transaction creates one object), as a device out of inodes.
     */
    static final class Creates extends FilterOsd {
        volatile boolean failBatches;
        /** While set, every delete fails. */
        volatile boolean failDeletes;
        /** While set, a batch's precreation counts {@link #batchHeld} down and waits for it. */
        volatile CountDownLatch holdBatches;

        final CountDownLatch batchHeld = new CountDownLatch(1);
        /** Transactions that created more than one object: the precreations tried. */
        final AtomicInteger batches = new AtomicInteger();

        Creates(Osd in) {
            super(in);
        }

        @Override
        protected Transaction wrap(Transaction tx) {
            return new FilterTransaction(tx) {
                private int creates;

                @Override
                public void create(Fid fid, ObjectKind kind, AttrChange attrs) throws OsdException {
                    if (++creates == 2) {
                        batches.incrementAndGet();
                        CountDownLatch hold = holdBatches;
                        if (hold != null) {
                            batchHeld.countDown();
                            try {
                                hold.await();
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                                throw new OsdException(Errno.EIO, name(), fid, "interrupted");
                            }
                        }
                    }
                    if (failBatches && creates == 3) {
                        throw new OsdException(Errno.ENOSPC, name(), fid, "injected: no inode left");
                    }
                    super.create(fid, kind, attrs);
                }

                @Override
                public boolean destroyIfExists(Fid fid) throws OsdException {
                    if (failDeletes) {
                        throw new OsdException(Errno.EIO, name(), fid, "injected: delete failed");
                    }
                    return super.destroyIfExists(fid);
                }

                @Override
                public void destroy(Fid fid) throws OsdException {
                    if (failDeletes) {
                        throw new OsdException(Errno.EIO, name(), fid, "injected: delete failed");
                    }
                    super.destroy(fid);
                }
            };
        }

        @Override
        public void sync(Fid fid) throws OsdException {
            in.sync(fid);
        }

        @Override
        public void sync(Collection<Fid> fids) throws OsdException {
            in.sync(fids);
        }
    }

    private final PoolConfig config = parse();
    private final AtomicLong now = new AtomicLong(1_700_000_000_000_000_000L);
    private final InstantSource clock = () -> Instant.ofEpochSecond(0, now.get());
    private final FaultInjectingStorage slowStorage = new FaultInjectingStorage(FaultInjectingStorage.Features.ext4());
    private MemOsd md;
    private Creates slow;
    private final Map<Fid, byte[]> bodies = new LinkedHashMap<>();

    private static PoolConfig parse() {
        try {
            return PoolConfigParser.parse(YAML, "sync keys test");
        } catch (OsdException e) {
            throw new IllegalStateException(e);
        }
    }

    private PoolOsd mount() throws OsdException {
        return PoolOsd.mount(config, clock, PoolOsd.MountMode.RECOVER, (d, c) -> {
            if (d.backend().equals("mem")) {
                // The metadata device: fresh, or what the last one had durable at its close.
                md = md == null ? new MemOsd(new OsdConfig(d.name(), d.backend(), d.settings(), c)) : md.crash();
                return md;
            }
            slow = new Creates(
                    VfsOsd.open(new OsdConfig(d.name(), d.backend(), d.settings(), c), slowStorage, Runnable::run));
            return slow;
        });
    }

    /** A sync write of a new body to object {@code i}. */
    private void write(PoolOsd pool, int i) throws OsdException {
        Fid f = CrashCampaign.object(i);
        bodies.put(f, PoolFixtures.random(512, i));
        PoolFixtures.replace(pool, f, bodies.get(f), tx -> {});
    }

    /** Every body written reads back, with two in-sync copies; no lease is left; fsck is clean. */
    private void assertSettledAfterRemount() throws OsdException {
        try (PoolOsd pool = mount()) {
            assertThat(SyncKeys.all(md)).as("leases after a remount").isEmpty();
            assertThat(PoolFixtures.onDevice(pool.device(1).osd()))
                    .as("objects on the vfs device: the copies only")
                    .hasSize(bodies.size());
            for (Map.Entry<Fid, byte[]> e : bodies.entrySet()) {
                assertThat(PoolFixtures.read(pool, e.getKey())).isEqualTo(e.getValue());
                PoolFixtures.assertTwoInSyncCopies(pool, e.getKey());
            }
            assertThat(pool.fsck(false, true, null).problems()).isEmpty();
        }
    }

    /**
     * A precreation that fails leaves its batch's leases in use, not stranded: what it created is
     * deleted and each copy creates its own object under the same keys. Precreation on the device
     * then backs off (by the pool's clock, doubled per failure) and comes back once it works.
     * Before, every refill leased a second batch and stranded the first (63 leases after one write,
     * not 31), tried the precreation again each time, and left its objects for the next mount.
     */
    @Test
    void aFailedPrecreationReusesItsLeasesAndBacksOff() throws Exception {
        int batch = SyncKeys.BATCH;
        try (PoolOsd pool = mount()) {
            slow.failBatches = true;
            write(pool, 0);
            assertThat(slow.batches).as("precreations tried").hasValue(1);
            assertThat(SyncKeys.all(md)).as("leases after the first write").hasSize(batch - 1);
            assertThat(PoolFixtures.onDevice(slow))
                    .as("objects on the vfs device: the copy only")
                    .hasSize(1);
            PoolFixtures.assertTwoInSyncCopies(pool, CrashCampaign.object(0));

            // The batch is used up; the next refill falls in the back-off: no precreation.
            int n = 1;
            for (; n <= batch; n++) {
                write(pool, n);
            }
            assertThat(slow.batches)
                    .as("precreations tried within the back-off")
                    .hasValue(1);
            assertThat(SyncKeys.all(md)).as("leases after %d writes", n).hasSize(2 * batch - n);

            // The back-off is over: tried again, fails again, and the back-off doubles.
            now.addAndGet(SyncKeys.BACKOFF_NANOS);
            for (; n <= 2 * batch; n++) {
                write(pool, n);
            }
            assertThat(slow.batches).as("precreations tried after the back-off").hasValue(2);
            now.addAndGet(SyncKeys.BACKOFF_NANOS);
            for (; n <= 3 * batch; n++) {
                write(pool, n);
            }
            assertThat(slow.batches)
                    .as("precreations tried within the doubled back-off")
                    .hasValue(2);
            assertThat(SyncKeys.all(md)).as("leases after %d writes", n).hasSize(4 * batch - n);
            assertThat(PoolFixtures.onDevice(slow))
                    .as("objects on the vfs device: the copies only")
                    .hasSize(n);

            // The device works again: the next batch after the back-off is precreated.
            slow.failBatches = false;
            now.addAndGet(SyncKeys.BACKOFF_NANOS);
            for (; n <= 4 * batch; n++) {
                write(pool, n);
            }
            assertThat(slow.batches)
                    .as("precreations tried once the device works")
                    .hasValue(3);
            assertThat(PoolFixtures.onDevice(slow))
                    .as("objects on the vfs device: the copies and the batch's precreated ones")
                    .hasSize(n + batch - 1);
            for (Fid f : bodies.keySet()) {
                PoolFixtures.assertTwoInSyncCopies(pool, f);
            }
            assertThat(pool.fsck(false, true, null).problems()).isEmpty();
        }
        assertSettledAfterRemount();
    }

    /**
     * A failed precreation whose leftovers cannot be deleted either keeps its batch leased, and
     * the device's next refill deletes them and reuses the batch instead of leasing another.
     */
    @Test
    void aBatchThatCannotBeClearedIsReusedByTheNextRefill() throws Exception {
        int batch = SyncKeys.BATCH;
        try (PoolOsd pool = mount()) {
            slow.failBatches = true;
            slow.failDeletes = true;
            write(pool, 0);
            // The failed batch's leases wait; a batch without precreation serves.
            assertThat(SyncKeys.all(md)).as("leases after the first write").hasSize(2 * batch - 1);
            slow.failBatches = false;
            slow.failDeletes = false;
            int n = 1;
            for (; n <= batch; n++) {
                write(pool, n);
            }
            assertThat(SyncKeys.all(md))
                    .as("leases after %d writes (the waiting batch reused)", n)
                    .hasSize(2 * batch - n);
            assertThat(PoolFixtures.onDevice(slow))
                    .as("objects on the vfs device: the copies only")
                    .hasSize(n);
            assertThat(slow.batches).as("precreations tried").hasValue(1);
            assertThat(pool.fsck(false, true, null).problems()).isEmpty();
        }
        assertSettledAfterRemount();
    }

    /**
     * Whether {@code t} is blocked on a {@link SyncKeys}' lock: a writer waiting for another's
     * refill (a platform thread, so that its lock shows).
     */
    private static boolean blockedOnSyncKeys(Thread t) {
        ThreadInfo i = ManagementFactory.getThreadMXBean().getThreadInfo(t.threadId());
        return i != null
                && i.getThreadState() == Thread.State.BLOCKED
                && i.getLockInfo() != null
                && i.getLockInfo().getClassName().equals(SyncKeys.class.getName());
    }

    /**
     * A refill (its lease, 32 creates and their syncs) does not hold up the device's other
     * writers: one that finds no key left while it runs leases a key of its own and goes on, and
     * no second refill starts. Before, every writer of the device waited on the lock the refill
     * held (the second writer was found blocked on SyncKeys while the precreation was held).
     */
    @Test
    void aWriterDoesNotWaitForAnotherWritersRefill() throws Exception {
        int batch = SyncKeys.BATCH;
        try (PoolOsd pool = mount()) {
            CountDownLatch release = new CountDownLatch(1);
            slow.holdBatches = release;
            FutureTask<Void> first = new FutureTask<>(() -> {
                write(pool, 0);
                return null;
            });
            Thread.ofPlatform().start(first);
            assertThat(slow.batchHeld.await(120, TimeUnit.SECONDS))
                    .as("the first write's refill reached its precreation")
                    .isTrue();
            FutureTask<Void> second = new FutureTask<>(() -> {
                write(pool, 1);
                return null;
            });
            Thread writer = Thread.ofPlatform().start(second);
            // Ends when the second write is done, or when it waits on the lock the held refill has.
            long guard = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!second.isDone() && !blockedOnSyncKeys(writer) && System.nanoTime() < guard) {
                Thread.onSpinWait();
            }
            boolean waited = !second.isDone();
            release.countDown();
            slow.holdBatches = null;
            first.get(120, TimeUnit.SECONDS);
            second.get(120, TimeUnit.SECONDS);
            assertThat(waited)
                    .as("the second writer waited for the first one's refill")
                    .isFalse();
            assertThat(slow.batches).as("precreations").hasValue(1);
            // The batch and the second writer's own key, two of them used.
            assertThat(SyncKeys.all(md)).as("leases after two writes").hasSize(batch - 1);
            for (int n = 2; n < batch + 1; n++) {
                write(pool, n);
            }
            assertThat(slow.batches)
                    .as("precreations once the batch is used up")
                    .hasValue(1);
            assertThat(SyncKeys.all(md)).as("leases after the batch is used up").isEmpty();
            assertThat(PoolFixtures.onDevice(slow))
                    .as("objects on the vfs device: the copies only")
                    .hasSize(batch + 1);
            assertThat(pool.fsck(false, true, null).problems()).isEmpty();
        }
        assertSettledAfterRemount();
    }

    /**
     * A device that fails loses its precreated keys: none of them is handed out once it is back
     * (its objects may be gone with a replaced or wiped disk, as here), and their leases stay for
     * the next mount, which settles them. Before, the next write after the device came back was
     * given an old precreated key whose object was gone, and its copy failed (EIO: one copy of two).
     */
    @Test
    void aFailedDevicesPrecreatedKeysAreNotHandedOutAgain() throws Exception {
        try (PoolOsd pool = mount()) {
            write(pool, 0);
            Fid copy = pool.requireObject(CrashCampaign.object(0))
                    .on(1)
                    .orElseThrow()
                    .key();
            List<Fid> before =
                    SyncKeys.all(md).stream().map(SyncKeys.Lease::key).toList();
            assertThat(before).as("the batch's other keys, precreated").hasSize(SyncKeys.BATCH - 1);

            pool.deviceOps().setState(pool.device(1), DeviceState.FAILED);
            // The disk lost what it held but the copy (its precreated objects, say).
            for (Fid f : PoolFixtures.onDevice(slow)) {
                if (!f.equals(copy)) {
                    try (Transaction tx = slow.newTransaction()) {
                        tx.declareDestroy(f);
                        tx.start();
                        tx.destroy(f);
                    }
                }
            }
            slow.sync();
            pool.deviceOps().setState(pool.device(1), DeviceState.RW);

            assertThatCode(() -> write(pool, 1))
                    .as("a sync write once the device is back")
                    .doesNotThrowAnyException();
            Fid next = pool.requireObject(CrashCampaign.object(1))
                    .on(1)
                    .orElseThrow()
                    .key();
            assertThat(before).as("keys leased before the failure").doesNotContain(next);
            PoolFixtures.assertTwoInSyncCopies(pool, CrashCampaign.object(1));
            // The old leases wait for the mount, beside the new batch's.
            assertThat(SyncKeys.all(md).stream().map(SyncKeys.Lease::key).toList())
                    .as("leases")
                    .containsAll(before)
                    .hasSize(2 * SyncKeys.BATCH - 2);
        }
        assertSettledAfterRemount();
    }
}
