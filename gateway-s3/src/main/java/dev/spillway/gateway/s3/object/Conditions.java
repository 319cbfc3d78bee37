package dev.spillway.gateway.s3.object;

import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.http.HttpDates;
import dev.spillway.gateway.s3.store.Records.KeyRecord;
import java.time.Instant;

/** HTTP preconditions (RFC 9110 §13.2.2 order) on a GET/HEAD, or on a copy's source. */
final class Conditions {
    private Conditions() {}

    /**
     * @param prefix "" for GET/HEAD, "x-amz-copy-source-" for a copy source (whose failures are
     *     all 412)
     */
    static void check(Header h, String prefix, KeyRecord r) throws S3Exception {
        boolean copy = !prefix.isEmpty();
        String etag = r.etag();
        long mtime = r.mtimeMillis() / 1000;
        String ifMatch = h.get(prefix + "if-match");
        String ifNoneMatch = h.get(prefix + "if-none-match");
        String ifModified = h.get(prefix + "if-modified-since");
        String ifUnmodified = h.get(prefix + "if-unmodified-since");
        if (ifMatch != null) {
            if (!matches(ifMatch, etag)) {
                throw new S3Exception(
                        S3Error.PRECONDITION_FAILED,
                        "At least one of the pre-conditions you specified did not hold: " + prefix + "If-Match "
                                + ifMatch + " vs ETag \"" + etag + "\"");
            }
        } else if (ifUnmodified != null) {
            Long t = time(ifUnmodified);
            if (t != null && mtime > t) {
                throw new S3Exception(
                        S3Error.PRECONDITION_FAILED,
                        "At least one of the pre-conditions you specified did not hold: " + prefix
                                + "If-Unmodified-Since " + ifUnmodified);
            }
        }
        if (ifNoneMatch != null) {
            if (matches(ifNoneMatch, etag)) {
                throw copy
                        ? new S3Exception(
                                S3Error.PRECONDITION_FAILED,
                                "At least one of the pre-conditions you specified did not hold: " + prefix
                                        + "If-None-Match " + ifNoneMatch)
                        : new S3Exception(S3Error.NOT_MODIFIED);
            }
        } else if (ifModified != null) {
            Long t = time(ifModified);
            if (t != null && mtime <= t) {
                throw copy
                        ? new S3Exception(
                                S3Error.PRECONDITION_FAILED,
                                "At least one of the pre-conditions you specified did not hold: " + prefix
                                        + "If-Modified-Since " + ifModified)
                        : new S3Exception(S3Error.NOT_MODIFIED);
            }
        }
    }

    interface Header {
        String get(String name);
    }

    private static boolean matches(String header, String etag) {
        for (String t : header.split(",")) {
            String s = t.strip();
            if (s.startsWith("W/")) {
                s = s.substring(2);
            }
            if (s.equals("*") || s.replace("\"", "").equals(etag)) {
                return true;
            }
        }
        return false;
    }

    private static Long time(String v) {
        Instant t = HttpDates.parse(v);
        return t == null ? null : t.getEpochSecond(); // an unparseable date is ignored, as HTTP says
    }
}
