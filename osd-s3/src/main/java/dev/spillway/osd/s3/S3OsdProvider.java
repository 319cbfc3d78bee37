package dev.spillway.osd.s3;

import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.spi.OsdProvider;
import java.util.Set;

/** Registers osd-s3 as backend {@code s3}. */
public final class S3OsdProvider implements OsdProvider {
    @Override
    public String backend() {
        return "s3";
    }

    @Override
    public Set<String> settings() {
        return S3Settings.KEYS;
    }

    /** A read-only mount makes no request that writes: no format, no sweep, no counters flush. */
    @Override
    public boolean mountsReadOnly() {
        return true;
    }

    @Override
    public Osd open(OsdConfig config) throws OsdException {
        return new S3Osd(config);
    }
}
