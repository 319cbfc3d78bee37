package dev.spillway.migrate.heat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.spillway.osd.Fid;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Heat per extent: what counts (once per read stream and per transaction, per extent), residency,
 * and the memory bound. The logical clock stands still (a field the test sets), so counts are
 * exact.
 */
class ExtentHeatTest {
    static final long K = 1024;
    static final long EXT = 256 * K;
    static final long BIG = 4 * EXT;

    double now;
    final ExtentHeat heat = new ExtentHeat(new ExtentConfig(BIG, EXT, 1000), () -> now);

    static Fid fid(int i) {
        return new Fid(0x200000400L, i, 0);
    }

    double[] counts(Fid f) {
        return heat.extents(f, BIG).stream()
                .mapToDouble(ExtentHeat.Extent::count)
                .toArray();
    }

    /** Reads {@code [from, to)} as one stream of {@code chunk}-byte reads, as the pool reports it. */
    void stream(Fid f, long from, long to, int chunk) {
        for (long off = from; off < to; off += chunk) {
            heat.read(f, BIG, off, (int) Math.min(chunk, to - off), off == from, null, 99);
        }
    }

    @Test
    void aReadStreamCountsEachExtentItReachesOnce() {
        Fid f = fid(1);
        stream(f, 0, EXT, 64 * 1024);
        assertThat(counts(f)).containsExactly(1, 0, 0, 0);
        // A stream from the middle of extent 1 through the end of the body: 1, 2 and 3 once each.
        stream(f, EXT + 1000, BIG, 100_000);
        assertThat(counts(f)).containsExactly(1, 1, 1, 1);
        // One read spanning extents 0 to 2: an access of each.
        heat.read(f, BIG, 10, (int) (2 * EXT), true, null, 99);
        assertThat(counts(f)).containsExactly(2, 2, 2, 1);
        // A stream that continues exactly at an extent boundary counts the new extent.
        heat.read(f, BIG, 3 * EXT, 10, false, null, 99);
        assertThat(counts(f)).containsExactly(2, 2, 2, 2);
    }

    @Test
    void aTransactionCountsEachExtentItChangedOnceAndAContinuedOneNotTheExtentWhereTheLastEnded() {
        Fid f = fid(2);
        // Two ranges in extent 0 and one over 1..2: each extent once.
        heat.written(f, BIG, new long[] {0, 64 * K, 128 * K, 192 * K, EXT + 64 * K, 3 * EXT}, false);
        assertThat(counts(f)).containsExactly(1, 1, 1, 0);
        // A staged body continuing at 3 x EXT - 64 KiB: extent 2 was counted by the access already.
        heat.written(f, BIG, new long[] {3 * EXT - 64 * K, BIG}, true);
        assertThat(counts(f)).containsExactly(1, 1, 1, 1);
        // Not continued: counted again.
        heat.written(f, BIG, new long[] {3 * EXT - 64 * K, BIG}, false);
        assertThat(counts(f)).containsExactly(1, 1, 2, 2);
    }

    @Test
    void countsDecayOnTheLogicalClockAndSpilledHotExtentsAreReturned() {
        Fid f = fid(3);
        heat.written(f, BIG, new long[] {0, BIG}, false);
        heat.mark(f, 2, true);
        assertThat(heat.split(f)).isTrue();
        assertThat(heat.residentBytes(f, BIG)).isEqualTo(3 * EXT);
        now = 1; // one half-life later
        assertThat(counts(f)[2]).isCloseTo(0.5, within(1e-9));
        assertThat(heat.read(f, BIG, 2 * EXT, 10, true, Boolean.FALSE, 2)).isEmpty();
        assertThat(heat.read(f, BIG, 2 * EXT, 10, true, Boolean.FALSE, 2)).containsExactly(2);
        // A read served by the fast tier says the extent is resident; the pool recalls what a write touches.
        heat.read(f, BIG, 2 * EXT, 10, true, Boolean.TRUE, 99);
        assertThat(heat.split(f)).isFalse();
        heat.mark(f, 3, true);
        heat.written(f, BIG, new long[] {3 * EXT, 3 * EXT + 64 * K}, false);
        assertThat(heat.split(f)).isFalse();
        // A size change: the pool recalled the whole body first.
        heat.mark(f, 1, true);
        heat.written(f, BIG + 64 * K, new long[] {BIG, BIG + 64 * K}, false);
        assertThat(heat.residentBytes(f, BIG + 64 * K)).isEqualTo(BIG + 64 * K);
        assertThat(heat.extents(f, BIG + 64 * K)).hasSize(5);
    }

