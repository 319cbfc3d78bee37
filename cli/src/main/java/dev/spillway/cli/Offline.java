package dev.spillway.cli;

import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.server.DataDir;
import dev.spillway.server.PoolLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;

/**
 * Work on an unmounted pool, for the commands that make sense offline (format, fsck): takes the
 * pool's multi-mount lock (refused, naming the holder, if a server runs), mounts, works, unmounts.
 */
final class Offline implements AutoCloseable {
    private final PoolLock lock;
    final PoolOsd pool;

    private Offline(PoolLock lock, PoolOsd pool) {
        this.lock = lock;
        this.pool = pool;
    }

    static PoolConfig config(DataDir dir, Path config, String fastCapacity, boolean create) throws OsdException {
        if (config != null) {
            return PoolConfigParser.parse(config);
        }
        if (!create && !Files.exists(dir.poolConfig())) {
            throw new OsdException(
                    Errno.ENOENT,
                    null,
                    null,
                    "no pool in " + dir.root() + " (no " + dir.poolConfig().getFileName()
                            + "); `spillway format` or `spillway serve` creates one",
                    null);
        }
        return PoolConfigParser.parse(
                dir.poolConfigText(fastCapacity), dir.poolConfig().toString());
    }

    static Offline open(DataDir dir, Path config, String purpose, boolean create) throws OsdException {
        return open(dir, config, purpose, create, PoolOsd.MountMode.RECOVER);
    }

    /**
     * As {@link #open(DataDir, Path, String, boolean)}, mounting in {@code mode}: {@code CHECK}
     * for a read-only check, which recovers nothing and writes nothing (so it never needs space).
     */
    static Offline open(DataDir dir, Path config, String purpose, boolean create, PoolOsd.MountMode mode)
            throws OsdException {
        if (create) {
            dir.prepare();
        }
        PoolLock lock = PoolLock.acquire(dir.lock(), purpose, Duration.ofSeconds(2));
        try {
            PoolConfig c = config(dir, config, "256MiB", create);
            return new Offline(lock, PoolOsd.mount(c, InstantSource.system(), mode));
        } catch (OsdException | RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    @Override
    public void close() throws OsdException {
        try {
            pool.close();
        } finally {
            lock.close();
        }
    }
}
