package dev.spillway.pool.layout;

import static dev.spillway.pool.layout.LovFormat.*;

import java.util.List;

/**
 * One mirror (one copy of the file): the components of a {@link Layout} that share a mirror id,
 * in extent order. A pool copy is a mirror of one whole-file component. As FLR does
 * ({@code lod_parse_striping} with {@code LVF_ALL_STALE}), a mirror is stale if any of its
 * components is.
 *
 * @param mirrorId the mirror id, bits 16..30 of each {@code lcme_id}
 * @param components its components, never empty
 */
public record Mirror(int mirrorId, List<Component> components) {
    public Mirror {
        components = List.copyOf(components);
        if (components.isEmpty()) {
            throw new IllegalArgumentException("mirror " + mirrorId + " has no component");
        }
    }

    /** True if any component carries {@code LCME_FL_STALE}. */
    public boolean isStale() {
        return components.stream().anyMatch(Component::isStale);
    }

    /** True if any component carries {@code LCME_FL_PREF_RD}. */
    public boolean isPreferredRead() {
        return components.stream().anyMatch(c -> c.has(LCME_FL_PREF_RD));
    }

    /** The first (for a pool copy: the only) component. */
    public Component first() {
        return components.get(0);
    }
}
