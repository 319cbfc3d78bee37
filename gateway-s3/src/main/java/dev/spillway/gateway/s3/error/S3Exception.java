package dev.spillway.gateway.s3.error;

import dev.spillway.osd.OsdException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A request that ends in an S3 error response. The message is what the client reads in
 * {@code <Message>}: it names the bucket, key or part and the cause, never a stack trace.
 */
public final class S3Exception extends Exception {
    private static final long serialVersionUID = 1L;

    private final S3Error error;
    // Headers the error response carries besides (x-amz-delete-marker, x-amz-version-id, Allow...).
    private final Map<String, String> headers = new LinkedHashMap<>();

    public S3Exception(S3Error error, String message) {
        super(message == null ? error.defaultMessage() : message);
        this.error = error;
    }

    public S3Exception(S3Error error, String message, Throwable cause) {
        super(message == null ? error.defaultMessage() : message, cause);
        this.error = error;
    }

    public S3Exception(S3Error error) {
        this(error, null);
    }

    /** A device failure as the client sees it, through {@link S3Error#forErrno}. */
    public static S3Exception of(OsdException e) {
        return new S3Exception(S3Error.forErrno(e.errno()), e.getMessage(), e);
    }

    public S3Error error() {
        return error;
    }

    /** Adds a header to the error response; returns this. */
    public S3Exception header(String name, String value) {
        headers.put(name, value);
        return this;
    }

    /** The headers the error response carries besides the usual ones. */
    public Map<String, String> headers() {
        return Collections.unmodifiableMap(headers);
    }
}
