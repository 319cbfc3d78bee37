package dev.spillway.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.function.LongFunction;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The baselines are proved before anything is compared with them: on the bundled CloudPhysics
 * trace, at byte capacities of 128, 256, ..., 1024 MiB (MiB = 1,048,576 bytes, object sizes as
 * recorded), LRU and Belady must miss exactly as often as in libCacheSim's own regression test
 * (test/test_evictionAlgo.c: CACHE_SIZE 1024 MiB in STEP_SIZE 128 MiB steps).
 */
class BaselineRegressionTest {
    static final long MIB = 1024 * 1024;
    static Trace trace;

    @BeforeAll
    static void load() {
        trace = TraceReader.bundled();
    }

    @Test
    void traceIsTheOneLibCacheSimUses() {
        assertThat(trace.length()).isEqualTo(113_872);
        assertThat(trace.objects()).isEqualTo(48_974);
        assertThat(trace.requestBytes()).isEqualTo(4_368_040_448L);
    }

    @Test
    void lruMissesMatchLibCacheSim() {
        assertMisses(LruPolicy::new, new long[] {93374, 89783, 83572, 81722, 72494, 72104, 71972, 71704}, new long[] {
            4214303232L, 4061242368L, 3778040320L, 3660569600L, 3100927488L, 3078128640L, 3075403776L, 3061662720L
        });
    }

    @Test
    void beladyMissesMatchLibCacheSim() {
        assertMisses(
                BeladyPolicy::new, new long[] {79256, 70724, 65481, 61594, 59645, 57599, 50873, 48974}, new long[] {
                    3472532480L,
                    2995165696L,
                    2726689792L,
                    2537648128L,
                    2403427840L,
                    2269212672L,
                    2134992896L,
                    2029769728L
                });
    }

    private static void assertMisses(LongFunction<SimPolicy> policy, long[] misses, long[] missBytes) {
        long[] got = new long[misses.length];
        long[] gotBytes = new long[misses.length];
        for (int k = 0; k < misses.length; k++) {
            SimPolicy p = policy.apply((k + 1) * 128 * MIB);
            for (int i = 0; i < trace.length(); i++) {
                p.request(trace, i);
            }
            SimResult r = p.result(trace);
            got[k] = r.misses();
            gotBytes[k] = r.requestBytes() - r.hitBytes();
        }
        assertThat(got).containsExactly(misses);
        assertThat(gotBytes).containsExactly(missBytes);
    }
}
