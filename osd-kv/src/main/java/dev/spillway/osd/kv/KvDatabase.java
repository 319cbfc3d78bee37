package dev.spillway.osd.kv;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.Cache;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.InfoLogLevel;
import org.rocksdb.LRUCache;
import org.rocksdb.Logger;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.UInt64AddOperator;
import org.rocksdb.WALRecoveryMode;
import org.rocksdb.WriteOptions;

/**
 * The RocksDB database of a device and the options it runs with.
 *
 * <ul>
 * <li>Two column families: {@code default} holds the metadata (attributes, xattrs, index
 * entries, extent records, counters), {@code body} the inline body blocks, so that bulk data
 * neither dilutes the metadata's block cache nor shares its compaction. One WriteBatch spans
 * both, and one WAL covers both, so a transaction is atomic across them.</li>
 * <li>Writes go to the WAL unsynced; durability comes from the group-commit thread's
 * {@code SyncWAL} ({@link CommitPipeline}). {@code manual_wal_flush} stays off, so every
 * write reaches the kernel before {@code Write} returns: a killed process loses nothing that
 * was published.</li>
 * <li>WAL recovery is point-in-time: after a crash the database is a prefix of the commit
 * order, never a set with holes. Synced WALs are tracked in the MANIFEST, so a missing WAL is
 * an error at mount rather than silent loss.</li>
 * <li>Opening replays the WAL into the memtables and leaves it there
 * ({@code avoid_flush_during_recovery}): the replayed writes reach SST files with the next
 * ordinary flush (at the latest the clean unmount's, {@code KvOsd.close}), and the WALs holding
 * them are kept until then. Flushing them at open wrote up to the memtables' size (48 MiB)
 * before the mount could go on, and needed that much space.</li>
 * <li>RocksDB's warnings and errors go to Spillway's log ({@link System.Logger}); it keeps no
 * {@code LOG} file of its own. Opening with a {@code LOG} file renamed the last one first, even
 * when the open then failed, so a refused device was no longer left as it was.</li>
 * </ul>
 */
final class KvDatabase implements AutoCloseable {
    static final String BODY_CF = "body";

    final RocksDB db;
    final ColumnFamilyHandle meta;
    final ColumnFamilyHandle body;
    /** Unsynced writes: every commit; durability is the pipeline's SyncWAL. */
    final WriteOptions noSync;

    private final List<AutoCloseable> owned;

    private KvDatabase(
            RocksDB db,
            ColumnFamilyHandle meta,
            ColumnFamilyHandle body,
            WriteOptions noSync,
            List<AutoCloseable> owned) {
        this.db = db;
        this.meta = meta;
        this.body = body;
        this.noSync = noSync;
        this.owned = owned;
    }

    /**
     * Opens (or, with {@code create}, creates) the database in {@code dir}.
     *
     * @throws RocksDBException as RocksDB reports it (missing or corrupt files, a held lock)
     */
    static KvDatabase open(Path dir, boolean create, long blockCacheBytes, String device) throws RocksDBException {
        return open(dir, create, blockCacheBytes, false, device);
    }

    /**
     * Opens the database read-only to check it before a mount changes anything: no LOCK, no new
     * WAL or MANIFEST. A device that fails here is refused untouched.
     */
    static KvDatabase openReadOnly(Path dir, String device) throws RocksDBException {
        return open(dir, false, 1 << 20, true, true, device);
    }

    /**
     * Opens the database read-only for a read-only mount (an offline check): no LOCK, no new WAL
     * or MANIFEST, no flush, no compaction, nothing written. The WAL that the last process left
     * (a crash's un-replayed writes) is replayed into memory only, so the mount reads what a
     * read-write open would, and the WAL stays as it was for the next read-write open to replay.
     */
    static KvDatabase openReadOnlyMount(Path dir, long blockCacheBytes, String device) throws RocksDBException {
        return open(dir, false, blockCacheBytes, true, false, device);
    }

    private static KvDatabase open(Path dir, boolean create, long blockCacheBytes, boolean readOnly, String device)
            throws RocksDBException {
        return open(dir, create, blockCacheBytes, readOnly, readOnly, device);
    }

