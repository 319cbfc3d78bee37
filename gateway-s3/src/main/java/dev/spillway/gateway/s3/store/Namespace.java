package dev.spillway.gateway.s3.store;

import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.naming.Names;
import dev.spillway.gateway.s3.store.Records.BucketRecord;
import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Capabilities;
import dev.spillway.osd.Capability;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.IndexCursor;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.PlacementHint;
import dev.spillway.osd.XattrFlag;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The gateway's namespace on an OSD: the superblock index, the bucket registry, the FID
 * allocator and the garbage index.
 *
 * <p>Layout, all in the gateway's own FID sequence {@code seq}:
 * <ul>
 * <li>{@code [seq:0x1:0]} superblock INDEX: {@code sb:format}, {@code sb:next} (the allocator's
 * persisted high-water mark) and one {@code bucket:NAME} → {@link BucketRecord} per bucket;</li>
 * <li>{@code [seq:0x2:0]} garbage INDEX: FID → kind + time, objects no key points to any more
 * (or not yet, while an upload streams), destroyed by {@link GarbageSweeper};</li>
 * <li>{@code [seq:0x3:0]} expiry INDEX: when multipart uploads expire ({@link UploadExpiry});
 * created at mount on a namespace formatted before it existed;</li>
 * <li>per bucket, a key INDEX (object key bytes → object record) and an uploads INDEX;</li>
 * <li>DATA objects for bodies, INDEX objects for multipart parts and manifests.</li>
 * </ul>
 */
public final class Namespace {
    static final byte[] SB_FORMAT = "sb:format".getBytes(StandardCharsets.US_ASCII);
    static final byte[] SB_NEXT = "sb:next".getBytes(StandardCharsets.US_ASCII);
    static final byte[] BUCKET_PREFIX = "bucket:".getBytes(StandardCharsets.US_ASCII);
    /** Bucket configuration documents: {@code conf:BUCKET\0KIND} → the document. */
    static final String CONFIG_PREFIX = "conf:";
    /** S3's largest configuration document (a CORS configuration: 64 KB). */
    static final int MAX_CONFIG_BYTES = 64 << 10;

    static final int FORMAT = 1;
    /** The smallest index value the gateway needs: a key record with 2 KB of user metadata and headers. */
    static final int MIN_INDEX_VALUE = 8192;
    /** The xattr that names the bucket/key a DATA object was written for (fsck, getstripe). */
    public static final String ORIGIN_XATTR = "s3.origin";

    final Osd osd;
    final Fid superblock;
    final Fid garbage;
    final Fid expiry;
    final FidAllocator allocator;
    final UploadExpiry uploadExpiry;
    final InUse inUse = new InUse();
    final InstantSource clock;
    final int ioChunk;
    final DueWork dueWork = new DueWork(this);
    // What becomes due when a version changes (the lifecycle package's planner, set at start).
    volatile DueWork.Planner planner = DueWork.Planner.NONE;
    // Wakes the garbage sweeper after a commit retired a body; set by the sweeper when it runs.
    volatile Runnable sweeperHint = () -> {};

    private Namespace(Osd osd, long seq, long seqCount, InstantSource clock, byte[] next) {
        this.osd = osd;
        this.superblock = Fid.of(seq, 1);
        this.garbage = Fid.of(seq, 2);
        this.expiry = Fid.of(seq, 3);
        this.uploadExpiry = new UploadExpiry(
                this, UploadExpiry.Policy.afterMillis(Duration.ofDays(7).toMillis()));
        this.clock = clock;
        this.allocator = new FidAllocator(osd, superblock, SB_NEXT, seq, seqCount, next);
        int preferred = osd.capabilities().preferredIoSize();
        this.ioChunk = Math.max(256 << 10, Math.min(8 << 20, preferred));
    }

