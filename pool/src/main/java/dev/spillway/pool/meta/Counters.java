package dev.spillway.pool.meta;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.IndexCursor;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Bytes and copies the pool has placed on each device, per {@link CopyState}, persisted in the
 * same metadata transaction as the change they count (striped by object FID, so transactions on
 * different objects rarely share a counter), so that {@code df} after a crash is exact without a
 * scan. The metadata device's own bytes come from its statfs, not from here.
 *
 * <p>Deltas of one transaction accumulate in a {@code Counters} instance and are flushed once
 * before stop: the transaction holds the stripe's lock from start, so the committed value it reads
 * cannot move under it.
 */
public final class Counters {
    // Key: device (2 bytes, big-endian) and the state's code. Value: a version byte, then bytes
    // and copies (8 bytes each, big-endian); values of format 0 have no version byte.
    private static final int KEY_BYTES = 3;
    private static final byte VERSION = 1;
    private static final int VALUE_BYTES = 1 + 16;
    private static final int V0_VALUE_BYTES = 16;
    /** Bytes of one counter record (device, state → bytes, copies). */
    public static final int RECORD_BYTES = KEY_BYTES + VALUE_BYTES;

    private final Fid object;
    // (device << 8 | state) -> {bytes, copies}
    private final Map<Integer, long[]> deltas = new HashMap<>();

    /** Deltas for a transaction on {@code object}'s stripe. */
    public Counters(Fid object) {
        this.object = object;
    }

    public static void declare(Transaction tx, Fid object) throws OsdException {
        tx.declareInsert(PoolFids.countersFor(object), KEY_BYTES, VALUE_BYTES);
    }

    /** Counts a copy of {@code bytes} entering ({@code +1}) or leaving ({@code -1}) {@code state}. */
    public Counters add(int device, CopyState state, long bytes, int sign) {
        long[] d = deltas.computeIfAbsent(device << 8 | state.code(), k -> new long[2]);
        d[0] += sign * bytes;
        d[1] += sign;
        return this;
    }

    /** A copy of {@code bytes} on {@code device} moving from one state to another. */
    public Counters move(int device, CopyState from, CopyState to, long bytes) {
        return add(device, from, bytes, -1).add(device, to, bytes, +1);
    }

    /** Every part of copy {@code c} (its stripes, or itself) entering or leaving {@code state}. */
    public Counters add(Copy c, CopyState state, int sign) {
        for (Stripe s : c.parts()) {
            add(s.device(), state, s.bytes(), sign);
        }
        return this;
    }

    /** Every part of copy {@code c} moving from one state to another. */
    public Counters move(Copy c, CopyState from, CopyState to) {
        for (Stripe s : c.parts()) {
            move(s.device(), from, to, s.bytes());
        }
        return this;
    }

    public boolean isEmpty() {
        return deltas.values().stream().allMatch(d -> d[0] == 0 && d[1] == 0);
    }

    /** Writes the accumulated deltas into the stripe (read committed + delta → upsert). */
    public void flush(Transaction tx, Osd md) throws OsdException {
        Fid stripe = PoolFids.countersFor(object);
        for (Map.Entry<Integer, long[]> e : deltas.entrySet()) {
            if (e.getValue()[0] == 0 && e.getValue()[1] == 0) {
                continue;
            }
            byte[] k = key(e.getKey());
            Optional<byte[]> old = md.lookup(stripe, k);
            long[] cur = old.isPresent() ? value(md.name(), stripe, k, old.get()) : new long[2];
            tx.upsert(
                    stripe,
                    k,
                    ByteBuffer.allocate(VALUE_BYTES)
                            .put(VERSION)
                            .putLong(cur[0] + e.getValue()[0])
                            .putLong(cur[1] + e.getValue()[1])
                            .array());
        }
        deltas.clear();
    }

    private static byte[] key(int packed) {
        return new byte[] {(byte) (packed >>> 16), (byte) (packed >>> 8), (byte) packed};
    }

    /** A counter's value, of format 1 or 0; EPROTO naming the record if it is neither. */
    private static long[] value(String device, Fid stripe, byte[] k, byte[] v) throws OsdException {
        boolean v1 = v.length == VALUE_BYTES && v[0] == VERSION;
        if (!v1 && v.length != V0_VALUE_BYTES) {
            throw new OsdException(
                    Errno.EPROTO,
                    device,
                    stripe,
                    "counters: malformed value of " + v.length + " bytes for key "
                            + HexFormat.of().formatHex(k) + " (format " + VERSION + " has " + VALUE_BYTES + ")");
        }
        ByteBuffer b = ByteBuffer.wrap(v, v1 ? 1 : 0, V0_VALUE_BYTES);
        return new long[] {b.getLong(), b.getLong()};
    }

    /** Totals per device and state: {@code [bytes, copies]}. */
    public static Map<Integer, Map<CopyState, long[]>> totals(Osd md) throws OsdException {
        Map<Integer, Map<CopyState, long[]>> out = new TreeMap<>();
        for (int s = 0; s < PoolFids.STRIPES; s++) {
            try (IndexCursor c = md.cursor(PoolFids.counters(s), null)) {
                while (c.next()) {
                    byte[] k = c.key();
                    CopyState st = k.length == KEY_BYTES ? CopyState.ofCode(k[2]) : null;
                    if (st == null) {
                        throw new OsdException(
                                Errno.EPROTO,
                                md.name(),
                                PoolFids.counters(s),
                                "counters: malformed key " + HexFormat.of().formatHex(k) + " (want " + KEY_BYTES
                                        + " bytes: device, copy state code)");
                    }
                    int dev = (k[0] & 0xff) << 8 | (k[1] & 0xff);
                    long[] v = value(md.name(), PoolFids.counters(s), k, c.value());
                    long[] t = out.computeIfAbsent(dev, d -> new TreeMap<>()).computeIfAbsent(st, x -> new long[2]);
                    t[0] += v[0];
                    t[1] += v[1];
                }
            }
        }
        return out;
    }
}
