package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectCursor;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.filter.FilterOsd;
import dev.spillway.osd.filter.FilterTransaction;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.PoolObject;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The conformance suite on a three-device pool with {@code replicas: 2} and {@code write-commit:
 * sync 2}: every write is acknowledged only once its body is durable on the fast device and on a
 * background device. Garbage is collected after each transaction, as the daemon would. After each test, besides a clean deep fsck, every DATA object must hold two
 * in-sync copies of its current version on distinct devices (nothing spills here, so nothing
 * else could have made them).
 */
class SyncCommitPoolConformanceTest extends PoolConformance {
    @Override
    protected Osd open(String name, Path location, long capacity) throws OsdException {
        PoolOsd pool = mount(PoolFixtures.memMem(name, capacity, 2, 2, "sync 2"));
        // Copies a destroy or a rewrite leaves are garbage the daemon collects; it runs after each
        // transaction here, so that the space contracts see what the daemon would give back.
        return new FilterOsd(pool) {
            @Override
            protected Transaction wrap(Transaction tx) {
                return new FilterTransaction(tx) {
                    private boolean stopped;

                    @Override
                    public void stop() throws OsdException {
                        stopped = true;
                        super.stop();
                        pool.migrator().collectGarbage();
                    }

                    @Override
                    public void close() throws OsdException {
                        if (!stopped) {
                            stop();
                        }
                    }
                };
            }
        };
    }

    @Override
    protected void checkInvariants(Osd device) throws OsdException {
        super.checkInvariants(device);
        Osd o = device;
        while (o instanceof FilterOsd f) {
            o = f.delegate();
        }
        PoolOsd pool = (PoolOsd) o;
        try (ObjectCursor c = pool.listObjects()) {
            while (c.next()) {
                Fid f = c.fid();
                if (pool.getAttr(f).kind() != ObjectKind.DATA) {
                    continue;
                }
                Optional<PoolObject> p = pool.object(f);
                assertThat(p).as("pool record of %s", f).isPresent();
                long devices = p.get().inSync().stream()
                        .filter(x -> x.version() == p.get().dataVersion())
                        .mapToInt(Copy::device)
                        .distinct()
                        .count();
                assertThat(devices)
                        .as("in-sync copies of %s under write-commit sync 2: %s", f, p.get())
                        .isGreaterThanOrEqualTo(2);
            }
        }
    }
}
