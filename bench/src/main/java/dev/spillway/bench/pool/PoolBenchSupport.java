package dev.spillway.bench.pool;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.InstantSource;

/** The kv+vfs pool the pool benchmarks run on, in a folder of the filesystem under test. */
final class PoolBenchSupport {
    private PoolBenchSupport() {}

    static PoolConfig kvVfs(Path dir, String name) throws OsdException {
        return kvVfs(dir, name, null);
    }

    /** As {@link #kvVfs(Path, String)}, the fast device capped at {@code fastCapacity} (null: no cap). */
    static PoolConfig kvVfs(Path dir, String name, String fastCapacity) throws OsdException {
        return PoolConfigParser.parse(
                """
                name: %s
                devices:
                  - name: fast
                    backend: kv
                    roles: [metadata, foreground, promote]
                    settings: {path: %s%s}
                  - name: slow
                    backend: vfs
                    roles: [background]
                    settings: {path: %s, journal: "off"}
                """.formatted(
                                name,
                                dir.resolve("fast"),
                                fastCapacity == null ? "" : ", capacity: " + fastCapacity,
                                dir.resolve("slow")),
                name);
    }

    static PoolOsd mount(PoolConfig c, PoolOsd.MountMode mode) throws OsdException {
        return PoolOsd.mount(c, InstantSource.system(), mode);
    }

    /** Creates {@code fid} with {@code body} in one durable transaction. */
    static void put(PoolOsd pool, Fid fid, ByteBuffer body, boolean sync) throws OsdException {
        try (Transaction tx = pool.newTransaction()) {
            tx.declareCreate(fid, ObjectKind.DATA);
            tx.declareWrite(fid, 0, body.remaining());
            tx.setSync(sync);
            tx.start();
            tx.create(fid, ObjectKind.DATA, AttrChange.none());
            tx.write(fid, 0, body);
        }
    }

    static void destroy(PoolOsd pool, Fid fid) throws OsdException {
        try (Transaction tx = pool.newTransaction()) {
            tx.declareDestroy(fid);
            tx.start();
            tx.destroy(fid);
        }
    }
}
