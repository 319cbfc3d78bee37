package dev.spillway.osd.kv;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * What a mount does after RocksDB has replayed its WAL. Its cost follows the work that was in
 * flight, not the size of the device:
 * <ul>
 * <li>extent files freed by durable transactions but not yet deleted ({@code 'G'} records) are
 * deleted;</li>
 * <li>the extent folder is listed once: every live file ({@code 'F'} record) should be there and
 * whole, and files no record names (written by transactions a crash cut off) are deleted. A live
 * file that is missing or short is damage to the objects that use it, not to the device: the
 * mount goes on and says which files and objects (a warning in the log), those objects read with
 * EIO naming the file, and fsck lists them — one damaged object never stops a mount (the pool
 * above heals a spill copy from another). This costs a directory listing and a {@code stat} per
 * extent file (tens of milliseconds per 10⁵ files).</li>
 * </ul>
 */
final class MountRecovery {
    private static final System.Logger LOG = System.getLogger(MountRecovery.class.getName());

    private MountRecovery() {}

    /**
     * What the device starts from.
     *
     * @param damaged live extent files missing or short, each with its owner ("… of [fid]")
     */
    record Result(long used, long objects, long nextFileId, List<String> damaged) {}

    /**
     * The read-only part: fails (changing nothing) if the device cannot be mounted; otherwise
     * what a read-only mount starts from (freed and orphaned extent files left where they are).
     */
    static Result check(String device, KvFolder folder, KvDatabase kv, boolean warn)
            throws OsdException, RocksDBException, IOException {
        return run(device, folder, kv, false, warn);
    }

    /** Checks again on the mounted database, then deletes freed and orphaned extent files. */
    static Result run(String device, KvFolder folder, KvDatabase kv)
            throws OsdException, RocksDBException, IOException {
        return run(device, folder, kv, true, true);
    }

    private static Result run(String device, KvFolder folder, KvDatabase kv, boolean repair, boolean warn)
            throws OsdException, RocksDBException, IOException {
        long[] counters;
        try {
            counters = new long[] {
                Space.counter(kv.db.get(kv.meta, Keys.USED)), Space.counter(kv.db.get(kv.meta, Keys.OBJECTS))
            };
        } catch (IllegalArgumentException e) {
            throw new OsdException(
                    Errno.EBADMSG,
                    device,
                    "osd-kv folder " + folder.root + ": corrupt counter record: " + e.getMessage());
        }
        Map<Long, byte[]> free = records(kv, Keys.FREE);
        long maxId = 0;
        for (long id : free.keySet()) {
            maxId = Math.max(maxId, id);
        }
        ExtentFiles ef = new ExtentFiles(folder.storage, 1, Runnable::run);
        List<Long> orphans = new ArrayList<>();
        Map<Long, byte[]> live = records(kv, Keys.FILE);
        List<String> strangers = new ArrayList<>();
        List<Long> onDisk = ef.listIds(strangers);
        Set<Long> present = new HashSet<>(onDisk);
        List<String> missing = new ArrayList<>();
        for (Map.Entry<Long, byte[]> e : live.entrySet()) {
            long id = e.getKey();
            maxId = Math.max(maxId, id);
            ByteBuffer v = ByteBuffer.wrap(e.getValue());
            Fid owner = Fid.fromBytes(e.getValue(), 0);
            long bytes = v.getLong(Fid.BYTES);
            if (!present.contains(id)) {
                missing.add(ExtentFiles.name(id) + " of " + owner);
            } else {
                long have = ef.size(id);
                if (have < bytes) {
                    missing.add(ExtentFiles.name(id) + " of " + owner + " (" + have + " of " + bytes + " bytes)");
                }
            }
        }
        if (!missing.isEmpty() && warn) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    device + ": osd-kv folder " + folder.root + ": extent files missing or short: "
                            + String.join(", ", missing.subList(0, Math.min(10, missing.size())))
                            + (missing.size() > 10 ? " and " + (missing.size() - 10) + " more" : "")
                            + "; mounted" + (repair ? "" : " read-only")
                            + " anyway: the objects that use them read with EIO (restore them from"
                            + " another copy, or destroy them)");
        }
        for (long id : onDisk) {
            maxId = Math.max(maxId, id);
            if (!live.containsKey(id) && !free.containsKey(id)) {
                orphans.add(id);
            }
        }
        if (repair && (!free.isEmpty() || !orphans.isEmpty())) {
            for (long id : free.keySet()) {
                ef.delete(id);
            }
            for (long id : orphans) {
                ef.delete(id);
            }
            ef.syncDir();
            try (WriteBatch b = new WriteBatch();
                    WriteOptions sync = new WriteOptions().setSync(true)) {
                for (long id : free.keySet()) {
                    b.delete(kv.meta, Keys.file(Keys.FREE, id));
                }
                kv.db.write(sync, b);
            }
        }
        return new Result(counters[0], counters[1], maxId + 1, List.copyOf(missing));
    }

    /** Every {@code type} + fileId record, by id. */
    private static Map<Long, byte[]> records(KvDatabase kv, byte type) throws RocksDBException {
        Map<Long, byte[]> out = new TreeMap<>();
        try (Slice lo = new Slice(Keys.single(type));
                Slice hi = new Slice(Keys.single((byte) (type + 1)));
                ReadOptions r = new ReadOptions().setIterateLowerBound(lo).setIterateUpperBound(hi);
                RocksIterator it = kv.db.newIterator(kv.meta, r)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                out.put(Keys.fileId(it.key()), it.value());
            }
            it.status();
        }
        return out;
    }
}
