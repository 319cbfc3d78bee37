package dev.spillway.osd.vfs;

import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.spi.Osds;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * osd-vfs with {@code journal: on} on a real folder, with small journal segments (so checkpoints
 * and log truncation run during the suite) and a small inline limit (so large bodies take the
 * staging path). Only the INDEX tests skip.
 */
class VfsJournalOnConformanceTest extends dev.spillway.osd.testkit.OsdConformance {
    @Override
    protected Osd open(String name, Path location, long capacity) throws OsdException {
        Map<String, Object> s = new HashMap<>();
        s.put("path", location.toString());
        s.put("journal", "on");
        s.put("journal-segment-size", "256KiB");
        s.put("journal-inline-limit", "64KiB");
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
