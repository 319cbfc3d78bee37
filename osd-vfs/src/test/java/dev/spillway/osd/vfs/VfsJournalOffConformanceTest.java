package dev.spillway.osd.vfs;

import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.spi.Osds;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * osd-vfs with {@code journal: off} on a real folder. Without TRANSACTIONS the suite skips the
 * rollback, isolation and serializability tests (reported as skipped, naming TRANSACTIONS), and
 * runs the "without transactions each update is visible at once" test instead; INDEX tests skip
 * because the device has no index objects.
 */
class VfsJournalOffConformanceTest extends dev.spillway.osd.testkit.OsdConformance {
    @Override
    protected Osd open(String name, Path location, long capacity) throws OsdException {
        Map<String, Object> s = new HashMap<>();
        s.put("path", location.toString());
        s.put("journal", "off");
        s.put("strict-declares", true);
        if (capacity > 0) {
            s.put("capacity", capacity);
        }
        return Osds.open(OsdConfig.of(name, "vfs", s));
    }

    @Override
    public boolean reopenable() {
        return true;
    }
}
