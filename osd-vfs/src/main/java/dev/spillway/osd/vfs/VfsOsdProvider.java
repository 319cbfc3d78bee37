package dev.spillway.osd.vfs;

import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.spi.OsdProvider;
import java.util.Set;

/** Registers osd-vfs as backend {@code vfs}. */
public final class VfsOsdProvider implements OsdProvider {
    @Override
    public String backend() {
        return VfsOsd.BACKEND;
    }

    @Override
    public Set<String> settings() {
        return VfsSettings.KEYS;
    }

    @Override
    public Osd open(OsdConfig config) throws OsdException {
        return VfsOsd.open(config);
    }

    @Override
    public boolean mountsReadOnly() {
        return true;
    }
}
