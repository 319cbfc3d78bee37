package dev.spillway.gateway.s3.auth;

/**
 * A verified request: who signed it and what is needed to check the rest of its body
 * (chunk signatures chain from {@code seedSignature}).
 *
 * @param accessKey the signer, or null for an anonymous request
 * @param payloadMode how the body is protected
 * @param contentSha256 the hex SHA-256 the body must have in {@link PayloadMode#SIGNED} mode
 */
public record AuthResult(
        String accessKey,
        byte[] signingKey,
        String amzDate,
        String scope,
        String seedSignature,
        PayloadMode payloadMode,
        String contentSha256) {

    public static AuthResult anonymous(PayloadMode mode, String contentSha256) {
        return new AuthResult(null, null, null, null, null, mode, contentSha256);
    }
}
