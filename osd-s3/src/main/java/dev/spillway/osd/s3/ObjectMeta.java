package dev.spillway.osd.s3;

import dev.spillway.osd.Attr;
import dev.spillway.osd.AttrChange;
import dev.spillway.osd.AttrField;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.OsdException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * An object's attributes and xattrs as S3 user metadata ({@code x-amz-meta-*}), which S3 limits
 * to 2 KB (the UTF-8 bytes of every name and value, without the {@code x-amz-meta-} prefix) and
 * whose names are case-insensitive ASCII header tokens.
 *
 * <ul>
 * <li>{@code spillway-attr}: {@code 1;mode;uid;gid;atime;mtime;ctime;flags;dataversion} (hex
 * for mode and flags, decimal otherwise, times in ns). The size is the S3 object's own.</li>
 * <li>{@code spillway-sums}: the body's CRC32C block list ({@link BlockSums#encode}).</li>
 * <li>{@code spillway-xattrs}: every xattr, {@code name=value,name=value}, sorted. The xattr
 * names live in a header <em>value</em>, which keeps case and every byte (letters, digits and
 * {@code . _ - : + @ /} as they are, any other UTF-8 byte as {@code %hh}), so a name never
 * depends on how a server folds metadata keys; values are base64 without padding, since header
 * values cannot carry arbitrary bytes. One entry rather than one per xattr: S3 counts no
 * per-xattr key, and servers that keep metadata as filesystem xattrs (s3proxy's filesystem
 * blobstore) keep three entries where they would silently drop dozens.</li>
 * </ul>
 *
 * <p>Immutable; the update methods return a new value.
 */