    private static KvDatabase open(
            Path dir, boolean create, long blockCacheBytes, boolean readOnly, boolean quiet, String device)
            throws RocksDBException {
        RocksDB.loadLibrary();
        if (create) {
            // RocksDB reports a missing folder as an error before it creates it.
            try {
                java.nio.file.Files.createDirectories(dir);
            } catch (java.io.IOException e) {
                throw new RocksDBException("cannot create " + dir + ": " + e);
            }
        }
        List<AutoCloseable> owned = new ArrayList<>();
        try {
            Cache cache = add(owned, new LRUCache(Math.max(1 << 20, blockCacheBytes)));
            // Not in the Java setters: synced WALs tracked in the MANIFEST, so that a missing
            // WAL fails the open instead of silently dropping the writes it held.
            java.util.Properties props = new java.util.Properties();
            props.setProperty("track_and_verify_wals_in_manifest", "true");
            DBOptions base = DBOptions.getDBOptionsFromProps(props);
            if (base == null) {
                throw new IllegalStateException("RocksDB refused option track_and_verify_wals_in_manifest");
            }
            DBOptions dbo = add(owned, base)
                    .setCreateIfMissing(create)
                    .setCreateMissingColumnFamilies(create)
                    .setErrorIfExists(create)
                    .setParanoidChecks(true)
                    .setWalRecoveryMode(WALRecoveryMode.PointInTimeRecovery)
                    .setManualWalFlush(false)
                    .setMaxBackgroundJobs(2)
                    // A bounded WAL bounds the replay a mount after a crash pays: recovery costs what
                    // was in flight, not what was ever written.
                    .setMaxTotalWalSize(64L << 20)
                    .setAvoidFlushDuringRecovery(true)
                    .setBytesPerSync(1 << 20);
            // The mount's read-only probe's own messages only describe the probe; a failure is thrown.
            dbo.setLogger(add(owned, quiet ? new Quiet() : new ToSystemLogger(device)));

            BlockBasedTableConfig metaTable = new BlockBasedTableConfig()
                    .setBlockCache(cache)
                    .setFilterPolicy(add(owned, new BloomFilter(10)))
                    .setBlockSize(16 << 10);
            // The counters are merge operands (deltas), so concurrent commits need no order.
            ColumnFamilyOptions metaOpts = add(owned, new ColumnFamilyOptions())
                    .setMergeOperator(add(owned, new UInt64AddOperator()))
                    .setTableFormatConfig(metaTable)
                    .setWriteBufferSize(16L << 20)
                    .setCompressionType(CompressionType.LZ4_COMPRESSION);

            BlockBasedTableConfig bodyTable =
                    new BlockBasedTableConfig().setBlockCache(cache).setBlockSize(64 << 10);
            // Bodies are often incompressible (media, archives, already-compressed data).
            ColumnFamilyOptions bodyOpts = add(owned, new ColumnFamilyOptions())
                    .setTableFormatConfig(bodyTable)
                    .setWriteBufferSize(32L << 20)
                    .setCompressionType(CompressionType.NO_COMPRESSION);

            List<ColumnFamilyDescriptor> cfs = List.of(
                    new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, metaOpts),
                    new ColumnFamilyDescriptor(BODY_CF.getBytes(java.nio.charset.StandardCharsets.UTF_8), bodyOpts));
            List<ColumnFamilyHandle> handles = new ArrayList<>();
            RocksDB db;
            db = readOnly
                    ? RocksDB.openReadOnly(dbo, dir.toString(), cfs, handles)
                    : RocksDB.open(dbo, dir.toString(), cfs, handles);
            // Handles close before the database, the database before its options.
            List<AutoCloseable> order = new ArrayList<>(handles);
            order.add(db);
            order.addAll(owned);
            WriteOptions noSync = new WriteOptions().setSync(false);
            order.add(0, noSync);
            return new KvDatabase(db, handles.get(0), handles.get(1), noSync, order);
        } catch (RocksDBException | RuntimeException e) {
            closeAll(owned);
            throw e;
        }
    }

    /** Drops everything but fatal errors (which RocksDB also returns as the failed call's status). */
    private static final class Quiet extends Logger {
        Quiet() {
            super(InfoLogLevel.FATAL_LEVEL);
        }

        @Override
        protected void log(InfoLogLevel level, String message) {}
    }

    /** RocksDB's warnings and errors, named by device, to Spillway's log. */
    private static final class ToSystemLogger extends Logger {
        private static final System.Logger LOG = System.getLogger(KvDatabase.class.getName());
        private final String device;

        ToSystemLogger(String device) {
            super(InfoLogLevel.WARN_LEVEL);
            this.device = device;
        }

        @Override
        protected void log(InfoLogLevel level, String message) {
            System.Logger.Level to = level == InfoLogLevel.WARN_LEVEL
                    ? System.Logger.Level.WARNING
                    : level == InfoLogLevel.ERROR_LEVEL || level == InfoLogLevel.FATAL_LEVEL
                            ? System.Logger.Level.ERROR
                            : System.Logger.Level.DEBUG;
            LOG.log(to, device + ": RocksDB: " + message.strip());
        }
    }

    private static <T extends AutoCloseable> T add(List<AutoCloseable> owned, T t) {
        owned.add(t);
        return t;
    }

    private static void closeAll(List<AutoCloseable> xs) {
        for (AutoCloseable x : xs) {
            try {
                x.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing a RocksDB handle failed", e);
            }
        }
    }

    @Override
    public void close() {
        closeAll(owned);
    }
}
