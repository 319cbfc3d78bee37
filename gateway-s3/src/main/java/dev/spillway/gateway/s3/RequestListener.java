package dev.spillway.gateway.s3;

/**
 * Told about every S3 request the gateway answered: what it was, how it ended and how long it
 * took (from the request's arrival to the end of the answer). The server counts them for its
 * metrics and status page. Called on the request's own thread; must be quick and never throw.
 */
@FunctionalInterface
public interface RequestListener {
    RequestListener NONE = (operation, status, nanos) -> {};

    /**
     * @param operation the S3 operation, e.g. {@code GetObject}, {@code PutObject},
     *     {@code UploadPart}, {@code ListObjects}; {@code unknown} if the request could not be parsed
     * @param status the HTTP status sent
     * @param nanos the time taken
     */
    void request(String operation, int status, long nanos);
}
