package dev.spillway.osd.s3;

import dev.spillway.osd.Fid;

/**
 * Where a device's things live in its bucket, all under its prefix:
 * <ul>
 * <li>{@code objects/0x200000400:0x1:0x0} — one S3 object per OSD object, named by the FID in
 * Lustre's text form without brackets (the same text the pool writes as the HSM identifier of a
 * copy, so an administrator finds a copy from {@code getstripe} output);</li>
 * <li>{@code sums/<fid>/<token>} — the CRC32C block list of a body too large to keep it in the
 * object's metadata, written before the body becomes visible, named by a token the object's
 * metadata carries;</li>
 * <li>{@code .spillway/device} (the format marker) and {@code .spillway/statfs} (the counters).</li>
 * </ul>
 */
final class S3Keys {
    private final String prefix;
    private final String objects;

    S3Keys(String prefix) {
        this.prefix = prefix;
        this.objects = prefix + "objects/";
    }

    String prefix() {
        return prefix;
    }

    /** The prefix under which every object key lies. */
    String objects() {
        return objects;
    }

    static String text(Fid fid) {
        String s = fid.toString();
        return s.substring(1, s.length() - 1);
    }

    String object(Fid fid) {
        return objects + text(fid);
    }

    /** The FID an object key names, or null for a key that is not one of this device's objects. */
    Fid fidOf(String key) {
        if (!key.startsWith(objects)) {
            return null;
        }
        String t = key.substring(objects.length());
        if (t.indexOf('/') >= 0) {
            return null;
        }
        try {
            Fid f = Fid.parse(t);
            return text(f).equals(t) ? f : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    String sumsDir(Fid fid) {
        return prefix + "sums/" + text(fid) + "/";
    }

    String sums(Fid fid, String token) {
        return sumsDir(fid) + token;
    }

    String marker() {
        return prefix + ".spillway/device";
    }

    String statfs() {
        return prefix + ".spillway/statfs";
    }
}
