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
import dev.spillway.pool.meta.PoolObject;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The conformance suite on a mem+mem pool with {@code space.write-around: always}: every new body
 * (an object created by the transaction that writes it, or still empty) is written to the
 * background device only, its metadata on the fast tier (docs/design.md, "Write-around"); reads
 * are served from the background copy, later writes recall the body first. After each test,
 * besides a clean deep fsck, no write-around job may be left in the work index.
 */
class WriteAroundPoolConformanceTest extends PoolConformance {
    @Override
    protected Osd open(String name, Path location, long capacity) throws OsdException {
        PoolOsd pool = mount(PoolFixtures.memMemAround(name, capacity, 1, "always"));
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
        assertThat(pool.jobs())
                .as("jobs left after the test")
                .noneMatch(j ->
                        j.kind().name().equals("SYNC_COPY") || j.kind().name().equals("WRITE_AROUND"));
        try (ObjectCursor c = pool.listObjects()) {
            while (c.next()) {
                Fid f = c.fid();
                if (pool.getAttr(f).kind() != ObjectKind.DATA) {
                    continue;
                }
                Optional<PoolObject> p = pool.object(f);
                assertThat(p).as("pool record of %s", f).isPresent();
            }
        }
    }
}