    /**
     * Mounts the namespace on {@code osd}, formatting it on first use.
     *
     * @throws OsdException EOPNOTSUPP naming the device and what it lacks, if it lacks index
     *     objects, xattrs or transactions, or its index values are too small
     */
    public static Namespace mount(Osd osd, long seq, long seqCount, InstantSource clock) throws OsdException {
        Capabilities caps = osd.capabilities();
        List<String> missing = new ArrayList<>();
        for (Capability c : List.of(Capability.INDEX, Capability.XATTRS, Capability.TRANSACTIONS)) {
            if (!caps.has(c)) {
                missing.add(c.name());
            }
        }
        if (!missing.isEmpty()) {
            throw new OsdException(
                    Errno.EOPNOTSUPP,
                    osd.name(),
                    null,
                    "the S3 gateway needs capabilities " + missing + " that this " + osd.backend()
                            + " device does not advertise (it has " + caps.features() + ")");
        }
        if (caps.maxIndexKey() < Names.MAX_KEY_BYTES + 16 || caps.maxIndexValue() < MIN_INDEX_VALUE) {
            throw new OsdException(
                    Errno.EOPNOTSUPP,
                    osd.name(),
                    null,
                    "the S3 gateway needs index keys of "
                            + (Names.MAX_KEY_BYTES + 16) + " bytes and values of " + MIN_INDEX_VALUE
                            + " bytes; this device allows "
                            + caps.maxIndexKey() + " and " + caps.maxIndexValue());
        }
        Fid sb = Fid.of(seq, 1);
        Fid gc = Fid.of(seq, 2);
        byte[] next;
        if (!osd.exists(sb)) {
            byte[] format = Records.u32(FORMAT);
            byte[] first = FidAllocator.encode(seq, FidAllocator.FIRST_OID);
            try {
                Tx.run(
                        osd,
                        tx -> {
                            tx.declareCreate(sb, ObjectKind.INDEX);
                            tx.declareCreate(gc, ObjectKind.INDEX);
                            tx.declareInsert(sb, SB_NEXT.length, first.length);
                            tx.declareInsert(sb, SB_FORMAT.length, format.length);
                            tx.setSync(true);
                        },
                        tx -> {
                            tx.create(sb, ObjectKind.INDEX, AttrChange.none());
                            tx.create(gc, ObjectKind.INDEX, AttrChange.none());
                            tx.insert(sb, SB_FORMAT, format);
                            tx.insert(sb, SB_NEXT, first);
                            return null;
                        });
            } catch (S3Exception e) {
                throw new IllegalStateException(e);
            }
            next = first;
        } else {
            int format = ByteBuffer.wrap(osd.lookup(sb, SB_FORMAT)
                            .orElseThrow(() -> new OsdException(
                                    Errno.EPROTO, osd.name(), sb, "S3 gateway superblock has no sb:format record")))
                    .getInt();
            if (format != FORMAT) {
                throw new OsdException(
                        Errno.EPROTO,
                        osd.name(),
                        sb,
                        "S3 gateway superblock format " + format + ", this gateway reads " + FORMAT);
            }
            next = osd.lookup(sb, SB_NEXT)
                    .orElseThrow(() -> new OsdException(
                            Errno.EPROTO, osd.name(), sb, "S3 gateway superblock has no sb:next record"));
        }
        UploadExpiry.ensureIndex(osd, Fid.of(seq, 3));
        return new Namespace(osd, seq, seqCount, clock, next);
    }

    /** The largest record value the gateway declares for an index update it cannot size in advance. */
    int maxRecordBytes() {
        return MIN_INDEX_VALUE;
    }

    public Osd osd() {
        return osd;
    }

    public InUse inUse() {
        return inUse;
    }

    /**
     * How many of the device's objects are the gateway's own records, not stored objects: the
     * superblock, the garbage and upload-expiry indexes, and per bucket its keys and uploads
     * indexes, plus its versions and due indexes once it has them.
     */
    public long internalObjects() throws OsdException {
        long n = 2 + (osd.exists(expiry) ? 1 : 0);
        for (BucketRecord b : buckets().values()) {
            n += 2;
            if (b.meta().versions() != null) {
                n++;
            }
            if (b.meta().due() != null) {
                n++;
            }
        }
        return n;
    }

    /** The per-bucket due work (lifecycle, storage-class placement, upload expiry). */
    public DueWork dueWork() {
        return dueWork;
    }

    /** Sets what decides the due work of a changed version. */
    public void planner(DueWork.Planner p) {
        this.planner = p;
    }

