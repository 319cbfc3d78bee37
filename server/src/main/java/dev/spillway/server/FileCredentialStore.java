package dev.spillway.server;

import dev.spillway.gateway.s3.auth.CredentialStore;
import dev.spillway.osd.OsdException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running server's credentials: {@code credentials.json} as {@code spillway credentials
 * add|remove} last left it. Every lookup compares the file's identity (inode, modification time,
 * size) with the one it last read — one stat — and re-reads it when it changed, so a key added
 * works on the next request and a removed one is refused from the next request on, without a
 * restart. Every edit replaces the file by a rename, so its inode changes even within one tick
 * of the modification clock. A file that cannot be read (edited by hand into something broken)
 * keeps the last good set in force, with an error in the log naming the file.
 */
final class FileCredentialStore implements CredentialStore {
    private static final Logger LOG = LoggerFactory.getLogger(FileCredentialStore.class);

    private record Snapshot(Object identity, CredentialStore store) {}

    private final DataDir dir;
    // Replaced whole (never mutated): requests read it without a lock; a reload racing another
    // reload of the same file state installs an equal snapshot.
    private volatile Snapshot current;

    FileCredentialStore(DataDir dir) throws OsdException {
        this.dir = dir;
        Object id = identity();
        this.current = new Snapshot(id, CredentialsFile.store(CredentialsFile.load(dir)));
    }

    private Object identity() {
        try {
            BasicFileAttributes a = Files.readAttributes(dir.credentials(), BasicFileAttributes.class);
            return List.of(
                    Objects.requireNonNullElse(a.fileKey(), "?"),
                    a.lastModifiedTime().toInstant(),
                    a.size());
        } catch (IOException e) {
            return "missing";
        }
    }

    private CredentialStore store() {
        Snapshot s = current;
        Object id = identity();
        if (id.equals(s.identity())) {
            return s.store();
        }
        try {
            Snapshot fresh = new Snapshot(id, CredentialsFile.store(CredentialsFile.load(dir)));
            current = fresh;
            LOG.info("credentials reloaded from {}", dir.credentials());
            return fresh.store();
        } catch (OsdException e) {
            LOG.error("{}; the credentials read before stay in force", e.getMessage());
            current = new Snapshot(id, s.store());
            return s.store();
        }
    }

    @Override
    public Optional<String> secretKey(String accessKey) {
        return store().secretKey(accessKey);
    }

    @Override
    public User user(String accessKey) {
        return store().user(accessKey);
    }

    @Override
    public Optional<User> userById(String id) {
        return store().userById(id);
    }

    @Override
    public Optional<User> userByEmail(String email) {
        return store().userByEmail(email);
    }

    @Override
    public User firstUser() {
        return store().firstUser();
    }
}
