package dev.spillway.osd.spi;

import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import java.util.Set;

/**
 * A backend, registered with {@link java.util.ServiceLoader} under
 * {@code META-INF/services/dev.spillway.osd.spi.OsdProvider} (as JDBC drivers and Lucene codecs
 * are), so that neither the pool nor the server names a backend class: they ask
 * {@link Osds#open} for the {@code backend:} of the YAML.
 */
public interface OsdProvider {
    /** The name used as {@code backend:} in configurations ({@code mem}, {@code kv}, …). */
    String backend();

    /** The settings this backend understands; any other key is an error naming it. */
    Set<String> settings();

    /**
     * Opens (mounts) a device. A persistent backend formats an empty or missing location and
     * refuses anything else that is not its own format, never reformatting silently.
     */
    Osd open(OsdConfig config) throws OsdException;

    /**
     * Whether {@link #open} honours {@link OsdConfig#readOnly()}: the mount writes nothing to the
     * device and refuses every change with EROFS. False by default, and then {@link Osds#open}
     * refuses a read-only open.
     */
    default boolean mountsReadOnly() {
        return false;
    }
}
