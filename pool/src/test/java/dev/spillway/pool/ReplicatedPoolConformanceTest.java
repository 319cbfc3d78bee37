package dev.spillway.pool;

import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.testkit.OsdConformance;
import java.nio.file.Path;

/** The conformance suite on a three-device pool with replicas = 2, everything spilled to both tiers. */
class ReplicatedPoolConformanceTest extends OsdConformance {
    @Override
    protected Osd open(String name, Path location, long capacity) throws OsdException {
        return new SpillEverything(PoolFixtures.mount(PoolFixtures.memMem(name, capacity, 2, 2)));
    }

    @Override
    protected void checkInvariants(Osd device) throws OsdException {
        super.checkInvariants(device);
        PoolFixtures.assertFsckClean(device);
    }
}
