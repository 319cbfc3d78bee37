package dev.spillway.osd.s3;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.MetadataDirective;

/**
 * A device's requests to its bucket, below the OSD semantics: HEAD, small PUTs and GETs, the
 * empty-body PUT, the metadata rewrite (a copy onto itself), DELETE, the block-sums sidecars; the
 * SDK client, the executor part uploads run on and the part buffers they reuse. Every SDK error
 * leaves here as an {@link OsdException} ({@link S3Errors}).
 *
 * <p>It remembers what this mount stored for each object it wrote (metadata and size): a device
 * is mounted by one process, so what it wrote is what the store holds, and getattr after a write
 * (the pool's sync and space accounting) costs no HEAD. Only writers fill it — a reader's HEAD
 * could race a commit — and it is dropped wholesale when full.
 */
final class S3Store implements AutoCloseable {
    private final String name;
    private final S3Settings settings;
    private final S3Keys keys;
    private final S3Client client;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    // Block sums of sidecar bodies by sidecar key; a token names one body forever, so never stale.
    private final Map<String, BlockSums> sidecars = new ConcurrentHashMap<>();
    // What this mount last stored for an object (see the class comment).
    private final Map<Fid, Head> stored = new ConcurrentHashMap<>();
    // Part buffers between uploads: a spill of many large bodies allocates none after the first.
    private final BlockingQueue<byte[]> partBuffers;

    /** An object's metadata and size, as a HEAD returns them. */
    record Head(ObjectMeta meta, long size) {}

    S3Store(String name, S3Settings settings) {
        this.name = name;
        this.settings = settings;
        this.keys = new S3Keys(settings.prefix());
        this.partBuffers = new ArrayBlockingQueue<>(2 * (settings.uploadConcurrency() + 1));
        this.client = S3Clients.build(settings);
    }

    String name() {
        return name;
    }

    S3Settings settings() {
        return settings;
    }

    String bucket() {
        return settings.bucket();
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

    @FunctionalInterface
    interface Call<T> {
        T run();
    }

    /** Runs one SDK call; its failure becomes an OsdException naming {@code what} and {@code key}. */
    <T> T wrap(Fid fid, String key, String what, Call<T> call) throws OsdException {
        try {
            return call.run();
        } catch (SdkException e) {
            throw S3Errors.map(e, name, fid, key, what);
        }
    }

    Optional<byte[]> getBytes(Fid fid, String key) throws OsdException {
        try {
            return Optional.of(
                    client.getObjectAsBytes(b -> b.bucket(bucket()).key(key)).asByteArray());
        } catch (SdkException e) {
            OsdException oe = S3Errors.map(e, name, fid, key, "get");
            if (oe.is(Errno.ENOENT)) {
                return Optional.empty();
            }
            throw oe;
        }
    }

    void putBytes(Fid fid, String key, byte[] body) throws OsdException {
        int crc = BlockSums.crc(body, 0, body.length);
        wrap(
                fid,
                key,
                "put",
                () -> client.putObject(
                        b -> b.bucket(bucket())
                                .key(key)
                                .contentLength((long) body.length)
                                .checksumAlgorithm(ChecksumAlgorithm.CRC32_C)
                                .checksumCRC32C(BlockSums.header(crc)),
                        RequestBody.fromBytes(body)));
    }

    void putSidecar(Fid fid, String key, BlockSums sums) throws OsdException {
        putBytes(fid, key, sums.sidecar());
        sidecars.put(key, sums);
    }

    /** The block sums a sidecar holds, or empty if it is gone (its body was replaced meanwhile). */
    Optional<BlockSums> sidecar(Fid fid, String key) throws OsdException {
        BlockSums s = sidecars.get(key);
        if (s != null) {
            return Optional.of(s);
        }
        byte[] b = getBytes(fid, key).orElse(null);
        if (b == null) {
            return Optional.empty();
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
        return Optional.of(s);
    }

    void deleteKey(Fid fid, String key) throws OsdException {
        wrap(
                fid,
                key,
                "delete",
                () -> client.deleteObject(b -> b.bucket(bucket()).key(key)));
        sidecars.remove(key);
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
            r = client.headObject(b -> b.bucket(bucket()).key(key));
        } catch (SdkException e) {
            OsdException oe = S3Errors.map(e, name, fid, key, "head");
            if (oe.is(Errno.ENOENT)) {
                return Optional.empty();
            }
            throw oe;
        }
        return Optional.of(new Head(ObjectMeta.parse(r.metadata(), name, fid, key), r.contentLength()));
    }

    /** Creates (or replaces) {@code fid} as an empty body with {@code meta}. */
    ObjectMeta putEmpty(Fid fid, ObjectMeta meta) throws OsdException {
        ObjectMeta stored = meta.withSums(BlockSums.EMPTY.encode(null));
        String key = keys.object(fid);
        forget(fid);
        wrap(
                fid,
                key,
                "put",
                () -> client.putObject(
                        b -> b.bucket(bucket())
                                .key(key)
                                .contentLength(0L)
                                .contentType("application/octet-stream")
                                .metadata(stored.toMetadata()),
                        RequestBody.empty()));
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
        String bucket = bucket();
        if (size <= S3Settings.MAX_PART) {
            wrap(
                    fid,
                    key,
                    "copy (metadata update) of",
                    () -> client.copyObject(b -> b.sourceBucket(bucket)
                            .sourceKey(key)
                            .destinationBucket(bucket)
                            .destinationKey(key)
                            .metadataDirective(MetadataDirective.REPLACE)
                            .contentType("application/octet-stream")
                            .metadata(meta.toMetadata())));
            return;
        }
        String id = wrap(
                        fid,
                        key,
                        "create multipart copy of",
                        () -> client.createMultipartUpload(b -> b.bucket(bucket)
                                .key(key)
                                .contentType("application/octet-stream")
                                .metadata(meta.toMetadata())))
                .uploadId();
        try {
            List<CompletedPart> parts = new ArrayList<>();
            long step = S3Settings.MAX_PART;
            int n = 1;
            for (long off = 0; off < size; off += step, n++) {
                long end = Math.min(size, off + step) - 1;
                int part = n;
                long from = off;
                String etag = wrap(
                                fid,
                                key,
                                "copy part " + part + " of",
                                () -> client.uploadPartCopy(b -> b.sourceBucket(bucket)
                                        .sourceKey(key)
                                        .destinationBucket(bucket)
                                        .destinationKey(key)
                                        .uploadId(id)
                                        .partNumber(part)
                                        .copySourceRange("bytes=" + from + "-" + end)))
                        .copyPartResult()
                        .eTag();
                parts.add(CompletedPart.builder().partNumber(part).eTag(etag).build());
            }
            wrap(
                    fid,
                    key,
                    "complete multipart copy of",
                    () -> client.completeMultipartUpload(
                            b -> b.bucket(bucket).key(key).uploadId(id).multipartUpload(m -> m.parts(parts))));
        } catch (OsdException e) {
            try {
                wrap(
                        fid,
                        key,
                        "abort multipart copy of",
                        () -> client.abortMultipartUpload(
                                b -> b.bucket(bucket).key(key).uploadId(id)));
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

    @Override
    public void close() {
        executor.shutdown();
        client.close();
    }
}
