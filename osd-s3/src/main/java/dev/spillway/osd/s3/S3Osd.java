package dev.spillway.osd.s3;

import dev.spillway.osd.Attr;
import dev.spillway.osd.Capabilities;
import dev.spillway.osd.Capability;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.IndexCursor;
import dev.spillway.osd.ObjectCursor;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.StatFs;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.spi.TransactionSupport;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.MetadataDirective;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * osd-s3: an OSD in an S3 bucket, under a key prefix (see {@link S3Keys}). A spill device for the
 * pool: what an object store lacks it does not pretend to have, and the pool's spill protocol
 * (pending copy, fresh key, flip on an unchanged data version) makes up for it.
 *
 * <h2>Capabilities</h2>
 * No TRANSACTIONS (each update is its own request), no INDEX, no PUNCH or SPARSE_SEEK, no
 * PARTIAL_WRITE: a transaction's writes to an object start at 0 and continue sequentially, and
 * replace the body as one PUT or multipart upload at stop ({@link BodyUpload}). ATOMIC_REPLACE:
 * readers see the old body or the new one. Callbacks fire at stop, once the object store
 * acknowledged every request, which is when S3 calls an object durable (DURABLE_COMMIT is not
 * advertised: the API ties it to TRANSACTIONS). XATTRS as user metadata,
 * within S3's 2 KB ({@link ObjectMeta}). CHECKSUMS: CRC32C sent with every body and checked per
 * 1 MiB block on every read ({@link BlockSums}). LIST_OBJECTS by listing the prefix.
 *
 * <h2>Mount</h2>
 * The bucket must exist. An empty prefix is formatted ({@code .spillway/device},
 * {@code .spillway/statfs}); a prefix holding anything but a Spillway device is refused (EPROTO),
 * never formatted over. Multipart uploads left under the prefix by an earlier mount (a crash, a
 * failed abort) are aborted, with their sidecars.
 *
 * <p>A device must be mounted by one process at a time; several devices may share a bucket
 * under different prefixes.
 */
public final class S3Osd implements Osd {
    private static final System.Logger LOG = System.getLogger(S3Osd.class.getName());
    static final String MARKER = "spillway osd-s3 device 1";
    /** S3's largest object (a body declared that large gets parts of 525 MiB). */
    static final long MAX_OBJECT = 5L << 40;

