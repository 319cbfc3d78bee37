package dev.spillway.pool.meta;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import java.nio.ByteBuffer;

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
 */
public record Job(Kind kind, Fid fid, int device, Fid key, long version, long bytes, long createdNs, int attempts) {
    public static final Fid NO_KEY = new Fid(0, 0, 0);
    /** Bytes of a job's index key and value. */
    public static final int KEY_BYTES = 1 + 2 * Fid.BYTES;

    public static final int VALUE_BYTES = 2 + 8 + 8 + 8 + 4;

    /** The kinds of work. */
    public enum Kind {
        /** A copy being written to {@code device}; a crash rolls it back (the copy becomes garbage). */
        COPY,
        /** A copy no layout references; delete it from {@code device}. */
        GC,
        /** A stale copy on {@code device} waiting to be rewritten from a good one. */
        RESYNC,
        /** A spill to {@code device} parked because the device was full; retried when space appears. */
        PARKED
    }

    public byte[] keyBytes() {
        return ByteBuffer.allocate(KEY_BYTES)
                .put((byte) kind.ordinal())
                .put(fid.toBytes())
                .put(key.toBytes())
                .array();
    }

    public byte[] valueBytes() {
        return ByteBuffer.allocate(VALUE_BYTES)
                .putShort((short) device)
                .putLong(version)
                .putLong(bytes)
                .putLong(createdNs)
                .putInt(attempts)
                .array();
    }

    public Job retried() {
        return new Job(kind, fid, device, key, version, bytes, createdNs, attempts + 1);
    }

    public static Job decode(String deviceName, byte[] k, byte[] v) throws OsdException {
        if (k.length != KEY_BYTES || v.length != VALUE_BYTES || k[0] < 0 || k[0] >= Kind.values().length) {
            throw new OsdException(
                    Errno.EPROTO,
                    deviceName,
                    null,
                    "work index: malformed entry (" + k.length + "/" + v.length + " bytes)");
        }
        ByteBuffer kb = ByteBuffer.wrap(k);
        Kind kind = Kind.values()[kb.get()];
        byte[] f = new byte[Fid.BYTES];
        kb.get(f);
        byte[] c = new byte[Fid.BYTES];
        kb.get(c);
        ByteBuffer vb = ByteBuffer.wrap(v);
        return new Job(
                kind,
                Fid.fromBytes(f),
                Short.toUnsignedInt(vb.getShort()),
                Fid.fromBytes(c),
                vb.getLong(),
                vb.getLong(),
                vb.getLong(),
                vb.getInt());
    }

    @Override
    public String toString() {
        return kind + " " + fid + " dev " + device + (key.equals(NO_KEY) ? "" : " copy " + key) + " v" + version;
    }
}
