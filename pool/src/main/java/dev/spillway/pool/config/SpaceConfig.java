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
 * @param writeAround when a new body (an object created by the transaction, or one still empty)
 *     is written to a background device instead of the fast tier, only its metadata landing there
 *     (docs/design.md, "Write-around")
 */
public record SpaceConfig(Duration writerWait, WriteAround writeAround) {
    static final Set<String> KEYS = Set.of("writer-wait", "write-around");

    /** When a new body goes around the fast tier. */
    public enum WriteAround {
        /** Never: every body lands on the fast tier (writers wait for room there). */
        OFF("off"),
        /**
         * When the fast tier cannot give the transaction's body bytes now (it would wait for room),
         * or they would take it past the daemon's {@code policy.high-watermark}.
         */
        FULL("full"),
        /** Every eligible body (tests: the conformance suite and crash campaigns on that path). */
        ALWAYS("always");

        private final String word;

        WriteAround(String word) {
            this.word = word;
        }

        public String word() {
            return word;
        }

        static WriteAround parse(String s) {
            if (s.equals("false")) {
                return OFF; // YAML 1.1 reads a bare off as false
            }
            for (WriteAround w : values()) {
                if (w.word.equals(s)) {
                    return w;
                }
            }
            throw new IllegalArgumentException("'" + s + "' (known: off, full, always)");
        }
    }

    public SpaceConfig(Duration writerWait) {
        this(writerWait, WriteAround.OFF);
    }

    public SpaceConfig {
        if (writerWait.isNegative()) {
            throw new IllegalArgumentException("writer-wait must not be negative");
        }
        if (writeAround == null) {
            throw new IllegalArgumentException("write-around must be given");
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
        WriteAround around;
        try {
            around = WriteAround.parse(c.string("write-around", WriteAround.OFF.word()));
        } catch (IllegalArgumentException e) {
            throw new OsdException(
                    Errno.EINVAL, null, "pool config " + source + ": space.write-around: " + e.getMessage());
        }
        return new SpaceConfig(wait, around);
    }
}
