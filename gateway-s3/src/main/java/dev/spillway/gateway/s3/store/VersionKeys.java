package dev.spillway.gateway.s3.store;

import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.osd.Fid;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * Keys of a bucket's versions index and the version ids clients see.
 *
 * <p>A version is named by the FID its record carries (the body, the manifest, or for a delete
 * marker a FID allocated for it and never created): FIDs come from one allocator, so a later
 * version has a larger FID, and that order is the order of versions. The version id is the
 * FID's 16 bytes in hex (32 characters, like S3's); "null" is the null version.
 *
 * <p>A versions index key is the object key escaped so that key order survives concatenation
 * ({@code 0x00} → {@code 0x00 0xFF}, then the terminator {@code 0x00 0x01}: a key that is a
 * prefix of another sorts first), followed by the FID's bytes inverted, so a key's versions
 * are listed newest first.
 */
public final class VersionKeys {
    private static final int FID_BYTES = Fid.BYTES;

    private VersionKeys() {}

    /** The escaped key and terminator: every version of {@code key} starts with it. */
    public static byte[] prefix(byte[] key) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(key.length + 2 + FID_BYTES);
        for (byte b : key) {
            out.write(b);
            if (b == 0) {
                out.write(0xff);
            }
        }
        out.write(0);
        out.write(1);
        return out.toByteArray();
    }

    /** The versions index key of version {@code fid} of {@code key}. */
    public static byte[] of(byte[] key, Fid fid) {
        byte[] p = prefix(key);
        byte[] f = fid.toBytes();
        byte[] k = Arrays.copyOf(p, p.length + f.length);
        for (int i = 0; i < f.length; i++) {
            k[p.length + i] = (byte) ~f[i];
        }
        return k;
    }

    /** The object key of a versions index key. */
    public static byte[] key(byte[] indexKey) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(indexKey.length);
        for (int i = 0; i < indexKey.length; i++) {
            byte b = indexKey[i];
            if (b == 0) {
                if (i + 1 < indexKey.length && indexKey[i + 1] == (byte) 0xff) {
                    out.write(0);
                    i++;
                    continue;
                }
                break;
            }
            out.write(b);
        }
        return out.toByteArray();
    }

    /** The version id clients see for a version named by {@code fid}. */
    public static String versionId(Fid fid) {
        return HexFormat.of().formatHex(fid.toBytes());
    }

    /**
     * The FID a version id names, or null for "null"; InvalidArgument for text that is no
     * version id of this gateway (S3: "Invalid version id specified").
     */
    public static Fid parse(String versionId) throws S3Exception {
        if (versionId.equals("null")) {
            return null;
        }
        try {
            if (versionId.length() == FID_BYTES * 2) {
                return Fid.fromBytes(HexFormat.of().parseHex(versionId));
            }
        } catch (IllegalArgumentException e) {
            // falls through to the error below
        }
        throw new S3Exception(S3Error.INVALID_ARGUMENT, "Invalid version id specified: '" + versionId + "'");
    }
}
