package dev.spillway.migrate.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.filter.FilterOsd;
import dev.spillway.osd.filter.FilterTransaction;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.spi.Osds;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The overload test (issue 12): eight writers outrun the spill device (osd-vfs slowed to about
 * 40 MiB/s) into a 32 MiB osd-kv fast tier, writing 4x its size, with the daemon running. Every
 * request gets an answer — its data committed, or ENOSPC after the pool's bounded wait for room
 * (never another error, never a hang); the fast tier reaches its client boundary and stays near
 * full; nothing acknowledged is lost (each acknowledged object reads back byte for byte, and a
 * deep fsck is clean).
 *
 * <p>On timing: the bound is the pool's own (space.writer-wait, enforced by the wait loop); the
 * test checks the outcome of every request and, from the pool's measurement, that no writer waited
 * for room longer than the bound plus one emergency spill in progress at its deadline (one more
 * bound, generously).
 */
class OverloadTest {
    private static final long MIB = 1 << 20;
    private static final Duration WAIT = Duration.ofSeconds(3);

    @TempDir
    Path dir;

    /** A spill device that takes a little time per byte written: slower than the writers. */
    static final class Slow extends FilterOsd {
        Slow(Osd in) {
            super(in);
        }

        @Override
        protected Transaction wrap(Transaction tx) {
            return new FilterTransaction(tx) {
                @Override
                public void write(Fid fid, long offset, ByteBuffer src) throws OsdException {
                    // About 40 MiB/s: 25 ms per MiB.
                    LockSupport.parkNanos(src.remaining() * 25_000_000L / MIB);
                    super.write(fid, offset, src);
                }
            };
        }
    }

    @Test
    @Timeout(900)
    void writersThatOutrunTheSpillDeviceAreAllAnsweredAndLoseNothing() throws Exception {
        PoolConfig c = PoolConfigParser.parse(
                """
                name: overload
                devices:
                  - {name: fast, backend: kv, roles: [metadata, foreground, promote], settings: {path: '%s', capacity: 32MiB}}
                  - {name: slow, backend: vfs, roles: [background], settings: {path: '%s', journal: "off"}}
                policy: {high-watermark: 0.8, low-watermark: 0.6, min-resident-age: 0s}
                space: {writer-wait: %ds}
                """.formatted(dir.resolve("fast"), dir.resolve("slow"), WAIT.toSeconds()), "overload test");
        PoolOsd pool = PoolOsd.mount(c, InstantSource.system(), PoolOsd.MountMode.RECOVER, (d, clock) -> {
            Osd o = Osds.open(new OsdConfig(d.name(), d.backend(), d.settings(), clock));
            return d.index() == 1 ? new Slow(o) : o;
        });
        MigrationDaemon daemon =
                MigrationDaemon.attach(pool, DaemonConfig.parse(c.policy(), c.name()), InstantSource.system());
        pool.listener(daemon);
        daemon.start();

        int writers = 8;
        int perWriter = 16; // 8 x 16 x 1 MiB = 128 MiB: four times the fast tier
        Map<Fid, byte[]> acked = new ConcurrentHashMap<>();
        List<String> unexpected = Collections.synchronizedList(new ArrayList<>());
        AtomicLong refused = new AtomicLong();
        AtomicLong maxUsed = new AtomicLong();
        AtomicLong samples = new AtomicLong();
        AtomicLong nearFull = new AtomicLong();
        Thread[] ts = new Thread[writers];
        for (int w = 0; w < writers; w++) {
            int id = w;
            ts[w] = Thread.ofPlatform().start(() -> {
                Random r = new Random(id);
                for (int i = 0; i < perWriter; i++) {
                    Fid f = new Fid(0x200000400L, id * 1000 + i + 1, 0);
                    byte[] body = new byte[(int) MIB];
                    r.nextBytes(body);
                    try (Transaction tx = pool.newTransaction()) {
                        tx.declareCreate(f, ObjectKind.DATA);
                        tx.declareWrite(f, 0, body.length);
                        tx.start();
                        tx.create(f, ObjectKind.DATA, AttrChange.none());
                        tx.write(f, 0, ByteBuffer.wrap(body));
                        tx.addCommitCallback((txid, err) -> {
                            if (err == null) {
                                acked.put(f, sha(body));
                            }
                        });
                    } catch (OsdException e) {
                        if (e.is(Errno.ENOSPC) && e.getMessage().contains("after waiting")) {
                            refused.incrementAndGet();
                        } else {
                            unexpected.add(f + ": " + e);
                        }
                    }
                    try {
                        var s = pool.metadataStatfs();
                        long used = s.usedBytes();
                        maxUsed.accumulateAndGet(used, Math::max);
                        samples.incrementAndGet();
                        if (used >= 0.75 * s.totalBytes()) {
                            nearFull.incrementAndGet();
                        }
                    } catch (OsdException e) {
                        unexpected.add("statfs: " + e);
                    }
                }
            });
        }
        for (Thread t : ts) {
            t.join();
        }
        daemon.close();
        pool.sync();

        assertThat(unexpected)
                .as("every request was answered: committed, or ENOSPC after the bounded wait")
                .isEmpty();
        assertThat(acked.size() + refused.get()).isEqualTo((long) writers * perWriter);
        assertThat(acked.size()).as("most writes got through").isGreaterThan(writers * perWriter / 2);
        var stats = pool.roomQueue().stats();
        System.out.printf(
                "overload: %d acknowledged, %d refused after waiting; writers waited %d times, longest %.2f s,"
                        + " %d timed out; fast tier peaked at %d of %d bytes, %d of %d samples >= 75%%; moves %s%n",
                acked.size(),
                refused.get(),
                stats.waited(),
                stats.maxWaitNanos() / 1e9,
                stats.timedOut(),
                maxUsed.get(),
                32 * MIB,
                nearFull.get(),
                samples.get(),
                daemon.status().moves());
        assertThat(stats.waited()).as("the writers outran the spill device").isPositive();
        assertThat(maxUsed.get())
                .as("the fast tier reached its client boundary")
                .isGreaterThan(28 * MIB);
        assertThat(stats.maxWaitNanos())
                .as("no writer waited for room past the bound (plus a spill in progress at its deadline)")
                .isLessThanOrEqualTo(2 * WAIT.toNanos());

        // Nothing acknowledged is lost.
        assertThat(pool.fsck(false, true, null).problems()).isEmpty();
        for (var e : acked.entrySet()) {
            byte[] back = new byte[(int) MIB];
            int pos = 0;
            while (pos < back.length) {
                int n = pool.read(e.getKey(), pos, ByteBuffer.wrap(back, pos, back.length - pos));
                assertThat(n).isPositive();
                pos += n;
            }
            assertThat(Arrays.equals(sha(back), e.getValue()))
                    .as("%s reads back", e.getKey())
                    .isTrue();
        }
        pool.close();
    }

    private static byte[] sha(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
