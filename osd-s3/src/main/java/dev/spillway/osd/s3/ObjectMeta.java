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
 * <li>{@code x-NAME}: one xattr. The name is mapped so that case and every byte survive a
 * case-insensitive store: {@code a-z 0-9 . -} stay, every other UTF-8 byte (upper case too)
 * becomes {@code _hh}; {@code user.Color} is {@code x-user._43olor}. The value is base64 without
 * padding ({@code =} for an empty value), since header values cannot carry arbitrary bytes.</li>
 * </ul>
 *
 * <p>Immutable; the update methods return a new value.
 */
record ObjectMeta(int mode, int uid, int gid, long atime, long mtime, long ctime, int flags, long dataVersion,
                  SortedMap<String, byte[]> xattrs, String sums) {

    /** S3's limit on user metadata, in bytes. */
    static final int USER_METADATA_LIMIT = 2048;
    /**
     * The room kept for {@code spillway-attr} (13 + at most 125 bytes) and {@code spillway-sums}
     * (13 + {@link BlockSums#MAX_ENCODED}), rounded up.
     */
    static final int RESERVED = 256;
    /** The longest xattr name, in UTF-8 bytes. */
    static final int MAX_NAME = 128;
    /** The largest xattr value that always fits, alone, with a name of {@link #MAX_NAME} bytes. */
    static final int MAX_VALUE = (USER_METADATA_LIMIT - RESERVED - 2 - 3 * MAX_NAME) * 3 / 4;

    static final String ATTR = "spillway-attr";
    static final String SUMS = "spillway-sums";
    static final String XATTR = "x-";

    ObjectMeta {
        xattrs = Collections.unmodifiableSortedMap(new TreeMap<>(xattrs));
    }

    /** A new object's metadata: {@code a}'s fields, unset ones 0 and times {@code now}. */
    static ObjectMeta created(AttrChange a, long now) {
        return new ObjectMeta(a.has(AttrField.MODE) ? a.mode() : 0, a.has(AttrField.UID) ? a.uid() : 0,
                a.has(AttrField.GID) ? a.gid() : 0, a.has(AttrField.ATIME) ? a.atime() : now,
                a.has(AttrField.MTIME) ? a.mtime() : now, a.has(AttrField.CTIME) ? a.ctime() : now,
                a.has(AttrField.FLAGS) ? a.flags() : 0, 1, new TreeMap<>(), BlockSums.EMPTY.encode(null));
    }

    Attr attr(long size) {
        return new Attr(ObjectKind.DATA, size, (size + 511) / 512, mode, uid, gid, atime, mtime, ctime, flags, dataVersion);
    }

    ObjectMeta apply(AttrChange c, long now) {
        return new ObjectMeta(c.has(AttrField.MODE) ? c.mode() : mode, c.has(AttrField.UID) ? c.uid() : uid,
                c.has(AttrField.GID) ? c.gid() : gid, c.has(AttrField.ATIME) ? c.atime() : atime,
                c.has(AttrField.MTIME) ? c.mtime() : mtime, c.has(AttrField.CTIME) ? c.ctime() : now, c.has(AttrField.FLAGS) ? c.flags() : flags,
                dataVersion, xattrs, sums);
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
        m.put(ATTR, "1;" + Integer.toHexString(mode) + ';' + Integer.toUnsignedString(uid) + ';' + Integer.toUnsignedString(gid)
                + ';' + atime + ';' + mtime + ';' + ctime + ';' + Integer.toHexString(flags) + ';' + dataVersion);
        m.put(SUMS, sums);
        for (Map.Entry<String, byte[]> e : xattrs.entrySet()) {
            m.put(XATTR + encodeName(e.getKey()), encodeValue(e.getValue()));
        }
        return m;
    }

    /** Bytes the xattrs take of the user metadata, as S3 counts them. */
    int xattrBytes() {
        int n = 0;
        for (Map.Entry<String, byte[]> e : xattrs.entrySet()) {
            n += XATTR.length() + encodeName(e.getKey()).length() + encodeValue(e.getValue()).length();
        }
        return n;
    }

    /** Bytes of user metadata as S3 counts them. */
    int metadataBytes() {
        int n = 0;
        for (Map.Entry<String, String> e : toMetadata().entrySet()) {
            n += e.getKey().getBytes(StandardCharsets.UTF_8).length + e.getValue().getBytes(StandardCharsets.UTF_8).length;
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
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                String n = e.getKey().toLowerCase(java.util.Locale.ROOT);
                if (n.equals(ATTR)) {
                    attr = e.getValue();
                } else if (n.equals(SUMS)) {
                    sums = e.getValue();
                } else if (n.startsWith(XATTR)) {
                    x.put(decodeName(n.substring(XATTR.length())), decodeValue(e.getValue()));
                }
            }
            if (attr == null || sums == null) {
                throw new IllegalArgumentException("no " + (attr == null ? ATTR : SUMS) + " metadata");
            }
            String[] f = attr.split(";", -1);
            if (f.length != 9 || !f[0].equals("1")) {
                throw new IllegalArgumentException("attributes '" + attr + "' are not format 1");
            }
            BlockSums.checkEncoded(sums);
            return new ObjectMeta(Integer.parseUnsignedInt(f[1], 16), Integer.parseUnsignedInt(f[2]), Integer.parseUnsignedInt(f[3]),
                    Long.parseLong(f[4]), Long.parseLong(f[5]), Long.parseLong(f[6]), Integer.parseUnsignedInt(f[7], 16),
                    Long.parseLong(f[8]), x, sums);
        } catch (IllegalArgumentException e) {
            throw new OsdException(Errno.EPROTO, device, fid, "object " + key + " is not a Spillway object: " + e.getMessage(), e);
        }
    }

    static String encodeName(String name) {
        StringBuilder sb = new StringBuilder();
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-') {
                sb.append((char) c);
            } else {
                sb.append('_').append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 15, 16));
            }
        }
        return sb.toString();
    }

    static String decodeName(String enc) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < enc.length(); i++) {
            char c = enc.charAt(i);
            if (c == '_') {
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

    static String encodeValue(byte[] v) {
        return v.length == 0 ? "=" : Base64.getEncoder().withoutPadding().encodeToString(v);
    }

    static byte[] decodeValue(String s) {
        return s.equals("=") ? new byte[0] : Base64.getDecoder().decode(s);
    }
}
