package dev.spillway.gateway.s3.store;

import dev.spillway.gateway.s3.auth.ChecksumAlgorithm;
import dev.spillway.gateway.s3.auth.Hashing;
import dev.spillway.osd.Fid;
import java.util.List;

/**
 * A body received but not yet visible under any key. Either it was small enough to stay in
 * memory ({@code inline}), and the commit writes it in the same transaction that switches the
 * key, or it sits in DATA object {@code fid} with a PENDING entry in the garbage index, so a
 * crash before the commit leaves garbage the sweeper frees, never a half-visible object.
 *
 * @param md5 the body's MD5
 * @param sha256Hex its SHA-256 if asked for (signed payloads), else null
 * @param checksum the additional checksum (base64) if asked for, else null
 * @param writeCommit the write-commit policy its bucket or prefix asks for ({@code sync 2}: the
 *     value of the xattr {@code spillway.write-commit}), set in the transaction that writes its
 *     last bytes; null for the device's own policy
 */
public record StagedBody(
        Fid fid, long size, byte[] md5, String sha256Hex, String checksum, byte[] inline, String writeCommit) {
    public boolean isInline() {
        return inline != null;
    }

    /**
     * The record of a single-part object whose body this is (PUT, POST, copy): ETag = hex MD5,
     * checksum as staged, modified at {@code mtimeMillis}.
     */
    public Records.KeyRecord record(
            long mtimeMillis, ChecksumAlgorithm alg, List<Records.Header> headers, Records.Meta meta) {
        return new Records.KeyRecord(
                fid,
                false,
                size,
                mtimeMillis,
                Hashing.hex(md5),
                0,
                alg == null ? null : alg.name(),
                checksum,
                headers,
                meta);
    }
}
