package dev.spillway.osd.s3;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.CompletedPart;

/**
 * One body on its way to the object store, as the transaction's sequential writes arrive: the
 * bytes collect in a buffer of the part size; a body that fits is one PUT at {@link #finish}; a
 * larger one becomes a multipart upload whose parts are sent while the writer produces the next
 * ones ({@link S3Settings#uploadConcurrency()} in flight), and which completes at finish. Memory
 * is bounded by the part size times (concurrency + 1): never the whole body.
 *
 * <p>Nothing is visible before {@link #finish} returns: S3 shows an object only once its PUT or
 * CompleteMultipartUpload succeeds, and replaces the previous body atomically. {@link #abort}
 * (a failed or aborted transaction) aborts the multipart upload; if that fails too, the mount-time
 * sweep aborts it.
 *
 * <p>Used by one transaction thread; the part uploads run on the device's executor.
 */
final class BodyUpload {
    /** What finishing produced: the size, the metadata as stored, and whether it must be rewritten. */
    record Finished(long size, ObjectMeta meta, boolean metadataStale) {}

    private final S3Store store;
    private final Fid fid;
    private final String key;
    private final int partSize;
    private final BlockSums.Builder sums = new BlockSums.Builder();
    // Buffers not in use; at most concurrency + 1 exist.
    private final ArrayDeque<byte[]> free = new ArrayDeque<>();
    private byte[] buf;
    private int fill;
    // The multipart upload, once the body outgrew one part.
    private String uploadId;
    private String token;
    private ObjectMeta metaAtCreate;
    private int nextPart = 1;
    private final List<Future<CompletedPart>> parts = new ArrayList<>();
    private final java.util.concurrent.Semaphore slots;
    private String sidecarKey;
    // True once the body is visible (PUT or Complete succeeded): from then on there is nothing to abort.
    private boolean completed;
    // True once abort ran.
    private boolean aborted;

    // The length the transaction declared for the body, if any: the first buffer's size.
    private final long expected;

    BodyUpload(S3Store store, Fid fid, long expected) {
        this.store = store;
        this.fid = fid;
        this.expected = expected;
        this.key = store.keys().object(fid);
        this.partSize = partSizeFor(store.settings().partSize(), expected);
        this.slots = new java.util.concurrent.Semaphore(store.settings().uploadConcurrency());
    }

    /**
     * The part size of a body declared {@code expected} bytes long: S3 takes at most
     * {@link #MAX_PARTS} parts, so a body larger than the configured size allows gets larger
     * parts (whole MiB), and every size up to 5 TiB can be written.
     */
    static int partSizeFor(long configured, long expected) {
        long need = (Math.max(0, expected) + MAX_PARTS - 1) / MAX_PARTS;
        need = (need + (1 << 20) - 1) & -(1L << 20);
        return (int) Math.min(S3Settings.MAX_BUFFERED_PART, Math.max(configured, need));
    }

    /** S3's limit on the parts of one upload. */
    static final int MAX_PARTS = 10_000;

    /** Bytes written so far: the offset the next write must start at. */
    long position() {
        return sums.size();
    }

    boolean multipart() {
        return uploadId != null;
    }

    /** Appends {@code src}'s remaining bytes; {@code meta} is the object's metadata if an upload must start. */
    void append(ByteBuffer src, ObjectMeta meta) throws OsdException {
        while (src.hasRemaining()) {
            ensureBuffer();
            int n = Math.min(src.remaining(), buf.length - fill);
            src.get(buf, fill, n);
            sums.update(buf, fill, n);
            fill += n;
            if (fill == buf.length && buf.length < partSize) {
                // A small body never costs a whole part: the first buffer grows as needed.
                buf = java.util.Arrays.copyOf(buf, (int) Math.min(partSize, 2L * buf.length));
            } else if (fill == buf.length) {
                sendPart(meta);
            }
        }
    }