record ObjectMeta(
        int mode,
        int uid,
        int gid,
        long atime,
        long mtime,
        long ctime,
        int flags,
        long dataVersion,
        SortedMap<String, byte[]> xattrs,
        String sums) {

    /** S3's limit on user metadata, in bytes. */
    static final int USER_METADATA_LIMIT = 2048;
    /**
     * The room kept for {@code spillway-attr} (13 + at most 125 bytes: three signed 64-bit times,
     * the data version, two unsigned 32-bit ids, mode and flags in hex, nine separators) and
     * {@code spillway-sums} (13 + {@link BlockSums#MAX_ENCODED}).
     */
    static final int RESERVED = 13 + 125 + 13 + BlockSums.MAX_ENCODED;
    /** The longest xattr name, in UTF-8 bytes. */
    static final int MAX_NAME = 128;

    static final String ATTR = "spillway-attr";
    static final String SUMS = "spillway-sums";
    static final String XATTRS = "spillway-xattrs";
    /** Bytes the xattrs' entry may take (its value and its key). */
    static final int XATTR_BUDGET = USER_METADATA_LIMIT - RESERVED;
    /** The largest xattr value that always fits, alone, with a name of {@link #MAX_NAME} bytes. */
    static final int MAX_VALUE = (XATTR_BUDGET - XATTRS.length() - 1 - 3 * MAX_NAME) * 3 / 4;

    ObjectMeta {
        xattrs = Collections.unmodifiableSortedMap(new TreeMap<>(xattrs));
    }

    /** A new object's metadata: {@code a}'s fields, unset ones 0 and times {@code now}. */
    static ObjectMeta created(AttrChange a, long now) {
        return new ObjectMeta(
                a.has(AttrField.MODE) ? a.mode() : 0,
                a.has(AttrField.UID) ? a.uid() : 0,
                a.has(AttrField.GID) ? a.gid() : 0,
                a.has(AttrField.ATIME) ? a.atime() : now,
                a.has(AttrField.MTIME) ? a.mtime() : now,
                a.has(AttrField.CTIME) ? a.ctime() : now,
                a.has(AttrField.FLAGS) ? a.flags() : 0,
                1,
                new TreeMap<>(),
                BlockSums.EMPTY.encode(null));
    }

    Attr attr(long size) {
        return new Attr(
                ObjectKind.DATA, size, (size + 511) / 512, mode, uid, gid, atime, mtime, ctime, flags, dataVersion);
    }

    ObjectMeta apply(AttrChange c, long now) {
        return new ObjectMeta(
                c.has(AttrField.MODE) ? c.mode() : mode,
                c.has(AttrField.UID) ? c.uid() : uid,
                c.has(AttrField.GID) ? c.gid() : gid,
                c.has(AttrField.ATIME) ? c.atime() : atime,
                c.has(AttrField.MTIME) ? c.mtime() : mtime,
                c.has(AttrField.CTIME) ? c.ctime() : now,
                c.has(AttrField.FLAGS) ? c.flags() : flags,
                dataVersion,
                xattrs,
                sums);
    }

    /** After a body change at {@code now}: mtime and ctime now, the data version bumped. */
    ObjectMeta bodyChanged(long now) {
        return new ObjectMeta(mode, uid, gid, atime, now, now, flags, dataVersion + 1, xattrs, sums);
    }

    ObjectMeta withSums(String s) {
        return new ObjectMeta(mode, uid, gid, atime, mtime, ctime, flags, dataVersion, xattrs, s);
    }

    ObjectMeta withXattr(String name, byte[] value, long now) {
        TreeMap<String, byte[]> x = new TreeMap<>(xattrs);
        if (value == null) {
            x.remove(name);
        } else {
            x.put(name, value.clone());
        }
        return new ObjectMeta(mode, uid, gid, atime, mtime, now, flags, dataVersion, x, sums);
    }

    // ---- encoding --------------------------------------------------------------------------

    /** The user metadata map for the SDK (names without {@code x-amz-meta-}). */
    Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(
                ATTR,
                "1;" + Integer.toHexString(mode) + ';' + Integer.toUnsignedString(uid) + ';'
                        + Integer.toUnsignedString(gid) + ';' + atime + ';' + mtime + ';' + ctime + ';'
                        + Integer.toHexString(flags) + ';' + dataVersion);
        m.put(SUMS, sums);
        if (!xattrs.isEmpty()) {
            m.put(XATTRS, encodeXattrs());
        }
        return m;
    }

    /** Bytes the xattrs take of the user metadata, as S3 counts them. */
    int xattrBytes() {
        return xattrs.isEmpty() ? 0 : XATTRS.length() + encodeXattrs().length();
    }

    private String encodeXattrs() {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, byte[]> e : xattrs.entrySet()) {
            if (!sb.isEmpty()) {
                sb.append(',');
            }
            sb.append(encodeName(e.getKey()))
                    .append('=')
                    .append(Base64.getEncoder().withoutPadding().encodeToString(e.getValue()));
        }
        return sb.toString();
    }

    private static TreeMap<String, byte[]> decodeXattrs(String text) {
        TreeMap<String, byte[]> x = new TreeMap<>();
        if (text.isEmpty()) {
            return x;
        }
        for (String entry : text.split(",", -1)) {
            int eq = entry.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("xattr entry '" + entry + "' has no name=value");
            }
            x.put(decodeName(entry.substring(0, eq)), Base64.getDecoder().decode(entry.substring(eq + 1)));
        }
        return x;
    }

    /** Bytes of user metadata as S3 counts them. */
    int metadataBytes() {
        int n = 0;
        for (Map.Entry<String, String> e : toMetadata().entrySet()) {
            n += e.getKey().getBytes(StandardCharsets.UTF_8).length
                    + e.getValue().getBytes(StandardCharsets.UTF_8).length;
        }
        return n;
    }

    /**
     * Reads what {@link #toMetadata()} wrote.
     *
     * @throws OsdException EPROTO if the object carries no Spillway attributes or they are garbled
     *     (an object under the prefix that this device did not write)
     */
    static ObjectMeta parse(Map<String, String> metadata, String device, Fid fid, String key) throws OsdException {
        String attr = null;
        String sums = null;
        TreeMap<String, byte[]> x = new TreeMap<>();
        try {
            String packed = null;
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                String n = e.getKey().toLowerCase(java.util.Locale.ROOT);
                if (n.equals(ATTR)) {
                    attr = e.getValue();
                } else if (n.equals(SUMS)) {
                    sums = e.getValue();
                } else if (n.equals(XATTRS)) {
                    packed = e.getValue();
                }
            }
            if (packed != null) {
                x = decodeXattrs(packed);
            }
            if (attr == null || sums == null) {
                throw new IllegalArgumentException("no " + (attr == null ? ATTR : SUMS) + " metadata");
            }
            String[] f = attr.split(";", -1);
            if (f.length != 9 || !f[0].equals("1")) {
                throw new IllegalArgumentException("attributes '" + attr + "' are not format 1");
            }
            BlockSums.checkEncoded(sums);
            return new ObjectMeta(
                    Integer.parseUnsignedInt(f[1], 16),
                    Integer.parseUnsignedInt(f[2]),
                    Integer.parseUnsignedInt(f[3]),
                    Long.parseLong(f[4]),
                    Long.parseLong(f[5]),
                    Long.parseLong(f[6]),
                    Integer.parseUnsignedInt(f[7], 16),
                    Long.parseLong(f[8]),
                    x,
                    sums);
        } catch (IllegalArgumentException e) {
            throw new OsdException(
                    Errno.EPROTO, device, fid, "object " + key + " is not a Spillway object: " + e.getMessage(), e);
        }
    }

    static String encodeName(String name) {
        StringBuilder sb = new StringBuilder();
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if ((c >= 'a' && c <= 'z')
                    || (c >= 'A' && c <= 'Z')
                    || (c >= '0' && c <= '9')
                    || ".-_:+@/".indexOf(c) >= 0) {
                sb.append((char) c);
            } else {
                sb.append('%').append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 15, 16));
            }
        }
        return sb.toString();
    }

    static String decodeName(String enc) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < enc.length(); i++) {
            char c = enc.charAt(i);
            if (c == '%') {
                if (i + 3 > enc.length()) {
                    throw new IllegalArgumentException("truncated escape in xattr name '" + enc + "'");
                }
                out.write(Integer.parseInt(enc.substring(i + 1, i + 3), 16));
                i += 2;
            } else {
                out.write(c);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
