package dev.spillway.pool;

import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.testkit.OsdConformance;
import java.nio.file.Path;

/** A pool of two osd-mem devices passes the whole conformance suite. */
class MemPoolConformanceTest extends OsdConformance {
    @Override
    protected Osd open(String name, Path location, long capacity) throws OsdException {
        return PoolFixtures.mount(PoolFixtures.memMem(name, capacity, 1, 1));
    }

    @Override
    protected void checkInvariants(Osd device) throws OsdException {
        super.checkInvariants(device);
        PoolFixtures.assertFsckClean(device);
    }
}
