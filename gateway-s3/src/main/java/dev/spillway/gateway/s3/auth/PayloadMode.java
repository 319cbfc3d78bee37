package dev.spillway.gateway.s3.auth;

/** How a request's body is protected, from its {@code x-amz-content-sha256}. */
public enum PayloadMode {
    /** The header is the hex SHA-256 of the body; checked once the body has been read. */
    SIGNED,
    /** {@code UNSIGNED-PAYLOAD}: the body is not covered by the signature. */
    UNSIGNED,
    /** {@code STREAMING-AWS4-HMAC-SHA256-PAYLOAD}: aws-chunked, each chunk signed. */
    STREAMING_SIGNED,
    /** {@code STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER}: signed chunks and a signed trailer. */
    STREAMING_SIGNED_TRAILER,
    /** {@code STREAMING-UNSIGNED-PAYLOAD-TRAILER}: aws-chunked, unsigned, with a trailing checksum. */
    STREAMING_UNSIGNED_TRAILER;

    public boolean chunked() {
        return this == STREAMING_SIGNED || this == STREAMING_SIGNED_TRAILER || this == STREAMING_UNSIGNED_TRAILER;
    }

    public boolean signedChunks() {
        return this == STREAMING_SIGNED || this == STREAMING_SIGNED_TRAILER;
    }

    public boolean trailer() {
        return this == STREAMING_SIGNED_TRAILER || this == STREAMING_UNSIGNED_TRAILER;
    }

    /** The mode named by an {@code x-amz-content-sha256} value, or null for a hex hash. */
    public static PayloadMode of(String contentSha256) {
        if (contentSha256 == null) {
            return null;
        }
        return switch (contentSha256) {
            case "UNSIGNED-PAYLOAD" -> UNSIGNED;
            case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" -> STREAMING_SIGNED;
            case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER" -> STREAMING_SIGNED_TRAILER;
            case "STREAMING-UNSIGNED-PAYLOAD-TRAILER" -> STREAMING_UNSIGNED_TRAILER;
            default -> SIGNED;
        };
    }
}
