package dev.spillway.osd.spi;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/** Finds backends through {@link ServiceLoader} and opens devices by configuration. */
public final class Osds {
    private Osds() {}

    /** The registered backends by name. */
    public static Map<String, OsdProvider> providers() {
        Map<String, OsdProvider> m = new TreeMap<>();
        for (OsdProvider p : ServiceLoader.load(OsdProvider.class, Osds.class.getClassLoader())) {
            m.putIfAbsent(p.backend(), p);
        }
        return m;
    }

    /** The provider of {@code backend}, or EINVAL listing the known ones. */
    public static OsdProvider provider(String backend) throws OsdException {
        Map<String, OsdProvider> all = providers();
        OsdProvider p = all.get(backend);
        if (p == null) {
            throw new OsdException(
                    Errno.EINVAL,
                    null,
                    "no backend '" + backend + "' on the classpath (known: " + String.join(", ", all.keySet()) + ")");
        }
        return p;
    }

    /** Checks the settings' keys against the backend's and opens the device. */
    public static Osd open(OsdConfig config) throws OsdException {
        OsdProvider p = provider(config.backend());
        config.checkKnown(p.settings());
        if (config.readOnly() && !p.mountsReadOnly()) {
            throw new OsdException(
                    Errno.EROFS,
                    config.name(),
                    "backend " + p.backend() + " cannot mount a device read-only (setting '" + OsdConfig.READ_ONLY
                            + "')");
        }
        return p.open(config);
    }

    /** Whether the registered {@code backend} mounts read-only ({@link OsdProvider#mountsReadOnly()}). */
    public static boolean mountsReadOnly(String backend) {
        OsdProvider p = providers().get(backend);
        return p != null && p.mountsReadOnly();
    }
}
