package dev.spillway.osd.testkit.fault;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * A simulated directory: its entries as the page cache has them, the durable ones as of its
 * last force, and the entry changes in between, each stamped with its place in the storage-wide
 * order of metadata changes (a crash keeps the changes before one point of that order:
 * journaling filesystems commit metadata in order).
 */
final class SimDir {
    /** An entry change not yet forced: {@code node == null} removes the name. */
    record Change(String name, Object node, long seq) {}

    // Values are SimFile or SimDir.
    TreeMap<String, Object> entries = new TreeMap<>();
    TreeMap<String, Object> durable = new TreeMap<>();
    final List<Change> pending = new ArrayList<>();

    void put(String name, Object node, long seq) {
        entries.put(name, node);
        pending.add(new Change(name, node, seq));
    }

    void remove(String name, long seq) {
        entries.remove(name);
        pending.add(new Change(name, null, seq));
    }

    void force() {
        durable = new TreeMap<>(entries);
        pending.clear();
    }

    /** The entries a crash leaves: the durable ones plus the changes stamped before {@code cut}. */
    TreeMap<String, Object> surviving(long cut) {
        TreeMap<String, Object> e = new TreeMap<>(durable);
        for (Change c : pending) {
            if (c.seq() >= cut) {
                break;
            }
            if (c.node() == null) {
                e.remove(c.name());
            } else {
                e.put(c.name(), c.node());
            }
        }
        return e;
    }
}
