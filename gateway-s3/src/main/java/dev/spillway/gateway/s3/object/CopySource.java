package dev.spillway.gateway.s3.object;

import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.naming.Names;
import dev.spillway.gateway.s3.naming.UriCodec;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** The {@code x-amz-copy-source} of CopyObject and UploadPartCopy: {@code [/]bucket/key[?versionId=null]}. */
public record CopySource(String bucket, byte[] key) {

    public static CopySource parse(String header) throws S3Exception {
        String h = header.strip();
        int q = h.indexOf('?');
        if (q >= 0) {
            String version = h.substring(q + 1);
            if (!version.equals("versionId=null") && !version.isEmpty()) {
                throw new S3Exception(
                        S3Error.INVALID_ARGUMENT,
                        "this gateway's buckets are unversioned; only versionId=null exists, got '" + version + "'");
            }
            h = h.substring(0, q);
        }
        byte[] raw;
        try {
            raw = UriCodec.decode(h, false);
        } catch (IllegalArgumentException e) {
            throw new S3Exception(
                    S3Error.INVALID_ARGUMENT, "bad x-amz-copy-source '" + header + "': " + e.getMessage());
        }
        int start = raw.length > 0 && raw[0] == '/' ? 1 : 0;
        int slash = -1;
        for (int i = start; i < raw.length; i++) {
            if (raw[i] == '/') {
                slash = i;
                break;
            }
        }
        if (slash < 0 || slash == start || slash == raw.length - 1) {
            throw new S3Exception(
                    S3Error.INVALID_ARGUMENT, "x-amz-copy-source must be bucket/key, got '" + header + "'");
        }
        byte[] key = Arrays.copyOfRange(raw, slash + 1, raw.length);
        Names.checkKey(key);
        return new CopySource(new String(raw, start, slash - start, StandardCharsets.UTF_8), key);
    }
}
