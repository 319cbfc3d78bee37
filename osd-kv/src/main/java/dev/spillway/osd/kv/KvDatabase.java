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
    static KvDatabase open(Path dir, boolean create, long blockCacheBytes) throws RocksDBException {
        return open(dir, create, blockCacheBytes, false);
    }

    /**
     * Opens the database read-only to check it before a mount changes anything: no LOCK, no new
     * WAL or MANIFEST, and RocksDB's messages go to a logger instead of rotating {@code LOG}.
     * A device that fails here is refused untouched.
     */
    static KvDatabase openReadOnly(Path dir) throws RocksDBException {
        return open(dir, false, 1 << 20, true);
    }

    private static KvDatabase open(Path dir, boolean create, long blockCacheBytes, boolean readOnly)
            throws RocksDBException {
        RocksDB.loadLibrary();
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
                    .setKeepLogFileNum(4)
                    .setBytesPerSync(1 << 20);

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
            if (readOnly) {
                // The probe's own messages only describe the probe; a failure is thrown.
                dbo.setLogger(add(owned, new Logger(InfoLogLevel.FATAL_LEVEL) {
                    @Override
                    protected void log(InfoLogLevel level, String message) {}
                }));
                db = RocksDB.openReadOnly(dbo, dir.toString(), cfs, handles);
            } else {
                db = RocksDB.open(dbo, dir.toString(), cfs, handles);
            }
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
