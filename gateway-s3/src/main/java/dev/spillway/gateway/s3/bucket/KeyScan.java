package dev.spillway.gateway.s3.bucket;

import dev.spillway.gateway.s3.store.Records.KeyRecord;
import dev.spillway.osd.Fid;
import dev.spillway.osd.IndexCursor;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One page of a listing, as an index scan: from the first key after the marker, keys under
 * {@code prefix}; with a delimiter, every key sharing a common prefix is rolled into it and the
 * scan jumps past them with a new cursor, so a listing costs the entries it returns, not the
 * keys under each common prefix.
 */
final class KeyScan {
    /** A listed entry: a key with its record, or a common prefix (record null). */
    record Entry(byte[] key, KeyRecord record) {
        boolean isPrefix() {
            return record == null;
        }
    }

    record Page(List<Entry> entries, boolean truncated) {
        Entry last() {
            return entries.isEmpty() ? null : entries.get(entries.size() - 1);
        }
    }

    private KeyScan() {}

    /**
     * @param from the first key to consider (inclusive); null for the start of the prefix
     * @param delimiter null for none
     */
    static Page scan(Osd osd, Fid index, byte[] prefix, byte[] delimiter, byte[] from, int max) throws OsdException {
        List<Entry> out = new ArrayList<>();
        if (max == 0) {
            return new Page(out, false);
        }
        boolean[] truncated = {false};
        walk(osd, index, prefix, delimiter, from, e -> {
            if (out.size() == max) {
                truncated[0] = true;
                return false;
            }
            out.add(e);
            return true;
        });
        return new Page(out, truncated[0]);
    }

    /** What a walk is shown, one entry at a time; false stops it. */
    interface Visitor {
        boolean visit(Entry e) throws OsdException;
    }

    /**
     * Walks the keys under {@code prefix} from {@code from} in order, rolling keys that share a
     * common prefix up to the delimiter into one entry (and re-seeking past them). Keys whose
     * current version is a delete marker are not shown: to a listing of objects they do not exist.
     */
    static void walk(Osd osd, Fid index, byte[] prefix, byte[] delimiter, byte[] from, Visitor v) throws OsdException {
        walk(osd, index, prefix, delimiter, from, v, false);
    }

    static void walk(Osd osd, Fid index, byte[] prefix, byte[] delimiter, byte[] from, Visitor v, boolean markers)
            throws OsdException {
        byte[] start = from != null && Arrays.compareUnsigned(from, prefix) > 0 ? from : prefix;
        IndexCursor c = osd.cursor(index, start);
        try {
            while (c.next()) {
                byte[] k = c.key();
                if (!startsWith(k, prefix)) {
                    break;
                }
                if (delimiter != null && delimiter.length > 0) {
                    int at = indexOf(k, delimiter, prefix.length);
                    if (at >= 0) {
                        byte[] common = Arrays.copyOf(k, at + delimiter.length);
                        if (!v.visit(new Entry(common, null))) {
                            return;
                        }
                        byte[] next = prefixSuccessor(common);
                        if (next == null) {
                            break;
                        }
                        c.close();
                        c = osd.cursor(index, next);
                        continue;
                    }
                }
                KeyRecord r = KeyRecord.decode(c.value());
                if (r.deleteMarker() && !markers) {
                    continue;
                }
                if (!v.visit(new Entry(k, r))) {
                    return;
                }
            }
        } finally {
            c.close();
        }
    }

    /** The smallest key after every key that starts with {@code p}, or null if there is none. */
    static byte[] prefixSuccessor(byte[] p) {
        for (int i = p.length - 1; i >= 0; i--) {
            if ((p[i] & 0xff) != 0xff) {
                byte[] s = Arrays.copyOf(p, i + 1);
                s[i]++;
                return s;
            }
        }
        return null;
    }

    /** The smallest key after {@code k}. */
    static byte[] successor(byte[] k) {
        return Arrays.copyOf(k, k.length + 1);
    }

    static boolean startsWith(byte[] a, byte[] p) {
        return a.length >= p.length && Arrays.equals(a, 0, p.length, p, 0, p.length);
    }

    static int indexOf(byte[] a, byte[] d, int from) {
        outer:
        for (int i = from; i <= a.length - d.length; i++) {
            for (int j = 0; j < d.length; j++) {
                if (a[i + j] != d[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
