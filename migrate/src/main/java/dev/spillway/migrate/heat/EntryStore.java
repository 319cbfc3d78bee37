package dev.spillway.migrate.heat;

import java.util.Arrays;

/**
 * The per-object records of one {@link HeatSegment}, kept in primitive arrays so that a tracked
 * object costs about 45 bytes plus its hash slot, never an object header or a pointer.
 *
 * <p>Records live in fixed-size chunks ({@value #CHUNK} records each) and are named by a stable
 * int id, so growing never copies the records (no long pause on the data path) and bucket links
 * stay valid. A hash index of ints (linear probing, load at most 3/4, backward-shift deletion)
 * maps a FID to its id. Freed ids are reused through a free list threaded through {@code next}.
 *
 * <p>Not thread-safe: the owning segment's lock guards every call.
 */
final class EntryStore {
    static final int CHUNK_BITS = 14;
    static final int CHUNK = 1 << CHUNK_BITS;
    private static final int MASK = CHUNK - 1;
    /** Bytes of record state per id: seq, oidVer, key, freq, last, aux, size, prev, next, flags. */
    static final int RECORD_BYTES = 8 + 8 + 8 + 4 + 4 + 4 + 4 + 4 + 4 + 1;

    /** No record; also the end of a free list. */
    static final int NONE = -1;

    private long[][] seq = new long[0][];
    private long[][] oidVer = new long[0][];
    /** The time-invariant heat key: log2 of the decayed access count scaled to the epoch. */
    private double[][] key = new double[0][];
    /**
     * The frequency key's offset: the key of the count that decays with the (longer) frequency
     * half-life, less {@code (key + size term) x halfLife / frequencyHalfLife} (see {@code
     * HeatSegment.freqKey}); a difference of log counts, so 4 bytes hold it.
     */
    private float[][] freq = new float[0][];
    /** Last access, seconds since the tracker's epoch. */
    private int[][] last = new int[0][];
    /**
     * Resident: second it became resident (for the minimum age). Spilled with {@code
     * HeatSegment.F_GHOST}: its ghost mark — the bytes its part of the tier (trial copies or the
     * main part) had spilled before it, in 4 KiB units, wrapping. Otherwise unused.
     */
    private int[][] aux = new int[0][];

    private int[][] size = new int[0][];
    private int[][] prev = new int[0][];
    private int[][] next = new int[0][];
    private byte[][] flags = new byte[0][];

    private int allocated; // ids ever handed out (high-water mark)
    private int live;
    private int freeHead = NONE;

    private int[] index = new int[16]; // id + 1; 0 = empty
    private int indexMask = 15;

    int live() {
        return live;
    }

    /** Heap bytes held by the arrays of this store (records and index), as allocated. */
    long footprintBytes() {
        long chunks = seq.length;
        return chunks * CHUNK * RECORD_BYTES + (long) index.length * Integer.BYTES;
    }

    static int hash(long s, long ov) {
        long h = s * 0x9E3779B97F4A7C15L ^ Long.rotateLeft(ov * 0xC2B2AE3D27D4EB4FL, 31);
        h ^= h >>> 29;
        h *= 0xBF58476D1CE4E5B9L;
        return (int) (h ^ (h >>> 32));
    }

    /** The id of the record for this FID, or {@link #NONE}. */
    int find(long s, long ov, int hash) {
        int i = hash & indexMask;
        while (true) {
            int v = index[i];
            if (v == 0) {
                return NONE;
            }
            int id = v - 1;
            if (seq(id) == s && oidVer(id) == ov) {
                return id;
            }
            i = (i + 1) & indexMask;
        }
    }

    /** Adds a record for a FID known to be absent; fields other than the FID are zero. */
    int add(long s, long ov, int hash) {
        if ((live + 1) * 4L > (long) index.length * 3) {
            rehash(index.length * 2);
        }
        int id;
        if (freeHead != NONE) {
            id = freeHead;
            freeHead = next(id);
        } else {
            if (allocated == seq.length * CHUNK) {
                growChunks();
            }
            id = allocated++;
        }
        seq[id >>> CHUNK_BITS][id & MASK] = s;
        oidVer[id >>> CHUNK_BITS][id & MASK] = ov;
        setKey(id, 0);
        setFreq(id, 0);
        setLast(id, 0);
        setAux(id, 0);
        setSizeCode(id, 0);
        setPrev(id, NONE);
        setNext(id, NONE);
        setFlags(id, 0);
        int i = hash & indexMask;
        while (index[i] != 0) {
            i = (i + 1) & indexMask;
        }
        index[i] = id + 1;
        live++;
        return id;
    }

