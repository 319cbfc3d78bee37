package dev.spillway.osd.s3;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Optional;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Reads: one ranged GET per call, widened to whole 1 MiB blocks so that each block is checked
 * against its CRC32C ({@link BlockSums}) before a byte of it is handed out. The metadata of the
 * same response names the block sums, so body and sums always belong to one version; a sidecar
 * that vanished (its body was replaced between the two GETs) makes the read start over.
 */
final class BodyReads {
    private BodyReads() {}

    /** The sidecar named by the body just read is gone: the body was replaced meanwhile. */
    private static final class SidecarGone extends Exception {
        private static final long serialVersionUID = 1L;
        final String key;

        SidecarGone(String key) {
            super(key, null, false, false);
            this.key = key;
        }
    }

    /** As {@link dev.spillway.osd.Osd#read}; {@code dst} has bytes remaining. */
    static int read(S3Store store, Fid fid, long offset, ByteBuffer dst) throws OsdException {
        for (int attempt = 1; ; attempt++) {
            try {
                return readOnce(store, fid, offset, dst);
            } catch (SidecarGone e) {
                if (attempt == 3) {
                    throw new OsdException(
                            Errno.EIO,
                            store.name(),
                            fid,
                            "block sums " + e.key + " vanished under three reads in a row");
                }
            }
        }
    }

    private static int readOnce(S3Store store, Fid fid, long offset, ByteBuffer dst) throws OsdException, SidecarGone {
        String name = store.name();
        String key = store.keys().object(fid);
        long want = dst.remaining();
        long first = offset & -(long) BlockSums.BLOCK;
        long end = offset + want;
        long alignedEnd = end > Long.MAX_VALUE - BlockSums.BLOCK
                ? Long.MAX_VALUE
                : (end + BlockSums.BLOCK - 1) & -(long) BlockSums.BLOCK;
        byte[] body;
        GetObjectResponse r;
        try (ResponseInputStream<GetObjectResponse> in = store.client()
                .getObject(b -> b.bucket(store.bucket()).key(key).range("bytes=" + first + "-" + (alignedEnd - 1)))) {
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
            throw new OsdException(
                    Errno.EIO, name, fid, "get " + key + " bytes " + first + "..: body cut short: " + e, e);
        }
        long size = totalSize(name, r, fid, key, body.length, first);
        if (first >= size) {
            return 0;
        }
        long expect = Math.min(alignedEnd, size) - first;
        if (body.length != expect) {
            throw new OsdException(
                    Errno.EIO,
                    name,
                    fid,
                    "get " + key + " bytes " + first + ".." + (first + expect) + ": got " + body.length
                            + " bytes, request id " + r.responseMetadata().requestId());
        }
        ObjectMeta meta = ObjectMeta.parse(r.metadata(), name, fid, key);
        int[] crcs = crcs(store, fid, meta, size);
        for (long off = 0; off < body.length; off += BlockSums.BLOCK) {
            int len = (int) Math.min(BlockSums.BLOCK, body.length - off);
            int block = (int) ((first + off) >>> BlockSums.SHIFT);
            if (block >= crcs.length || BlockSums.crc(body, (int) off, len) != crcs[block]) {
                throw new OsdException(
                        Errno.EIO,
                        name,
                        fid,
                        "checksum mismatch in block " + block + " (bytes " + (first + off) + ".." + (first + off + len)
                                + ") of " + key + ", request id "
                                + r.responseMetadata().requestId());
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

    private static long totalSize(String name, GetObjectResponse r, Fid fid, String key, int got, long first)
            throws OsdException {
        String cr = r.contentRange();
        if (cr != null) {
            int slash = cr.lastIndexOf('/');
            if (slash > 0 && !cr.endsWith("*")) {
                try {
                    return Long.parseLong(cr.substring(slash + 1).trim());
                } catch (NumberFormatException e) {
                    throw new OsdException(
                            Errno.EPROTO, name, fid, "get " + key + ": bad Content-Range '" + cr + "'", e);
                }
            }
        }
        // A server that ignored the range sent the whole body.
        if (first == 0) {
            return got;
        }
        throw new OsdException(Errno.EPROTO, name, fid, "get " + key + ": ranged GET answered without Content-Range");
    }

    private static int[] crcs(S3Store store, Fid fid, ObjectMeta meta, long size) throws OsdException, SidecarGone {
        String token = BlockSums.token(meta.sums());
        if (token == null) {
            return BlockSums.inlineCrcs(meta.sums());
        }
        String key = store.keys().sums(fid, token);
        Optional<BlockSums> s = store.sidecar(fid, key);
        if (s.isEmpty()) {
            throw new SidecarGone(key);
        }
        if (s.get().size() != size) {
            throw new OsdException(
                    Errno.EIO,
                    store.name(),
                    fid,
                    "block sums " + key + " describe " + s.get().size() + " bytes, the body has " + size);
        }
        return s.get().crcs();
    }
}
