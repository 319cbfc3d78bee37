package dev.spillway.gateway.s3.auth;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Where the gateway finds the secret key of an access key, and whose key it is. The server keeps
 * its credentials in a file (several, added with {@code spillway credentials add}); tests use
 * {@link #of(Map)} or {@link #users}.
 *
 * <p>A user is who owns buckets and objects and whom ACLs name: its id is the canonical user id
 * S3 shows ({@code <Owner><ID>}). A user may have several access keys (key rotation).
 */
@FunctionalInterface
public interface CredentialStore {
    /** A user: canonical id and display name. */
    record User(String id, String displayName) {}

    /** One access key of a user; {@code email} is the user's e-mail address (ACL grants by e-mail), or null. */
    record Credential(String accessKey, String secretKey, User user, String email) {
        public Credential(String accessKey, String secretKey, User user) {
            this(accessKey, secretKey, user, null);
        }
    }

    /** The id of the user the gateway had before it kept owners (single-credential stores). */
    String DEFAULT_USER = "spillway";

    /** The secret key of {@code accessKey}, or empty if there is no such access key. */
    Optional<String> secretKey(String accessKey);

    /**
     * The user {@code accessKey} belongs to (the gateway's one user unless the store knows
     * better), or null if the store has no such key — removed between the signature check and
     * this call: the request then counts as anonymous, never as another user.
     */
    default User user(String accessKey) {
        return new User(DEFAULT_USER, DEFAULT_USER);
    }

    /** The user with canonical id {@code id}, if there is one (ACL grants must name a known user). */
    default Optional<User> userById(String id) {
        return DEFAULT_USER.equals(id) ? Optional.of(new User(DEFAULT_USER, DEFAULT_USER)) : Optional.empty();
    }

    /** The user with e-mail address {@code email} (case-insensitive), if there is one. */
    default Optional<User> userByEmail(String email) {
        return Optional.empty();
    }

    /** The user that owns buckets created before the gateway kept owners: the first one. */
    default User firstUser() {
        return new User(DEFAULT_USER, DEFAULT_USER);
    }

    /** A fixed set of access key → secret key, all of the gateway's one user. */
    static CredentialStore of(Map<String, String> keys) {
        Map<String, String> copy = Map.copyOf(keys);
        return ak -> Optional.ofNullable(copy.get(ak));
    }

    /** One access key. */
    static CredentialStore single(String accessKey, String secretKey) {
        return of(Map.of(accessKey, secretKey));
    }

    /** Several credentials of several users, the first credential's user being the first user. */
    static CredentialStore users(List<Credential> credentials) {
        Map<String, Credential> byKey = new LinkedHashMap<>();
        Map<String, User> byId = new LinkedHashMap<>();
        Map<String, User> byEmail = new LinkedHashMap<>();
        for (Credential c : credentials) {
            byKey.put(c.accessKey(), c);
            byId.putIfAbsent(c.user().id(), c.user());
            if (c.email() != null) {
                byEmail.putIfAbsent(c.email().toLowerCase(Locale.ROOT), c.user());
            }
        }
        User first = credentials.isEmpty()
                ? new User(DEFAULT_USER, DEFAULT_USER)
                : credentials.get(0).user();
        return new CredentialStore() {
            @Override
            public Optional<String> secretKey(String accessKey) {
                return Optional.ofNullable(byKey.get(accessKey)).map(Credential::secretKey);
            }

            @Override
            public User user(String accessKey) {
                Credential c = byKey.get(accessKey);
                return c == null ? null : c.user();
            }

            @Override
            public Optional<User> userById(String id) {
                return Optional.ofNullable(byId.get(id));
            }

            @Override
            public Optional<User> userByEmail(String email) {
                return Optional.ofNullable(byEmail.get(email.strip().toLowerCase(Locale.ROOT)));
            }

            @Override
            public User firstUser() {
                return first;
            }
        };
    }
}
