package dev.spillway.osd.kv;

import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
import org.rocksdb.Snapshot;

/**
 * A full consistency check of a device (the {@code e2fsck -n} of osd-kv): reads everything on
 * one snapshot and recomputes what the device keeps incrementally. For tests and the admin
 * tool, never for the data path: its cost is the whole device.
 *
 * <p>It checks that the persisted counters equal the sum over objects; that each object's
 * accounting (allocated blocks, xattr and index bytes) matches its records; that body pieces
 * neither overlap nor store bytes past the size; that every extent's file is live, owned by
 * the object and long enough; and that the extent folder holds exactly the live files plus
 * those waiting to be deleted.
 */
final class Fsck {
    private final KvOsd osd;
    private final int bs;
    private final List<String> problems = new ArrayList<>();

    Fsck(KvOsd osd) {
        this.osd = osd;
        this.bs = osd.blockSize();
    }

    /** Problems found, one line each; empty when the device is consistent. */
    List<String> run() throws RocksDBException, IOException {
        osd.files.awaitRefill();
        Snapshot snap = osd.kv.db.getSnapshot();
        try (ReadOptions ro = new ReadOptions().setSnapshot(snap)) {
            Map<Long, byte[]> live = records(ro, Keys.FILE);
            Map<Long, byte[]> free = records(ro, Keys.FREE);
            Map<Long, Fid> referenced = new HashMap<>();
            long used = 0;
            long objects = 0;
            try (Slice lo = new Slice(Keys.single(Keys.OBJECT));
                    Slice hi = new Slice(Keys.single((byte) (Keys.OBJECT + 1)));
                    ReadOptions r = new ReadOptions()
                            .setSnapshot(snap)
                            .setIterateLowerBound(lo)
                            .setIterateUpperBound(hi);
                    RocksIterator it = osd.kv.db.newIterator(osd.kv.meta, r)) {
                it.seekToFirst();
                while (it.isValid()) {
                    Fid fid = Keys.objectFid(it.key());
                    byte[] k = it.key();
                    if (k.length != Keys.SUB_PREFIX || k[Keys.SUB_PREFIX - 1] != Keys.ATTR) {
                        problems.add(fid + ": records without an attribute record");
                    }
                    InodeRecord rec = null;
                    if (k[Keys.SUB_PREFIX - 1] == Keys.ATTR) {
                        try {
                            rec = InodeRecord.decode(it.value(), bs);
                        } catch (CorruptRecord e) {
                            problems.add(fid + ": " + e.getMessage());
                        }
                    }
                    long xattrBytes = 0;
                    long indexBytes = 0;
                    List<Piece.Extent> extents = new ArrayList<>();
                    for (; it.isValid() && Keys.hasPrefix(it.key(), Keys.objectStart(fid)); it.next()) {
                        byte[] key = it.key();
                        byte sub = key[Keys.SUB_PREFIX - 1];
                        if (sub == Keys.XATTR) {
                            xattrBytes += key.length - Keys.SUB_PREFIX + it.value().length;
                        } else if (sub == Keys.INDEX) {
                            indexBytes += key.length - Keys.SUB_PREFIX + it.value().length;
                        } else if (sub == Keys.EXTENT) {
                            try {
                                extents.add(Piece.Extent.decode(Keys.extentBlock(key), it.value()));
                            } catch (CorruptRecord e) {
                                problems.add(fid + ": " + e.getMessage());
                            }
                        }
                    }
                    it.status();
                    if (rec == null) {
                        continue;
                    }
                    objects++;
                    used += rec.usedBytes(bs);
                    checkObject(snap, fid, rec, xattrBytes, indexBytes, extents, live, referenced);
                }
                it.status();
            }
            long[] counters = {
                Space.counter(osd.kv.db.get(osd.kv.meta, ro, Keys.USED)),
                Space.counter(osd.kv.db.get(osd.kv.meta, ro, Keys.OBJECTS))
            };
            if (counters[0] != used || counters[1] != objects) {
                problems.add("counters say " + counters[0] + " bytes / " + counters[1]
                        + " objects, the objects add up to " + used + " / " + objects);
            }
            for (long id : live.keySet()) {
                if (!referenced.containsKey(id)) {
                    problems.add("extent file " + ExtentFiles.name(id) + " is live but no extent references it");
                }
            }
            List<String> strangers = new ArrayList<>();
            for (long id : osd.files.listIds(strangers)) {
                if (!live.containsKey(id) && !free.containsKey(id) && !osd.files.isSpare(id)) {
                    problems.add("extent file " + ExtentFiles.name(id)
                            + " is neither live nor waiting to be deleted (a leak)");
                }
            }
            for (String s : strangers) {
                problems.add("extents/" + s + " is not an extent file");
            }
        } finally {
            osd.kv.db.releaseSnapshot(snap);
        }
        return problems;
    }

