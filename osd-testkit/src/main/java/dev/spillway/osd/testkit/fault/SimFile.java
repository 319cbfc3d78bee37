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

    SimFile(int pageSize) {
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

    /** What a crash leaves of this file. */
    SimFile survive(FaultInjectingStorage.CrashMode mode, Random rnd) {
        SimFile s = new SimFile(current.pageSize);
        Pages p = durable.copy();
        switch (mode) {
            case DROP -> {}
            case TORN -> {
                int keep = pending.isEmpty() ? 0 : rnd.nextInt(pending.size() + 1);
                for (int i = 0; i < keep; i++) {
                    Change c = pending.get(i);
                    if (i == keep - 1 && c instanceof Change.Write w && w.data().length > 0) {
                        int cut = rnd.nextInt(w.data().length + 1);
                        p.write(w.pos(), w.data(), 0, cut);
                    } else {
                        apply(p, c);
                    }
                }
            }
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
        }
        s.current = p;
        s.durable = p.copy();
        TreeMap<String, byte[]> x =
                mode != FaultInjectingStorage.CrashMode.DROP && rnd.nextBoolean() ? xattrs : durableXattrs;
        s.xattrs = new TreeMap<>(x);
        s.durableXattrs = new TreeMap<>(x);
        return s;
    }
}
