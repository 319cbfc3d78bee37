package dev.spillway.pool;

import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import java.nio.file.Path;

/** The conformance suite on a three-device pool with replicas = 2, everything spilled to both tiers. */
class ReplicatedPoolConformanceTest extends PoolConformance {
    @Override
    protected Osd open(String name, Path location, long capacity) throws OsdException {
        return new SpillEverything(mount(PoolFixtures.memMem(name, capacity, 2, 2)));
    }
}
