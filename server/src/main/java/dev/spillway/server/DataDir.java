package dev.spillway.server;

import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The data folder of a Spillway server ({@code ./spillway-data} by default): the pool's
 * configuration, its devices' folders (for the embedded default pool), the credentials, the
 * multi-mount lock and the endpoint file through which the CLI finds the running server.
 */
public record DataDir(Path root) {

    public DataDir {
        root = root.toAbsolutePath().normalize();
    }

    public Path poolConfig() {
        return root.resolve("pool.yaml");
    }

    public Path credentials() {
        return root.resolve("credentials.json");
    }

    public Path lock() {
        return root.resolve("spillway.lock");
    }

    public Path endpoint() {
        return root.resolve("endpoint.json");
    }

    /** Exists once a start printed the credentials (after a failed first start, the next one prints them). */
    public Path credentialsShown() {
        return root.resolve("credentials.shown");
    }

    /** Creates an empty marker file and makes its name durable (folder fsync). */
    public static void touchDurably(Path file) throws OsdException {
        try {
            if (!Files.exists(file)) {
                Files.createFile(file);
            }
            try (var dir =
                    java.nio.channels.FileChannel.open(file.getParent(), java.nio.file.StandardOpenOption.READ)) {
                dir.force(true);
            }
        } catch (IOException e) {
            throw new OsdException(Errno.EIO, null, null, "cannot create " + file + ": " + e.getMessage(), e);
        }
    }

    public Path device(String name) {
        return root.resolve("devices").resolve(name);
    }

    /** Creates the folder if missing; a file in its place is an error naming it. */
    public boolean prepare() throws OsdException {
        if (Files.isDirectory(root)) {
            return false;
        }
        if (Files.exists(root)) {
            throw new OsdException(
                    Errno.EINVAL, null, null, "data folder " + root + " exists but is not a folder", null);
        }
        try {
            Files.createDirectories(root);
            return true;
        } catch (IOException e) {
            throw new OsdException(
                    Errno.EACCES, null, null, "cannot create data folder " + root + ": " + e.getMessage(), e);
        }
    }
}
