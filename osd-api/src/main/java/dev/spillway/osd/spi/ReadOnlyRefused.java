package dev.spillway.osd.spi;

import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;

/**
 * A read-only mount ({@link OsdConfig#readOnly()}) refused because the device cannot show its
 * committed state without writing: for example a journal holding records that a replay would
 * apply to files a power loss may have left without them. Reading the files as they are would
 * show committed objects as missing or torn, so the device refuses (EROFS) rather than mislead;
 * the caller may mount it read-write instead (the pool's offline check does, and says so).
 */
public final class ReadOnlyRefused extends OsdException {
    private static final long serialVersionUID = 1L;

    public ReadOnlyRefused(String device, String detail) {
        super(Errno.EROFS, device, detail);
    }
}
