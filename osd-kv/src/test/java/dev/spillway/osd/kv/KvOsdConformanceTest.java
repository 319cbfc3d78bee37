package dev.spillway.osd.kv;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.spi.Osds;
import dev.spillway.osd.testkit.OsdConformance;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** osd-kv passes the whole conformance suite, reopen tests included. */
class KvOsdConformanceTest extends OsdConformance {
    @Override
    protected Osd open(String name, Path location, long capacity) throws OsdException {
        Map<String, Object> s = new HashMap<>();
        s.put("path", location.toString());
        s.put("strict-declares", true);
        s.put("block-cache", "8MiB");
        if (capacity > 0) {
            s.put("capacity", capacity);
        }
        return Osds.open(OsdConfig.of(name, "kv", s));
    }

    @Override
    protected void checkInvariants(Osd device) throws OsdException {
        super.checkInvariants(device);
        assertThat(((KvOsd) device).fsck()).as("fsck of %s", device).isEmpty();
    }

    @Override
    public boolean reopenable() {
        return true;
    }
}
