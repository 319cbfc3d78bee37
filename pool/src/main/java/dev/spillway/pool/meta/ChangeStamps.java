package dev.spillway.pool.meta;

import dev.spillway.osd.Fid;

/**
 * Change stamps of the metadata device's objects, seqlock-style: a reader takes
 * {@link #stamp(Fid)}, uses what it read or cached of the object, and trusts it only if
 * {@link #unchanged(Fid, long)} says no update of the object was published or in flight since.
 * Stamps live in memory only: a remount starts a new set (and an empty cache), so nothing read
 * before a crash is ever trusted after it. Stamps may be shared by several objects (stripes): a
 * shared stamp only makes a reader load again.
 */
public interface ChangeStamps {
    /** What {@link #stamp} returns while an update of the object may be in flight. */
    long UNSTABLE = -1;

    /** The object's stamp now, or {@link #UNSTABLE} while a transaction updating it is open. */
    long stamp(Fid fid);

    /** True if {@code stamp} was stable and no transaction has updated the object since. */
    boolean unchanged(Fid fid, long stamp);

    /** No stamps: every check fails, so every reader loads (for stores without a gate). */
    ChangeStamps NONE = new ChangeStamps() {
        @Override
        public long stamp(Fid fid) {
            return UNSTABLE;
        }

        @Override
        public boolean unchanged(Fid fid, long stamp) {
            return false;
        }
    };
}
