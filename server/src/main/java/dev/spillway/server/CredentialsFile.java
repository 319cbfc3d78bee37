package dev.spillway.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spillway.gateway.s3.auth.CredentialStore;
import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.spi.storage.Storage;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Every S3 credential of the pool, in {@code credentials.json}: the pool's own key at the top
 * level ({@code accessKey}/{@code secretKey}, as the file always had it: the admin API, the CLI
 * and user {@value CredentialStore#DEFAULT_USER}, who owns the buckets made before there were
 * users) and the keys {@code spillway credentials add} made under {@code users}, each with its
 * user (the canonical id S3 shows as {@code <Owner><ID>}; a user may hold several keys, for
 * rotation), an optional e-mail address (ACL grants by e-mail resolve to it) and when it was made.
 *
 * <p>Edits read, change and replace the file durably (temporary name, fsync, rename, fsync of the
 * folder) under an OS lock on {@code credentials.lock}, so two CLI edits at once cannot lose one;
 * the running server re-reads the file when it changes ({@link FileCredentialStore}).
 */
public final class CredentialsFile {
    static final String LOCK = "credentials.lock";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern USER = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
    private static final Pattern EMAIL = Pattern.compile("[^@\\s]+@[^@\\s]+");

    /** One access key: its secret, its user, the user's e-mail address (or null), when it was made (or null). */
    public record Entry(String accessKey, String secretKey, String user, String email, Instant created) {}

    private CredentialsFile() {}

    /** Every credential, the pool's own first. ENOENT if there is no credentials file yet. */
    public static List<Entry> load(DataDir dir) throws OsdException {
        byte[] b = dir.read(DataDir.CREDENTIALS)
                .orElseThrow(() -> new OsdException(
                        Errno.ENOENT,
                        null,
                        null,
                        "no credentials file " + dir.credentials()
                                + " (`spillway serve` or `spillway format` creates it)"));
        return parse(dir, b);
    }

    static List<Entry> parse(DataDir dir, byte[] b) throws OsdException {
        Credentials own = Credentials.parse(dir.credentials(), b);
        List<Entry> all = new ArrayList<>();
        all.add(new Entry(own.accessKey(), own.secretKey(), CredentialStore.DEFAULT_USER, null, null));
        JsonNode users;
        try {
            users = JSON.readTree(b).path("users");
        } catch (IOException e) {
            throw damaged(dir, e.getMessage());
        }
        if (users.isMissingNode() || users.isNull()) {
            return all;
        }
        if (!users.isArray()) {
            throw damaged(dir, "'users' is not a list");
        }
        for (JsonNode u : users) {
            String ak = u.path("accessKey").asText(null);
            String sk = u.path("secretKey").asText(null);
            String user = u.path("user").asText(null);
            if (ak == null || sk == null || user == null) {
                throw damaged(dir, "an entry of 'users' lacks accessKey, secretKey or user");
            }
            String email = u.path("email").asText(null);
            String created = u.path("created").asText(null);
            all.add(new Entry(ak, sk, user, email, created == null ? null : Instant.parse(created)));
        }
        return all;
    }

    private static OsdException damaged(DataDir dir, String why) {
        return new OsdException(
                Errno.EIO,
                null,
                null,
                "cannot read credentials " + dir.credentials() + ": " + why
                        + " (fix the file by hand; `spillway credentials list` checks it)",
                null);
    }

    /**
     * Adds a new access key for {@code user} (a new user, or another key of one that has keys)
     * and returns it. EINVAL for a user name S3 tools would choke on, an e-mail address another
     * user has, or an e-mail address that differs from the one the user already has.
     */
    public static Entry add(DataDir dir, String user, String email, Instant now, SecureRandom random)
            throws OsdException {
        String name = user.strip().toLowerCase(Locale.ROOT);
        if (!USER.matcher(name).matches()) {
            throw new OsdException(
                    Errno.EINVAL,
                    null,
                    null,
                    "user name '" + user + "': 1 to 64 of a-z 0-9 . _ -, starting with a letter or digit",
                    null);
        }
        if (email != null && !EMAIL.matcher(email).matches()) {
            throw new OsdException(Errno.EINVAL, null, null, "'" + email + "' is not an e-mail address", null);
        }
        return edit(dir, all -> {
            String have = null;
            for (Entry e : all) {
                if (e.email() != null
                        && email != null
                        && e.email().equalsIgnoreCase(email)
                        && !e.user().equals(name)) {
                    throw new OsdException(
                            Errno.EEXIST,
                            null,
                            null,
                            "e-mail address " + email + " belongs to user " + e.user() + " already",
                            null);
                }
                if (e.user().equals(name) && e.email() != null) {
                    have = e.email();
                }
            }
            if (have != null && email != null && !have.equalsIgnoreCase(email)) {
                throw new OsdException(
                        Errno.EINVAL,
                        null,
                        null,
                        "user " + name + " has e-mail address " + have + "; a new key keeps it (omit --email)",
                        null);
            }
            Credentials fresh;
            do {
                fresh = Credentials.generate(random);
            } while (find(all, fresh.accessKey()).isPresent());
            Entry e = new Entry(fresh.accessKey(), fresh.secretKey(), name, email != null ? email : have, now);
            all.add(e);
            return e;
        });
    }

    /**
     * Removes access key {@code accessKey}; returns the removed entry. ENOENT for an unknown key;
     * EPERM for the pool's own key (the admin API and the CLI authenticate with it).
     */
    public static Entry remove(DataDir dir, String accessKey) throws OsdException {
        return edit(dir, all -> {
            Entry e = find(all, accessKey)
                    .orElseThrow(() -> new OsdException(
                            Errno.ENOENT,
                            null,
                            null,
                            "no access key " + accessKey + " in " + dir.credentials()
                                    + " (`spillway credentials list` shows them)",
                            null));
            if (e == all.get(0)) {
                throw new OsdException(
                        Errno.EPERM,
                        null,
                        null,
                        "access key " + accessKey
                                + " is the pool's own (the admin API and the CLI use it); it cannot be removed",
                        null);
            }
            all.remove(e);
            return e;
        });
    }

    static Optional<Entry> find(List<Entry> all, String accessKey) {
        return all.stream().filter(e -> e.accessKey().equals(accessKey)).findFirst();
    }

    @FunctionalInterface
    private interface Change<T> {
        T apply(List<Entry> all) throws OsdException;
    }

    private static <T> T edit(DataDir dir, Change<T> change) throws OsdException {
        // The OS lock keeps other processes out; Java refuses a second lock of one file inside
        // one JVM (OverlappingFileLockException), so threads of this one queue on the class.
        synchronized (CredentialsFile.class) {
            return editLocked(dir, change);
        }
    }

    private static <T> T editLocked(DataDir dir, Change<T> change) throws OsdException {
        try (FileChannel ch = FileChannel.open(
                        dir.root().resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock ignored = ch.lock()) {
            List<Entry> all = new ArrayList<>(load(dir));
            T result = change.apply(all);
            dir.write(DataDir.CREDENTIALS, encode(all), Storage.Access.OWNER_ONLY);
            return result;
        } catch (IOException e) {
            throw new OsdException(
                    Errno.EIO, null, null, "cannot lock " + dir.root().resolve(LOCK) + ": " + e.getMessage(), e);
        }
    }

    static byte[] encode(List<Entry> all) {
        ObjectNode n = JSON.createObjectNode();
        n.put("accessKey", all.get(0).accessKey());
        n.put("secretKey", all.get(0).secretKey());
        if (all.size() > 1) {
            ArrayNode users = n.putArray("users");
            for (Entry e : all.subList(1, all.size())) {
                ObjectNode u = users.addObject();
                u.put("accessKey", e.accessKey());
                u.put("secretKey", e.secretKey());
                u.put("user", e.user());
                if (e.email() != null) {
                    u.put("email", e.email());
                }
                if (e.created() != null) {
                    u.put("created", e.created().toString());
                }
            }
        }
        try {
            return (JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n) + "\n")
                    .getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode credentials", e);
        }
    }

    /** The gateway's view of {@code all}: every key with its user, the pool's own user first. */
    public static CredentialStore store(List<Entry> all) {
        List<CredentialStore.Credential> cs = new ArrayList<>();
        for (Entry e : all) {
            cs.add(new CredentialStore.Credential(
                    e.accessKey(), e.secretKey(), new CredentialStore.User(e.user(), e.user()), e.email()));
        }
        return CredentialStore.users(cs);
    }
}
