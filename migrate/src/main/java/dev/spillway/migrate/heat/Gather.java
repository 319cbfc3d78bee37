package dev.spillway.migrate.heat;

import java.util.Arrays;

/**
 * Records copied out of one bucket (from every segment) so they can be ordered by exact key
 * outside the segment locks. Reused across buckets of one query.
 */
final class Gather {
    double[] key = new double[64];
    float[] freq = new float[64];
    long[] seq = new long[64];
    long[] oidVer = new long[64];
    int[] sizeCode = new int[64];
    int[] last = new int[64];
    int[] aux = new int[64];
    int[] flags = new int[64];
    /** Positions in key order after {@link #sort()}. */
    int[] order = new int[64];

    int n;

    void clear() {
        n = 0;
    }

    /** Overwrites position i with record id. */
    void set(int i, EntryStore s, int id) {
        key[i] = s.key(id);
        freq[i] = s.freq(id);
        seq[i] = s.seq(id);
        oidVer[i] = s.oidVer(id);
        sizeCode[i] = s.sizeCode(id);
        last[i] = s.last(id);
        aux[i] = s.aux(id);
        flags[i] = s.flags(id);
    }

    void add(EntryStore s, int id) {
        if (n == key.length) {
            int c = n * 2;
            key = Arrays.copyOf(key, c);
            freq = Arrays.copyOf(freq, c);
            seq = Arrays.copyOf(seq, c);
            oidVer = Arrays.copyOf(oidVer, c);
            sizeCode = Arrays.copyOf(sizeCode, c);
            last = Arrays.copyOf(last, c);
            aux = Arrays.copyOf(aux, c);
            flags = Arrays.copyOf(flags, c);
            order = Arrays.copyOf(order, c);
        }
        set(n, s, id);
        n++;
    }

    /** Orders positions by key, coldest first; equal keys keep gathering order (older first). */
    void sort() {
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        sort(0, n);
    }

    /**
     * Puts the {@code k} coldest positions first, in order, and the rest after them unordered:
     * a big bucket costs one linear pass when only its coldest few are wanted. Call
     * {@link #sortRest(int)} before using positions from {@code k} on.
     */
    void sortFirst(int k) {
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        if (k >= n) {
            sort(0, n);
            return;
        }
        int from = 0;
        int to = n;
        // Quickselect: narrow [from, to) until position k separates the k coldest from the rest.
        while (to - from > 1) {
            int mid = (from + to) >>> 1;
            int a = order[from];
            int b = order[mid];
            int c = order[to - 1];
            int pivot = less(a, b) ? (less(b, c) ? b : (less(a, c) ? c : a)) : (less(a, c) ? a : (less(b, c) ? c : b));
            int i = from;
            int j = to - 1;
            while (i <= j) {
                while (less(order[i], pivot)) {
                    i++;
                }
                while (less(pivot, order[j])) {
                    j--;
                }
                if (i <= j) {
                    int t = order[i];
                    order[i] = order[j];
                    order[j] = t;
                    i++;
                    j--;
                }
            }
            if (k <= j) {
                to = j + 1;
            } else if (k >= i) {
                from = i;
            } else {
                break;
            }
        }
        sort(0, k);
    }

    /** Orders the positions from {@code k} on, after {@link #sortFirst(int)}. */
    void sortRest(int k) {
        sort(k, n);
    }

    private boolean less(int a, int b) {
        double ka = key[a];
        double kb = key[b];
        return ka < kb || (ka == kb && a < b);
    }

    // Merge-free in-place sort of the permutation: quicksort with insertion sort for short runs.
    // Ties are broken by position, so the result is fully deterministic.
    private void sort(int from, int to) {
        while (to - from > 24) {
            int mid = (from + to) >>> 1;
            int a = order[from];
            int b = order[mid];
            int c = order[to - 1];
            int pivot = less(a, b) ? (less(b, c) ? b : (less(a, c) ? c : a)) : (less(a, c) ? a : (less(b, c) ? c : b));
            int i = from;
            int j = to - 1;
            while (i <= j) {
                while (less(order[i], pivot)) {
                    i++;
                }
                while (less(pivot, order[j])) {
                    j--;
                }
                if (i <= j) {
                    int t = order[i];
                    order[i] = order[j];
                    order[j] = t;
                    i++;
                    j--;
                }
            }
            if (j - from < to - i) {
                sort(from, j + 1);
                from = i;
            } else {
                sort(i, to);
                to = j + 1;
            }
        }
        for (int i = from + 1; i < to; i++) {
            int v = order[i];
            int j = i - 1;
            while (j >= from && less(v, order[j])) {
                order[j + 1] = order[j];
                j--;
            }
            order[j + 1] = v;
        }
    }
}
