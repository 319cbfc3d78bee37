package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.filter.FilterOsd;
import dev.spillway.osd.filter.FilterTransaction;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.spi.Osds;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sync transaction releases its objects' locks once its metadata commit is published and only
 * then waits for the metadata device's force (early lock release): two sync writers of one index
 * (an S3 bucket's keys) both reach the force while the first is still waiting for it, so they can
 * share one force, and each stop still returns only once its commit is durable. Before, the first
 * held the index through its force and the second could not even start.
 */
class EarlyLockReleaseTest {
    private static final String WRITER = "elr-writer-";

    @TempDir
    Path dir;

    private PoolConfig config() throws OsdException {
        return PoolConfigParser.parse(
                """
                name: elr
                devices:
                  - {name: fast, backend: kv, roles: [metadata, foreground, promote], settings: {path: '%s'}}
                  - {name: slow, backend: vfs, roles: [background], settings: {path: '%s', journal: 'off'}}
                """.formatted(dir.resolve("fast"), dir.resolve("slow")), "early lock release test");
    }

    /**
     * The metadata device, whose force — a sync transaction's stop, or a sync — is held for the
     * test's writer threads while {@code holding}: each arrival counts down {@code arrived}.
     */
    private static final class HeldForce extends FilterOsd {
        volatile boolean holding;
        volatile CountDownLatch arrived = new CountDownLatch(0);
        final CountDownLatch release = new CountDownLatch(1);

        HeldForce(Osd in) {
            super(in);
        }

        private void force() {
            if (holding && Thread.currentThread().getName().startsWith(WRITER)) {
                arrived.countDown();
                try {
                    // A guard only: the test releases it.
                    release.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        @Override
        public void sync() throws OsdException {
            force();
            super.sync();
        }

        @Override
        protected Transaction wrap(Transaction tx) {
            return new FilterTransaction(tx) {
                private boolean sync;

                @Override
                public void setSync(boolean s) {
                    sync = s;
                    super.setSync(s);
                }

                @Override
                public void stop() throws OsdException {
                    super.stop();
                    if (sync) {
                        force();
                    }
                }
            };
        }
    }

    private static void insert(Osd pool, Fid index, String key) throws OsdException {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        try (Transaction tx = pool.newTransaction()) {
            tx.declareInsert(index, k.length, 1);
            tx.setSync(true);
            tx.start();
            tx.insert(index, k, new byte[] {1});
        }
    }

    private static CompletableFuture<Void> insertOn(String name, Osd pool, Fid index, String key) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread.ofPlatform().name(WRITER + name).start(() -> {
            try {
                insert(pool, index, key);
                done.complete(null);
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        });
        return done;
    }

    @Test
    void twoSyncWritersOfOneIndexBothReachTheForceWhileTheFirstWaitsForIt() throws Exception {
        HeldForce[] md = new HeldForce[1];
        Fid index = new Fid(0x200000400L, 1, 0);
        try (PoolOsd pool = PoolOsd.mount(config(), InstantSource.system(), PoolOsd.MountMode.RECOVER, (d, clock) -> {
            Osd o = Osds.open(new OsdConfig(d.name(), d.backend(), d.settings(), clock));
            if (d.index() != 0) {
                return o;
            }
            md[0] = new HeldForce(o);
            return md[0];
        })) {
            try (Transaction tx = pool.newTransaction()) {
                tx.declareCreate(index, ObjectKind.INDEX);
                tx.start();
                tx.create(index, ObjectKind.INDEX, AttrChange.none());
            }
            HeldForce force = md[0];
            force.arrived = new CountDownLatch(1);
            force.holding = true;
            CompletableFuture<Void> first = insertOn("a", pool, index, "a");
            assertThat(force.arrived.await(60, TimeUnit.SECONDS))
                    .as("the first writer reached the force")
                    .isTrue();
            force.arrived = new CountDownLatch(1);
            CompletableFuture<Void> second = insertOn("b", pool, index, "b");
            // Before early lock release the second writer waited for the index's lock, which the
            // first held through its force: it never got here (the guard ends that run).
            assertThat(force.arrived.await(60, TimeUnit.SECONDS))
                    .as("the second writer of the index reached the force while the first still waits for it")
                    .isTrue();
            assertThat(pool.lookup(index, "b".getBytes(StandardCharsets.UTF_8)))
                    .as("the second commit is published")
                    .isPresent();
            assertThat(first)
                    .as("a sync stop returns only once its commit is durable")
                    .isNotDone();
            assertThat(second).isNotDone();
            force.holding = false;
            force.release.countDown();
            first.get(60, TimeUnit.SECONDS);
            second.get(60, TimeUnit.SECONDS);
            assertThat(pool.lookup(index, "a".getBytes(StandardCharsets.UTF_8))).isPresent();
            PoolFixtures.assertFsckClean(pool);
        }
    }
}