    private final String name;
    private final S3Settings settings;
    private final InstantSource clock;
    private final S3Keys keys;
    private final S3Client client;
    private final Capabilities caps;
    final TransactionSupport support;
    private final SpaceCounters counters = new SpaceCounters();
    // Bytes and objects reserved by started transactions (declares), released at their stop.
    final AtomicLong reservedBytes = new AtomicLong();
    final AtomicLong reservedObjects = new AtomicLong();
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    // Block sums of sidecar bodies by sidecar key; a token names one body forever, so never stale.
    private final Map<String, BlockSums> sidecars = new ConcurrentHashMap<>();
    // What this mount last stored for an object (metadata and size). A device is mounted by one
    // process, so what it wrote is what the store holds: getattr after a write (the pool's sync
    // and space accounting) costs no HEAD. Only writers fill it (a reader's HEAD could race a
    // commit); bounded by dropping everything when full.
    private final Map<Fid, Head> stored = new ConcurrentHashMap<>();
    // Part buffers between uploads: a spill of many large bodies allocates none after the first.
    private final java.util.concurrent.BlockingQueue<byte[]> partBuffers;
    private volatile boolean closed;
    private int sweptUploads;
    // Persists the counters in the background; its failure is thrown by the next sync or close.
    private final java.util.concurrent.ScheduledExecutorService flusher = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "osd-s3-counters");
        t.setDaemon(true);
        return t;
    });
    private volatile OsdException flushFailure;

    /** Mounts the device {@code config} describes (see the class comment). */
    public S3Osd(OsdConfig config) throws OsdException {
        this(config, S3Settings.of(config));
    }

    private S3Osd(OsdConfig config, S3Settings s) throws OsdException {
        this.name = config.name();
        this.settings = s;
        this.clock = config.clock();
        this.keys = new S3Keys(s.prefix());
        this.support = new TransactionSupport(name, config.strictDeclares());
        this.caps = new Capabilities(EnumSet.of(Capability.XATTRS, Capability.ATOMIC_REPLACE,
                Capability.CHECKSUMS, Capability.LIST_OBJECTS), ObjectMeta.MAX_VALUE, ObjectMeta.MAX_NAME, MAX_OBJECT, 0, 0,
                (int) Math.min(s.partSize(), 1 << 30), 4096);
        this.partBuffers = new java.util.concurrent.ArrayBlockingQueue<>(2 * (s.uploadConcurrency() + 1));
        this.client = S3Clients.build(s);
        try {
            mount();
        } catch (OsdException | RuntimeException e) {
            client.close();
            executor.shutdownNow();
            flusher.shutdownNow();
            throw e;
        }
        long ms = SpaceCounters.INTERVAL_NS / 1_000_000;
        flusher.scheduleWithFixedDelay(this::backgroundFlush, ms, ms, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    // ---- mount -----------------------------------------------------------------------------

    private void mount() throws OsdException {
        try {
            client.headBucket(b -> b.bucket(settings.bucket()));
        } catch (SdkException e) {
            OsdException oe = S3Errors.map(e, name, null, settings.bucket(), "head bucket");
            if (oe.is(Errno.ENOENT)) {
                throw new OsdException(Errno.ENOENT, name, null, "bucket '" + settings.bucket() + "' does not exist at "
                        + settings.where() + " (osd-s3 does not create buckets)", e);
            }
            throw oe;
        }
        Optional<byte[]> marker = getBytes(null, keys.marker());
        if (marker.isEmpty()) {
            format();
        } else {
            String text = new String(marker.get(), StandardCharsets.UTF_8);
            if (!text.startsWith(MARKER + "\n")) {
                throw new OsdException(Errno.EPROTO, name, "prefix " + settings.where() + " holds a device marker of an unknown format: '"
                        + text.lines().findFirst().orElse("") + "'");
            }
            byte[] stat = getBytes(null, keys.statfs()).orElseThrow(() -> new OsdException(Errno.EPROTO, name,
                    "device at " + settings.where() + " has lost its counters object " + keys.statfs()));
            counters.load(stat, name, keys.statfs());
        }
        sweep();
    }

    private void format() throws OsdException {
        ListObjectsV2Response any;
        try {
            any = client.listObjectsV2(b -> b.bucket(settings.bucket()).prefix(keys.prefix()).maxKeys(1));
        } catch (SdkException e) {
            throw S3Errors.map(e, name, null, keys.prefix(), "list");
        }
        if (!any.contents().isEmpty()) {
            throw new OsdException(Errno.EPROTO, name, "prefix " + settings.where() + " holds objects (" + any.contents().get(0).key()
                    + ") but no Spillway device marker: refusing to format over them (choose another prefix)");
        }
        putBytes(null, keys.statfs(), counters.encode());
        putBytes(null, keys.marker(), (MARKER + "\nname " + name + "\nformatted " + Instant.now() + "\n").getBytes(StandardCharsets.UTF_8));
        LOG.log(System.Logger.Level.INFO, name + ": formatted an osd-s3 device at " + settings.where());
    }

    /** Aborts the multipart uploads an earlier mount left, and the sidecars they wrote. */
    private void sweep() throws OsdException {
        String marker = null;
        String idMarker = null;
        List<MultipartUpload> stale = new ArrayList<>();
        while (true) {
            String km = marker;
            String im = idMarker;
            var page = wrap(null, keys.objects(), "list multipart uploads under",
                    () -> client.listMultipartUploads(b -> b.bucket(settings.bucket()).prefix(keys.objects()).keyMarker(km).uploadIdMarker(im)));
            stale.addAll(page.uploads());
            if (!Boolean.TRUE.equals(page.isTruncated())) {
                break;
            }
            marker = page.nextKeyMarker();
            idMarker = page.nextUploadIdMarker();
        }
        for (MultipartUpload u : stale) {
            Fid fid = keys.fidOf(u.key());
            wrap(fid, u.key(), "abort stale multipart upload " + u.uploadId() + " of",
                    () -> client.abortMultipartUpload(b -> b.bucket(settings.bucket()).key(u.key()).uploadId(u.uploadId())));
            if (fid != null) {
                cleanSidecars(fid);
            }
        }
        sweptUploads = stale.size();
        if (!stale.isEmpty()) {
            LOG.log(System.Logger.Level.INFO, name + ": aborted " + stale.size() + " stale multipart upload(s) under " + settings.where());
        }
    }

    /** Deletes every sidecar of {@code fid} but the one its current body names. */
    private void cleanSidecars(Fid fid) throws OsdException {
        String keep = null;
        Optional<Head> h = head(fid);
        if (h.isPresent() && BlockSums.token(h.get().meta().sums()) != null) {
            keep = keys.sums(fid, BlockSums.token(h.get().meta().sums()));
        }
        String dir = keys.sumsDir(fid);
        ListObjectsV2Response l = wrap(fid, dir, "list", () -> client.listObjectsV2(b -> b.bucket(settings.bucket()).prefix(dir)));
        for (S3Object o : l.contents()) {
            if (!o.key().equals(keep)) {
                deleteKey(fid, o.key());
            }
        }
    }

    /** Multipart uploads aborted by the mount's sweep. */
    public int sweptUploads() {
        return sweptUploads;
    }

    // ---- plumbing for the transaction and uploads --------------------------------------------

    S3Settings settings() {
        return settings;
    }

    S3Keys keys() {
        return keys;
    }

    S3Client client() {
        return client;
    }

    ExecutorService executor() {
        return executor;
    }

    SpaceCounters counters() {
        return counters;
    }

    long now() {
        Instant i = clock.instant();
        return i.getEpochSecond() * 1_000_000_000L + i.getNano();
    }

    void ensureOpen() throws OsdException {
        if (closed) {
            throw new OsdException(Errno.EIO, name, "device is closed");
        }
    }

    @FunctionalInterface
    interface Call<T> {
        T run();
    }

    <T> T wrap(Fid fid, String key, String what, Call<T> call) throws OsdException {
        try {
            return call.run();
        } catch (SdkException e) {
            throw S3Errors.map(e, name, fid, key, what);
        }
    }

    private Optional<byte[]> getBytes(Fid fid, String key) throws OsdException {
        try {
            return Optional.of(client.getObjectAsBytes(b -> b.bucket(settings.bucket()).key(key)).asByteArray());
        } catch (SdkException e) {
            OsdException oe = S3Errors.map(e, name, fid, key, "get");
            if (oe.is(Errno.ENOENT)) {
                return Optional.empty();
            }
            throw oe;
        }
    }

    private void putBytes(Fid fid, String key, byte[] body) throws OsdException {
        int crc = BlockSums.crc(body, 0, body.length);
        wrap(fid, key, "put", () -> client.putObject(b -> b.bucket(settings.bucket()).key(key).contentLength((long) body.length)
                .checksumAlgorithm(software.amazon.awssdk.services.s3.model.ChecksumAlgorithm.CRC32_C)
                .checksumCRC32C(BlockSums.header(crc)), RequestBody.fromBytes(body)));
    }

    void putSidecar(Fid fid, String key, BlockSums sums) throws OsdException {
        putBytes(fid, key, sums.sidecar());
        sidecars.put(key, sums);
    }

    void deleteKey(Fid fid, String key) throws OsdException {
        wrap(fid, key, "delete", () -> client.deleteObject(b -> b.bucket(settings.bucket()).key(key)));
        sidecars.remove(key);
    }

    /** An object's metadata and size, as a HEAD returns them. */
    record Head(ObjectMeta meta, long size) {
    }

    /** A buffer of the part size, reused if one is free. */
    byte[] partBuffer() {
        byte[] b = partBuffers.poll();
        return b != null ? b : new byte[(int) settings.partSize()];
    }

    void recycle(byte[] b) {
        if (b.length == settings.partSize()) {
            partBuffers.offer(b);
        }
    }

    void remember(Fid fid, Head h) {
        if (stored.size() >= 8192) {
            stored.clear();
        }
        stored.put(fid, h);
    }

    void forget(Fid fid) {
        stored.remove(fid);
    }

    Optional<Head> head(Fid fid) throws OsdException {
        Head known = stored.get(fid);
        if (known != null) {
            return Optional.of(known);
        }
        String key = keys.object(fid);
        HeadObjectResponse r;
        try {
            r = client.headObject(b -> b.bucket(settings.bucket()).key(key));
        } catch (SdkException e) {
            OsdException oe = S3Errors.map(e, name, fid, key, "head");
            if (oe.is(Errno.ENOENT)) {
                return Optional.empty();
            }
            throw oe;
        }
        return Optional.of(new Head(ObjectMeta.parse(r.metadata(), name, fid, key), r.contentLength()));
    }

    private Head require(Fid fid) throws OsdException {
        ensureOpen();
        return head(fid).orElseThrow(() -> new OsdException(Errno.ENOENT, name, fid, "no such object (" + keys.object(fid) + ")"));
    }

    /** Creates (or replaces) {@code fid} as an empty body with {@code meta}. */
    ObjectMeta putEmpty(Fid fid, ObjectMeta meta) throws OsdException {
        ObjectMeta stored = meta.withSums(BlockSums.EMPTY.encode(null));
        String key = keys.object(fid);
        forget(fid);
        wrap(fid, key, "put", () -> client.putObject(b -> b.bucket(settings.bucket()).key(key).contentLength(0L)
                .contentType("application/octet-stream").metadata(stored.toMetadata()), RequestBody.empty()));
        remember(fid, new Head(stored, 0));
        return stored;
    }

    /**
     * Replaces an object's metadata, keeping its body: CopyObject onto itself (a server-side copy),
     * or for bodies over 5 GiB a multipart copy.
     */
    void rewriteMetadata(Fid fid, ObjectMeta meta, long size) throws OsdException {
        forget(fid);
        copyMetadata(fid, meta, size);
        remember(fid, new Head(meta, size));
    }

    private void copyMetadata(Fid fid, ObjectMeta meta, long size) throws OsdException {
        String key = keys.object(fid);
        String bucket = settings.bucket();
        if (size <= S3Settings.MAX_PART) {
            wrap(fid, key, "copy (metadata update) of", () -> client.copyObject(b -> b.sourceBucket(bucket).sourceKey(key)
                    .destinationBucket(bucket).destinationKey(key).metadataDirective(MetadataDirective.REPLACE)
                    .contentType("application/octet-stream").metadata(meta.toMetadata())));
            return;
        }
        String id = wrap(fid, key, "create multipart copy of", () -> client.createMultipartUpload(b -> b.bucket(bucket).key(key)
                .contentType("application/octet-stream").metadata(meta.toMetadata()))).uploadId();
        try {
            List<software.amazon.awssdk.services.s3.model.CompletedPart> parts = new ArrayList<>();
            long step = S3Settings.MAX_PART;
            int n = 1;
            for (long off = 0; off < size; off += step, n++) {
                long end = Math.min(size, off + step) - 1;
                int part = n;
                long from = off;
                String etag = wrap(fid, key, "copy part " + part + " of", () -> client.uploadPartCopy(b -> b.sourceBucket(bucket)
                        .sourceKey(key).destinationBucket(bucket).destinationKey(key).uploadId(id).partNumber(part)
                        .copySourceRange("bytes=" + from + "-" + end))).copyPartResult().eTag();
                parts.add(software.amazon.awssdk.services.s3.model.CompletedPart.builder().partNumber(part).eTag(etag).build());
            }
            wrap(fid, key, "complete multipart copy of", () -> client.completeMultipartUpload(b -> b.bucket(bucket).key(key)
                    .uploadId(id).multipartUpload(m -> m.parts(parts))));
        } catch (OsdException e) {
            try {
                wrap(fid, key, "abort multipart copy of", () -> client.abortMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(id)));
            } catch (OsdException a) {
                e.addSuppressed(a);
            }
            throw e;
        }
    }

    /** Deletes {@code fid}'s object and its sidecar. */
    void deleteObject(Fid fid, ObjectMeta meta) throws OsdException {
        forget(fid);
        deleteKey(fid, keys.object(fid));
        String token = BlockSums.token(meta.sums());
        if (token != null) {
            deleteKey(fid, keys.sums(fid, token));
        }
    }

    // ---- Osd: identity, space ---------------------------------------------------------------

    @Override
    public String name() {
        return name;
    }

    @Override
    public String backend() {
        return "s3";
    }

    @Override
    public Capabilities capabilities() {
        return caps;
    }

    @Override
    public StatFs statfs() throws OsdException {
        ensureOpen();
        long used = Math.max(0, counters.bytes());
        long free = Math.max(0, settings.quota() - used);
        long avail = Math.max(0, free - reservedBytes.get());
        long n = Math.max(0, counters.objects());
        long freeObjects = settings.maxObjects() == Long.MAX_VALUE ? Long.MAX_VALUE : Math.max(0, settings.maxObjects() - n);
        return StatFs.of(name, settings.quota(), free, avail, n, freeObjects, Set.of());
    }

    private void flushCounters() throws OsdException {
        counters.flush(body -> putBytes(null, keys.statfs(), body));
    }

    private void backgroundFlush() {
        if (closed || !counters.dirty()) {
            return;
        }
        try {
            flushCounters();
            flushFailure = null;
        } catch (OsdException e) {
            flushFailure = e;
        } catch (RuntimeException e) {
            flushFailure = new OsdException(Errno.EIO, name, null, "persisting the counters failed: " + e, e);
        }
    }

    /**
     * Every stopped transaction is already durable (the object store acknowledged it). This
     * persists the statfs counters if the last flush is older than a second (else the flusher
     * does within the second), and reports a failed background flush.
     */
    @Override
    public void sync() throws OsdException {
        ensureOpen();
        OsdException failed = flushFailure;
        if (failed != null) {
            flushCounters();
            flushFailure = null;
        } else if (counters.due()) {
            flushCounters();
        }
    }

    @Override
    public Transaction newTransaction() throws OsdException {
        ensureOpen();
        return new S3Transaction(this);
    }

    // ---- Osd: reads ----------------------------------------------------------------------------

    @Override
    public Attr getAttr(Fid fid) throws OsdException {
        Head h = require(fid);
        return h.meta().attr(h.size());
    }

    @Override
    public int read(Fid fid, long offset, ByteBuffer dst) throws OsdException {
        ensureOpen();
        if (offset < 0) {
            throw new OsdException(Errno.EINVAL, name, fid, "read at negative offset " + offset);
        }
        if (!dst.hasRemaining()) {
            require(fid);
            return 0;
        }
        // A body replaced between the GET and its sidecar's GET: read again (bounded).
        for (int attempt = 1; ; attempt++) {
            try {
                return readOnce(fid, offset, dst);
            } catch (SidecarGone e) {
                if (attempt == 3) {
                    throw new OsdException(Errno.EIO, name, fid, "block sums " + e.key + " vanished under three reads in a row");
                }
            }
        }
    }

    private static final class SidecarGone extends Exception {
        private static final long serialVersionUID = 1L;
        final String key;

        SidecarGone(String key) {
            super(key, null, false, false);
            this.key = key;
        }
    }

    private int readOnce(Fid fid, long offset, ByteBuffer dst) throws OsdException, SidecarGone {
        String key = keys.object(fid);
        long want = dst.remaining();
        // Whole blocks only, so each can be checked against its CRC32C.
        long first = offset & -(long) BlockSums.BLOCK;
        long end = offset + want;
        long alignedEnd = end > Long.MAX_VALUE - BlockSums.BLOCK ? Long.MAX_VALUE : (end + BlockSums.BLOCK - 1) & -(long) BlockSums.BLOCK;
        byte[] body;
        GetObjectResponse r;
        try (ResponseInputStream<GetObjectResponse> in = client.getObject(b -> b.bucket(settings.bucket()).key(key)
                .range("bytes=" + first + "-" + (alignedEnd - 1)))) {
            r = in.response();
            body = in.readAllBytes();
        } catch (S3Exception e) {
            if (e.statusCode() == 416) {
                return 0; // the object exists and the range starts at or past its end
            }
            OsdException oe = S3Errors.map(e, name, fid, key, "get");
            if (oe.is(Errno.ENOENT)) {
                throw new OsdException(Errno.ENOENT, name, fid, "no such object (" + key + ")", e);
            }
            throw oe;
        } catch (SdkException e) {
            throw S3Errors.map(e, name, fid, key, "get");
        } catch (IOException e) {
            throw new OsdException(Errno.EIO, name, fid, "get " + key + " bytes " + first + "..: body cut short: " + e, e);
        }
        long size = totalSize(r, fid, key, body.length, first);
        if (first >= size) {
            return 0;
        }
        long expect = Math.min(alignedEnd, size) - first;
        if (body.length != expect) {
            throw new OsdException(Errno.EIO, name, fid, "get " + key + " bytes " + first + ".." + (first + expect) + ": got "
                    + body.length + " bytes, request id " + r.responseMetadata().requestId());
        }
        ObjectMeta meta = ObjectMeta.parse(r.metadata(), name, fid, key);
        int[] crcs = crcs(fid, meta, size);
        for (long off = 0; off < body.length; off += BlockSums.BLOCK) {
            int len = (int) Math.min(BlockSums.BLOCK, body.length - off);
            int block = (int) ((first + off) >>> BlockSums.SHIFT);
            if (block >= crcs.length || BlockSums.crc(body, (int) off, len) != crcs[block]) {
                throw new OsdException(Errno.EIO, name, fid, "checksum mismatch in block " + block + " (bytes " + (first + off) + ".."
                        + (first + off + len) + ") of " + key + ", request id " + r.responseMetadata().requestId());
            }
        }
        if (offset >= size) {
            return 0;
        }
        int from = (int) (offset - first);
        int n = (int) (Math.min(end, size) - offset);
        dst.put(body, from, n);
        return n;
    }

    private long totalSize(GetObjectResponse r, Fid fid, String key, int got, long first) throws OsdException {
        String cr = r.contentRange();
        if (cr != null) {
            int slash = cr.lastIndexOf('/');
            if (slash > 0 && !cr.endsWith("*")) {
                try {
                    return Long.parseLong(cr.substring(slash + 1).trim());
                } catch (NumberFormatException e) {
                    throw new OsdException(Errno.EPROTO, name, fid, "get " + key + ": bad Content-Range '" + cr + "'", e);
                }
            }
        }
        // A server that ignored the range sent the whole body.
        if (first == 0) {
            return got;
        }
        throw new OsdException(Errno.EPROTO, name, fid, "get " + key + ": ranged GET answered without Content-Range");
    }

    private int[] crcs(Fid fid, ObjectMeta meta, long size) throws OsdException, SidecarGone {
        String token = BlockSums.token(meta.sums());
        if (token == null) {
            return BlockSums.inlineCrcs(meta.sums());
        }
        String key = keys.sums(fid, token);
        BlockSums s = sidecars.get(key);
        if (s == null) {
            byte[] b = getBytes(fid, key).orElse(null);
            if (b == null) {
                throw new SidecarGone(key);
            }
            try {
                s = BlockSums.parseSidecar(b);
            } catch (IllegalArgumentException e) {
                throw new OsdException(Errno.EIO, name, fid, "block sums " + key + " are corrupt: " + e.getMessage(), e);
            }
            if (sidecars.size() > 4096) {
                sidecars.clear();
            }
            sidecars.put(key, s);
        }
        if (s.size() != size) {
            throw new OsdException(Errno.EIO, name, fid, "block sums " + key + " describe " + s.size() + " bytes, the body has " + size);
        }
        return s.crcs();
    }

    @Override
    public long seekData(Fid fid, long offset) throws OsdException {
        long size = getAttr(fid).size();
        if (offset < 0 || offset >= size) {
            throw new OsdException(Errno.ENXIO, name, fid, "no data at or after " + offset + " (size " + size + ")");
        }
        return offset;
    }

    @Override
    public long seekHole(Fid fid, long offset) throws OsdException {
        long size = getAttr(fid).size();
        if (offset < 0 || offset >= size) {
            throw new OsdException(Errno.ENXIO, name, fid, "seek hole at " + offset + " past the end (size " + size + ")");
        }
        return size;
    }

    @Override
    public byte[] getXattr(Fid fid, String xname) throws OsdException {
        byte[] v = require(fid).meta().xattrs().get(xname);
        if (v == null) {
            throw new OsdException(Errno.ENODATA, name, fid, "no xattr " + xname);
        }
        return v.clone();
    }

    @Override
    public List<String> listXattrs(Fid fid) throws OsdException {
        List<String> names = new ArrayList<>(require(fid).meta().xattrs().keySet());
        names.sort((a, b) -> java.util.Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8)));
        return names;
    }

    @Override
    public Optional<byte[]> lookup(Fid index, byte[] key) throws OsdException {
        throw new OsdException(Errno.EOPNOTSUPP, name, index, "lookup needs INDEX, which an object store device does not advertise");
    }

    @Override
    public IndexCursor cursor(Fid index, byte[] fromKey) throws OsdException {
        throw new OsdException(Errno.EOPNOTSUPP, name, index, "cursor needs INDEX, which an object store device does not advertise");
    }

    /** Lists the prefix's objects page by page (ListObjectsV2), in key order. */
    @Override
    public ObjectCursor listObjects() throws OsdException {
        ensureOpen();
        return new ObjectCursor() {
            private Iterator<S3Object> page = List.<S3Object>of().iterator();
            private String token;
            private boolean last;
            private Fid cur;

            @Override
            public boolean next() throws OsdException {
                while (true) {
                    while (page.hasNext()) {
                        Fid f = keys.fidOf(page.next().key());
                        if (f != null) {
                            cur = f;
                            return true;
                        }
                    }
                    if (last) {
                        cur = null;
                        return false;
                    }
                    String t = token;
                    ListObjectsV2Response r = wrap(null, keys.objects(), "list", () -> client.listObjectsV2(b -> b.bucket(settings.bucket())
                            .prefix(keys.objects()).delimiter("/").continuationToken(t)));
                    page = r.contents().iterator();
                    token = r.nextContinuationToken();
                    last = !Boolean.TRUE.equals(r.isTruncated()) || token == null;
                }
            }

            @Override
            public Fid fid() {
                return cur;
            }

            @Override
            public void close() {
            }
        };
    }

    /** Persists the counters and releases the client. Idempotent. */
    @Override
    public void close() throws OsdException {
        if (closed) {
            return;
        }
        closed = true;
        flusher.shutdownNow();
        try {
            flushCounters();
        } finally {
            executor.shutdown();
            client.close();
        }
    }

    @Override
    public String toString() {
        return "S3Osd(" + name + " at " + settings.where() + ")";
    }
}
