package dev.spillway.osd.kv;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Fid;
import dev.spillway.osd.IndexCursor;
import dev.spillway.osd.ObjectCursor;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kill -9 durability: a child JVM runs {@link CrashWorkload} on a device (two writer threads,
 * multi-object transactions, async and sync commits, inline and extent-file bodies) and is
 * killed with SIGKILL at a random moment — sometimes while it is still mounting. After each
 * kill the device is mounted here and checked: per thread, it holds exactly the model state
 * after some prefix of the transactions (so no transaction is partly present), that prefix
 * includes every transaction whose commit callback fired, no other object exists, and fsck is
 * clean (counters exact, no leaked extent file). The same device goes through every cycle.
 *
 * <p>{@code -Dspillway.crash.cycles=N} (default 50), {@code -Dspillway.seed=S} replays the
 * workload (kill times are drawn from the seed too, but the scheduling is the machine's).
 */
class KvCrashTest {
    private static final int THREADS = 2;

    @TempDir
    Path tmp;

    @Test
    void killedAtRandomMomentsTheDeviceKeepsEveryCommittedTransactionWhole() throws Exception {
        int cycles = Integer.getInteger("spillway.crash.cycles", 50);
        long seed = Long.getLong("spillway.seed", new SplittableRandom().nextLong());
        System.out.printf("crash test: seed 0x%x, %d cycles (replay with -Dspillway.seed=0x%x)%n", seed, cycles, seed);
        Random kills = new Random(seed);
        Path dir = tmp.resolve("dev");
        long[] prefixes = new long[THREADS];
        // -1: nothing on the device yet (the first kill may come before the first transaction).
        java.util.Arrays.fill(prefixes, -1);
        long committedTotal = 0;
        for (int cycle = 0; cycle < cycles; cycle++) {
            long[] committed = new long[THREADS];
            java.util.Arrays.fill(committed, -1);
            boolean early = kills.nextInt(5) == 0;
            long delay = early ? 50 + kills.nextInt(600) : 100 + kills.nextInt(900);
            List<String> errors = new ArrayList<>();
            Process child = KvChild.start("crash", dir.toString(), Long.toString(seed), Integer.toString(THREADS));
            Thread reader = Thread.ofPlatform().start(() -> {
                try (BufferedReader in =
                        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.US_ASCII))) {
                    String line;
                    while ((line = in.readLine()) != null) {
                        if (line.startsWith("C ")) {
                            String[] p = line.split(" ");
                            int t = Integer.parseInt(p[1]);
                            synchronized (committed) {
                                committed[t] = Math.max(committed[t], Long.parseLong(p[2]));
                            }
                        } else if (line.startsWith("READY")) {
                            synchronized (committed) {
                                committed.notifyAll();
                            }
                        } else if (!line.isBlank()) {
                            synchronized (errors) {
                                errors.add(line);
                            }
                        }
                    }
                } catch (java.io.IOException e) {
                    // the pipe breaks when the child dies
                }
            });
            Thread.sleep(early ? delay : 0);
            if (!early) {
                waitReady(child, reader, committed);
                Thread.sleep(delay);
            }
            child.destroyForcibly();
            assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
            reader.join(10_000);
            assertThat(errors)
                    .as("child errors in cycle %d (seed 0x%x)", cycle, seed)
                    .isEmpty();
            try (KvOsd osd = KvTestSupport.open(dir)) {
                Set<Fid> expected = new HashSet<>();
                for (int t = 0; t < THREADS; t++) {
                    long last = CrashWorkload.lastOnDevice(osd, t);
                    assertThat(last)
                            .as(
                                    "cycle %d thread %d: the durable prefix covers every fired callback (seed 0x%x)",
                                    cycle, t, seed)
                            .isGreaterThanOrEqualTo(committed[t]);
                    assertThat(last).as("the prefix never goes back").isGreaterThanOrEqualTo(prefixes[t]);
                    prefixes[t] = last;
                    committedTotal += Math.max(0, committed[t] + 1);
                    CrashWorkload.Model m = CrashWorkload.replay(seed, t, last);
                    check(osd, m, cycle);
                    expected.addAll(m.xattrs.keySet());
                }
                Set<Fid> listed = new HashSet<>();
                try (ObjectCursor c = osd.listObjects()) {
                    while (c.next()) {
                        listed.add(c.fid());
                    }
                }
                assertThat(listed)
                        .as("cycle %d: exactly the model's objects exist (seed 0x%x)", cycle, seed)
                        .containsExactlyInAnyOrderElementsOf(expected);
                assertThat(osd.statfs().objects()).isEqualTo(expected.size());
                assertThat(osd.fsck())
                        .as("cycle %d: fsck (seed 0x%x)", cycle, seed)
                        .isEmpty();
            }
        }
        System.out.printf(
                "crash test: %d cycles, durable prefixes %s, callbacks seen %d%n",
                cycles, java.util.Arrays.toString(prefixes), committedTotal);
        assertThat(java.util.Arrays.stream(prefixes).min().orElse(0))
                .as("the workload made progress")
                .isPositive();
    }

    private static void waitReady(Process child, Thread reader, long[] committed) throws InterruptedException {
        // The reader wakes us on READY; give up waiting after a while (the kill then comes early).
        synchronized (committed) {
            committed.wait(20_000);
        }
    }

    private static void check(KvOsd osd, CrashWorkload.Model m, int cycle) throws Exception {
        for (Map.Entry<Fid, Map<String, byte[]>> e : m.xattrs.entrySet()) {
            Fid f = e.getKey();
            assertThat(osd.exists(f)).as("cycle %d: %s exists", cycle, f).isTrue();
            byte[] body = m.bodies.get(f);
            if (body != null) {
                assertThat(osd.getAttr(f).size())
                        .as("cycle %d: size of %s", cycle, f)
                        .isEqualTo(body.length);
                assertThat(KvTestSupport.readAll(osd, f))
                        .as("cycle %d: body of %s", cycle, f)
                        .isEqualTo(body);
            }
            assertThat(osd.listXattrs(f))
                    .as("cycle %d: xattrs of %s", cycle, f)
                    .containsExactlyElementsOf(e.getValue().keySet());
            for (Map.Entry<String, byte[]> x : e.getValue().entrySet()) {
                assertThat(osd.getXattr(f, x.getKey()))
                        .as("cycle %d: xattr %s of %s", cycle, x.getKey(), f)
                        .isEqualTo(x.getValue());
            }
        }
        if (m.next > 0) {
            List<byte[]> keys = new ArrayList<>();
            List<byte[]> values = new ArrayList<>();
            try (IndexCursor c = osd.cursor(CrashWorkload.index(m.thread), null)) {
                while (c.next()) {
                    keys.add(c.key());
                    values.add(c.value());
                }
            }
            assertThat(keys)
                    .as("cycle %d: index keys of thread %d", cycle, m.thread)
                    .containsExactlyElementsOf(m.index.keySet());
            assertThat(values).containsExactlyElementsOf(m.index.values());
        }
    }
}
