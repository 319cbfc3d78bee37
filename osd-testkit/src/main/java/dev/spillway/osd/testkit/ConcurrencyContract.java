package dev.spillway.osd.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Capability;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.XattrFlag;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Many threads running multi-object transactions on shared objects; the final state must be
 * one the model allows. Each transaction stamps a random subset of the shared objects (body and
 * xattr) and records its stamp in a shared index. With {@link Capability#TRANSACTIONS}, the
 * final stamps must come from a serial order of the transactions: the "last writer" of every
 * object must be orderable after every other transaction that wrote it, consistently with each
 * thread's own order (an acyclic precedence graph), and each object's body and xattr must carry
 * the same stamp. Seeded like {@link ModelContract} ({@code -Dspillway.seed}).
 */
public interface ConcurrencyContract extends OsdContract {

    @Test
    default void concurrentTransactionsEndInASerializableState() throws Exception {
        boolean transactional = osd().capabilities().has(Capability.TRANSACTIONS);
        boolean xattrs = osd().capabilities().has(Capability.XATTRS);
        boolean index = osd().capabilities().has(Capability.INDEX);
        long master = dev.spillway.osd.testkit.Seeds.master();
        System.out.printf("concurrency test on %s: seed 0x%x%n", osd().name(), master);
        int threads = 4;
        int perThread = 60;
        List<Fid> shared = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            shared.add(createData(new byte[8]));
        }
        Fid log = index ? create(ObjectKind.INDEX) : null;
        // stamp -> objects it wrote; stamps are thread << 32 | sequence (sequence from 1)
        Map<Long, Set<Fid>> committed = new ConcurrentHashMap<>();
        ExecutorService ex = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int th = 0; th < threads; th++) {
                int thread = th;
                long seed = master + th;
                fs.add(ex.submit(() -> {
                    Random r = new Random(seed);
                    for (int i = 1; i <= perThread; i++) {
                        long stamp = ((long) thread << 32) | i;
                        Set<Fid> subset = new HashSet<>();
                        int n = 1 + r.nextInt(3);
                        while (subset.size() < n) {
                            subset.add(shared.get(r.nextInt(shared.size())));
                        }
                        byte[] s = ByteBuffer.allocate(8).putLong(stamp).array();
                        try (Transaction t = osd().newTransaction()) {
                            for (Fid f : subset) {
                                t.declareWrite(f, 0, 8);
                                if (xattrs) {
                                    t.declareSetXattr(f, "user.stamp", 8);
                                }
                            }
                            if (log != null) {
                                t.declareInsert(log, 8, 0);
                            }
                            t.start();
                            for (Fid f : subset) {
                                t.write(f, 0, ByteBuffer.wrap(s));
                                if (xattrs) {
                                    t.setXattr(f, "user.stamp", s, XattrFlag.UPSERT);
                                }
                            }
                            if (log != null) {
                                t.insert(log, s, new byte[0]);
                            }
                        }
                        committed.put(stamp, subset);
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get(300, TimeUnit.SECONDS);
            }
        } finally {
            ex.shutdownNow();
        }
        assertThat(committed).hasSize(threads * perThread);

        Map<Fid, Long> last = new HashMap<>();
        for (Fid f : shared) {
            long body = ByteBuffer.wrap(read(f, 0, 8)).getLong();
            assertThat(committed)
                    .as("stamp of %s was written by a committed transaction", f)
                    .containsKey(body);
            assertThat(committed.get(body)).contains(f);
            if (xattrs && transactional) {
                long x = ByteBuffer.wrap(osd().getXattr(f, "user.stamp")).getLong();
                assertThat(x)
                        .as("body and xattr of %s come from one transaction", f)
                        .isEqualTo(body);
            }
            last.put(f, body);
        }
        if (log != null) {
            var entries = entries(log, null);
            assertThat(entries).hasSize(threads * perThread);
        }
        if (transactional) {
            assertSerializable(committed, last);
        }
    }

    /** The "last writer" of each object must be orderable after every other writer of it. */
    private static void assertSerializable(Map<Long, Set<Fid>> txs, Map<Fid, Long> last) {
        Map<Long, Set<Long>> after = new HashMap<>();
        for (long s : txs.keySet()) {
            after.put(s, new HashSet<>());
            long next = s + 1;
            if (txs.containsKey(next)) {
                after.get(s).add(next);
            }
        }
        for (Map.Entry<Fid, Long> e : last.entrySet()) {
            for (Map.Entry<Long, Set<Fid>> t : txs.entrySet()) {
                if (!t.getKey().equals(e.getValue()) && t.getValue().contains(e.getKey())) {
                    after.get(t.getKey()).add(e.getValue());
                }
            }
        }
        // Kahn's algorithm: a cycle means no serial order explains the final state.
        Map<Long, Integer> in = new HashMap<>();
        after.keySet().forEach(k -> in.put(k, 0));
        after.values().forEach(vs -> vs.forEach(v -> in.merge(v, 1, Integer::sum)));
        List<Long> ready = new ArrayList<>();
        in.forEach((k, v) -> {
            if (v == 0) {
                ready.add(k);
            }
        });
        int seen = 0;
        while (!ready.isEmpty()) {
            long k = ready.remove(ready.size() - 1);
            seen++;
            for (long v : after.get(k)) {
                if (in.merge(v, -1, Integer::sum) == 0) {
                    ready.add(v);
                }
            }
        }
        assertThat(seen)
                .as("a serial order of the transactions explains the final state")
                .isEqualTo(txs.size());
    }
}
