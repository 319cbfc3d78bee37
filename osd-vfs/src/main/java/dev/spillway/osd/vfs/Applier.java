package dev.spillway.osd.vfs;

import dev.spillway.osd.Fid;
import dev.spillway.osd.spi.storage.Storage;
import dev.spillway.osd.vfs.journal.Op;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Applies a journal record's ops to the object files: right after the record is durable (the
 * transaction's objects locked, their read guard held), and again at mount for every record
 * after the checkpoint. Every op is absolute, so applying a record twice, or over files that
 * already hold later records' effects, ends in the same state.
 *
 * <p>In replay an op may find its object's body gone: a later record destroyed the object and
 * that destroy was already applied. Such ops are skipped and the FID remembered; a later
 * destroy or create of it clears it. A FID still remembered at the end means an object file
 * vanished that the log says must exist: {@link #unexplained()} reports it.
 */
final class Applier {
    private final ObjectStore store;
    private final Storage s;
    private final boolean replay;
    // Replay only: objects whose files were gone when an op needed them, not yet explained.
    private final Set<Fid> missing = new TreeSet<>();

    Applier(ObjectStore store, boolean replay) {
        this.store = store;
        this.s = store.storage();
        this.replay = replay;
    }

    Set<Fid> unexplained() {
        return missing;
    }

    private boolean skip(Fid fid) throws IOException {
        if (replay && !store.hasBody(fid)) {
            missing.add(fid);
            return true;
        }
        return false;
    }

    void apply(List<Op> ops) throws IOException {
        for (Op op : ops) {
            Fid f = op.fid();
            switch (op) {
                case Op.Create c -> {
                    store.createBody(f);
                    missing.remove(f);
                }
                case Op.Install i -> {
                    if (replay && s.type(i.staged()) == Storage.EntryType.MISSING) {
                        // Renamed into place before the crash (its record is removed too).
                        if (!store.hasBody(f)) {
                            missing.add(f);
                        } else {
                            missing.remove(f);
                        }
                    } else {
                        store.install(f, i.staged());
                        missing.remove(f);
                    }
                }
                case Op.Destroy d -> {
                    store.destroy(f);
                    missing.remove(f);
                }
                case Op.Write w -> {
                    if (!skip(f)) {
                        store.write(f, w.offset(), ByteBuffer.wrap(w.data()));
                    }
                }
                case Op.Punch p -> {
                    if (!skip(f)) {
                        store.punch(f, p.offset(), p.length());
                    }
                }
                case Op.Truncate t -> {
                    if (!skip(f)) {
                        store.truncate(f, t.size());
                    }
                }
                case Op.SetXattr x -> {
                    if (!skip(f)) {
                        store.setXattr(f, x.name(), x.value());
                    }
                }
                case Op.RemoveXattr x -> {
                    if (!skip(f)) {
                        store.removeXattr(f, x.name());
                    }
                }
                case Op.SetAttr a -> {
                    if (!skip(f)) {
                        AttrRecord.Stored cur = currentRecord(f);
                        if (cur == null) {
                            store.freshRecord(f, a.attr());
                        } else {
                            store.writeRecord(f, a.attr(), cur.generation() + 1);
                        }
                    }
                }
            }
        }
    }

    /** The record if one is readable; a missing or (in replay) unreadable one is rewritten whole. */
    private AttrRecord.Stored currentRecord(Fid f) throws IOException {
        try {
            return store.record(f);
        } catch (dev.spillway.osd.OsdException e) {
            if (replay) {
                return null;
            }
            throw new IOException(e.getMessage(), e);
        }
    }
}
