package dev.spillway.pool.layout;

import static dev.spillway.pool.layout.LovFormat.*;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * An object's placement: a composite layout, {@code struct lov_comp_md_v1} (lustre_user.h),
 * whose header is 32 bytes:
 * <pre>
 *   0  __u32 lcm_magic          LOV_MAGIC_COMP_V1
 *   4  __u32 lcm_size           the whole xattr, header + entries + blobs
 *   8  __u32 lcm_layout_gen
 *  12  __u16 lcm_flags          the FLR state (LCM_FL_*)
 *  14  __u16 lcm_entry_count
 *  16  __u16 lcm_mirror_count   the number of mirrors MINUS ONE ("so that non-flr files will
 *                               have value 0 meaning 1 mirror")
 *  18  __u8  lcm_ec_count       EC only (2.16+): 0
 *  19  __u8  lcm_padding3[1], 20 __u16 lcm_padding1[2], 24 __u64 lcm_padding2: 0
 *  32  struct lov_comp_md_entry_v1 lcm_entries[lcm_entry_count]
 * </pre>
 * then the sub-layout blobs. One mirror per copy of the object; see {@link Component},
 * {@link StripeLayout}, {@link HsmForeign} and {@link LayoutCodec}.
 *
 * <p>A {@code Layout} is valid by construction (the constructor checks the rules the decoder
 * checks), so every one encodes. The helpers are pure: each returns a new layout with the
 * generation bumped once ({@link #bumpGeneration()}), or this same layout when nothing changes.
 * Missing mirror ids and impossible requests are programming errors
 * ({@link IllegalArgumentException}).
 *
 * @param layoutGen {@code lcm_layout_gen}
 * @param flrState the FLR state in {@code lcm_flags}
 * @param components the entries, mirror by mirror
 */
public record Layout(int layoutGen, FlrState flrState, List<Component> components) {

    public Layout {
        Objects.requireNonNull(flrState, "flrState");
        components = List.copyOf(components);
        if (components.isEmpty()) {
            throw new IllegalArgumentException("a layout has at least one component (lcm_entry_count > 0)");
        }
        if (components.size() > 0xFFFF) {
            throw new IllegalArgumentException(components.size() + " components do not fit lcm_entry_count");
        }
        LayoutRules.mirrors(components);
        int size = LayoutCodec.encodedSize(components);
        if (size > XATTR_SIZE_MAX) {
            throw new IllegalArgumentException("the layout would be " + size + " bytes, more than XATTR_SIZE_MAX");
        }
    }

    /**
     * A new object's first layout: one mirror (id 1), one whole-file component
     * ({@code pflr_id(1, 1)}, {@code LCME_FL_INIT}), generation 1, no FLR state. Mirror ids
     * start at 1 even for one copy, so that adding a second copy never renumbers the first
     * (Lustre renumbers mirror 0 when a plain file becomes mirrored).
     */
    public static Layout of(SubLayout first) {
        return new Layout(1, FlrState.NONE, List.of(Component.wholeFile(pflrId(1, 1), LCME_FL_INIT, first)));
    }

    /** The number of mirrors ({@code lcm_mirror_count + 1}). */
    public int mirrorCount() {
        // Each encode asks this: counted without building the mirrors. Components are grouped
        // mirror by mirror (LayoutRules), so a mirror id seen before is the same mirror's.
        int n = 0;
        int last = -1;
        for (Component c : components) {
            if (n == 0 || c.mirrorId() != last) {
                n++;
                last = c.mirrorId();
            }
        }
        return n;
    }

    /** The mirrors in entry order. */
    public List<Mirror> mirrors() {
        Map<Integer, List<Component>> byId = new LinkedHashMap<>();
        for (Component c : components) {
            byId.computeIfAbsent(c.mirrorId(), k -> new ArrayList<>()).add(c);
        }
        List<Mirror> out = new ArrayList<>(byId.size());
        byId.forEach((id, comps) -> out.add(new Mirror(id, comps)));
        return List.copyOf(out);
    }

    public Optional<Mirror> mirror(int mirrorId) {
        return mirrors().stream().filter(m -> m.mirrorId() == mirrorId).findFirst();
    }

    public Optional<Component> component(int componentId) {
        return components.stream().filter(c -> c.id() == componentId).findFirst();
    }

    /**
     * The mirror to read from: the first in-sync mirror with {@code LCME_FL_PREF_RD}, else the
     * first in-sync mirror; empty when every mirror is stale.
     */
    public Optional<Mirror> readMirror() {
        List<Mirror> inSync = mirrors().stream().filter(m -> !m.isStale()).toList();
        return inSync.stream()
                .filter(Mirror::isPreferredRead)
                .findFirst()
                .or(() -> inSync.stream().findFirst());
    }

    /**
     * The id {@link #addMirror} gives the next mirror: one past the largest, or when that passes
     * {@link LovFormat#MIRROR_ID_MAX}, the smallest unused id from 1.
     */
    public int nextMirrorId() {
        Set<Integer> used = new HashSet<>();
        int max = 0;
        for (Component c : components) {
            used.add(c.mirrorId());
            max = Math.max(max, c.mirrorId());
        }
        if (max < MIRROR_ID_MAX) {
            return max + 1;
        }
        for (int id = 1; id <= MIRROR_ID_MAX; id++) {
            if (!used.contains(id)) {
                return id;
            }
        }
        throw new IllegalArgumentException("no mirror id left");
    }

    /**
     * The next generation, as {@code lod_obj_inc_layout_gen()} (lustre/lod/lod_internal.h):
     * increment, keep the top bit ({@code LU_LAYOUT_RESYNC}), and skip 0 in the low 31 bits,
     * clearing the top bit when the low bits wrap.
     */
    static int nextGeneration(int gen) {
        int preserve = gen & ~LCME_ID_MAX;
        int next = (gen + 1) | preserve;
        if ((next & LCME_ID_MAX) == 0) {
            next++;
            next &= ~LU_LAYOUT_RESYNC;
        }
        return next;
    }

    /** The same layout with the next generation. */
    public Layout bumpGeneration() {
        return new Layout(nextGeneration(layoutGen), flrState, components);
    }

    /** Sets the FLR state in {@code lcm_flags}. */
    public Layout withFlrState(FlrState state) {
        Objects.requireNonNull(state, "state");
        if (state == flrState) {
            return this;
        }
        return new Layout(nextGeneration(layoutGen), state, components);
    }

    /**
     * Adds a copy as a new mirror with id {@link #nextMirrorId()} and one whole-file component.
     * Its component id is made as {@code lod_gen_component_id()} does: the sequence is the new
     * generation when that fits 16 bits and is free, else the first free sequence after it. A
     * layout going from one mirror to two leaves FLR state {@code NONE} for {@code RDONLY}, as
     * Lustre does.
     *
     * @param flags the component's {@code lcme_flags}, e.g. {@code LCME_FL_INIT | LCME_FL_STALE}
     *     for a copy still being made
     */
    public Layout addMirror(SubLayout subLayout, int flags) {
        int gen = nextGeneration(layoutGen);
        int mirrorId = nextMirrorId();
        Component added = Component.wholeFile(newComponentId(mirrorId, gen), flags, subLayout);
        List<Component> next = new ArrayList<>(components);
        next.add(added);
        FlrState state = flrState == FlrState.NONE ? FlrState.RDONLY : flrState;
        return new Layout(gen, state, next);
    }

    private int newComponentId(int mirrorId, int gen) {
        Set<Integer> used = new HashSet<>();
        components.forEach(c -> used.add(c.id()));
        int start = gen & SEQ_ID_MASK;
        if (Integer.compareUnsigned(gen, SEQ_ID_MAX) <= 0 && start != 0 && !used.contains(pflrId(mirrorId, start))) {
            return pflrId(mirrorId, start);
        }
        for (int pass = 0; pass < 2; pass++) {
            int from = pass == 0 ? Math.max(start, 1) : 1;
            int to = pass == 0 ? SEQ_ID_MAX : start - 1;
            for (int seq = from; seq <= to; seq++) {
                int id = pflrId(mirrorId, seq);
                if (id != LCME_ID_INVAL && !used.contains(id)) {
                    return id;
                }
            }
        }
        throw new IllegalArgumentException("no component id left in mirror " + mirrorId);
    }

    /**
     * Removes a mirror (a copy that was split off or deleted). Dropping to one mirror sets the
     * FLR state to {@code NONE}, which is what Lustre writes for one mirror.
     *
     * @throws IllegalArgumentException if the mirror does not exist or is the only one
     */
    public Layout dropMirror(int mirrorId) {
        requireMirror(mirrorId);
        List<Component> next =
                components.stream().filter(c -> c.mirrorId() != mirrorId).toList();
        if (next.isEmpty()) {
            throw new IllegalArgumentException("mirror " + mirrorId + " is the only mirror; a layout keeps one");
        }
        Layout out = new Layout(nextGeneration(layoutGen), flrState, next);
        return out.mirrorCount() == 1 ? new Layout(out.layoutGen, FlrState.NONE, next) : out;
    }

    /** Marks every component of the mirror {@code LCME_FL_STALE}. */
    public Layout markStale(int mirrorId) {
        requireMirror(mirrorId);
        return mapComponents(c -> c.mirrorId() == mirrorId ? c.withFlags(c.flags() | LCME_FL_STALE) : c);
    }

    /** Clears {@code LCME_FL_STALE} on every component of the mirror (the copy is in sync). */
    public Layout markInSync(int mirrorId) {
        requireMirror(mirrorId);
        return mapComponents(c -> c.mirrorId() == mirrorId ? c.withFlags(c.flags() & ~LCME_FL_STALE) : c);
    }

    /** Marks every other mirror stale: the write path, where {@code mirrorId} took the write. */
    public Layout markStaleExcept(int mirrorId) {
        requireMirror(mirrorId);
        return mapComponents(c -> c.mirrorId() != mirrorId ? c.withFlags(c.flags() | LCME_FL_STALE) : c);
    }

    /** Sets {@code LCME_FL_PREF_RD} on the mirror and clears it on all others. */
    public Layout setPreferredRead(int mirrorId) {
        requireMirror(mirrorId);
        return mapComponents(c -> c.mirrorId() == mirrorId
                ? c.withFlags(c.flags() | LCME_FL_PREF_RD)
                : c.withFlags(c.flags() & ~LCME_FL_PREF_RD));
    }

    /** Applies {@code change} to each component of the mirror. */
    public Layout updateMirror(int mirrorId, UnaryOperator<Component> change) {
        requireMirror(mirrorId);
        return mapComponents(c -> c.mirrorId() == mirrorId ? change.apply(c) : c);
    }

    /**
     * Replaces the sub-layout of a one-component mirror, e.g. an {@link HsmForeign} with new HSM
     * flags or archive version.
     */
    public Layout withSubLayout(int mirrorId, SubLayout subLayout) {
        Mirror m = requireMirror(mirrorId);
        if (m.components().size() != 1) {
            throw new IllegalArgumentException(
                    "mirror " + mirrorId + " has " + m.components().size() + " components");
        }
        return updateMirror(mirrorId, c -> c.withSubLayout(subLayout));
    }

    private Mirror requireMirror(int mirrorId) {
        return mirror(mirrorId)
                .orElseThrow(() -> new IllegalArgumentException("no mirror " + mirrorId + " in layout " + mirrorIds()));
    }

    private List<Integer> mirrorIds() {
        return mirrors().stream().map(Mirror::mirrorId).toList();
    }

    private Layout mapComponents(UnaryOperator<Component> f) {
        List<Component> next = components.stream().map(f).toList();
        if (next.equals(components)) {
            return this;
        }
        return new Layout(nextGeneration(layoutGen), flrState, next);
    }
}
