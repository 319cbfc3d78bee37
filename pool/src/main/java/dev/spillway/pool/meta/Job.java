package dev.spillway.pool.meta;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * One entry of the work index: work in flight that recovery must finish or roll back, or that
 * the daemon must do. It is written in the same metadata transaction as the layout change it
 * belongs to.
 *
 * @param kind what the work is
 * @param fid the pool object
 * @param device the device concerned
 * @param key the copy's key on that device (for PARKED: none, {@link #NO_KEY})
 * @param version the object's data version when the job was made
 * @param bytes the copy's size, for the counters
 * @param createdNs when the job was made (clock of the pool)
 * @param attempts failed attempts so far (for back-off)
 * @param copy for a job on one stripe of a striped copy, the copy's key (its stripe 0's): the
 *     jobs of one copy's stripes are found together by it; {@link #NO_KEY} for a whole copy
 */
public record Job(
        Kind kind, Fid fid, int device, Fid key, long version, long bytes, long createdNs, int attempts, Fid copy) {
    public static final Fid NO_KEY = new Fid(0, 0, 0);
    /** Bytes of a job's index key: kind code, object FID, copy key. */
    public static final int KEY_BYTES = 1 + 2 * Fid.BYTES;

    /** The format of a job's value written now: a version byte, then the fields. */
    public static final byte VERSION = 1;

    /** Bytes of a job's value: version, device, data version, bytes, created, attempts. */
    public static final int VALUE_BYTES = 1 + 2 + 8 + 8 + 8 + 4;

    /** The format of a stripe's job (issue 20): format 1's fields, then the striped copy's key. */
    public static final byte STRIPE_VERSION = 2;

    /** Bytes of a stripe job's value (format 2). */
    public static final int STRIPE_VALUE_BYTES = VALUE_BYTES + Fid.BYTES;

    /** The most bytes a job's value has, for declarations. */
    public static final int MAX_VALUE_BYTES = STRIPE_VALUE_BYTES;

    public Job {
        copy = copy == null ? NO_KEY : copy;
    }

    /** A job on a whole copy (or a PARKED move). */
    public Job(Kind kind, Fid fid, int device, Fid key, long version, long bytes, long createdNs, int attempts) {
        this(kind, fid, device, key, version, bytes, createdNs, attempts, NO_KEY);
    }

    // Values written before the version byte (format 0): the same fields without it.
    private static final int V0_VALUE_BYTES = VALUE_BYTES - 1;

    /** The kinds of work, each with its on-disk code (the first byte of the job's key). */
    public enum Kind {
        /** A copy being written to {@code device}; a crash rolls it back (the copy becomes garbage). */
        COPY(0),
        /** A copy no layout references; delete it from {@code device}. */
        GC(1),
        /** A stale copy on {@code device} waiting to be rewritten from a good one. */
        RESYNC(2),
        /** A spill to {@code device} parked because the device was full; retried when space appears. */
        PARKED(3),
        /**
         * The extra copy of a {@code write-commit: sync} write, written to {@code device} while the
         * write's top transaction commits: a crash rolls it forward (in sync) if the copy is there
         * whole and equal to the body, else back as a COPY job (docs/design.md, "Write-commit").
         */
        SYNC_COPY(4),
        /**
         * A body written around the fast tier to {@code device} (docs/design.md, "Write-around"):
         * made in the top transaction that names the copy in sync, its only copy, and ended just
         * after it with the key's lease. Recovery only ends a leftover one (job and lease): its copy
         * was durable before any metadata named it and is the layout's like any spilled copy, so
         * whatever happened to the object since (rewritten, deleted, moved) settled it already.
         */
        WRITE_AROUND(5);

        private final int code;

        Kind(int code) {
            this.code = code;
        }

        /** The kind's on-disk code. */
        public int code() {
            return code;
        }

        /** The kind of on-disk code {@code code}, or null if none has it (a damaged entry). */
        public static Kind ofCode(int code) {
            for (Kind k : values()) {
                if (k.code == code) {
                    return k;
                }
            }
            return null;
        }
    }

    /**
     * One job of {@code kind} per part of copy {@code c} (per stripe of a striped copy, each on its
     * own device under its own key), so that recovery and garbage collection handle a stripe as
     * they handle a whole copy.
     */
    public static List<Job> perPart(Kind kind, Fid fid, Copy c, long version, long createdNs) {
        return c.parts().stream()
                .map(s -> new Job(
                        kind,
                        fid,
                        s.device(),
                        s.key(),
                        version,
                        s.bytes(),
                        createdNs,
                        0,
                        c.striped() ? c.key() : NO_KEY))
                .toList();
    }

    public byte[] keyBytes() {
        return ByteBuffer.allocate(KEY_BYTES)
                .put((byte) kind.code)
                .put(fid.toBytes())
                .put(key.toBytes())
                .array();
    }

    /** Format 1, or format 2 for a stripe's job (one that names its striped copy). */
    public byte[] valueBytes() {
        boolean stripe = !copy.equals(NO_KEY);
        ByteBuffer b = ByteBuffer.allocate(stripe ? STRIPE_VALUE_BYTES : VALUE_BYTES)
                .put(stripe ? STRIPE_VERSION : VERSION)
                .putShort((short) device)
                .putLong(version)
                .putLong(bytes)
                .putLong(createdNs)
                .putInt(attempts);
        if (stripe) {
            b.put(copy.toBytes());
        }
        return b.array();
    }

    /**
     * Decodes a work-index entry: format 1 (a version byte first) or format 0 (written before
     * it, the same fields without the byte).
     *
     * @throws OsdException EPROTO naming the device and what is wrong, for an entry of another
     *     size, version or an unknown kind
     */
    public static Job decode(String deviceName, byte[] k, byte[] v) throws OsdException {
        Kind kind = k.length == KEY_BYTES ? Kind.ofCode(k[0]) : null;
        boolean v1 = v.length == VALUE_BYTES && v[0] == VERSION;
        boolean v2 = v.length == STRIPE_VALUE_BYTES && v[0] == STRIPE_VERSION;
        if (kind == null || !(v1 || v2 || v.length == V0_VALUE_BYTES)) {
            throw new OsdException(
                    Errno.EPROTO,
                    deviceName,
                    null,
                    "work index: malformed entry (" + k.length + "-byte key"
                            + (k.length > 0 ? " of kind code " + k[0] : "") + ", " + v.length + "-byte value"
                            + (v.length == VALUE_BYTES || v.length == STRIPE_VALUE_BYTES ? " of format " + v[0] : "")
                            + "; format " + VERSION + " has " + KEY_BYTES + " and " + VALUE_BYTES + ", format "
                            + STRIPE_VERSION + " " + KEY_BYTES + " and " + STRIPE_VALUE_BYTES + ")");
        }
        ByteBuffer kb = ByteBuffer.wrap(k, 1, KEY_BYTES - 1);
        byte[] f = new byte[Fid.BYTES];
        kb.get(f);
        byte[] c = new byte[Fid.BYTES];
        kb.get(c);
        ByteBuffer vb = ByteBuffer.wrap(v, v1 || v2 ? 1 : 0, V0_VALUE_BYTES);
        int device = Short.toUnsignedInt(vb.getShort());
        long version = vb.getLong();
        long bytes = vb.getLong();
        long created = vb.getLong();
        int attempts = vb.getInt();
        Fid copy = NO_KEY;
        if (v2) {
            byte[] cp = new byte[Fid.BYTES];
            ByteBuffer.wrap(v, VALUE_BYTES, Fid.BYTES).get(cp);
            copy = Fid.fromBytes(cp);
        }
        return new Job(kind, Fid.fromBytes(f), device, Fid.fromBytes(c), version, bytes, created, attempts, copy);
    }

    @Override
    public String toString() {
        return kind + " " + fid + " dev " + device + (key.equals(NO_KEY) ? "" : " copy " + key)
                + (copy.equals(NO_KEY) ? "" : " (a stripe of " + copy + ")") + " v" + version;
    }
}
