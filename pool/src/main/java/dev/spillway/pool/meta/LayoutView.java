package dev.spillway.pool.meta;

import dev.spillway.osd.Fid;

/**
 * Renders a {@link PoolObject} as Lustre's composite layout (the {@code trusted.lov} xattr).
 * Placeholder encoding until the codec of {@code dev.spillway.pool.layout} is wired in.
 */
final class LayoutView {
    private LayoutView() {
    }

    static byte[] encode(Fid fid, PoolObject o) {
        return ObjectRecord.encode(o);
    }
}
