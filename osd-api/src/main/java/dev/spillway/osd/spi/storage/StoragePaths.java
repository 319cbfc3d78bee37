package dev.spillway.osd.spi.storage;

/** The path rules of {@link Storage}, checked the same way by every implementation. */
public final class StoragePaths {
    private StoragePaths() {}

    /**
     * Returns {@code path} if it is a valid relative storage path (or "" for the root).
     *
     * @throws IllegalArgumentException naming the path otherwise
     */
    public static String check(String path) {
        if (path == null) {
            throw new IllegalArgumentException("null storage path");
        }
        if (path.isEmpty()) {
            return path;
        }
        if (path.startsWith("/") || path.endsWith("/") || path.indexOf('\0') >= 0 || path.indexOf('\\') >= 0) {
            throw new IllegalArgumentException("not a relative storage path: '" + path + "'");
        }
        for (String seg : path.split("/", -1)) {
            if (seg.isEmpty() || seg.equals(".") || seg.equals("..")) {
                throw new IllegalArgumentException("not a relative storage path: '" + path + "'");
            }
        }
        return path;
    }

    /** The parent of {@code path} ("" for a top-level name). */
    public static String parent(String path) {
        int i = path.lastIndexOf('/');
        return i < 0 ? "" : path.substring(0, i);
    }

    /** The last segment of {@code path}. */
    public static String name(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    /** {@code dir + "/" + name}, or {@code name} under the root. */
    public static String join(String dir, String name) {
        return dir.isEmpty() ? name : dir + "/" + name;
    }
}
