package dev.spillway.osd;

/**
 * What an object is. The kind is fixed at create time.
 *
 * <p>Only {@link #DATA} objects have a body and may ever leave a pool's metadata device;
 * {@link #INDEX} objects (and every record a pool keeps about itself) stay on it.
 */
public enum ObjectKind {
    /** A byte stream: read, write at offset, punch, truncate, seek data/hole. */
    DATA(0),
    /** An ordered map from byte-string keys to byte-string values, compared unsigned. */
    INDEX(1);

    private final int code;

    ObjectKind(int code) {
        this.code = code;
    }

    /**
     * The kind's code in every on-disk record that stores it (osd-kv's inode record, osd-vfs's
     * attribute record and journal). Fixed forever: a new kind takes a new code, a reordering of
     * the constants changes nothing on disk.
     */
    public int code() {
        return code;
    }

    /**
     * The kind a stored code names.
     *
     * @throws IllegalArgumentException for a code no kind has (a damaged or newer record); the
     *     caller says which record it was reading
     */
    public static ObjectKind fromCode(int code) {
        for (ObjectKind k : values()) {
            if (k.code == code) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown object kind code " + code);
    }
}
