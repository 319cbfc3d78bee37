package dev.spillway.pool.config;

import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.spi.OsdConfig;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The {@code space:} section of a pool configuration: how the pool treats writers when its fast
 * tier is full.
 *
 * @param writerWait how long a client transaction waits for room on a full fast tier (in arrival
 *     order, while the daemon spills) before it fails with ENOSPC — an S3 PUT then gets
 *     {@code 503 SlowDown} with {@code Retry-After}; 0 waits not at all (one emergency spill on
 *     the writer's thread, one more try, then ENOSPC)
 */
public record SpaceConfig(Duration writerWait) {
    static final Set<String> KEYS = Set.of("writer-wait");

    public SpaceConfig {
        if (writerWait.isNegative()) {
            throw new IllegalArgumentException("writer-wait must not be negative");
        }
    }

    public static SpaceConfig defaults() {
        return new SpaceConfig(Duration.ofSeconds(5));
    }

    static SpaceConfig parse(Map<String, Object> m, String source) throws OsdException {
        for (String k : new TreeSet<>(m.keySet())) {
            if (!KEYS.contains(k)) {
                throw new OsdException(
                        Errno.EINVAL,
                        null,
                        "pool config " + source + ": space." + k + ": unknown key (known: " + new TreeSet<>(KEYS)
                                + ")");
            }
        }
        OsdConfig c = OsdConfig.of(source, "space", m);
        Duration wait = c.duration("writer-wait", defaults().writerWait());
        if (wait.isNegative()) {
            throw new OsdException(
                    Errno.EINVAL, null, "pool config " + source + ": space.writer-wait: must not be negative");
        }
        return new SpaceConfig(wait);
    }
}
