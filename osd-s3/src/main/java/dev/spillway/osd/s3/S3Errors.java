package dev.spillway.osd.s3;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import java.net.SocketTimeoutException;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;

/**
 * The one table from S3 errors (after the SDK's retries) to the OSD's errno codes. The message
 * names the device, the object, the key, what was being done, the HTTP status, the S3 error code,
 * the request ids and how many attempts were made, so a storage engineer can take it to the
 * object store's logs.
 */
final class S3Errors {
    private S3Errors() {}

    static Errno errnoOf(int status, String code) {
        String c = code == null ? "" : code;
        switch (c) {
            case "NoSuchKey", "NoSuchBucket", "NotFound":
                return Errno.ENOENT;
            case "AccessDenied",
                    "InvalidAccessKeyId",
                    "SignatureDoesNotMatch",
                    "AllAccessDisabled",
                    "AccountProblem",
                    "InvalidObjectState",
                    "ExpiredToken",
                    "InvalidToken":
                return Errno.EACCES;
            case "EntityTooLarge":
                return Errno.EFBIG;
            case "MetadataTooLarge":
                return Errno.E2BIG;
            case "KeyTooLongError":
                return Errno.ENAMETOOLONG;
            case "QuotaExceeded", "XMinioStorageFull", "InsufficientStorage", "ServiceQuotaExceeded":
                return Errno.ENOSPC;
            case "PreconditionFailed":
                return Errno.ESTALE;
            case "InvalidArgument",
                    "InvalidRequest",
                    "EntityTooSmall",
                    "InvalidPart",
                    "InvalidPartOrder",
                    "InvalidDigest",
                    "BadDigest",
                    "InvalidRange",
                    "MalformedXML",
                    "InvalidBucketName":
                return Errno.EINVAL;
            default:
                break;
        }
        if (status == 404) {
            return Errno.ENOENT;
        }
        if (status == 401 || status == 403) {
            return Errno.EACCES;
        }
        if (status == 412) {
            return Errno.ESTALE;
        }
        if (status == 507) {
            return Errno.ENOSPC;
        }
        if (status == 501) {
            return Errno.EOPNOTSUPP;
        }
        // Throttling (503 SlowDown, 429) and server errors that outlived the retries, and
        // anything else the server said: the device failed.
        return Errno.EIO;
    }

    /** {@code e} as an OsdException of {@code device}, about {@code fid} (may be null) and {@code key}. */
    static OsdException map(SdkException e, String device, Fid fid, String key, String what) {
        Integer attempts = e.numAttempts();
        String tries = attempts == null ? "" : ", " + attempts + (attempts == 1 ? " attempt" : " attempts");
        if (e instanceof AwsServiceException s) {
            String code =
                    s.awsErrorDetails() == null ? null : s.awsErrorDetails().errorCode();
            Errno errno = errnoOf(s.statusCode(), code);
            String detail = what + " " + key + ": HTTP " + s.statusCode() + " "
                    + (code == null ? "(no S3 error code)" : code)
                    + (s.awsErrorDetails() != null && s.awsErrorDetails().errorMessage() != null
                            ? " (" + s.awsErrorDetails().errorMessage() + ")"
                            : "")
                    + ", request id " + s.requestId()
                    + (s.extendedRequestId() != null ? " / " + s.extendedRequestId() : "") + tries;
            return new OsdException(errno, device, fid, detail, e);
        }
        boolean timeout = e instanceof ApiCallTimeoutException
                || e instanceof ApiCallAttemptTimeoutException
                || causedBy(e, SocketTimeoutException.class);
        String cause = rootMessage(e);
        if (timeout) {
            return new OsdException(
                    Errno.ETIMEDOUT, device, fid, what + " " + key + ": timed out (" + cause + ")" + tries, e);
        }
        String kind = e instanceof SdkClientException ? "no answer from the object store" : "SDK error";
        return new OsdException(Errno.EIO, device, fid, what + " " + key + ": " + kind + " (" + cause + ")" + tries, e);
    }

    private static boolean causedBy(Throwable e, Class<? extends Throwable> c) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (c.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String m = t.getMessage();
        return t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }
}