    /**
     * The bucket, with a due index made for it if it had none (before its first lifecycle
     * configuration or storage-class write).
     */
    public BucketRecord ensureDue(String name) throws OsdException, S3Exception {
        BucketRecord b = bucket(name);
        if (b.meta().due() != null) {
            return b;
        }
        Fid fresh = allocator.next();
        byte[] k = bucketKey(name);
        return Tx.run(
                osd,
                tx -> {
                    tx.declareCreate(fresh, ObjectKind.INDEX);
                    tx.declareInsert(superblock, k.length, maxRecordBytes());
                },
                tx -> {
                    BucketRecord cur = osd.lookup(superblock, k)
                            .map(BucketRecord::decode)
                            .orElseThrow(() -> new S3Exception(
                                    S3Error.NO_SUCH_BUCKET, "The specified bucket does not exist: " + name));
                    if (cur.meta().due() != null) {
                        return cur;
                    }
                    tx.create(fresh, ObjectKind.INDEX, AttrChange.none());
                    BucketRecord next = cur.withMeta(cur.meta().withDue(fresh));
                    tx.upsert(superblock, k, next.encode());
                    return next;
                });
    }

    /** When multipart uploads expire. */
    public UploadExpiry uploadExpiry() {
        return uploadExpiry;
    }

    /** Sets what wakes the sweeper after a commit retired a body. */
    public void setSweeperHint(Runnable hint) {
        this.sweeperHint = hint;
    }

    void sweeperHint() {
        sweeperHint.run();
    }

    long now() {
        return clock.millis();
    }

    /** The gateway's clock, in milliseconds. */
    public long nowMillis() {
        return clock.millis();
    }

    // ---- placement advice ----------------------------------------------------------------

    /** Storage class → the background tier it is placed on (pool configuration); empty: none mapped. */
    private volatile Map<String, String> classTiers = Map.of();

    /** Sets which tier each storage class names (the server passes the pool's configuration). */
    public void storageClassTiers(Map<String, String> tiers) {
        this.classTiers = Map.copyOf(tiers);
    }

    /** The storage classes this gateway accepts besides STANDARD, with their tiers. */
    public Map<String, String> storageClassTiers() {
        return classTiers;
    }

    /**
     * Write-commit rules: {@code bucket/} or {@code bucket/prefix} → the policy (the value of the
     * xattr {@code spillway.write-commit}); longest first. Empty: every body gets the device's own
     * policy.
     */
    private volatile List<Map.Entry<String, String>> writeCommitRules = List.of();

    /**
     * Sets the write-commit rules (the server passes the pool configuration's
     * {@code write-commit.buckets}): a key is a bucket name, or a bucket name, '/' and a key
     * prefix; the longest rule matching a new body's bucket and key decides its policy.
     */
    public void writeCommitRules(Map<String, String> rules) {
        List<Map.Entry<String, String>> l = new ArrayList<>();
        for (var e : rules.entrySet()) {
            String k = e.getKey().contains("/") ? e.getKey() : e.getKey() + "/";
            l.add(Map.entry(k, e.getValue()));
        }
        l.sort((a, b) -> Integer.compare(b.getKey().length(), a.getKey().length()));
        this.writeCommitRules = List.copyOf(l);
    }

    /** The rules as set, longest first (bucket rules end with '/'). */
    public List<Map.Entry<String, String>> writeCommitRules() {
        return writeCommitRules;
    }

    /**
     * The write-commit policy for a body written for {@code origin} ({@code bucket/key}, with a
     * multipart part's suffix after the key), or null if no rule matches.
     */
    String writeCommitFor(String origin) {
        for (var e : writeCommitRules) {
            if (origin.startsWith(e.getKey())) {
                return e.getValue();
            }
        }
        return null;
    }

    /** The placement advice for a body of {@code storageClass}, or null (STANDARD: the pool decides). */
    String placementHint(String storageClass) {
        String tier = storageClass == null ? null : classTiers.get(storageClass);
        return tier == null ? null : PlacementHint.tier(tier);
    }

