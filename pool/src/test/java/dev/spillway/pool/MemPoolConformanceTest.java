package dev.spillway.pool;

import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import java.nio.file.Path;

/** A pool of two osd-mem devices passes the whole conformance suite. */
class MemPoolConformanceTest extends PoolConformance {
    @Override
    protected Osd open(String name, Path location, long capacity) throws OsdException {
        return mount(PoolFixtures.memMem(name, capacity, 1, 1));
    }
}