    /** Appends {@code n} zero bytes (a truncate that extends the body being written). */
    void appendZeros(long n, ObjectMeta meta) throws OsdException {
        ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(n, 1 << 20));
        long left = n;
        while (left > 0) {
            zeros.clear().limit((int) Math.min(left, zeros.capacity()));
            left -= zeros.remaining();
            append(zeros, meta);
        }
    }

    private void ensureBuffer() throws OsdException {
        if (buf != null) {
            return;
        }
        synchronized (free) {
            buf = free.poll();
        }
        if (buf == null) {
            long want = parts.isEmpty() ? Math.max(64 << 10, expected) : partSize;
            buf = want < partSize
                    ? new byte[(int) want]
                    : partSize == store.settings().partSize() ? store.partBuffer() : new byte[partSize];
        }
        fill = 0;
    }

    private void sendPart(ObjectMeta meta) throws OsdException {
        checkParts(false);
        if (nextPart > MAX_PARTS) {
            throw new OsdException(
                    Errno.EFBIG,
                    store.name(),
                    fid,
                    "body of " + key + " passes " + MAX_PARTS + " parts of " + partSize
                            + " bytes, S3's limit for one upload (declare the write's length to get larger parts)");
        }
        if (uploadId == null) {
            token = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
            metaAtCreate = meta.withSums(BlockSums.sidecarValue(token));
            try {
                uploadId = store.client()
                        .createMultipartUpload(b -> b.bucket(store.settings().bucket())
                                .key(key)
                                .metadata(metaAtCreate.toMetadata())
                                .contentType("application/octet-stream")
                                .checksumAlgorithm(ChecksumAlgorithm.CRC32_C))
                        .uploadId();
            } catch (SdkException e) {
                throw S3Errors.map(e, store.name(), fid, key, "create multipart upload of");
            }
        }
        byte[] part = buf;
        int len = fill;
        int number = nextPart++;
        buf = null;
        fill = 0;
        // At most uploadConcurrency parts in flight (a slot frees as soon as any part ends); a
        // finished part's buffer comes back to the writer, so at most concurrency + 1 buffers exist.
        try {
            slots.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new OsdException(
                    Errno.EIO, store.name(), fid, "interrupted waiting to send part " + number + " of " + key, e);
        }
        parts.add(store.executor().submit(() -> {
            try {
                return uploadPart(part, len, number);
            } finally {
                synchronized (free) {
                    free.add(part);
                }
                slots.release();
            }
        }));
    }

    private CompletedPart uploadPart(byte[] part, int len, int number) throws OsdException {
        int crc = BlockSums.crc(part, 0, len);
        try {
            String etag = store.client()
                    .uploadPart(
                            b -> b.bucket(store.settings().bucket())
                                    .key(key)
                                    .uploadId(uploadId)
                                    .partNumber(number)
                                    .contentLength((long) len)
                                    .checksumAlgorithm(ChecksumAlgorithm.CRC32_C)
                                    .checksumCRC32C(BlockSums.header(crc)),
                            RequestBody.fromContentProvider(
                                    () -> new ByteArrayInputStream(part, 0, len), len, "application/octet-stream"))
                    .eTag();
            return CompletedPart.builder()
                    .partNumber(number)
                    .eTag(etag)
                    .checksumCRC32C(BlockSums.header(crc))
                    .build();
        } catch (SdkException e) {
            throw S3Errors.map(e, store.name(), fid, key, "upload part " + number + " of");
        }
    }

    private CompletedPart get(Future<CompletedPart> f) throws OsdException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new OsdException(Errno.EIO, store.name(), fid, "interrupted waiting for a part of " + key, e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof OsdException oe) {
                throw oe;
            }
            throw new OsdException(
                    Errno.EIO, store.name(), fid, "part upload of " + key + " failed: " + e.getCause(), e.getCause());
        }
    }

    /** Throws the first failed part's error, if any part failed (all = wait for every part). */
    private List<CompletedPart> checkParts(boolean all) throws OsdException {
        List<CompletedPart> out = new ArrayList<>();
        for (Future<CompletedPart> f : parts) {
            if (all || f.isDone()) {
                out.add(get(f));
            }
        }
        return out;
    }

    /**
     * Makes the body visible with {@code meta}: one PUT, or the last part and
     * CompleteMultipartUpload. The block sums are stored first (in the metadata or a sidecar).
     */
    Finished finish(ObjectMeta meta) throws OsdException {
        if (uploadId == null) {
            byte[] body = buf == null ? new byte[0] : buf;
            int len = fill;
            BlockSums s = sums.build();
            String t = null;
            if (!s.inline()) {
                t = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
                store.putSidecar(fid, store.keys().sums(fid, t), s);
                sidecarKey = store.keys().sums(fid, t);
            }
            ObjectMeta stored = meta.withSums(s.encode(t));
            int crc = BlockSums.crc(body, 0, len);
            try {
                store.client()
                        .putObject(
                                b -> b.bucket(store.settings().bucket())
                                        .key(key)
                                        .contentLength((long) len)
                                        .contentType("application/octet-stream")
                                        .metadata(stored.toMetadata())
                                        .checksumAlgorithm(ChecksumAlgorithm.CRC32_C)
                                        .checksumCRC32C(BlockSums.header(crc)),
                                RequestBody.fromContentProvider(
                                        () -> new ByteArrayInputStream(body, 0, len), len, "application/octet-stream"));
            } catch (SdkException e) {
                throw S3Errors.map(e, store.name(), fid, key, "put");
            }
            completed = true;
            release();
            return new Finished(len, stored, false);
        }
        if (fill > 0) {
            sendPart(meta);
        }
        // The sums are complete once the last byte is in: they go up while the last parts do.
        BlockSums s = sums.build();
        sidecarKey = store.keys().sums(fid, token);
        store.putSidecar(fid, sidecarKey, s);
        List<CompletedPart> sent = checkParts(true);
        sent.sort(Comparator.comparingInt(CompletedPart::partNumber));
        try {
            store.client()
                    .completeMultipartUpload(b -> b.bucket(store.settings().bucket())
                            .key(key)
                            .uploadId(uploadId)
                            .multipartUpload(m -> m.parts(sent)));
        } catch (SdkException e) {
            throw S3Errors.map(e, store.name(), fid, key, "complete multipart upload " + uploadId + " of");
        }
        uploadId = null;
        completed = true;
        release();
        ObjectMeta stored = meta.withSums(metaAtCreate.sums());
        return new Finished(s.size(), stored, !stored.toMetadata().equals(metaAtCreate.toMetadata()));
    }

    /**
     * Throws the body away: waits for the parts in flight, aborts the multipart upload and
     * deletes a sidecar already written. Errors are thrown (the sweep at the next mount finishes
     * the job), never swallowed.
     */
    void abort() throws OsdException {
        if (completed || aborted) {
            return;
        }
        aborted = true;
        OsdException first = null;
        for (Future<CompletedPart> f : parts) {
            try {
                get(f);
            } catch (OsdException e) {
                // The part's own failure is why we abort; it was reported to the writer already.
            }
        }
        if (uploadId != null) {
            String id = uploadId;
            try {
                store.client()
                        .abortMultipartUpload(b ->
                                b.bucket(store.settings().bucket()).key(key).uploadId(id));
                uploadId = null;
            } catch (SdkException e) {
                first = S3Errors.map(
                        e,
                        store.name(),
                        fid,
                        key,
                        "abort multipart upload " + id + " (the next mount's sweep retries) of");
            }
        }
        if (sidecarKey != null) {
            try {
                store.deleteKey(fid, sidecarKey);
            } catch (OsdException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        release();
        if (first != null) {
            throw first;
        }
    }

    /** True once the body is visible or thrown away: nothing is left to abort. */
    boolean finished() {
        return completed || aborted;
    }

    private void release() {
        if (buf != null) {
            store.recycle(buf);
        }
        buf = null;
        synchronized (free) {
            for (byte[] b : free) {
                store.recycle(b);
            }
            free.clear();
        }
        parts.clear();
    }
}
