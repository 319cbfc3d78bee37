package dev.spillway.osd;

import java.util.EnumSet;
import java.util.Set;

/**
 * A set of attribute values with the mask saying which ones to apply, for
 * {@link Transaction#create} (initial values; unset fields default to 0, times to "now") and
 * {@link Transaction#setAttr}. Immutable; build it fluently:
 * {@code AttrChange.none().mode(0644).uid(1000)}.
 */
public record AttrChange(
        Set<AttrField> valid, int mode, int uid, int gid, long atime, long mtime, long ctime, int flags) {

    public AttrChange {
        valid = valid.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(valid));
    }

    private static final AttrChange NONE = new AttrChange(Set.of(), 0, 0, 0, 0, 0, 0, 0);

    /** Nothing valid. */
    public static AttrChange none() {
        return NONE;
    }

    /** True if {@code field} is in the mask. */
    public boolean has(AttrField field) {
        return valid.contains(field);
    }

    private AttrChange with(AttrField f, int m, int u, int g, long a, long mt, long c, int fl) {
        EnumSet<AttrField> v = valid.isEmpty() ? EnumSet.noneOf(AttrField.class) : EnumSet.copyOf(valid);
        v.add(f);
        return new AttrChange(v, m, u, g, a, mt, c, fl);
    }

    public AttrChange mode(int m) {
        return with(AttrField.MODE, m, uid, gid, atime, mtime, ctime, flags);
    }

    public AttrChange uid(int u) {
        return with(AttrField.UID, mode, u, gid, atime, mtime, ctime, flags);
    }

    public AttrChange gid(int g) {
        return with(AttrField.GID, mode, uid, g, atime, mtime, ctime, flags);
    }

    public AttrChange atime(long ns) {
        return with(AttrField.ATIME, mode, uid, gid, ns, mtime, ctime, flags);
    }

    public AttrChange mtime(long ns) {
        return with(AttrField.MTIME, mode, uid, gid, atime, ns, ctime, flags);
    }

    public AttrChange ctime(long ns) {
        return with(AttrField.CTIME, mode, uid, gid, atime, mtime, ns, flags);
    }

    public AttrChange flags(int fl) {
        return with(AttrField.FLAGS, mode, uid, gid, atime, mtime, ctime, fl);
    }
}
