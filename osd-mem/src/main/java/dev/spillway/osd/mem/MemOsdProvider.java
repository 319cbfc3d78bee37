package dev.spillway.osd.mem;

import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.spi.OsdProvider;
import java.util.Set;

/** Registers osd-mem as backend {@code mem}. */
public final class MemOsdProvider implements OsdProvider {
    @Override
    public String backend() {
        return "mem";
    }

    @Override
    public Set<String> settings() {
        return MemOsd.SETTINGS;
    }

    @Override
    public Osd open(OsdConfig config) throws OsdException {
        return new MemOsd(config);
    }
}
