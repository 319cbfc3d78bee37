package dev.spillway.gateway.s3.store;

import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.naming.Names;
import dev.spillway.gateway.s3.store.Records.BucketRecord;
import dev.spillway.gateway.s3.store.Records.KeyRecord;
import dev.spillway.osd.Fid;
import dev.spillway.osd.IndexCursor;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What happens to a key's versions when a version is written or deleted, inside the transaction
 * that does it (the key index's and the versions index's locks held, so each change is a
 * serializable read-modify-write).
 *
 * <p>The current version of a key is in the bucket's key index; every other version in its
 * versions index ({@link VersionKeys}), so a plain GET or listing reads what it always did. The
 * invariant: a key that has any version has its newest in the key index (deleting the current
 * version promotes the next newest). A bucket never versioned keeps one record per key and
 * retires the previous one, as before versioning existed.
 *
 * <p>Every path that removes a version for good goes through {@link #retire}, which refuses a
 * version under object lock (legal hold, or retention not yet over; GOVERNANCE yields only to a
 * bypass): deletes, overwrites of the null version, lifecycle expiry. The garbage sweeper only
 * destroys what was retired, so a locked version cannot be lost by any of them.
 */
final class KeyVersions {
    private final Namespace ns;
    private final Osd osd;

    KeyVersions(Namespace ns) {
        this.ns = ns;
        this.osd = ns.osd;
    }

    /** What a change did: the record now current (or null), and the versions that left the key index. */
    record Change(KeyRecord current, List<KeyRecord> madeNoncurrent, List<KeyRecord> retired) {
        Change {
            madeNoncurrent = List.copyOf(madeNoncurrent);
            retired = List.copyOf(retired);
        }
    }

    /** Declares what {@link #put} / {@link #delete} / {@link #deleteVersion} may update in {@code b}. */
    void declare(Transaction tx, BucketRecord b, byte[] key, int valueLength) throws OsdException {
        int value = Math.max(valueLength, ns.maxRecordBytes());
        tx.declareInsert(b.keys(), key.length, value);
        tx.declareDelete(b.keys(), key.length);
        if (b.meta().versions() != null) {
            int vk = VersionKeys.prefix(key).length + Fid.BYTES;
            tx.declareInsert(b.meta().versions(), vk, value);
            tx.declareDelete(b.meta().versions(), vk);
        }
        tx.declareInsert(ns.garbage, Fid.BYTES, Garbage.VALUE_BYTES);
        ns.dueWork.declare(tx, b);
    }

    /** Schedules the due work of a change: the new current version's, and the non-current ones'. */
    Change planned(Transaction tx, BucketRecord b, String bucketName, byte[] key, Change c)
            throws OsdException, S3Exception {
        if (b.meta().due() == null) {
            return c;
        }
        List<DueWork.Entry> entries = new ArrayList<>();
        if (c.current() != null && !c.madeNoncurrent().contains(c.current())) {
            entries.addAll(ns.planner.current(bucketName, key, c.current()));
        }
        for (KeyRecord r : c.madeNoncurrent()) {
            entries.addAll(ns.planner.noncurrent(bucketName, key, r, ns.now()));
        }
        ns.dueWork.schedule(tx, b, entries);
        return c;
    }

    Optional<KeyRecord> current(BucketRecord b, byte[] key) throws OsdException {
        return osd.lookup(b.keys(), key).map(KeyRecord::decode);
    }

    /**
     * Makes {@code rec} the newest version of {@code key}: in a bucket with versioning enabled
     * it gets its version id and the current version becomes non-current; suspended, it is the
     * null version and replaces the null version wherever it is; never versioned, it replaces
     * the key's record.
     */
    Change put(Transaction tx, BucketRecord b, String bucketName, byte[] key, KeyRecord rec, Precondition pre)
            throws OsdException, S3Exception {
        return planned(tx, b, bucketName, key, put0(tx, b, bucketName, key, rec, pre));
    }

    private Change put0(Transaction tx, BucketRecord b, String bucketName, byte[] key, KeyRecord rec, Precondition pre)
            throws OsdException, S3Exception {
        Optional<KeyRecord> old = current(b, key);
        pre.check(old, bucketName, key);
        List<KeyRecord> noncurrent = new ArrayList<>();
        List<KeyRecord> retired = new ArrayList<>();
        String mode = b.meta().versioning();
        if (mode == null) {
            rec = rec.withMeta(rec.meta().withVersionId(null));
            tx.upsert(b.keys(), key, rec.encode());
            if (old.isPresent()) {
                retire(tx, old.get(), false, bucketName, key);
                retired.add(old.get());
            }
            return new Change(rec, noncurrent, retired);
        }
        Fid versions = b.meta().versions();
        if (b.versioningEnabled()) {
            rec = rec.withMeta(rec.meta().withVersionId(VersionKeys.versionId(rec.fid())));
            if (old.isPresent() && old.get().fid().compareTo(rec.fid()) > 0) {
                // A version begun later committed first: this one takes its place in the order,
                // behind it.
                tx.upsert(versions, VersionKeys.of(key, rec.fid()), rec.encode());
                noncurrent.add(rec);
                return new Change(old.get(), noncurrent, retired);
            }
        } else {
            rec = rec.withMeta(rec.meta().withVersionId(null));
            Optional<byte[]> nullVersion = findNullNoncurrent(versions, key);
            if (nullVersion.isPresent()) {
                KeyRecord n =
                        KeyRecord.decode(osd.lookup(versions, nullVersion.get()).orElseThrow());
                retire(tx, n, false, bucketName, key);
                tx.delete(versions, nullVersion.get());
                retired.add(n);
            }
        }
        if (old.isPresent()) {
            KeyRecord o = old.get();
            if (!b.versioningEnabled() && o.meta().versionId() == null) {
                retire(tx, o, false, bucketName, key);
                retired.add(o);
            } else {
                tx.upsert(versions, VersionKeys.of(key, o.fid()), o.encode());
                noncurrent.add(o);
            }
        }
        tx.upsert(b.keys(), key, rec.encode());
        return new Change(rec, noncurrent, retired);
    }

    /**
     * A DELETE without a version id: never versioned, the key goes; otherwise a delete marker
     * ({@code marker}, a record flagged as one) becomes the current version.
     */
    Change delete(Transaction tx, BucketRecord b, String bucketName, byte[] key, KeyRecord marker)
            throws OsdException, S3Exception {
        if (b.meta().versioning() == null) {
            Optional<KeyRecord> old = current(b, key);
            if (old.isEmpty()) {
                return new Change(null, List.of(), List.of());
            }
            retire(tx, old.get(), false, bucketName, key);
            tx.delete(b.keys(), key);
            return new Change(null, List.of(), List.of(old.get()));
        }
        return put(tx, b, bucketName, key, marker, Precondition.NONE);
    }

    Change deleteVersion(Transaction tx, BucketRecord b, String bucketName, byte[] key, Fid version, boolean bypass)
            throws OsdException, S3Exception {
        Change c = deleteVersion0(tx, b, bucketName, key, version, bypass);
        // A current version that changed (promoted, or a delete marker left alone) may have work due.
        return c.retired().isEmpty()
                ? c
                : planned(tx, b, bucketName, key, new Change(c.current(), List.of(), c.retired()));
    }

    /**
     * Removes one version for good (DELETE with a version id; {@code version} null names the
     * null version); if it was the current one, the next newest becomes current.
     *
     * @return the change (its retired list holds the version removed; empty if there was none)
     */
    private Change deleteVersion0(
            Transaction tx, BucketRecord b, String bucketName, byte[] key, Fid version, boolean bypass)
            throws OsdException, S3Exception {
        Optional<KeyRecord> cur = current(b, key);
        if (cur.isPresent() && isVersion(cur.get(), version)) {
            KeyRecord c = cur.get();
            retire(tx, c, bypass, bucketName, key);
            KeyRecord promoted = null;
            Fid versions = b.meta().versions();
            if (versions != null) {
                byte[] prefix = VersionKeys.prefix(key);
                try (IndexCursor it = osd.cursor(versions, prefix)) {
                    if (it.next() && Namespace.startsWith(it.key(), prefix)) {
                        promoted = KeyRecord.decode(it.value());
                        tx.delete(versions, it.key());
                    }
                }
            }
            if (promoted != null) {
                tx.upsert(b.keys(), key, promoted.encode());
            } else {
                tx.delete(b.keys(), key);
            }
            return new Change(promoted, List.of(), List.of(c));
        }
        Optional<byte[]> vk = noncurrentKey(b, key, version);
        if (vk.isEmpty()) {
            return new Change(cur.orElse(null), List.of(), List.of());
        }
        KeyRecord v = KeyRecord.decode(osd.lookup(b.meta().versions(), vk.get()).orElseThrow());
        retire(tx, v, bypass, bucketName, key);
        tx.delete(b.meta().versions(), vk.get());
        return new Change(cur.orElse(null), List.of(), List.of(v));
    }

    static boolean isVersion(KeyRecord r, Fid version) {
        return version == null
                ? r.meta().versionId() == null
                : r.fid().equals(version) && r.meta().versionId() != null;
    }

    /** The versions-index key of a non-current version of {@code key}, if it exists. */
    Optional<byte[]> noncurrentKey(BucketRecord b, byte[] key, Fid version) throws OsdException {
        Fid versions = b.meta().versions();
        if (versions == null) {
            return Optional.empty();
        }
        if (version == null) {
            return findNullNoncurrent(versions, key);
        }
        byte[] vk = VersionKeys.of(key, version);
        Optional<byte[]> v = osd.lookup(versions, vk);
        return v.isPresent() && KeyRecord.decode(v.get()).meta().versionId() != null
                ? Optional.of(vk)
                : Optional.empty();
    }

    /**
     * A version of {@code key} by id (null: the null version), current or not.
     *
     * @return the record and whether it is the current one
     */
    Optional<Located> find(BucketRecord b, byte[] key, Fid version) throws OsdException {
        Optional<KeyRecord> cur = current(b, key);
        if (cur.isPresent() && isVersion(cur.get(), version)) {
            return Optional.of(new Located(cur.get(), true));
        }
        Optional<byte[]> vk = noncurrentKey(b, key, version);
        if (vk.isEmpty()) {
            return Optional.empty();
        }
        return osd.lookup(b.meta().versions(), vk.get()).map(v -> new Located(KeyRecord.decode(v), false));
    }

    /** A version found: its record, and whether it is the key's current version. */
    record Located(KeyRecord record, boolean current) {}

    /** The null version among the non-current versions of {@code key} (a scan of the key's versions). */
    private Optional<byte[]> findNullNoncurrent(Fid versions, byte[] key) throws OsdException {
        if (versions == null) {
            return Optional.empty();
        }
        byte[] prefix = VersionKeys.prefix(key);
        try (IndexCursor c = osd.cursor(versions, prefix)) {
            while (c.next() && Namespace.startsWith(c.key(), prefix)) {
                if (KeyRecord.decode(c.value()).meta().versionId() == null) {
                    return Optional.of(c.key());
                }
            }
        }
        return Optional.empty();
    }

    /**
     * Removes a version for good: its body (or manifest) goes to the garbage index. Refused
     * (AccessDenied) while object lock protects it. A delete marker has no body.
     */
    void retire(Transaction tx, KeyRecord r, boolean bypassGovernance, String bucketName, byte[] key)
            throws OsdException, S3Exception {
        checkRemovable(r, bypassGovernance, ns.now(), bucketName, key);
        if (r.deleteMarker()) {
            return;
        }
        tx.upsert(
                ns.garbage, r.fid().toBytes(), Garbage.value(r.manifest() ? Garbage.MANIFEST : Garbage.DATA, ns.now()));
    }

    /** AccessDenied if object lock protects {@code r} at {@code nowMillis}. */
    static void checkRemovable(KeyRecord r, boolean bypassGovernance, long nowMillis, String bucket, byte[] key)
            throws S3Exception {
        Records.Meta m = r.meta();
        String what = bucket + "/" + Names.show(key) + " version " + r.versionIdText();
        if (m.legalHold()) {
            throw new S3Exception(
                    S3Error.ACCESS_DENIED,
                    "Access Denied because object protected by object lock: " + what
                            + " is under legal hold (remove the hold first)");
        }
        if (m.lockMode() != null && m.retainUntilMillis() > nowMillis) {
            if (m.lockMode().equals("COMPLIANCE") || !bypassGovernance) {
                throw new S3Exception(
                        S3Error.ACCESS_DENIED,
                        "Access Denied because object protected by object lock: " + what + " is retained in "
                                + m.lockMode() + " mode until "
                                + Instant.ofEpochMilli(m.retainUntilMillis())
                                + (m.lockMode().equals("GOVERNANCE")
                                        ? " (x-amz-bypass-governance-retention: true overrides it)"
                                        : ""));
            }
        }
    }
}
