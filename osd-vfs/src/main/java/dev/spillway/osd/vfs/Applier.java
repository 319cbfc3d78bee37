package dev.spillway.osd.vfs;

import dev.spillway.osd.Fid;
import dev.spillway.osd.spi.storage.Storage;
import dev.spillway.osd.vfs.journal.Op;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Applies a journal record's ops to the object files: right after the record is durable (the
 * transaction's objects locked, their read guard held), and again at mount for every record
 * after the checkpoint. Every op is absolute, so applying a record twice, or over files that
 * already hold later records' effects, ends in the same state.
 *
 * <p>Replay ({@link #replay}) applies an object's ops only from its last create, install or
 * destroy in the replayed records on: each of those resets the object, so what came before is
 * superseded — and must not run, because the files may already hold a later incarnation whose
 * body exists nowhere else (a staged body renamed into place is not in the log). From there
 * every op finds the body it needs: created by the create, renamed by the install (or already
 * renamed before the crash), or made durable by the checkpoint for an object no replayed record
 * resets. An object whose body is missing anyway has lost a file the log says must exist;
 * {@link #unexplained()} names it.
 */
final class Applier {
    private final ObjectFiles store;
    private final Storage s;
    private final boolean replay;
    // Replay only: objects whose files were gone when an op needed them.
    private final Set<Fid> missing = new TreeSet<>();

    Applier(ObjectFiles store, boolean replay) {
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

    /** Replays records in LSN order, each object from its last reset on. */
    void replay(List<List<Op>> records) throws IOException {
        Map<Fid, long[]> lastReset = new HashMap<>();
        for (int r = 0; r < records.size(); r++) {
            List<Op> ops = records.get(r);
            for (int i = 0; i < ops.size(); i++) {
                Op op = ops.get(i);
                if (op instanceof Op.Create || op instanceof Op.Install || op instanceof Op.Destroy) {
                    lastReset.put(op.fid(), new long[] {r, i});
                }
            }
        }
        for (int r = 0; r < records.size(); r++) {
            List<Op> ops = records.get(r);
            for (int i = 0; i < ops.size(); i++) {
                Op op = ops.get(i);
                long[] reset = lastReset.get(op.fid());
                if (reset == null || r > reset[0] || (r == reset[0] && i >= reset[1])) {
                    apply(op);
                }
            }
        }
    }

    void apply(List<Op> ops) throws IOException {
        for (Op op : ops) {
            apply(op);
        }
    }

    private void apply(Op op) throws IOException {
        Fid f = op.fid();
        switch (op) {
            case Op.Create c -> store.createBody(f);
            case Op.Install i -> {
                if (replay && s.type(i.staged()) == Storage.EntryType.MISSING) {
                    // Renamed into place before the crash.
                    if (!store.hasBody(f)) {
                        missing.add(f);
                    }
                } else {
                    store.install(f, i.staged());
                }
            }
            case Op.Destroy d -> store.destroy(f);
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
