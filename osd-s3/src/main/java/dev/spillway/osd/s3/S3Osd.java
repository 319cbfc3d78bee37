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
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
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
 * <p>A read-only mount (the common {@code read-only} setting: the pool's offline check) makes
 * reads only: a prefix without a device marker is refused with EROFS, nothing is formatted or
 * swept, the counters are read and never written, and every transaction is refused with EROFS.
 *
 * <p>A device must be mounted by one process at a time; several devices may share a bucket
 * under different prefixes.
 *
 * <p>One file per concern: this class (the device, statfs, attribute and xattr reads),
 * {@link S3Mount}, {@link BodyReads}, {@link S3Transaction}, {@link BodyUpload} and the requests
 * themselves in {@link S3Store}.
 */
public final class S3Osd implements Osd {
    /** S3's largest object (a body declared that large gets parts of 525 MiB). */
    static final long MAX_OBJECT = 5L << 40;

    private final String name;
    private final S3Settings settings;
    private final InstantSource clock;
    private final S3Store store;
    private final S3Keys keys;
    private final Capabilities caps;
    final TransactionSupport support;
    private final SpaceCounters counters = new SpaceCounters();
    // Bytes and objects reserved by started transactions (declares), released at their stop.
    final AtomicLong reservedBytes = new AtomicLong();
    final AtomicLong reservedObjects = new AtomicLong();
    // Persists the counters in the background; its failure is thrown by the next sync or close.
    private final ScheduledExecutorService flusher = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "osd-s3-counters");
        t.setDaemon(true);
        return t;
    });
    private volatile OsdException flushFailure;
    private final int sweptUploads;
    private final boolean readOnly;
    private volatile boolean closed;

    /** Mounts the device {@code config} describes (see the class comment). */
    public S3Osd(OsdConfig config) throws OsdException {
        this(config, S3Settings.of(config));
    }

    private S3Osd(OsdConfig config, S3Settings s) throws OsdException {
        this.name = config.name();
        this.settings = s;
        this.clock = config.clock();
        this.support = new TransactionSupport(name, config.strictDeclares());
        this.caps = new Capabilities(
                EnumSet.of(Capability.XATTRS, Capability.ATOMIC_REPLACE, Capability.CHECKSUMS, Capability.LIST_OBJECTS),
                ObjectMeta.MAX_VALUE,
                ObjectMeta.MAX_NAME,
                MAX_OBJECT,
                0,
                0,
                (int) Math.min(s.partSize(), 1 << 30),
                4096);
        this.readOnly = config.readOnly();
        this.store = new S3Store(name, s);
        this.keys = store.keys();
        try {
            this.sweptUploads = S3Mount.mount(store, counters, readOnly);
        } catch (OsdException | RuntimeException e) {
            store.close();
            flusher.shutdownNow();
            throw e;
        }
        if (readOnly) {
            flusher.shutdownNow();
        } else {
            long ms = SpaceCounters.INTERVAL_NS / 1_000_000;
            flusher.scheduleWithFixedDelay(this::backgroundFlush, ms, ms, TimeUnit.MILLISECONDS);
        }
    }

    /** Multipart uploads aborted by the mount's sweep. */
    public int sweptUploads() {
        return sweptUploads;
    }

    // ---- for the transaction -------------------------------------------------------------------

    S3Store store() {
        return store;
    }

    S3Settings settings() {
        return settings;
    }

    S3Keys keys() {
        return keys;
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

    private S3Store.Head require(Fid fid) throws OsdException {
        ensureOpen();
        return store.head(fid)
                .orElseThrow(
                        () -> new OsdException(Errno.ENOENT, name, fid, "no such object (" + keys.object(fid) + ")"));
    }

    // ---- Osd: identity, space ------------------------------------------------------------------

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
        long freeObjects =
                settings.maxObjects() == Long.MAX_VALUE ? Long.MAX_VALUE : Math.max(0, settings.maxObjects() - n);
        return StatFs.of(name, settings.quota(), free, avail, n, freeObjects, Set.of());
    }

    private void flushCounters() throws OsdException {
        counters.flush(body -> store.putBytes(null, keys.statfs(), body));
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
        if (readOnly) {
            return; // nothing was changed
        }
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
        if (readOnly) {
            throw new OsdException(
                    Errno.EROFS, name, "device " + settings.where() + " is mounted read-only: no transaction");
        }
        return new S3Transaction(this);
    }

    // ---- Osd: reads ------------------------------------------------------------------------------

    @Override
    public Attr getAttr(Fid fid) throws OsdException {
        S3Store.Head h = require(fid);
        return h.meta().attr(h.size());
    }

    /** A ranged GET of whole 1 MiB blocks, each verified ({@link BodyReads}). */
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
        return BodyReads.read(store, fid, offset, dst);
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
            throw new OsdException(
                    Errno.ENXIO, name, fid, "seek hole at " + offset + " past the end (size " + size + ")");
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
        names.sort((a, b) -> java.util.Arrays.compareUnsigned(
                a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8)));
        return names;
    }

    @Override
    public Optional<byte[]> lookup(Fid index, byte[] key) throws OsdException {
        throw new OsdException(
                Errno.EOPNOTSUPP, name, index, "lookup needs INDEX, which an object store device does not advertise");
    }

    @Override
    public IndexCursor cursor(Fid index, byte[] fromKey) throws OsdException {
        throw new OsdException(
                Errno.EOPNOTSUPP, name, index, "cursor needs INDEX, which an object store device does not advertise");
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
                    ListObjectsV2Response r = store.wrap(
                            null,
                            keys.objects(),
                            "list",
                            () -> store.client()
                                    .listObjectsV2(b -> b.bucket(settings.bucket())
                                            .prefix(keys.objects())
                                            .delimiter("/")
                                            .continuationToken(t)));
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
            public void close() {}
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
        if (readOnly) {
            store.close();
            return;
        }
        try {
            flushCounters();
        } finally {
            store.close();
        }
    }

    @Override
    public String toString() {
        return "S3Osd(" + name + " at " + settings.where() + ")";
    }
}
