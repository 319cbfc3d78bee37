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
    PROMOTE,
    /**
     * A read cache: holds promoted copies only (a promotion prefers it to the metadata device),
     * with durability 0 — its copies never count toward {@code replicas} or a write-commit count,
     * it is never a write, spill or evacuation target, and its copies are dropped without harm when
     * it loses them (an osd-mem cache at every restart). Cannot be combined with another role.
     */
    CACHE;

    public String yamlName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