    /**
     * Gives placement advice ({@link PlacementHint}) for a version's body: its DATA object, or
     * every part of a multipart object. Best effort after the commit that made it true (a hint
     * lost to a crash costs only placement, never data), and a tier advice already there stays:
     * a non-current version of a STANDARD_IA object belongs on the IA tier, not just "cold".
     */
    void advise(Records.KeyRecord r, String hint) {
        byte[] value = hint.getBytes(StandardCharsets.US_ASCII);
        try {
            List<Fid> bodies = new ArrayList<>();
            if (!r.manifest()) {
                bodies.add(r.fid());
            } else {
                try (IndexCursor c = osd.cursor(r.fid(), null)) {
                    while (c.next()) {
                        bodies.add(Fid.fromBytes(c.value(), 0));
                    }
                }
            }
            for (int i = 0; i < bodies.size(); i += 64) {
                List<Fid> batch = bodies.subList(i, Math.min(bodies.size(), i + 64));
                Tx.run(
                        osd,
                        tx -> {
                            for (Fid f : batch) {
                                tx.declareSetXattr(f, PlacementHint.XATTR, value.length);
                            }
                        },
                        tx -> {
                            for (Fid f : batch) {
                                if (!osd.exists(f)) {
                                    continue;
                                }
                                if (hint.equals(PlacementHint.COLD) && hasTierAdvice(f)) {
                                    continue;
                                }
                                tx.setXattr(f, PlacementHint.XATTR, value, XattrFlag.UPSERT);
                            }
                            return null;
                        });
            }
        } catch (OsdException | S3Exception | RuntimeException e) {
            // Advice only: the version is already what it is; placement just learns less.
        }
    }

    private boolean hasTierAdvice(Fid f) {
        try {
            return PlacementHint.tierOf(new String(osd.getXattr(f, PlacementHint.XATTR), StandardCharsets.US_ASCII))
                    != null;
        } catch (OsdException e) {
            return false;
        }
    }

    // ---- buckets -------------------------------------------------------------------------

