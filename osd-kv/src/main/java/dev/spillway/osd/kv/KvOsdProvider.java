package dev.spillway.osd.kv;

import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.spi.OsdProvider;
import java.util.Set;

/** Registers osd-kv as backend {@code kv}. */
public final class KvOsdProvider implements OsdProvider {
    @Override
    public String backend() {
        return "kv";
    }

    @Override
    public Set<String> settings() {
        return KvSettings.KEYS;
    }

    @Override
    public Osd open(OsdConfig config) throws OsdException {
        return KvOsd.open(config);
    }

    @Override
    public boolean mountsReadOnly() {
        return true;
    }
}
