package dev.spillway.pool;

import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import java.nio.file.Path;

/**
 * The conformance suite on a mem+mem pool where every object is spilled after every
 * transaction: reads are served from the spill device (checksummed), writes recall first.
 */
class SpilledPoolConformanceTest extends PoolConformance {
    @Override
    protected Osd open(String name, Path location, long capacity) throws OsdException {
        return new SpillEverything(mount(PoolFixtures.memMem(name, capacity, 1, 1)));
    }
}