    static byte[] bucketKey(String name) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        byte[] k = Arrays.copyOf(BUCKET_PREFIX, BUCKET_PREFIX.length + n.length);
        System.arraycopy(n, 0, k, BUCKET_PREFIX.length, n.length);
        return k;
    }

    public Optional<BucketRecord> findBucket(String name) throws OsdException {
        return osd.lookup(superblock, bucketKey(name)).map(BucketRecord::decode);
    }

    /** The bucket, or NoSuchBucket. */
    public BucketRecord bucket(String name) throws OsdException, S3Exception {
        return findBucket(name)
                .orElseThrow(
                        () -> new S3Exception(S3Error.NO_SUCH_BUCKET, "The specified bucket does not exist: " + name));
    }

    /** Buckets by name, in name order. */
    public Map<String, BucketRecord> buckets() throws OsdException {
        Map<String, BucketRecord> out = new LinkedHashMap<>();
        try (IndexCursor c = osd.cursor(superblock, BUCKET_PREFIX)) {
            while (c.next()) {
                byte[] k = c.key();
                if (!startsWith(k, BUCKET_PREFIX)) {
                    break;
                }
                out.put(
                        new String(k, BUCKET_PREFIX.length, k.length - BUCKET_PREFIX.length, StandardCharsets.UTF_8),
                        BucketRecord.decode(c.value()));
            }
        }
        return out;
    }

    /**
     * Creates a bucket; BucketAlreadyOwnedByYou if it exists (the caller decides whether that is
     * an error: in us-east-1 S3 answers 200 to its owner).
     */
    public void createBucket(String name) throws OsdException, S3Exception {
        createBucket(name, Records.BucketMeta.NONE);
    }

    /**
     * Creates a bucket carrying {@code meta} (its owner, its canned ACL; versioning and object
     * lock for a bucket created with object lock, which gets its versions index at once).
     * BucketAlreadyOwnedByYou if it exists and is {@code meta.owner()}'s, BucketAlreadyExists if
     * another credential owns it.
     */
    public void createBucket(String name, Records.BucketMeta meta) throws OsdException, S3Exception {
        Names.checkBucket(name);
        Optional<BucketRecord> existing = findBucket(name);
        if (existing.isPresent()) {
            throw exists(name, existing.get(), meta.owner());
        }
        Fid keys = allocator.next();
        Fid uploads = allocator.next();
        Fid versions = meta.versions() != null ? allocator.next() : null;
        Records.BucketMeta m = versions != null ? meta.withVersioning(meta.versioning(), versions) : meta;
        byte[] k = bucketKey(name);
        byte[] v = new BucketRecord(keys, uploads, now(), m).encode();
        Tx.run(
                osd,
                tx -> {
                    tx.declareCreate(keys, ObjectKind.INDEX);
                    tx.declareCreate(uploads, ObjectKind.INDEX);
                    if (versions != null) {
                        tx.declareCreate(versions, ObjectKind.INDEX);
                    }
                    tx.declareInsert(superblock, k.length, v.length);
                },
                tx -> {
                    Optional<byte[]> raced = osd.lookup(superblock, k);
                    if (raced.isPresent()) {
                        throw exists(name, BucketRecord.decode(raced.get()), meta.owner());
                    }
                    tx.create(keys, ObjectKind.INDEX, AttrChange.none());
                    tx.create(uploads, ObjectKind.INDEX, AttrChange.none());
                    if (versions != null) {
                        tx.create(versions, ObjectKind.INDEX, AttrChange.none());
                    }
                    tx.insert(superblock, k, v);
                    return null;
                });
    }

    private static S3Exception exists(String name, BucketRecord b, String requester) {
        if (b.meta().owner() != null && requester != null && !b.meta().owner().equals(requester)) {
            return new S3Exception(
                    S3Error.BUCKET_ALREADY_EXISTS,
                    "The requested bucket name is not available: " + name
                            + " belongs to another account. Please select a different name and try again.");
        }
        return new S3Exception(S3Error.BUCKET_ALREADY_OWNED_BY_YOU, "You already own bucket " + name);
    }

    /**
     * Changes a bucket's record in one transaction (versioning, object lock, ACL): {@code change}
     * sees the committed record under the superblock's lock. A change that turns versioning on
     * for the first time gets the versions index created in the same transaction (pass
     * {@link #NEW_VERSIONS_INDEX} as the index to ask for it).
     */
    public BucketRecord updateBucket(String name, BucketChange change) throws OsdException, S3Exception {
        Fid fresh = allocator.next();
        byte[] k = bucketKey(name);
        return Tx.run(
                osd,
                tx -> {
                    tx.declareCreate(fresh, ObjectKind.INDEX);
                    tx.declareInsert(superblock, k.length, maxRecordBytes());
                },
                tx -> {
                    BucketRecord cur = osd.lookup(superblock, k)
                            .map(BucketRecord::decode)
                            .orElseThrow(() -> new S3Exception(
                                    S3Error.NO_SUCH_BUCKET, "The specified bucket does not exist: " + name));
                    BucketRecord next = change.apply(cur);
                    if (NEW_VERSIONS_INDEX.equals(next.meta().versions())) {
                        tx.create(fresh, ObjectKind.INDEX, AttrChange.none());
                        next = next.withMeta(
                                next.meta().withVersioning(next.meta().versioning(), fresh));
                    }
                    tx.upsert(superblock, k, next.encode());
                    return next;
                });
    }

    /** A placeholder FID meaning "create the versions index now" in {@link #updateBucket}. */
    public static final Fid NEW_VERSIONS_INDEX = Fid.of(0, 0);

    /** A change of a bucket record (may throw to refuse it). */
    @FunctionalInterface
    public interface BucketChange {
        BucketRecord apply(BucketRecord current) throws S3Exception;
    }

    // ---- bucket configurations (tagging, CORS, lifecycle, ...) ---------------------------

    static byte[] configKey(String bucket, String kind) {
        return (CONFIG_PREFIX + bucket + "\0" + kind).getBytes(StandardCharsets.UTF_8);
    }

    /** A configuration document of a bucket, or empty. */
    public Optional<byte[]> config(String bucket, String kind) throws OsdException {
        return osd.lookup(superblock, configKey(bucket, kind));
    }

    /** Sets (or, with null, removes) a configuration document of an existing bucket. */
    public void config(String bucket, String kind, byte[] value) throws OsdException, S3Exception {
        byte[] k = configKey(bucket, kind);
        byte[] bk = bucketKey(bucket);
        int limit = Math.min(osd.capabilities().maxIndexValue(), MAX_CONFIG_BYTES);
        if (value != null && value.length > limit) {
            throw new S3Exception(
                    S3Error.INVALID_REQUEST,
                    "the " + kind + " configuration of bucket " + bucket + " is " + value.length
                            + " bytes; this gateway keeps at most " + limit);
        }
        Tx.run(
                osd,
                tx -> {
                    if (value == null) {
                        tx.declareDelete(superblock, k.length);
                    } else {
                        tx.declareInsert(superblock, k.length, value.length);
                    }
                },
                tx -> {
                    // The superblock's lock is held: a DeleteBucket cannot slip in between.
                    if (osd.lookup(superblock, bk).isEmpty()) {
                        throw new S3Exception(S3Error.NO_SUCH_BUCKET, "The specified bucket does not exist: " + bucket);
                    }
                    if (value == null) {
                        if (osd.lookup(superblock, k).isPresent()) {
                            tx.delete(superblock, k);
                        }
                    } else {
                        tx.upsert(superblock, k, value);
                    }
                    return null;
                });
    }

    /**
     * Deletes an empty bucket: BucketNotEmpty if a key is in it. Multipart uploads still in
     * progress are aborted with it (their parts go to the garbage index).
     */
    public void deleteBucket(String name) throws OsdException, S3Exception {
        BucketRecord b = bucket(name);
        byte[] k = bucketKey(name);
        byte[] confPrefix = configKey(name, "");
        Fid versions = b.meta().versions();
        Fid due = b.meta().due();
        Tx.freeing(
                osd,
                tx -> {
                    if (due != null) {
                        tx.declareDestroy(due);
                    }
                    // Destroying the key index takes its lock, so no PUT can commit into the bucket
                    // between the emptiness check below and the destroy.
                    tx.declareDestroy(b.keys());
                    tx.declareDestroy(b.uploads());
                    if (versions != null) {
                        tx.declareDestroy(versions);
                    }
                    tx.declareDelete(superblock, Math.max(k.length, confPrefix.length + 32));
                    tx.declareInsert(garbage, Fid.BYTES, Garbage.VALUE_BYTES);
                    uploadExpiry.declareCancel(tx);
                },
                tx -> {
                    if (osd.lookup(superblock, k).isEmpty()) {
                        throw new S3Exception(S3Error.NO_SUCH_BUCKET, "The specified bucket does not exist: " + name);
                    }
                    for (Fid index : versions == null ? List.of(b.keys()) : List.of(b.keys(), versions)) {
                        try (IndexCursor c = osd.cursor(index, null)) {
                            if (c.next()) {
                                boolean current = index.equals(b.keys());
                                boolean marker = current
                                        && Records.KeyRecord.decode(c.value()).deleteMarker();
                                String what = marker
                                        ? "a delete marker of '"
                                        : current ? "at least the key '" : "versions of '";
                                throw new S3Exception(
                                        S3Error.BUCKET_NOT_EMPTY,
                                        "The bucket you tried to delete is not empty: " + name + " holds " + what
                                                + Names.show(current ? c.key() : VersionKeys.key(c.key())) + "'"
                                                + (current && !marker ? "" : " (delete every version)"));
                            }
                        }
                    }
                    // The cursor reads committed state, so the uploads index can go first: frees
                    // before additions, as a FREEING transaction must.
                    try (IndexCursor c = osd.cursor(b.uploads(), null)) {
                        List<Fid> parts = new ArrayList<>();
                        while (c.next()) {
                            parts.add(Records.UploadRecord.decode(c.value()).parts());
                        }
                        tx.destroy(b.keys());
                        tx.destroy(b.uploads());
                        if (versions != null) {
                            tx.destroy(versions);
                        }
                        if (due != null && osd.exists(due)) {
                            tx.destroy(due);
                        }
                        tx.delete(superblock, k);
                        // Under the superblock's lock: no configuration can be added while we look.
                        try (IndexCursor cc = osd.cursor(superblock, confPrefix)) {
                            while (cc.next() && startsWith(cc.key(), confPrefix)) {
                                tx.delete(superblock, cc.key());
                            }
                        }
                        for (Fid p : parts) {
                            uploadExpiry.cancel(tx, p);
                        }
                        for (Fid p : parts) {
                            tx.upsert(garbage, p.toBytes(), Garbage.value(Garbage.PARTS, now()));
                        }
                    }
                    return null;
                });
    }

    static boolean startsWith(byte[] a, byte[] prefix) {
        return a.length >= prefix.length && Arrays.equals(a, 0, prefix.length, prefix, 0, prefix.length);
    }
}
