package dev.spillway.osd.testkit.fault;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;

/**
 * A simulated inode: the content and xattrs as the page cache has them, the durable ones as of
 * the last force, and the changes in between, in order, so a crash can keep none of them, a
 * prefix (the last one torn at a random byte), or any subset.
 */
final class SimFile {
    /** One change not yet forced. */
    sealed interface Change {
        record Write(long pos, byte[] data) implements Change {}

        record Truncate(long size) implements Change {}

        record Punch(long off, long len) implements Change {}
    }

    Pages current;
    Pages durable;
    final List<Change> pending = new ArrayList<>();
    TreeMap<String, byte[]> xattrs = new TreeMap<>();
    TreeMap<String, byte[]> durableXattrs = new TreeMap<>();

    // Its place in the order files were created: a crash draws each file's fate from the seed
    // and this, so that the fates do not depend on names (some are random) or listing order.
    final long serial;
    // Created owner-only (0600); a mode is part of the inode, durable with its name.
    boolean ownerOnly;

    SimFile(int pageSize, long serial) {
        this.serial = serial;
        current = new Pages(pageSize);
        durable = current.copy();
    }

    void apply(Change c) {
        apply(current, c);
        pending.add(c);
    }

    static void apply(Pages p, Change c) {
        switch (c) {
            case Change.Write w -> p.write(w.pos(), w.data(), 0, w.data().length);
            case Change.Truncate t -> p.truncate(t.size());
            case Change.Punch x -> p.punch(x.off(), x.len());
        }
    }

    void force(boolean metadata) {
        durable = current.copy();
        pending.clear();
        if (metadata) {
            durableXattrs = new TreeMap<>(xattrs);
        }
    }

    /** The unit a disk writes atomically: a multi-sector write may reach the disk in part. */
    static final int SECTOR = 512;

    /** What a crash leaves of this file. */
    SimFile survive(FaultInjectingStorage.CrashMode mode, Random rnd) {
        SimFile s = new SimFile(current.pageSize, serial);
        s.ownerOnly = ownerOnly;
        Pages p = durable.copy();
        switch (mode) {
            case DROP -> {}
            case TORN -> prefix(p, rnd);
            case REORDER -> {
                for (Change c : pending) {
                    int r = rnd.nextInt(3);
                    if (r == 0) {
                        continue;
                    }
                    if (r == 1 && c instanceof Change.Write w && w.data().length > 0) {
                        // Only some of its pages reached the disk: a random page-aligned piece.
                        int ps = current.pageSize;
                        long firstPage = w.pos() / ps;
                        long lastPage = (w.pos() + w.data().length - 1) / ps;
                        long page = firstPage + (long) rnd.nextInt((int) (lastPage - firstPage + 1));
                        long from = Math.max(w.pos(), page * ps);
                        long to = Math.min(w.pos() + w.data().length, (page + 1) * ps);
                        p.write(from, w.data(), (int) (from - w.pos()), (int) (to - from));
                    } else {
                        apply(p, c);
                    }
                }
            }
            case NAMES_FIRST -> {
                // The journal committed the metadata, the data was not written back: a prefix of
                // the data (often nothing: a new file is empty), and half the time the size the
                // metadata recorded, the bytes that never arrived reading as zeros (writeback
                // mode's and XFS's "NULL files").
                prefix(p, rnd);
                if (current.size() > p.size() && rnd.nextBoolean()) {
                    p.truncate(current.size());
                }
            }
            case SECTORS -> {
                // Every sector of every unforced write reached the disk or not, independently:
                // a sector is atomic, a write of several is not; truncates and punches likewise.
                for (Change c : pending) {
                    if (!(c instanceof Change.Write w)) {
                        if (rnd.nextBoolean()) {
                            apply(p, c);
                        }
                        continue;
                    }
                    long end = w.pos() + w.data().length;
                    for (long at = w.pos(); at < end; ) {
                        long next = Math.min(end, (at / SECTOR + 1) * SECTOR);
                        if (rnd.nextBoolean()) {
                            p.write(at, w.data(), (int) (at - w.pos()), (int) (next - at));
                        }
                        at = next;
                    }
                }
            }
        }
        s.current = p;
        s.durable = p.copy();
        // Xattrs are inode metadata: journaled with the names (NAMES_FIRST), else either state.
        TreeMap<String, byte[]> x = switch (mode) {
            case DROP -> durableXattrs;
            case NAMES_FIRST -> xattrs;
            default -> rnd.nextBoolean() ? xattrs : durableXattrs;
        };
        s.xattrs = new TreeMap<>(x);
        s.durableXattrs = new TreeMap<>(x);
        return s;
    }

    /** Applies an in-order prefix of the unforced changes, the last write cut at any byte. */
    private void prefix(Pages p, Random rnd) {
        int keep = pending.isEmpty() ? 0 : rnd.nextInt(pending.size() + 1);
        for (int i = 0; i < keep; i++) {
            Change c = pending.get(i);
            if (i == keep - 1 && c instanceof Change.Write w && w.data().length > 0) {
                // Whole a quarter of the time, else cut at any byte.
                int cut = rnd.nextInt(4) == 0 ? w.data().length : rnd.nextInt(w.data().length + 1);
                p.write(w.pos(), w.data(), 0, cut);
            } else {
                apply(p, c);
            }
        }
    }
}
