package dev.spillway.gateway.s3.auth;

import java.util.Map;
import java.util.Optional;

/**
 * Where the gateway finds the secret key of an access key. The server keeps its generated keys
 * in a file; tests use {@link #of(Map)}.
 */
@FunctionalInterface
public interface CredentialStore {

    /** The secret key of {@code accessKey}, or empty if there is no such access key. */
    Optional<String> secretKey(String accessKey);

    /** A fixed set of access key → secret key. */
    static CredentialStore of(Map<String, String> keys) {
        Map<String, String> copy = Map.copyOf(keys);
        return ak -> Optional.ofNullable(copy.get(ak));
    }

    /** One access key. */
    static CredentialStore single(String accessKey, String secretKey) {
        return of(Map.of(accessKey, secretKey));
    }
}
