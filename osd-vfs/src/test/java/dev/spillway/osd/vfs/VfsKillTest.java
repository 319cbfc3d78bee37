package dev.spillway.osd.vfs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectCursor;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.XattrFlag;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.spi.Osds;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Journal mode against {@code kill -9}: a child JVM runs writer threads on a real folder, each
 * transaction touching several objects, and prints "ACK thread n" once a transaction's commit
 * callback fired; the parent SIGKILLs it after a random number of acknowledgements (0–60), mounts the folder and checks that
 * every acknowledged transaction is there and none is there in part; then the next child
 * carries on from what survived. 50 cycles ({@code -Dspillway.kill.cycles}); the seed is
 * printed ({@code -Dspillway.seed}).
 *
 * <p>Transaction n of thread t: writes stamp (t, n) at offset 0 of objects A_t and B_t and as
 * xattr {@code user.stamp} of A_t, creates C_t,n with a body derived from the stamp (every
 * seventh one large enough to go through a staging file), and destroys C_t,n-2. After any
 * crash, A_t and B_t must carry the same stamp n (≥ the last acknowledged), and the C objects
 * of t must be exactly C_t,n-1 and C_t,n.
 */
class VfsKillTest {
    static final int THREADS = 4;
    static final long A_SEQ = 0x400000000L;
    static final long C_SEQ = 0x500000000L;

    @TempDir
    Path dir;

    static Map<String, Object> settings(Path dir) {
        Map<String, Object> s = new HashMap<>();
        s.put("path", dir.resolve("dev").toString());
        s.put("journal", "on");
        s.put("journal-segment-size", "512KiB");
        s.put("journal-inline-limit", "64KiB");
        return s;
    }

    static Fid a(int t) {
        return new Fid(A_SEQ + t, 1, 0);
    }

    static Fid b(int t) {
        return new Fid(A_SEQ + t, 2, 0);
    }

    static Fid c(int t, long n) {
        return new Fid(C_SEQ + t, (int) n, 0);
    }

    static byte[] stamp(int t, long n) {
        return ByteBuffer.allocate(8).putInt(t).putInt((int) n).array();
    }

    /** The body of C_t,n: its stamp repeated; every seventh is 160 KiB. */
    static byte[] cBody(int t, long n) {
        int size = n % 7 == 0 ? 160 << 10 : 4096;
        ByteBuffer b = ByteBuffer.allocate(size);
        while (b.remaining() >= 8) {
            b.put(stamp(t, n));
        }
        return b.array();
    }

    static long stampOf(Osd osd, Fid f) throws OsdException {
        ByteBuffer b = ByteBuffer.allocate(8);
        osd.read(f, 0, b);
        return Integer.toUnsignedLong(b.getInt(4));
    }

