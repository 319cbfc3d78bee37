package dev.spillway.gateway.s3.object;

import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.naming.Names;
import dev.spillway.gateway.s3.naming.UriCodec;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The {@code x-amz-copy-source} of CopyObject and UploadPartCopy: {@code [/]bucket/key[?versionId=V]}.
 *
 * @param versionId the source version, or null for the current one
 */
public record CopySource(String bucket, byte[] key, String versionId) {

    public static CopySource parse(String header) throws S3Exception {
        String h = header.strip();
        int q = h.indexOf('?');
        String versionId = null;
        if (q >= 0) {
            String query = h.substring(q + 1);
            if (query.startsWith("versionId=")) {
                versionId = UriCodec.decodeString(query.substring("versionId=".length()), true);
            } else if (!query.isEmpty()) {
                throw new S3Exception(
                        S3Error.INVALID_ARGUMENT, "x-amz-copy-source takes only ?versionId=, got '?" + query + "'");
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
        return new CopySource(new String(raw, start, slash - start, StandardCharsets.UTF_8), key, versionId);
    }
}
