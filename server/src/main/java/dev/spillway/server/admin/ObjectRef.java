package dev.spillway.server.admin;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;

/**
 * How a person names an object on the command line and in the admin API: a FID in Lustre's text
 * form ({@code [0x300000400:0x12:0x0]}, or without the brackets as {@code lfs} takes it) or an
 * S3 {@code bucket/key}. The CLI checks the text with this class before it asks the server, so a
 * malformed FID is a usage error (exit 2) even when no server runs, and never a bucket/key
 * lookup.
 *
 * <p>Which is which: a FID has no {@code /}, a bucket name never starts with {@code [}. So text
 * with a bracket at either end is a FID; text with a {@code /} is a bucket/key (a bucket may be
 * called {@code 0xdata}); anything else must be a whole FID.
 */
public record ObjectRef(Fid fid, String bucket, String key) {

    private static final String FORM = "[0xSEQ:0xOID:0xVER], e.g. [0x300000400:0x12:0x0]";

    /** True if this names the object by FID, false for bucket/key. */
    public boolean byFid() {
        return fid != null;
    }

    /**
     * Reads {@code text} as a FID or a bucket/key.
     *
     * @throws OsdException EINVAL (a usage error) naming the text and the form wanted
     */
    public static ObjectRef parse(String text) throws OsdException {
        if (text == null || text.isBlank()) {
            throw usage("no object given: name one by FID " + FORM + " or as bucket/key");
        }
        String t = text.strip();
        boolean open = t.startsWith("[");
        boolean close = t.endsWith("]");
        if (open || close) {
            if (open != close) {
                throw usage("malformed FID '" + text + "': " + (open ? "no closing ']'" : "no opening '['")
                        + "; expected " + FORM);
            }
            return new ObjectRef(fid(text, t), null, null);
        }
        int slash = t.indexOf('/');
        if (slash >= 0) {
            if (slash == 0 || slash == t.length() - 1) {
                throw usage("'" + text + "' is not bucket/key: " + (slash == 0 ? "no bucket" : "no key")
                        + " (e.g. photos/2024/cat.jpg)");
            }
            return new ObjectRef(null, t.substring(0, slash), t.substring(slash + 1));
        }
        if (t.indexOf(':') >= 0 || t.regionMatches(true, 0, "0x", 0, 2)) {
            return new ObjectRef(fid(text, t), null, null);
        }
        throw usage("'" + text + "' is neither a FID " + FORM + " nor bucket/key");
    }

    private static Fid fid(String text, String t) throws OsdException {
        try {
            return Fid.parse(t);
        } catch (IllegalArgumentException e) {
            throw usage("malformed FID '" + text + "': expected " + FORM
                    + ", three hexadecimal numbers with 0x (as getstripe and inactive print them)");
        }
    }

    private static OsdException usage(String detail) {
        return new OsdException(Errno.EINVAL, null, null, detail);
    }

    @Override
    public String toString() {
        return byFid() ? fid.toString() : bucket + "/" + key;
    }
}