    @Test
    void heatMemoryStaysWithinTheCap() {
        ExtentHeat h = new ExtentHeat(new ExtentConfig(BIG, EXT, 10), () -> 0);
        // Small objects are never tracked.
        h.written(fid(9), BIG - 1, new long[] {0, 64 * K}, false);
        assertThat(h.tracked(fid(9))).isFalse();
        h.written(fid(1), BIG, new long[] {0, BIG}, false);
        h.written(fid(2), BIG, new long[] {0, BIG}, false);
        assertThat(h.trackedExtents()).isEqualTo(8);
        // A third would pass the cap: placed whole, not tracked.
        h.read(fid(3), BIG, 0, 10, true, null, 99);
        assertThat(h.tracked(fid(3))).isFalse();
        assertThat(h.refused()).isEqualTo(1);
        // Growing past the cap drops the object; shrinking below the threshold forgets it.
        h.written(fid(2), 3 * BIG, new long[] {BIG, 3 * BIG}, false);
        assertThat(h.tracked(fid(2))).isFalse();
        assertThat(h.trackedExtents()).isEqualTo(4);
        h.written(fid(1), 64 * K, new long[] {64 * K, BIG}, false);
        assertThat(h.trackedExtents()).isZero();
        // Many objects, many threads of accesses: never above the cap, and the estimate holds.
        for (int i = 10; i < 1000; i++) {
            h.read(fid(i), BIG + (i % 3) * EXT, 0, 10, true, null, 99);
            assertThat(h.trackedExtents()).isLessThanOrEqualTo(10);
        }
        assertThat(h.trackedObjects()).isEqualTo(2);
        assertThat(h.footprintBytes())
                .isLessThanOrEqualTo(10 * ExtentHeat.BYTES_PER_EXTENT + 2 + 2L * ExtentHeat.BYTES_PER_OBJECT);
        for (int i = 10; i < 1000; i++) {
            h.forget(fid(i));
        }
        assertThat(h.trackedExtents()).isZero();
        assertThat(h.footprintBytes()).isZero();
    }

    @Test
    void residencyIsLearnedFromTheRecord() {
        Fid f = fid(4);
        heat.sync(f, BIG, (a, b) -> b <= EXT || a >= 3 * EXT);
        assertThat(heat.extents(f, BIG))
                .extracting(ExtentHeat.Extent::spilled)
                .containsExactly(false, true, true, false);
        List<ExtentHeat.Extent> xs = heat.extents(f, BIG);
        assertThat(xs.get(3).last()).isTrue();
        assertThat(xs.get(3).end()).isEqualTo(BIG);
        heat.markAll(f, true);
        assertThat(heat.residentBytes(f, BIG)).isZero();
        assertThat(heat.split(f)).isFalse();
    }

    /**
     * The residency answers a read asks for (split, all spilled, resident bytes) are counted from
     * the bit words, not extent by extent: they must equal the extent-by-extent truth for any
     * pattern, a short last extent and a body of more than 64 extents (two words) included.
     */
    @Test
    void residencyAnswersMatchTheExtentByExtentTruthForEveryPattern() {
        java.util.Random rnd = new java.util.Random(11);
        ExtentHeat h = new ExtentHeat(new ExtentConfig(BIG, EXT, 100_000), () -> now);
        long[] sizes = {BIG, BIG + 1, BIG + EXT - 1, 70 * EXT + 123, 128 * EXT, 130 * EXT - 5};
        for (int round = 0; round < 300; round++) {
            long size = sizes[round % sizes.length];
            Fid f = fid(1000 + round);
            h.written(f, size, new long[] {0, 1}, false);
            int n = (int) ((size + EXT - 1) / EXT);
            boolean[] spilled = new boolean[n];
            int mode = round % 3;
            for (int e = 0; e < n; e++) {
                spilled[e] = mode == 0 ? rnd.nextBoolean() : mode == 1 ? rnd.nextInt(8) != 0 : rnd.nextInt(8) == 0;
            }
            if (round % 7 == 0) {
                java.util.Arrays.fill(spilled, true);
            }
            for (int e = 0; e < n; e++) {
                h.mark(f, e, spilled[e]);
            }
            long resident = 0;
            int count = 0;
            for (int e = 0; e < n; e++) {
                if (spilled[e]) {
                    count++;
                } else {
                    resident += Math.min(EXT, size - e * EXT);
                }
            }
            assertThat(h.residentBytes(f, size))
                    .as("round %d, size %d", round, size)
                    .isEqualTo(resident);
            assertThat(h.allSpilled(f)).as("round %d", round).isEqualTo(count == n);
            assertThat(h.split(f)).as("round %d", round).isEqualTo(count > 0 && count < n);
        }
    }
}
