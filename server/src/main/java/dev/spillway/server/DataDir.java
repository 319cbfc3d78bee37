package dev.spillway.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.spi.storage.Storage;
import dev.spillway.osd.spi.storage.posix.PosixNative;
import dev.spillway.osd.spi.storage.posix.PosixStorage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data folder of a Spillway server ({@code ./spillway-data} by default): the pool's
 * configuration, its devices' folders (for the embedded default pool), the credentials, the
 * multi-mount lock and the endpoint file through which the CLI finds the running server.
 *
 * <p>Its small files are read and written through {@code files}, a {@link Storage} rooted at
 * the folder (a POSIX one; a fault-injecting one in crash tests).
 *
 * @param root the folder
 * @param files the folder's files
 */
public record DataDir(Path root, Storage files) {
    static final String POOL_CONFIG = "pool.yaml";
    static final String CREDENTIALS = "credentials.json";
    static final String LOCK = "spillway.lock";
    static final String ENDPOINT = "endpoint.json";
    static final String CREDENTIALS_SHOWN = "credentials.shown";
    /** The status page's event history. */
    public static final String EVENTS = "events.json";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Logger LOG = LoggerFactory.getLogger(DataDir.class);

    public DataDir {
        root = root.toAbsolutePath().normalize();
    }

    /** The data folder at {@code root}, on the local filesystem. */
    public DataDir(Path root) {
        this(
                root,
                new PosixStorage(
                        root, new PosixNative.Unavailable("a data folder needs no punch, seek or block counts")));
    }

    public Path poolConfig() {
        return root.resolve(POOL_CONFIG);
    }

    public Path credentials() {
        return root.resolve(CREDENTIALS);
    }

    public Path lock() {
        return root.resolve(LOCK);
    }

    public Path endpoint() {
        return root.resolve(ENDPOINT);
    }

    /** Exists once a start printed the credentials (after a failed first start, the next one prints them). */
    public Path credentialsShown() {
        return root.resolve(CREDENTIALS_SHOWN);
    }

    /** Marks that a start printed the credentials (durably, as every file here is written). */
    public void markCredentialsShown() throws OsdException {
        write(CREDENTIALS_SHOWN, "shown\n".getBytes(StandardCharsets.UTF_8));
    }

    public Path device(String name) {
        return root.resolve("devices").resolve(name);
    }

    private OsdException io(Errno errno, String doing, IOException e) {
        return new OsdException(errno, null, null, "cannot " + doing + ": " + e.getMessage(), e);
    }

    /** Creates the folder if missing; a file in its place is an error naming it. True if created. */
    public boolean prepare() throws OsdException {
        try {
            switch (files.type("")) {
                case DIRECTORY -> {
                    return false;
                }
                case MISSING -> {}
                default ->
                    throw new OsdException(
                            Errno.EINVAL, null, null, "data folder " + root + " exists but is not a folder", null);
            }
            if (!Files.isDirectory(root.getParent())) {
                Files.createDirectories(root.getParent());
            }
            files.createDirectory("");
            return true;
        } catch (IOException e) {
            throw io(Errno.EACCES, "create data folder " + root, e);
        }
    }

    /** True if the folder holds a credentials file. */
    public boolean hasCredentials() throws OsdException {
        return read(CREDENTIALS).isPresent();
    }

    /**
     * The content of {@code name}, or empty if it does not exist — or if it is empty or all
     * zeros: what a power cut during its first write could leave before every file here was
     * written the durable way (temporary name, fsync, rename, fsync of the folder).
     */
    public Optional<byte[]> read(String name) throws OsdException {
        try {
            if (files.type(name) == Storage.EntryType.MISSING) {
                return Optional.empty();
            }
            byte[] b = files.readFully(name);
            if (blank(b)) {
                LOG.warn(
                        "{} is empty (left by a crash while it was first written); treated as absent",
                        root.resolve(name));
                return Optional.empty();
            }
            return Optional.of(b);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw io(Errno.EIO, "read " + root.resolve(name), e);
        }
    }

    private static boolean blank(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    /** Replaces {@code name} durably: temporary name, fsync, rename, fsync of the folder. */
    public void write(String name, byte[] content) throws OsdException {
        write(name, content, Storage.Access.DEFAULT);
    }

    /** Replaces the pool configuration durably (a resize keeps the new capacity this way). */
    public void writePoolConfig(String yaml) throws OsdException {
        write(POOL_CONFIG, yaml.getBytes(StandardCharsets.UTF_8));
    }

    /** The pool configuration's text, if the file exists. */
    public Optional<String> readPoolConfig() throws OsdException {
        return read(POOL_CONFIG).map(b -> new String(b, StandardCharsets.UTF_8));
    }

    /** {@link #write(String, byte[])} creating the file with {@code access}. */
    void write(String name, byte[] content, Storage.Access access) throws OsdException {
        try {
            files.replaceDurably(name, content, access);
        } catch (IOException e) {
            throw io(Errno.EIO, "write " + root.resolve(name), e);
        }
    }

    /** The pool configuration's text, writing the embedded default pool's first if there is none. */
    public String poolConfigText(String fastCapacity) throws OsdException {
        Optional<byte[]> have = read(POOL_CONFIG);
        if (have.isPresent()) {
            return new String(have.get(), StandardCharsets.UTF_8);
        }
        String yaml = DefaultPool.yaml(this, fastCapacity);
        write(POOL_CONFIG, yaml.getBytes(StandardCharsets.UTF_8), Storage.Access.DEFAULT);
        return yaml;
    }

    /** Publishes where the running server listens, for the CLI. */
    public void writeEndpoint(Map<String, Object> endpoints) throws OsdException {
        try {
            write(
                    ENDPOINT,
                    (JSON.writerWithDefaultPrettyPrinter().writeValueAsString(endpoints) + "\n")
                            .getBytes(StandardCharsets.UTF_8),
                    Storage.Access.DEFAULT);
        } catch (JsonProcessingException e) {
            throw new OsdException(Errno.EINVAL, null, null, "cannot encode " + endpoint() + ": " + e, e);
        }
    }

    /**
     * What the endpoint file says, or empty if there is none (no server running). A file that is
     * not a JSON object (damaged: it is only a hint, rewritten by every start) counts as none.
     */
    public Optional<JsonNode> readEndpoint() throws OsdException {
        Optional<byte[]> b = read(ENDPOINT);
        if (b.isEmpty()) {
            return Optional.empty();
        }
        try {
            JsonNode n = JSON.readTree(b.get());
            if (n != null && n.isObject()) {
                return Optional.of(n);
            }
        } catch (IOException e) {
            // damaged: as good as none
        }
        LOG.warn("{} is damaged; ignoring it (a running server rewrites it at start)", endpoint());
        return Optional.empty();
    }

    /** Removes the endpoint file (the server stopped); a stale one only makes the CLI try a dead address. */
    public void removeEndpoint() {
        try {
            files.deleteIfExists(ENDPOINT);
        } catch (IOException ignored) {
            // A stale endpoint file only makes the CLI try a dead address and say so.
        }
    }
}