    /** The child: writer threads until killed. Args: the test's folder (the device is its "dev"). */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            Osd osd = Osds.open(OsdConfig.of("kill", "vfs", settings(Path.of(args[0]))));
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                long start = osd.exists(a(t)) ? stampOf(osd, a(t)) + 1 : 1;
                int thread = t;
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        for (long n = start; ; n++) {
                            transaction(osd, thread, n);
                            synchronized (System.out) {
                                System.out.println("ACK " + thread + " " + n);
                                System.out.flush();
                            }
                        }
                    } catch (Throwable e) {
                        e.printStackTrace();
                        System.exit(3);
                    }
                }));
            }
            System.out.println("READY");
            System.out.flush();
            for (Thread th : threads) {
                th.join();
            }
        }

        static void transaction(Osd osd, int t, long n) throws OsdException {
            byte[] s = stamp(t, n);
            byte[] body = cBody(t, n);
            boolean first = !osd.exists(a(t));
            try (Transaction tx = osd.newTransaction()) {
                if (first) {
                    tx.declareCreate(a(t), ObjectKind.DATA);
                    tx.declareCreate(b(t), ObjectKind.DATA);
                }
                tx.declareWrite(a(t), 0, 4096);
                tx.declareWrite(b(t), 0, 4096);
                tx.declareSetXattr(a(t), "user.stamp", 8);
                tx.declareCreate(c(t, n), ObjectKind.DATA);
                tx.declareWrite(c(t, n), 0, body.length);
                if (n >= 3) {
                    tx.declareDestroy(c(t, n - 2));
                }
                tx.start();
                if (first) {
                    tx.create(a(t), ObjectKind.DATA, AttrChange.none());
                    tx.create(b(t), ObjectKind.DATA, AttrChange.none());
                }
                byte[] page = new byte[4096];
                System.arraycopy(s, 0, page, 0, 8);
                tx.write(a(t), 0, ByteBuffer.wrap(page));
                tx.write(b(t), 0, ByteBuffer.wrap(page));
                tx.setXattr(a(t), "user.stamp", s, XattrFlag.UPSERT);
                tx.create(c(t, n), ObjectKind.DATA, AttrChange.none());
                for (int off = 0; off < body.length; off += 32 << 10) {
                    tx.write(c(t, n), off, ByteBuffer.wrap(body, off, Math.min(32 << 10, body.length - off)));
                }
                if (n >= 3 && osd.exists(c(t, n - 2))) {
                    tx.destroy(c(t, n - 2));
                }
            }
        }
    }

    @Test
    void killNineNeverLosesAnAcknowledgedTransactionNorKeepsHalfOfOne() throws Exception {
        int cycles = Integer.getInteger("spillway.kill.cycles", 50);
        long seed = Long.getLong("spillway.seed", new SplittableRandom().nextLong());
        System.out.printf("kill test: seed 0x%x, %d cycles, %d writer threads%n", seed, cycles, THREADS);
        Random rnd = new Random(seed);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        long[] acked = new long[THREADS];
        long[] seen = new long[THREADS];
        long totalAcks = 0;
        int replays = 0;
        for (int cycle = 0; cycle < cycles; cycle++) {
            Process p = new ProcessBuilder(
                            java,
                            "-Xmx256m",
                            "--enable-native-access=ALL-UNNAMED",
                            "-cp",
                            System.getProperty("java.class.path"),
                            Child.class.getName(),
                            dir.toString())
                    .redirectError(ProcessBuilder.Redirect.appendTo(
                            dir.resolve("child-stderr.txt").toFile()))
                    .start();
            CountDownLatch ready = new CountDownLatch(1);
            Semaphore acks = new Semaphore(0);
            Map<Integer, Long> cycleAcks = new ConcurrentHashMap<>();
            Thread reader = Thread.ofVirtual().start(() -> {
                try (BufferedReader r =
                        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        if (line.equals("READY")) {
                            ready.countDown();
                        } else if (line.startsWith("ACK ")) {
                            String[] f = line.split(" ");
                            cycleAcks.merge(Integer.parseInt(f[1]), Long.parseLong(f[2]), Math::max);
                            acks.release();
                        }
                    }
                } catch (IOException e) {
                    // the child died: its output ends here
                }
            });
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!ready.await(100, TimeUnit.MILLISECONDS) && p.isAlive() && System.nanoTime() < deadline) {
                // waiting for READY
            }
            if (ready.getCount() > 0) {
                p.destroyForcibly();
                throw new AssertionError("the child of cycle " + cycle + " did not start; its stderr: "
                        + Files.readString(dir.resolve("child-stderr.txt")));
            }
            // The kill point is counted in acknowledged transactions, not in time: on a loaded machine
            // a child may get nothing done in a fixed number of milliseconds. One cycle in eight
            // kills right after start-up (during or just after the mount's recovery).
            int killAfter = rnd.nextInt(8) == 0 ? 0 : 1 + rnd.nextInt(60);
            long ackDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!acks.tryAcquire(killAfter, 100, TimeUnit.MILLISECONDS) && p.isAlive()) {
                if (System.nanoTime() > ackDeadline) {
                    p.destroyForcibly();
                    throw new AssertionError("cycle " + cycle + ": the child acknowledged " + acks.availablePermits()
                            + " transactions in 120 s, waiting for " + killAfter + "; its stderr: "
                            + Files.readString(dir.resolve("child-stderr.txt")));
                }
            }
            p.destroyForcibly();
            p.waitFor(60, TimeUnit.SECONDS);
            reader.join(10_000);
            if (p.exitValue() == 3) {
                throw new AssertionError("cycle " + cycle + ": a writer of the child failed: "
                        + Files.readString(dir.resolve("child-stderr.txt")));
            }
            for (Map.Entry<Integer, Long> e : cycleAcks.entrySet()) {
                acked[e.getKey()] = Math.max(acked[e.getKey()], e.getValue());
                totalAcks += e.getValue() - seen[e.getKey()];
            }
            Osd mounted;
            try {
                mounted = Osds.open(OsdConfig.of("kill", "vfs", settings(dir)));
            } catch (OsdException e) {
                if (System.getProperty("spillway.kill.keep") != null) {
                    Path keep = Path.of(System.getProperty("spillway.kill.keep"));
                    try (var files = Files.walk(dir)) {
                        for (Path f : files.toList()) {
                            Path t = keep.resolve(dir.relativize(f).toString());
                            if (Files.isDirectory(f)) {
                                Files.createDirectories(t);
                            } else {
                                Files.copy(f, t);
                            }
                        }
                    }
                }
                throw e;
            }
            try (Osd osd = mounted) {
                if (((VfsOsd) osd).mountNotes().stream().anyMatch(n -> n.startsWith("journal: replayed"))) {
                    replays++;
                }
                check(osd, acked, seen, cycle);
            }
        }
        System.out.printf(
                "kill test: %d cycles, %d acknowledged transactions, %d mounts replayed the journal%n",
                cycles, totalAcks, replays);
        assertThat(totalAcks).as("the children got work done").isPositive();
    }

    private static void check(Osd osd, long[] acked, long[] seen, int cycle) throws Exception {
        Map<Integer, TreeSet<Long>> cs = new HashMap<>();
        try (ObjectCursor cur = osd.listObjects()) {
            while (cur.next()) {
                Fid f = cur.fid();
                if (f.seq() >= C_SEQ && f.seq() < C_SEQ + THREADS) {
                    cs.computeIfAbsent((int) (f.seq() - C_SEQ), k -> new TreeSet<>())
                            .add(Integer.toUnsignedLong(f.oid()));
                }
            }
        }
        for (int t = 0; t < THREADS; t++) {
            String ctx = "cycle " + cycle + ", thread " + t;
            if (!osd.exists(a(t))) {
                assertThat(acked[t])
                        .as("%s: nothing acknowledged, nothing there", ctx)
                        .isZero();
                assertThat(osd.exists(b(t))).as(ctx).isFalse();
                assertThat(cs.get(t)).as(ctx).isNull();
                continue;
            }
            long n = stampOf(osd, a(t));
            assertThat(stampOf(osd, b(t)))
                    .as("%s: A and B carry the same transaction", ctx)
                    .isEqualTo(n);
            assertThat(osd.getXattr(a(t), "user.stamp"))
                    .as("%s: A's xattr comes from the same transaction", ctx)
                    .isEqualTo(stamp(t, n));
            assertThat(n).as("%s: every acknowledged transaction survived", ctx).isGreaterThanOrEqualTo(acked[t]);
            List<Long> expected = n >= 2 ? List.of(n - 1, n) : List.of(n);
            assertThat(cs.get(t))
                    .as("%s: C objects after transaction %d", ctx, n)
                    .containsExactlyElementsOf(expected);
            for (long i : expected) {
                byte[] want = cBody(t, i);
                byte[] got = new byte[want.length];
                assertThat(osd.getAttr(c(t, i)).size()).as(ctx).isEqualTo(want.length);
                osd.read(c(t, i), 0, ByteBuffer.wrap(got));
                assertThat(got).as("%s: body of C %d", ctx, i).isEqualTo(want);
            }
            seen[t] = n;
            acked[t] = Math.max(acked[t], n);
        }
    }
}
