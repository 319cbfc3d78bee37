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
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
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
 * <li>per bucket, a key INDEX (object key bytes → object record) and an uploads INDEX;</li>
 * <li>DATA objects for bodies, INDEX objects for multipart parts and manifests.</li>
 * </ul>
 */
public final class Namespace {
    static final byte[] SB_FORMAT = "sb:format".getBytes(StandardCharsets.US_ASCII);
    static final byte[] SB_NEXT = "sb:next".getBytes(StandardCharsets.US_ASCII);
    static final byte[] BUCKET_PREFIX = "bucket:".getBytes(StandardCharsets.US_ASCII);
    static final int FORMAT = 1;
    /** The smallest index value the gateway needs: a key record with 2 KB of user metadata and headers. */
    static final int MIN_INDEX_VALUE = 8192;
    /** The xattr that names the bucket/key a DATA object was written for (fsck, getstripe). */
    public static final String ORIGIN_XATTR = "s3.origin";

    final Osd osd;
    final Fid superblock;
    final Fid garbage;
    final FidAllocator allocator;
    final InUse inUse = new InUse();
    final InstantSource clock;
    final int ioChunk;
    // Wakes the garbage sweeper after a commit retired a body; set by the sweeper when it runs.
    volatile Runnable sweeperHint = () -> {};

    private Namespace(Osd osd, long seq, long seqCount, InstantSource clock, byte[] next) {
        this.osd = osd;
        this.superblock = Fid.of(seq, 1);
        this.garbage = Fid.of(seq, 2);
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
        Names.checkBucket(name);
        if (findBucket(name).isPresent()) {
            throw new S3Exception(S3Error.BUCKET_ALREADY_OWNED_BY_YOU, "You already own bucket " + name);
        }
        Fid keys = allocator.next();
        Fid uploads = allocator.next();
        byte[] k = bucketKey(name);
        byte[] v = new BucketRecord(keys, uploads, now()).encode();
        Tx.run(
                osd,
                tx -> {
                    tx.declareCreate(keys, ObjectKind.INDEX);
                    tx.declareCreate(uploads, ObjectKind.INDEX);
                    tx.declareInsert(superblock, k.length, v.length);
                },
                tx -> {
                    if (osd.lookup(superblock, k).isPresent()) {
                        throw new S3Exception(S3Error.BUCKET_ALREADY_OWNED_BY_YOU, "You already own bucket " + name);
                    }
                    tx.create(keys, ObjectKind.INDEX, AttrChange.none());
                    tx.create(uploads, ObjectKind.INDEX, AttrChange.none());
                    tx.insert(superblock, k, v);
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
        Tx.run(
                osd,
                tx -> {
                    // Destroying the key index takes its lock, so no PUT can commit into the bucket
                    // between the emptiness check below and the destroy.
                    tx.declareDestroy(b.keys());
                    tx.declareDestroy(b.uploads());
                    tx.declareDelete(superblock, k.length);
                    tx.declareInsert(garbage, Fid.BYTES, Garbage.VALUE_BYTES);
                },
                tx -> {
                    if (osd.lookup(superblock, k).isEmpty()) {
                        throw new S3Exception(S3Error.NO_SUCH_BUCKET, "The specified bucket does not exist: " + name);
                    }
                    try (IndexCursor c = osd.cursor(b.keys(), null)) {
                        if (c.next()) {
                            throw new S3Exception(
                                    S3Error.BUCKET_NOT_EMPTY,
                                    "The bucket you tried to delete is not empty: " + name + " holds at least the key '"
                                            + Names.show(c.key()) + "'");
                        }
                    }
                    try (IndexCursor c = osd.cursor(b.uploads(), null)) {
                        while (c.next()) {
                            Fid parts = Records.UploadRecord.decode(c.value()).parts();
                            tx.upsert(garbage, parts.toBytes(), Garbage.value(Garbage.PARTS, now()));
                        }
                    }
                    tx.destroy(b.keys());
                    tx.destroy(b.uploads());
                    tx.delete(superblock, k);
                    return null;
                });
    }

    static boolean startsWith(byte[] a, byte[] prefix) {
        return a.length >= prefix.length && Arrays.equals(a, 0, prefix.length, prefix, 0, prefix.length);
    }
}