    /** Removes a record (already unlinked from any bucket) and frees its id. */
    void remove(int id, int hash) {
        int i = hash & indexMask;
        while (index[i] != id + 1) {
            i = (i + 1) & indexMask;
        }
        // Backward-shift deletion keeps every probe chain unbroken without tombstones.
        int j = i;
        while (true) {
            j = (j + 1) & indexMask;
            int v = index[j];
            if (v == 0) {
                break;
            }
            int home = hash(seq(v - 1), oidVer(v - 1)) & indexMask;
            boolean movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
            if (movable) {
                index[i] = v;
                i = j;
            }
        }
        index[i] = 0;
        setNext(id, freeHead);
        setFlags(id, 0);
        freeHead = id;
        live--;
    }

    private void rehash(int capacity) {
        int[] old = index;
        index = new int[capacity];
        indexMask = capacity - 1;
        for (int v : old) {
            if (v != 0) {
                int i = hash(seq(v - 1), oidVer(v - 1)) & indexMask;
                while (index[i] != 0) {
                    i = (i + 1) & indexMask;
                }
                index[i] = v;
            }
        }
    }

    private void growChunks() {
        int n = seq.length + 1;
        seq = Arrays.copyOf(seq, n);
        oidVer = Arrays.copyOf(oidVer, n);
        key = Arrays.copyOf(key, n);
        freq = Arrays.copyOf(freq, n);
        last = Arrays.copyOf(last, n);
        aux = Arrays.copyOf(aux, n);
        size = Arrays.copyOf(size, n);
        prev = Arrays.copyOf(prev, n);
        next = Arrays.copyOf(next, n);
        flags = Arrays.copyOf(flags, n);
        int c = n - 1;
        seq[c] = new long[CHUNK];
        oidVer[c] = new long[CHUNK];
        key[c] = new double[CHUNK];
        freq[c] = new float[CHUNK];
        last[c] = new int[CHUNK];
        aux[c] = new int[CHUNK];
        size[c] = new int[CHUNK];
        prev[c] = new int[CHUNK];
        next[c] = new int[CHUNK];
        flags[c] = new byte[CHUNK];
    }

    /** Ids handed out so far; live records are those below it with {@link #isLive(int)}. */
    int allocated() {
        return allocated;
    }

    boolean isLive(int id) {
        return (flags(id) & HeatSegment.F_LIVE) != 0;
    }

    long seq(int id) {
        return seq[id >>> CHUNK_BITS][id & MASK];
    }

    long oidVer(int id) {
        return oidVer[id >>> CHUNK_BITS][id & MASK];
    }

    double key(int id) {
        return key[id >>> CHUNK_BITS][id & MASK];
    }

    void setKey(int id, double v) {
        key[id >>> CHUNK_BITS][id & MASK] = v;
    }

    float freq(int id) {
        return freq[id >>> CHUNK_BITS][id & MASK];
    }

    void setFreq(int id, float v) {
        freq[id >>> CHUNK_BITS][id & MASK] = v;
    }

    int last(int id) {
        return last[id >>> CHUNK_BITS][id & MASK];
    }

    void setLast(int id, int v) {
        last[id >>> CHUNK_BITS][id & MASK] = v;
    }

    int aux(int id) {
        return aux[id >>> CHUNK_BITS][id & MASK];
    }

    void setAux(int id, int v) {
        aux[id >>> CHUNK_BITS][id & MASK] = v;
    }

    int sizeCode(int id) {
        return size[id >>> CHUNK_BITS][id & MASK];
    }

    void setSizeCode(int id, int v) {
        size[id >>> CHUNK_BITS][id & MASK] = v;
    }

    int prev(int id) {
        return prev[id >>> CHUNK_BITS][id & MASK];
    }

    void setPrev(int id, int v) {
        prev[id >>> CHUNK_BITS][id & MASK] = v;
    }

    int next(int id) {
        return next[id >>> CHUNK_BITS][id & MASK];
    }

    void setNext(int id, int v) {
        next[id >>> CHUNK_BITS][id & MASK] = v;
    }

    int flags(int id) {
        return flags[id >>> CHUNK_BITS][id & MASK] & 0xFF;
    }

    void setFlags(int id, int v) {
        flags[id >>> CHUNK_BITS][id & MASK] = (byte) v;
    }

    /**
     * Sizes are kept in 31 bits: exact bytes below 1 GiB, whole MiB (rounded up) from 1 GiB to
     * 1 PiB, saturating above. Candidate selection only needs to reach a byte target, and the
     * pool keeps the exact size in the object's attributes.
     */
    static int encodeSize(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("negative size " + bytes);
        }
        if (bytes < (1L << 30)) {
            return (int) bytes;
        }
        long mib = (bytes + (1L << 20) - 1) >>> 20;
        return (int) ((1L << 30) | Math.min(mib, (1L << 30) - 1));
    }

    static long decodeSize(int code) {
        return (code & (1 << 30)) == 0 ? code : ((long) (code & ((1 << 30) - 1))) << 20;
    }
}
