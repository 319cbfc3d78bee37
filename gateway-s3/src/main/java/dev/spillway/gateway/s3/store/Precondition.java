package dev.spillway.gateway.s3.store;

import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.naming.Names;
import dev.spillway.gateway.s3.store.Records.KeyRecord;
import java.util.Optional;

/**
 * A conditional write (PUT or CompleteMultipartUpload with If-Match / If-None-Match): checked
 * against the key's current record inside the transaction that replaces it, so two writers
 * racing with {@code If-None-Match: *} cannot both succeed.
 *
 * @param ifMatch the If-Match header, or null
 * @param ifNoneMatch the If-None-Match header, or null
 */
public record Precondition(String ifMatch, String ifNoneMatch) {
    /** No condition. */
    public static final Precondition NONE = new Precondition(null, null);

    public boolean isNone() {
        return ifMatch == null && ifNoneMatch == null;
    }

    /**
     * Checks the condition against the key's current record (a delete marker counts as no object).
     *
     * @throws S3Exception PreconditionFailed (412), or NoSuchKey (404) for If-Match on a key that
     *     has no object, as S3 answers
     */
    public void check(Optional<KeyRecord> current, String bucket, byte[] key) throws S3Exception {
        KeyRecord cur = current.filter(r -> !r.deleteMarker()).orElse(null);
        if (ifNoneMatch != null && cur != null && matches(ifNoneMatch, cur.etag())) {
            throw new S3Exception(
                    S3Error.PRECONDITION_FAILED,
                    "At least one of the pre-conditions you specified did not hold: If-None-Match " + ifNoneMatch
                            + " and " + bucket + "/" + Names.show(key) + " exists with ETag \"" + cur.etag() + "\"");
        }
        if (ifMatch != null) {
            if (cur == null) {
                throw new S3Exception(
                        S3Error.NO_SUCH_KEY,
                        "The specified key does not exist: " + bucket + "/" + Names.show(key)
                                + " (the write said If-Match " + ifMatch + ")");
            }
            if (!matches(ifMatch, cur.etag())) {
                throw new S3Exception(
                        S3Error.PRECONDITION_FAILED,
                        "At least one of the pre-conditions you specified did not hold: If-Match " + ifMatch
                                + " vs ETag \"" + cur.etag() + "\" of " + bucket + "/" + Names.show(key));
            }
        }
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
}
