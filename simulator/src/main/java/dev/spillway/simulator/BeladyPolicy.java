package dev.spillway.simulator;

import java.util.Arrays;

/**
 * Belady's offline optimum (MIN), by bytes, as libCacheSim runs it: every miss is inserted
 * (unless larger than the cache), and to make room the object whose next request is furthest
 * in the future is evicted. Objects never requested again go first, the most recently inserted
 * of them first.
 *
 * <p>A max-heap on next-request keys with lazy deletion: a resident object's current key is
 * kept per object, and heap entries whose key is no longer current are skipped when polled.
 */
public final class BeladyPolicy extends SimPolicy {
    private long[] keyOf; // per object: its current key, or -1 when not resident
    private long[] sizeOf;
    // A binary max-heap of (key, object) in two arrays; stale entries are skipped when polled and
    // dropped by a rebuild when they outnumber the live ones.
    private long[] hk = new long[1024];
    private int[] ho = new int[1024];
    private int hn;
    private int resident;
    private long used;
    private long never = 0;

    public BeladyPolicy(long capacityBytes) {
        super(capacityBytes);
    }

    @Override
    public String name() {
        return "Belady";
    }

    private long key(Trace t, int i) {
        int n = t.nextAccess(i);
        // Distinct keys for "never again", above every real request index.
        return n == Trace.NEVER ? (1L << 40) + never++ : n;
    }

    @Override
    protected boolean access(Trace t, int i) {
        int o = t.object(i);
        if (keyOf == null) {
            keyOf = new long[t.objects()];
            Arrays.fill(keyOf, -1);
            sizeOf = new long[t.objects()];
        }
        if (keyOf[o] >= 0) {
            keyOf[o] = key(t, i);
            push(keyOf[o], o);
            if (t.isWrite(i)) {
                writeHit(o);
            }
            return true;
        }
        long size = t.size(i);
        if (size > capacity) {
            bypassed(t, i);
            return false;
        }
        while (used + size > capacity) {
            long k = hk[0];
            int v = ho[0];
            pop();
            if (keyOf[v] != k) {
                continue; // stale: the object was requested again (or left) since
            }
            keyOf[v] = -1;
            resident--;
            used -= sizeOf[v];
            evicted(v, sizeOf[v]);
        }
        keyOf[o] = key(t, i);
        sizeOf[o] = size;
        push(keyOf[o], o);
        resident++;
        used += size;
        admitted(t, i);
        return false;
    }

    private void push(long k, int o) {
        if (hn == hk.length) {
            if (hn > 4 * resident + 1024) {
                rebuild();
            } else {
                hk = Arrays.copyOf(hk, hn * 2);
                ho = Arrays.copyOf(ho, hn * 2);
            }
        }
        int i = hn++;
        while (i > 0) {
            int p = (i - 1) >>> 1;
            if (hk[p] >= k) {
                break;
            }
            hk[i] = hk[p];
            ho[i] = ho[p];
            i = p;
        }
        hk[i] = k;
        ho[i] = o;
    }

    private void pop() {
        long k = hk[--hn];
        int o = ho[hn];
        int i = 0;
        while (true) {
            int l = 2 * i + 1;
            if (l >= hn) {
                break;
            }
            int c = l + 1 < hn && hk[l + 1] > hk[l] ? l + 1 : l;
            if (hk[c] <= k) {
                break;
            }
            hk[i] = hk[c];
            ho[i] = ho[c];
            i = c;
        }
        if (hn > 0) {
            hk[i] = k;
            ho[i] = o;
        }
    }

    /** Drops stale entries: only each resident object's current key stays. */
    private void rebuild() {
        long[] k = new long[hk.length];
        int[] o = new int[ho.length];
        int n = 0;
        for (int i = 0; i < hn; i++) {
            if (keyOf[ho[i]] == hk[i]) {
                k[n] = hk[i];
                o[n++] = ho[i];
            }
        }
        hk = k;
        ho = o;
        hn = 0;
        long[] kk = Arrays.copyOf(k, n);
        int[] oo = Arrays.copyOf(o, n);
        for (int i = 0; i < n; i++) {
            push(kk[i], oo[i]);
        }
    }
}
