package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.ObjectCursor;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.pool.meta.PoolObject;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The conformance suite on a pool with range-level spill (issue 20): after every transaction every
 * other 64 KiB extent of each body it touched (Lustre's smallest extent, so small bodies split into
 * many) is spilled as a range to one of three spill devices and released locally; reads split at
 * the extents, writes recall what they touch.
 */
class RangePoolConformanceTest extends PoolConformance {
    @Override
    protected Osd open(String name, Path location, long capacity) throws OsdException {
        return SpillEverything.splitting(mount(PoolFixtures.memMem(name, capacity, 1, 3)));
    }

    @Override
    protected void checkInvariants(Osd device) throws OsdException {
        super.checkInvariants(device);
        PoolOsd pool = ((SpillEverything) device).pool();
        try (ObjectCursor c = pool.listObjects()) {
            while (c.next()) {
                Optional<PoolObject> p = pool.object(c.fid());
                if (p.isPresent() && p.get().size() > 2 * 65536) {
                    assertThat(p.get().split(pool.metadataIndex()) || p.get().resident(pool.metadataIndex()))
                            .as("%s is split or resident", c.fid())
                            .isTrue();
                }
            }
        }
    }
}
