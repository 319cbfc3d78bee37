package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.testkit.Seeds;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.recovery.Fsck;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Writers, readers and a migrating thread on the same objects at once, seeded. Each object has
 * one writer (so its last write is known); the migrator spills, copies, promotes, releases and
 * collects garbage at random. Every read must return some body once written to that object (never
 * a mix), and at the end every object holds exactly its last write and fsck is clean. An online
 * fsck (deep) runs all the while, and every one of its runs must be clean too: it sees the pool
 * between metadata transactions, never halfway through a migration.
 */
class PoolStressTest {
    @Test
    void writersAndAMigratorOnTheSameObjects() throws Exception {
        long seed = Seeds.master();
        System.out.printf("pool stress: seed 0x%x%n", seed);
        PoolOsd pool = PoolFixtures.mount(PoolFixtures.memMem("stress", 0, 1, 2));
        int writers = 3;
        int perWriter = 4;
        List<Fid> fids = new ArrayList<>();
        Map<Fid, Set<String>> seen = new ConcurrentHashMap<>();
        Map<Fid, byte[]> last = new ConcurrentHashMap<>();
        for (int i = 0; i < writers * perWriter; i++) {
            Fid f = new Fid(0x200000400L, i + 1, 0);
            fids.add(f);
            seen.put(f, new CopyOnWriteArraySet<>());
            write(pool, f, body(f, 0, new Random(seed)), true, seen, last);
        }
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService ex = Executors.newFixedThreadPool(writers + 3);
        AtomicInteger fscks = new AtomicInteger();
        List<Future<?>> fs = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            List<Fid> mine = fids.subList(w * perWriter, (w + 1) * perWriter);
            long s = seed + w;
            fs.add(ex.submit(() -> {
                Random r = new Random(s);
                for (int i = 1; i <= 60; i++) {
                    Fid f = mine.get(r.nextInt(mine.size()));
                    write(pool, f, body(f, i, r), false, seen, last);
                }
                return null;
            }));
        }
        fs.add(ex.submit(() -> {
            Random r = new Random(seed ^ 0x5eed);
            List<PoolDevice> bg = pool.devices().subList(1, 3);
            while (!stop.get()) {
                Fid f = fids.get(r.nextInt(fids.size()));
                try {
                    switch (r.nextInt(6)) {
                        case 0, 1 -> pool.migrator().spill(f, bg.get(r.nextInt(2)));
                        case 2 -> pool.migrator().copy(f, bg.get(r.nextInt(2)), false);
                        case 3 -> pool.migrator().promote(f);
                        case 4 -> pool.migrator().release(f);
                        default -> pool.migrator().collectGarbage();
                    }
                } catch (OsdException e) {
                    if (!e.is(Errno.EBUSY)) {
                        throw e;
                    }
                }
            }
            return null;
        }));
        fs.add(ex.submit(() -> {
            Random r = new Random(seed ^ 0xdead);
            while (!stop.get()) {
                Fid f = fids.get(r.nextInt(fids.size()));
                byte[] got = read(pool, f);
                assertThat(seen.get(f))
                        .as("a read of %s returned a body never written whole", f)
                        .contains(key(got));
            }
            return null;
        }));
        fs.add(ex.submit(() -> {
            while (!stop.get()) {
                Fsck.Report rep = pool.fsck(false, true, null);
                assertThat(rep.problems())
                        .as("online fsck run %d", fscks.get() + 1)
                        .isEmpty();
                fscks.incrementAndGet();
            }
            return null;
        }));
        try {
            for (int i = 0; i < writers; i++) {
                fs.get(i).get(300, TimeUnit.SECONDS);
            }
            // The migrator goes on until fsck has checked the pool in motion a good number of times.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (fscks.get() < 50
                    && System.nanoTime() < deadline
                    && fs.subList(writers, fs.size()).stream().noneMatch(Future::isDone)) {
                Thread.sleep(10);
            }
            stop.set(true);
            for (Future<?> f : fs) {
                f.get(300, TimeUnit.SECONDS);
            }
        } finally {
            stop.set(true);
            ex.shutdownNow();
        }
        System.out.printf("pool stress: %d online fsck runs, all clean%n", fscks.get());
        assertThat(fscks.get()).as("online fsck runs").isPositive();
        pool.migrator().collectGarbage();
        for (Fid f : fids) {
            assertThat(read(pool, f)).as("%s holds its last write", f).isEqualTo(last.get(f));
        }
        assertThat(pool.fsck(false, true, null).problems()).isEmpty();
    }

    private static byte[] body(Fid f, int version, Random r) {
        byte[] b = new byte[1 + r.nextInt(30_000)];
        r.nextBytes(b);
        return b;
    }

    private static String key(byte[] b) {
        return b.length + ":" + Arrays.hashCode(b);
    }

    private static void write(
            PoolOsd pool, Fid f, byte[] body, boolean create, Map<Fid, Set<String>> seen, Map<Fid, byte[]> last)
            throws OsdException {
        seen.get(f).add(key(body));
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
        last.put(f, body);
    }

    private static byte[] read(PoolOsd pool, Fid f) throws OsdException {
        // One read call of the whole body: the pool promises it is never a mix of two writes.
        long size = pool.getAttr(f).size();
        ByteBuffer b = ByteBuffer.allocate((int) Math.max(size, 64 << 10));
        int n = pool.read(f, 0, b);
        return Arrays.copyOf(b.array(), n);
    }
}
