package dev.spillway.migrate.heat;

import java.util.Arrays;

/**
 * Records grouped by heat key into buckets of {@code 1/bucketsPerDoubling} of a doubling, so
 * that the coldest objects are found by looking at the lowest non-empty buckets instead of at
 * every object.
 *
 * <p>A record's key never changes while it sits in a bucket (an access relinks it), and keys
 * only grow with time, so the bucket ids in use move upward. The ring keeps the newest
 * {@code capacity} ids; a record whose id falls below the ring's floor lives in the floor
 * bucket, which therefore holds everything colder than about {@code capacity /
 * bucketsPerDoubling} doublings — objects whose heat is effectively zero. When the top moves up,
 * the buckets that leave the ring are spliced into the new floor in O(1) each.
 *
 * <p>Each bucket is a circular doubly-linked list threaded through the store's prev/next, with
 * its byte and record totals, so "how many bytes are colder than X" costs one step per bucket.
 * Not thread-safe: the owning segment's lock guards every call.
 */
final class BucketRing {
    private final EntryStore store;
    private final int capacity;
    private final int mask;
    private final double bucketsPerDoubling;
    private final int[] head;
    private final long[] bytes;
    private final int[] count;
    private long top = Long.MIN_VALUE; // highest id the ring has held; MIN_VALUE while never used
    private long low = Long.MAX_VALUE; // no non-empty bucket lies below this id (a search hint)
    private long linked;
    private long linkedBytes;

    BucketRing(EntryStore store, int capacity, int bucketsPerDoubling) {
        if (Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("ring capacity must be a power of two: " + capacity);
        }
        this.store = store;
        this.capacity = capacity;
        this.mask = capacity - 1;
        this.bucketsPerDoubling = bucketsPerDoubling;
        this.head = new int[capacity];
        Arrays.fill(head, EntryStore.NONE);
        this.bytes = new long[capacity];
        this.count = new int[capacity];
    }

    long footprintBytes() {
        return (long) capacity * (Integer.BYTES * 2 + Long.BYTES);
    }

    long bucketOf(double key) {
        return (long) Math.floor(key * bucketsPerDoubling);
    }

    /** The lowest key a bucket id covers. */
    double lowerKey(long bucket) {
        return bucket / bucketsPerDoubling;
    }

    long floor() {
        return top == Long.MIN_VALUE ? Long.MIN_VALUE : top - capacity + 1;
    }

    long top() {
        return top;
    }

    /** The bucket a record with this key is in (or would be in) now. */
    long effectiveBucket(double key) {
        long b = bucketOf(key);
        long f = floor();
        return b < f ? f : b;
    }

    long linked() {
        return linked;
    }

    long linkedBytes() {
        return linkedBytes;
    }

    void link(int id, long sizeBytes) {
        long b = bucketOf(store.key(id));
        if (top == Long.MIN_VALUE) {
            top = b;
        } else if (b > top) {
            raiseTop(b);
        }
        long f = floor();
        if (b < f) {
            b = f;
        }
        if (b < low) {
            low = b;
        }
        int slot = (int) (b & mask);
        int h = head[slot];
        if (h == EntryStore.NONE) {
            store.setPrev(id, id);
            store.setNext(id, id);
            head[slot] = id;
        } else {
            // Append at the tail: within a bucket, older members come first.
            int tail = store.prev(h);
            store.setNext(tail, id);
            store.setPrev(id, tail);
            store.setNext(id, h);
            store.setPrev(h, id);
        }
        bytes[slot] += sizeBytes;
        count[slot]++;
        linked++;
        linkedBytes += sizeBytes;
    }

    void unlink(int id, long sizeBytes) {
        int slot = (int) (effectiveBucket(store.key(id)) & mask);
        int p = store.prev(id);
        int n = store.next(id);
        if (n == id) {
            head[slot] = EntryStore.NONE;
        } else {
            store.setNext(p, n);
            store.setPrev(n, p);
            if (head[slot] == id) {
                head[slot] = n;
            }
        }
        store.setPrev(id, EntryStore.NONE);
        store.setNext(id, EntryStore.NONE);
        bytes[slot] -= sizeBytes;
        count[slot]--;
        linked--;
        linkedBytes -= sizeBytes;
    }

    private void raiseTop(long newTop) {
        long oldFloor = floor();
        long newFloor = newTop - capacity + 1;
        if (newFloor > oldFloor) {
            // Every id in [oldFloor, newFloor) leaves the ring: splice them into newFloor's bucket.
            int dst = (int) (newFloor & mask);
            long moving = Math.min(newFloor - oldFloor, capacity);
            int gathered = EntryStore.NONE;
            long gBytes = 0;
            int gCount = 0;
            for (long b = oldFloor; b < oldFloor + moving; b++) {
                int s = (int) (b & mask);
                if (head[s] != EntryStore.NONE) {
                    gathered = splice(gathered, head[s]);
                    gBytes += bytes[s];
                    gCount += count[s];
                }
                head[s] = EntryStore.NONE;
                bytes[s] = 0;
                count[s] = 0;
            }
            // If the new floor lies above the old top, every old slot was just cleared, dst included;
            // otherwise dst still holds the new floor's own members. The gathered ones are colder,
            // so they go first.
            head[dst] = gathered == EntryStore.NONE ? head[dst] : splice(gathered, head[dst]);
            bytes[dst] += gBytes;
            count[dst] += gCount;
        }
        top = newTop;
    }

    /** Joins circular list b after circular list a; either may be NONE. Returns the new head. */
    private int splice(int a, int b) {
        if (a == EntryStore.NONE) {
            return b;
        }
        if (b == EntryStore.NONE) {
            return a;
        }
        int aTail = store.prev(a);
        int bTail = store.prev(b);
        store.setNext(aTail, b);
        store.setPrev(b, aTail);
        store.setNext(bTail, a);
        store.setPrev(a, bTail);
        return a;
    }

    int head(long bucket) {
        if (top == Long.MIN_VALUE || bucket > top || bucket < floor()) {
            return EntryStore.NONE;
        }
        return head[(int) (bucket & mask)];
    }

    long bytes(long bucket) {
        if (top == Long.MIN_VALUE || bucket > top || bucket < floor()) {
            return 0;
        }
        return bytes[(int) (bucket & mask)];
    }

    int count(long bucket) {
        if (top == Long.MIN_VALUE || bucket > top || bucket < floor()) {
            return 0;
        }
        return count[(int) (bucket & mask)];
    }

    /** The lowest non-empty bucket id at or above {@code from}, or {@link Long#MAX_VALUE}. */
    long nextNonEmpty(long from) {
        if (top == Long.MIN_VALUE || linked == 0) {
            return Long.MAX_VALUE;
        }
        long known = Math.max(low, floor()); // nothing non-empty lies below it
        long start = Math.max(from, known);
        for (long b = start; b <= top; b++) {
            if (head[(int) (b & mask)] != EntryStore.NONE) {
                if (from <= known) {
                    low = b;
                }
                return b;
            }
        }
        if (from <= known) {
            low = top + 1;
        }
        return Long.MAX_VALUE;
    }
}
