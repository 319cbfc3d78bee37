package dev.spillway.gateway.s3.error;

import java.io.IOException;

/**
 * Carries an {@link S3Exception} through {@link java.io.InputStream} methods (a bad chunk
 * signature, a truncated aws-chunked body), so the code copying the body can answer with the
 * right S3 error instead of a generic I/O failure.
 */
public final class S3StreamException extends IOException {
    private static final long serialVersionUID = 1L;

    public S3StreamException(S3Exception cause) {
        super(cause.getMessage(), cause);
    }

    public S3Exception s3() {
        return (S3Exception) getCause();
    }
}
