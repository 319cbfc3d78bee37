package dev.spillway.pool.meta;

import dev.spillway.osd.Fid;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * The pool's view of one DATA object: its logical size and data version (the metadata device's
 * own body may be a zero-length stub) and its copies. Immutable; every change makes a new one with
 * the layout generation bumped, as FLR bumps {@code lcm_layout_gen}.
 *
 * @param size logical size in bytes
 * @param dataVersion bumped by every body change the pool's clients make (not by spills)
 * @param layoutGen bumped by every change of the copies
 * @param blocks the 512-byte blocks the body occupied when it was last resident (reported by
 *     getattr while it is not: a spilled object still occupies its space, elsewhere)
 * @param copies every copy, in mirror-id order
 */
public record PoolObject(long size, long dataVersion, int layoutGen, long blocks, List<Copy> copies) {
    public PoolObject {
        copies = List.copyOf(copies);
    }

    /** A new empty object whose only copy is its body on the metadata device {@code mdIndex}. */
    public static PoolObject created(int mdIndex, Fid fid) {
        return new PoolObject(
                0, 1, 1, 0, List.of(new Copy(1, mdIndex, fid, CopyState.IN_SYNC, 1, 0, true, Checksums.NONE)));
    }

    /**
     * The copy with a part (a whole copy, or a stripe) on device {@code device}, if any: for the
     * metadata device its body, whole or partly released; for another device a copy of the whole
     * body first, else a copy of a range of it (see {@link #ranges}).
     */
    public Optional<Copy> on(int device) {
        return Optional.ofNullable(copyOn(device));
    }

    // Loops, not streams: every read asks (a stream per call was 8% of a 4 KiB resident read).
    // Indexed, not iterated: a split body has a copy per range, and the iterator's calls were 14%
    // of a 4 KiB read of its hot head (session 9 profile).
    // A whole copy on the device first, else the first copy of a range there.
    private Copy copyOn(int device) {
        Copy range = null;
        for (int i = 0, n = copies.size(); i < n; i++) {
            Copy c = copies.get(i);
            if (c.onDevice(device)) {
                if (c.whole()) {
                    return c;
                }
                if (range == null) {
                    range = c;
                }
            }
        }
        return range;
    }

    /** The copies of ranges of the body on devices other than {@code md} (issue 20). */
    public List<Copy> ranges(int md) {
        return copies.stream().filter(c -> !c.whole() && c.device() != md).toList();
    }

    /**
     * True if the body is split (issue 20): the metadata device holds some ranges of it in sync
     * (its copy's spans) and copies of ranges on other devices hold the rest.
     */
    public boolean split(int md) {
        // A loop: every read of a body that is not resident asks (a stream was 10% of a read of a
        // split body's hot head).
        for (int i = 0, n = copies.size(); i < n; i++) {
            Copy c = copies.get(i);
            if (c.device() == md && c.state() == CopyState.IN_SYNC && !c.whole()) {
                return true;
            }
        }
        return false;
    }

    /** The in-sync copies holding byte {@code off}, whole or of a range. */
    public List<Copy> holding(long off) {
        return copies.stream()
                .filter(c -> c.state() == CopyState.IN_SYNC && c.holds(off))
                .toList();
    }

    /**
     * The in-sync copies other than {@code except} (a key; null: none excepted) that hold every byte
     * of {@code span} of the body: whole copies (of the current version), copies of ranges covering
     * it, the metadata device's body if it holds it. What a copy of that range can be read or rebuilt
     * from.
     */
    public List<Copy> holdersOf(Span span, Fid except) {
        long to = Math.min(span.end(), size);
        List<Copy> out = new ArrayList<>();
        for (Copy c : copies) {
            if (c.state() == CopyState.IN_SYNC
                    && c.version() == dataVersion
                    && (except == null || !c.hasKey(except))
                    && Span.covers(c.held(), span.start(), to)) {
                out.add(c);
            }
        }
        return out;
    }

    public Optional<Copy> mirror(int mirrorId) {
        return copies.stream().filter(c -> c.mirrorId() == mirrorId).findFirst();
    }

    public Optional<Copy> byKey(Fid key) {
        return copies.stream().filter(c -> c.hasKey(key)).findFirst();
    }

    /** True if the whole body is on the metadata device {@code mdIndex} and current (not {@link #split}). */
    public boolean resident(int mdIndex) {
        Copy c = copyOn(mdIndex);
        return c != null && c.state() == CopyState.IN_SYNC && c.whole();
    }

    /** The in-sync copies of the whole body (never a copy of a range, nor a split body). */
    public List<Copy> inSync() {
        List<Copy> in = new ArrayList<>(copies.size());
        for (Copy c : copies) {
            if (c.state() == CopyState.IN_SYNC && c.whole()) {
                in.add(c);
            }
        }
        return List.copyOf(in);
    }

    public int nextMirrorId() {
        return copies.stream().mapToInt(Copy::mirrorId).max().orElse(0) + 1;
    }

    private PoolObject with(List<Copy> cs) {
        List<Copy> sorted = new ArrayList<>(cs);
        sorted.sort(Comparator.comparingInt(Copy::mirrorId));
        return new PoolObject(size, dataVersion, layoutGen + 1, blocks, sorted);
    }

    /** Records the blocks the body occupies (taken when it is released). */
    public PoolObject withBlocks(long b) {
        return new PoolObject(size, dataVersion, layoutGen, b, copies);
    }

    public PoolObject add(Copy c) {
        List<Copy> cs = new ArrayList<>(copies);
        cs.add(c);
        return with(cs);
    }

    public PoolObject remove(int mirrorId) {
        return with(copies.stream().filter(c -> c.mirrorId() != mirrorId).toList());
    }

    public PoolObject replace(int mirrorId, UnaryOperator<Copy> f) {
        return with(copies.stream()
                .map(c -> c.mirrorId() == mirrorId ? f.apply(c) : c)
                .toList());
    }

    /** After a body change by a client: new size, version + 1; generation bumped if copies change. */
    public PoolObject bodyChanged(long newSize, List<Copy> newCopies) {
        return new PoolObject(
                newSize, dataVersion + 1, layoutGen + (newCopies.equals(copies) ? 0 : 1), blocks, newCopies);
    }

    /** Exactly one in-sync copy is preferred for reads: {@code preferredDevice}'s if in sync, else the first. */
    public PoolObject preferring(int preferredDevice) {
        Optional<Copy> want = copies.stream()
                .filter(c -> c.state() == CopyState.IN_SYNC && c.device() == preferredDevice)
                .findFirst();
        if (want.isEmpty()) {
            want = copies.stream().filter(c -> c.state() == CopyState.IN_SYNC).findFirst();
        }
        int id = want.map(Copy::mirrorId).orElse(-1);
        boolean same = copies.stream().allMatch(c -> c.preferred() == (c.mirrorId() == id));
        if (same) {
            return this;
        }
        return new PoolObject(
                size,
                dataVersion,
                layoutGen,
                blocks,
                copies.stream().map(c -> c.withPreferred(c.mirrorId() == id)).toList());
    }
}
