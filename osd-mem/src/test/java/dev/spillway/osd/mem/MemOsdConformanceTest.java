package dev.spillway.osd.mem;

import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.spi.Osds;
import dev.spillway.osd.testkit.OsdConformance;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** osd-mem passes the whole conformance suite; it is volatile, so the reopen tests skip. */
class MemOsdConformanceTest extends OsdConformance {
    @Override
    protected Osd open(String name, Path location, long capacity) throws OsdException {
        Map<String, Object> s = new HashMap<>();
        s.put("strict-declares", true);
        if (capacity > 0) {
            s.put("capacity", capacity);
        }
        return Osds.open(OsdConfig.of(name, "mem", s));
    }
}
