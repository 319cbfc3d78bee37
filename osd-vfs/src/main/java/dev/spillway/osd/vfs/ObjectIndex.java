package dev.spillway.osd.vfs;

import dev.spillway.osd.Fid;
import java.util.HexFormat;
import java.util.zip.CRC32C;

/**
 * Where an object lives: the FID-hashed directory tree (the object index, as Lustre's
 * {@code osd_oi}). No caller string ever becomes a path: names are built from the FID's numbers.
 *
 * <pre>
 * objects/&lt;h&gt;/&lt;seq:16 hex&gt;-&lt;oid:8 hex&gt;-&lt;ver:8 hex&gt;        the body
 * objects/&lt;h&gt;/&lt;seq:16 hex&gt;-&lt;oid:8 hex&gt;-&lt;ver:8 hex&gt;.attr   its record (records: file)
 * </pre>
 * On a device with records in xattrs there are no {@code .attr} files: the record is the body's
 * xattr ({@link XattrRecord}).
 * {@code h} is the low byte of CRC32C(the FID's 16-byte form) in hex: 256 directories, each made
 * when its first object is (a one-time mkdir and directory fsync). One level, as Lustre's {@code O/<seq>/d0..d31}: a second level would cost two
 * {@code mkdir}s (and two directory fsyncs) for each of the first tens of thousands of objects,
 * while ext4's hashed directories (and XFS's btrees) look a name up in one of millions of
 * entries just as fast. The hash is part of the on-disk format and never changes.
 */
final class ObjectIndex {
    static final String OBJECTS = "objects";
    static final String RECORD_SUFFIX = ".attr";
    private static final HexFormat HEX = HexFormat.of();
    private static final int NAME_LENGTH = 16 + 1 + 8 + 1 + 8;

    private ObjectIndex() {}

    static String name(Fid f) {
        return HEX.toHexDigits(f.seq()) + "-" + HEX.toHexDigits(f.oid()) + "-" + HEX.toHexDigits(f.ver());
    }

    static int hash(Fid f) {
        CRC32C c = new CRC32C();
        c.update(f.toBytes());
        return (int) c.getValue() & 0xffff;
    }

    /** {@code objects/h}. */
    static String dir(Fid f) {
        return OBJECTS + "/" + HEX.toHexDigits((byte) hash(f));
    }

    static String body(Fid f) {
        return dir(f) + "/" + name(f);
    }

    static String record(Fid f) {
        return body(f) + RECORD_SUFFIX;
    }

    /** The FID of a record file name, or null if {@code fileName} is not one. */
    static Fid parseRecord(String fileName) {
        if (!fileName.endsWith(RECORD_SUFFIX) || fileName.length() != NAME_LENGTH + RECORD_SUFFIX.length()) {
            return null;
        }
        return parseBody(fileName.substring(0, NAME_LENGTH));
    }

    /** The FID of a body file name, or null if {@code n} is not one. */
    static Fid parseBody(String n) {
        if (n.length() != NAME_LENGTH) {
            return null;
        }
        if (n.charAt(16) != '-' || n.charAt(25) != '-') {
            return null;
        }
        try {
            Fid f = new Fid(
                    HexFormat.fromHexDigitsToLong(n, 0, 16),
                    HexFormat.fromHexDigits(n, 17, 25),
                    HexFormat.fromHexDigits(n, 26, 34));
            return name(f).equals(n) ? f : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
