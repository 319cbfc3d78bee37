package dev.spillway.simulator;

import java.util.Arrays;

/**
 * Several intrusive doubly linked queues over the dense object indexes of one trace: an object is
 * in at most one queue at a time, each queue ordered from head (oldest: LRU or FIFO end) to tail.
 * O(1) for every operation, no allocation per request: what lets the baselines replay millions of
 * requests a second.
 */
final class Queues {
    static final byte NONE = -1;
    private final int[] prev;
    private final int[] next;
    private final byte[] queue;
    private final int[] head;
    private final int[] tail;
    private final long[] bytes;
    private final int[] count;

    Queues(int objects, int queues) {
        prev = new int[objects];
        next = new int[objects];
        queue = new byte[objects];
        Arrays.fill(queue, NONE);
        head = new int[queues];
        tail = new int[queues];
        Arrays.fill(head, -1);
        Arrays.fill(tail, -1);
        bytes = new long[queues];
        count = new int[queues];
    }

    /** The queue holding {@code o}, or {@link #NONE}. */
    byte queueOf(int o) {
        return queue[o];
    }

    int head(int q) {
        return head[q];
    }

    /** The object after {@code o} towards the tail, or -1. */
    int next(int o) {
        return next[o];
    }

    long bytes(int q) {
        return bytes[q];
    }

    int count(int q) {
        return count[q];
    }

    boolean isEmpty(int q) {
        return head[q] < 0;
    }

    /** Appends {@code o} (in no queue) at the tail of {@code q}. */
    void addTail(int q, int o, long size) {
        queue[o] = (byte) q;
        prev[o] = tail[q];
        next[o] = -1;
        if (tail[q] >= 0) {
            next[tail[q]] = o;
        } else {
            head[q] = o;
        }
        tail[q] = o;
        bytes[q] += size;
        count[q]++;
    }

    /** Takes {@code o} out of its queue. */
    void remove(int o, long size) {
        int q = queue[o];
        int p = prev[o];
        int n = next[o];
        if (p >= 0) {
            next[p] = n;
        } else {
            head[q] = n;
        }
        if (n >= 0) {
            prev[n] = p;
        } else {
            tail[q] = p;
        }
        queue[o] = NONE;
        bytes[q] -= size;
        count[q]--;
    }

    /** Moves {@code o} to the tail of {@code q} (from whatever queue it is in). */
    void moveTail(int q, int o, long size) {
        remove(o, size);
        addTail(q, o, size);
    }
}
