package dev.spillway.osd.testkit.fault;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;

/**
 * A simulated directory: its entries as the page cache has them, the durable ones as of its
 * last force, and the entry changes in between, in order (a crash keeps a prefix of them:
 * filesystems journal their metadata in order).
 */
final class SimDir {
    /** An entry change not yet forced: {@code node == null} removes the name. */
    record Change(String name, Object node) {
    }

    // Values are SimFile or SimDir.
    TreeMap<String, Object> entries = new TreeMap<>();
    TreeMap<String, Object> durable = new TreeMap<>();
    final List<Change> pending = new ArrayList<>();

    void put(String name, Object node) {
        entries.put(name, node);
        pending.add(new Change(name, node));
    }

    void remove(String name) {
        entries.remove(name);
        pending.add(new Change(name, null));
    }

    void force() {
        durable = new TreeMap<>(entries);
        pending.clear();
    }

    /** The entries a crash leaves (before the children themselves are survived). */
    TreeMap<String, Object> surviving(FaultInjectingStorage.CrashMode mode, Random rnd) {
        TreeMap<String, Object> e = new TreeMap<>(durable);
        if (mode != FaultInjectingStorage.CrashMode.DROP && !pending.isEmpty()) {
            int keep = rnd.nextInt(pending.size() + 1);
            for (int i = 0; i < keep; i++) {
                Change c = pending.get(i);
                if (c.node() == null) {
                    e.remove(c.name());
                } else {
                    e.put(c.name(), c.node());
                }
            }
        }
        return e;
    }
}
