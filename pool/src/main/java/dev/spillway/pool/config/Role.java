package dev.spillway.pool.config;

import java.util.Locale;

/** What a device does in a pool (docs/design.md, "The pool OSD"). */
public enum Role {
    /** Holds the namespace, attributes, xattrs, layouts and the pool's own records. Exactly one. */
    METADATA,
    /** Where a write lands before it is committed. Needs transactions. */
    FOREGROUND,
    /** A capacity (spill) tier; ordered by position in the configuration. */
    BACKGROUND,
    /** Where hot data read from a spill device is copied back to. */
    PROMOTE;

    public String yamlName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
