package dev.spillway.simulator;

/**
 * TinyLFU's popularity estimate as Caffeine keeps it (facts from its {@code FrequencySketch}; the
 * code is ours): a count-min sketch of 4-bit counters, four counters per item all in one 64-byte
 * block of the table, sized to the next power of two of the expected entries. Every
 * {@code 10 x entries} increments, all counters are halved (the aging that lets yesterday's
 * favourites fade). Deterministic: hashing depends on the key alone.
 */
final class FrequencySketch {
    private static final long RESET_MASK = 0x7777777777777777L;
    private static final long ONE_MASK = 0x1111111111111111L;

    private long[] table;
    private int blockMask;
    private int sampleSize;
    private int size;

    boolean initialized() {
        return table != null;
    }

    /** Sizes for {@code entries} expected entries; growing the table forgets every count. */
    void ensureCapacity(long entries) {
        int maximum = (int) Math.max(8, Math.min(entries, Integer.MAX_VALUE >>> 1));
        int sample = (int) Math.min(10L * maximum, Integer.MAX_VALUE);
        if (table != null && table.length >= maximum) {
            if (sample != sampleSize) {
                sampleSize = sample;
                size = Math.min(size, sampleSize - 1);
            }
            return;
        }
        table = new long[Math.max(8, Integer.highestOneBit(maximum - 1) << 1)];
        blockMask = (table.length >>> 3) - 1;
        sampleSize = sample;
        size = 0;
    }

    int frequency(long key) {
        if (table == null) {
            return 0;
        }
        int blockHash = spread(Long.hashCode(key));
        int counterHash = rehash(blockHash);
        int block = (blockHash & blockMask) << 3;
        int f = 15;
        for (int i = 0; i < 4; i++) {
            int h = counterHash >>> (i << 3);
            int index = (h >>> 1) & 15;
            int slot = block + (h & 1) + (i << 1);
            f = Math.min(f, (int) ((table[slot] >>> (index << 2)) & 0xfL));
        }
        return f;
    }

    void increment(long key) {
        if (table == null) {
            return;
        }
        int blockHash = spread(Long.hashCode(key));
        int counterHash = rehash(blockHash);
        int block = (blockHash & blockMask) << 3;
        boolean added = false;
        for (int i = 0; i < 4; i++) {
            int h = counterHash >>> (i << 3);
            int index = (h >>> 1) & 15;
            int slot = block + (h & 1) + (i << 1);
            long mask = 0xfL << (index << 2);
            if ((table[slot] & mask) != mask) {
                table[slot] += 1L << (index << 2);
                added = true;
            }
        }
        if (added && ++size == sampleSize) {
            reset();
        }
    }

    private void reset() {
        long odd = 0;
        for (int i = 0; i < table.length; i++) {
            odd += Long.bitCount(table[i] & ONE_MASK);
            table[i] = (table[i] >>> 1) & RESET_MASK;
        }
        size = (int) Math.max(0, (size - (odd >>> 2)) >>> 1);
    }

    private static int spread(int x) {
        x ^= x >>> 17;
        x *= 0xed5ad4bb;
        x ^= x >>> 11;
        x *= 0xac4c1b51;
        x ^= x >>> 15;
        return x;
    }

    private static int rehash(int x) {
        x *= 0x31848bab;
        x ^= x >>> 14;
        return x;
    }
}
