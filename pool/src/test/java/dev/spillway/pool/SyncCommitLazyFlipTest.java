package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Fid;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.filter.FilterOsd;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.ops.MoveResult;
import dev.spillway.pool.recovery.Fsck;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The crash states of a {@code write-commit: sync 2} write that the one-round protocol adds
 * (docs/design.md, "Write-commit"), each reached deterministically: latches on the devices' forces
 * order the top transaction's force and the copy's, and the power cut is taken at the chosen
 * moment ({@link MemOsd#crash()} keeps what was durable then). The crash-point campaign
 * ({@link SyncCommitCrashTest}) reaches them too, at random.
 */
class SyncCommitLazyFlipTest {
    private static final Fid F = CrashCampaign.object(0);

    /** A device whose force can be observed and held (every sync of the device goes through {@link #sync()}). */
    static final class Forces extends FilterOsd {
        volatile Runnable before = () -> {};
        volatile Runnable after = () -> {};

        Forces(Osd in) {
            super(in);
        }

        @Override
        public void sync() throws OsdException {
            before.run();
            super.sync();
            after.run();
        }
    }

    private final PoolConfig config = SyncCommitCrashTest.config(0);
    private final List<MemOsd> raw = new ArrayList<>();
    private final List<Forces> devices = new ArrayList<>();

    private PoolOsd mount() throws OsdException {
        raw.addAll(CrashCampaign.freshDevices(config));
        return PoolOsd.mount(config, InstantSource.system(), PoolOsd.MountMode.RECOVER, (d, clock) -> {
            Forces f = new Forces(raw.get(d.index()));
            devices.add(f);
            return f;
        });
    }

    private static PoolOsd mountOn(PoolConfig c, List<MemOsd> survived, PoolOsd.MountMode mode) throws OsdException {
        return PoolFixtures.mountOn(c, survived, mode);
    }

    /** The power cut: what each device had durable. */
    private List<MemOsd> crash() throws OsdException {
        List<MemOsd> out = new ArrayList<>();
        for (MemOsd m : raw) {
            out.add(m.crash());
        }
        return out;
    }

    /** The same durable state again, once a read-only look at it is done (that look wrote nothing). */
    private static List<MemOsd> again(List<MemOsd> looked) throws OsdException {
        List<MemOsd> out = new ArrayList<>();
        for (MemOsd m : looked) {
            out.add(m.crash());
        }
        return out;
    }

    private static byte[] body(int n, long seed) {
        return PoolFixtures.random(n, seed);
    }

    /** Writes {@code body} as {@code f}'s whole body; true if the write was acknowledged (callback without error). */
    private static boolean write(PoolOsd pool, Fid f, byte[] body) throws OsdException {
        AtomicBoolean acked = new AtomicBoolean();
        PoolFixtures.replace(pool, f, body, tx -> tx.addCommitCallback((id, err) -> acked.set(err == null)));
        return acked.get();
    }

    private static byte[] read(PoolOsd pool, Fid f) throws OsdException {
        return PoolFixtures.read(pool, f);
    }

    private static long inSyncDevices(PoolOsd pool, PoolObject p) {
        return p.inSync().stream()
                .filter(c -> c.version() == p.dataVersion()
                        && pool.device(c.device()).durability() > 0)
                .mapToInt(Copy::device)
                .distinct()
                .count();
    }

    private static void assertFsckClean(PoolOsd pool, String where) throws OsdException {
        Fsck.Report r = pool.fsck(false, true, null);
        assertThat(r.problems()).as("fsck after recovery (%s)", where).isEmpty();
    }

    @Test
    void anAcknowledgedWriteWhoseFlipWasNotDurableIsRolledForward() throws Exception {
        PoolOsd pool = mount();
        byte[] v1 = body(5000, 1);
        assertThat(write(pool, F, v1)).isTrue();
        pool.sync();
        byte[] v2 = body(7000, 2);
        assertThat(write(pool, F, v2)).as("acknowledged").isTrue();
        // In memory the copy is flipped already.
        assertThat(inSyncDevices(pool, pool.object(F).orElseThrow())).isEqualTo(2);

        List<MemOsd> cut = crash();
        // What the cut left, before recovery: the new version, its copy still pending with its job
        // (the flip was committed without a force and nothing forced the metadata device since).
        PoolOsd asLeft = mountOn(config, cut, PoolOsd.MountMode.CHECK);
        PoolObject left = asLeft.object(F).orElseThrow();
        assertThat(left.size()).isEqualTo(v2.length);
        assertThat(left.copies()).anyMatch(c -> c.state() == CopyState.PENDING);
        assertThat(asLeft.jobs())
                .anyMatch(j -> j.kind() == Job.Kind.SYNC_COPY && j.fid().equals(F));

        PoolOsd after = mountOn(config, again(cut), PoolOsd.MountMode.RECOVER);
        assertFsckClean(after, "flip not durable");
        PoolObject p = after.object(F).orElseThrow();
        assertThat(inSyncDevices(after, p))
                .as("the acknowledged write keeps its two copies: %s", p)
                .isEqualTo(2);
        assertThat(read(after, F)).isEqualTo(v2);
        assertThat(after.jobs()).noneMatch(j -> j.kind() == Job.Kind.SYNC_COPY);
        // The copy rolled forward is the one its checksums describe: a deep verify of it passes.
        assertThat(after.migrator().verify(F)).isInstanceOf(MoveResult.Done.class);
    }

    @Test
    void aCopyDurableBeforeItsTopTransactionIsDeletedAndTheWriteIsNotAcknowledged() throws Exception {
        PoolOsd pool = mount();
        Forces fast = devices.get(0);
        CountDownLatch copyDurable = new CountDownLatch(1);
        List<MemOsd> cut = new ArrayList<>();
        for (Forces slow : devices.subList(1, devices.size())) {
            slow.after = copyDurable::countDown;
        }
        // The top transaction's force waits for the copy's, and the power goes before it happens.
        fast.before = () -> {
            try {
                assertThat(copyDurable.await(30, TimeUnit.SECONDS)).isTrue();
                cut.addAll(crash());
            } catch (InterruptedException | OsdException e) {
                throw new AssertionError(e);
            }
        };
        byte[] v1 = body(3000, 3);
        boolean acked;
        try {
            acked = write(pool, F, v1);
        } catch (OsdException e) {
            acked = false;
        }
        assertThat(acked)
                .as("not acknowledged: its top transaction was not durable")
                .isFalse();
        assertThat(cut).isNotEmpty();

        // Left by the cut: no object, and on a background device a copy nothing names but its lease.
        PoolOsd asLeft = mountOn(config, cut, PoolOsd.MountMode.CHECK);
        assertThat(asLeft.exists(F)).isFalse();
        long leftover = 0;
        for (int d = 1; d < cut.size(); d++) {
            try (var c = cut.get(d).listObjects()) {
                while (c.next()) {
                    leftover++;
                }
            }
        }
        assertThat(leftover)
                .as("the copy was durable before the top transaction")
                .isEqualTo(1);

        List<MemOsd> survived = again(cut);
        PoolOsd after = mountOn(config, survived, PoolOsd.MountMode.RECOVER);
        assertFsckClean(after, "copy durable, top transaction lost");
        assertThat(after.exists(F)).isFalse();
        for (int d = 1; d < survived.size(); d++) {
            try (var c = survived.get(d).listObjects()) {
                assertThat(c.next()).as("orphan copy deleted by recovery").isFalse();
            }
        }
    }

    @Test
    void aTopTransactionDurableBeforeItsCopyIsRolledBackAndTheWriteIsNotAcknowledged() throws Exception {
        PoolOsd pool = mount();
        byte[] v1 = body(4000, 4);
        assertThat(write(pool, F, v1)).isTrue();
        pool.sync();
        Forces fast = devices.get(0);
        CountDownLatch topDurable = new CountDownLatch(1);
        List<MemOsd> cut = new ArrayList<>();
        fast.after = topDurable::countDown;
        // The copy's force waits for the top transaction's, and the power goes before it happens.
        for (Forces slow : devices.subList(1, devices.size())) {
            slow.before = () -> {
                try {
                    assertThat(topDurable.await(30, TimeUnit.SECONDS)).isTrue();
                    if (cut.isEmpty()) {
                        cut.addAll(crash());
                    }
                } catch (InterruptedException | OsdException e) {
                    throw new AssertionError(e);
                }
            };
        }
        byte[] v2 = body(6000, 5);
        boolean acked;
        try {
            acked = write(pool, F, v2);
        } catch (OsdException e) {
            acked = false;
        }
        assertThat(acked).isFalse();
        assertThat(cut).isNotEmpty();

        PoolOsd asLeft = mountOn(config, cut, PoolOsd.MountMode.CHECK);
        assertThat(asLeft.object(F).orElseThrow().size())
                .as("the top transaction was durable")
                .isEqualTo(v2.length);

        PoolOsd after = mountOn(config, again(cut), PoolOsd.MountMode.RECOVER);
        assertFsckClean(after, "top transaction durable, copy not");
        Optional<PoolObject> p = after.object(F);
        // Not acknowledged: the new version stands with the one copy that is durable; the daemon
        // makes the other.
        assertThat(read(after, F)).isEqualTo(v2);
        assertThat(p.orElseThrow().copies()).noneMatch(c -> c.state() == CopyState.PENDING);
        assertThat(after.jobs()).noneMatch(j -> j.kind() == Job.Kind.SYNC_COPY);
    }

    @Test
    void anAcknowledgementDoesNotWaitForTheForcingThreadToBeScheduled() throws Exception {
        PoolOsd pool = mount();
        assertThat(write(pool, F, body(5000, 6))).isTrue(); // leases taken, outside what is watched
        // The thread that would force the top transaction is never scheduled (a busy machine):
        // the writing thread runs the force itself once its copies are durable.
        List<Runnable> held = new CopyOnWriteArrayList<>();
        pool.syncCommit().forcingThreads(held::add);
        Forces fast = devices.get(0);
        List<Thread> forcedOn = new CopyOnWriteArrayList<>();
        fast.before = () -> forcedOn.add(Thread.currentThread());
        byte[] v2 = body(7000, 7);
        FutureTask<Boolean> w = new FutureTask<>(() -> write(pool, F, v2));
        Thread writer = new Thread(w, "writer");
        writer.setDaemon(true);
        writer.start();
        AtomicReference<Boolean> acked = new AtomicReference<>();
        try {
            // Before the fix the write waited for the held thread for ever: only this guard ended it.
            acked.set(w.get(30, TimeUnit.SECONDS));
        } finally {
            held.forEach(Runnable::run);
        }
        assertThat(acked.get()).as("acknowledged").isTrue();
        assertThat(forcedOn)
                .as("the metadata device forced once, by the writer")
                .containsExactly(writer);
        // Scheduled at last, the held thread found the force done: it forced nothing more.
        assertThat(forcedOn).hasSize(1);

        // Acknowledged means durable: a power cut now keeps the write, with its two copies.
        PoolOsd after = mountOn(config, crash(), PoolOsd.MountMode.RECOVER);
        assertFsckClean(after, "acknowledged with the force run by the writer");
        assertThat(read(after, F)).isEqualTo(v2);
        assertThat(inSyncDevices(after, after.object(F).orElseThrow())).isEqualTo(2);
    }
}