    private void checkObject(
            Snapshot snap,
            Fid fid,
            InodeRecord rec,
            long xattrBytes,
            long indexBytes,
            List<Piece.Extent> extents,
            Map<Long, byte[]> live,
            Map<Long, Fid> referenced)
            throws RocksDBException, IOException {
        if (rec.xattrBytes() != xattrBytes) {
            problems.add(fid + ": records " + rec.xattrBytes() + " xattr bytes, has " + xattrBytes);
        }
        if (rec.indexBytes() != indexBytes) {
            problems.add(fid + ": records " + rec.indexBytes() + " index bytes, has " + indexBytes);
        }
        long size = rec.attr().size();
        long alloc = 0;
        long lastEnd = 0;
        Set<Long> files = new HashSet<>();
        try (PieceCursor c = new PieceCursor(osd.kv.db, osd.kv.meta, osd.kv.body, snap, fid, 0)) {
            Piece p;
            while ((p = c.next()) != null) {
                if (rec.attr().kind() == ObjectKind.INDEX) {
                    problems.add(fid + ": an index object with body pieces");
                }
                if (p.start() < lastEnd) {
                    problems.add(fid + ": body pieces overlap at block " + p.start());
                }
                lastEnd = p.end();
                alloc += p.allocated();
                long storedEnd = p.start() * bs
                        + switch (p) {
                            case Piece.Inline in -> in.data().length;
                            case Piece.Extent e -> e.stored();
                            case Piece.Hole h -> 0;
                        };
                if (storedEnd > size) {
                    problems.add(fid + ": block " + p.start() + " stores bytes up to " + storedEnd + ", past the size "
                            + size);
                }
                if (p instanceof Piece.Extent e) {
                    files.add(e.fileId());
                    if (e.stored() > e.blocks() * bs) {
                        problems.add(fid + ": extent at block " + e.start() + " stores more than its blocks");
                    }
                    byte[] f = live.get(e.fileId());
                    if (f == null) {
                        problems.add(fid + ": extent at block " + e.start() + " uses " + ExtentFiles.name(e.fileId())
                                + ", which is not live");
                    } else {
                        Fid owner = Fid.fromBytes(f, 0);
                        if (!owner.equals(fid)) {
                            problems.add(fid + ": uses extent file " + ExtentFiles.name(e.fileId()) + " of " + owner);
                        }
                        long need = e.fileOff() + e.stored();
                        long have = osd.files.exists(e.fileId()) ? osd.files.size(e.fileId()) : -1;
                        if (have < need) {
                            problems.add(fid + ": extent file " + ExtentFiles.name(e.fileId()) + " has " + have
                                    + " bytes, needs " + need);
                        }
                    }
                }
            }
        }
        for (long id : files) {
            referenced.put(id, fid);
        }
        if (alloc != rec.allocBlocks()) {
            problems.add(fid + ": records " + rec.allocBlocks() + " allocated blocks, its pieces hold " + alloc);
        }
        if (rec.attr().blocks() != alloc * bs / 512) {
            problems.add(fid + ": blocks attribute " + rec.attr().blocks() + " does not match " + alloc
                    + " allocated blocks");
        }
        if (extents.isEmpty() && !files.isEmpty()) {
            problems.add(fid + ": pieces name files but no extent records were listed");
        }
    }

    private Map<Long, byte[]> records(ReadOptions base, byte type) throws RocksDBException {
        Map<Long, byte[]> out = new HashMap<>();
        try (Slice lo = new Slice(Keys.single(type));
                Slice hi = new Slice(Keys.single((byte) (type + 1)));
                ReadOptions r = new ReadOptions()
                        .setSnapshot(base.snapshot())
                        .setIterateLowerBound(lo)
                        .setIterateUpperBound(hi);
                RocksIterator it = osd.kv.db.newIterator(osd.kv.meta, r)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                out.put(Keys.fileId(it.key()), it.value());
            }
            it.status();
        }
        return out;
    }

    static String describe(List<String> problems) {
        return problems.isEmpty() ? "clean" : problems.size() + " problems: " + String.join("; ", problems);
    }
}
