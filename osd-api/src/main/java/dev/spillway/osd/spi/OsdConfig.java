package dev.spillway.osd.spi;

import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A device's configuration: its name, its backend and the backend's settings as they come from
 * YAML (strings, numbers, booleans), with typed getters whose errors name the device and the key.
 *
 * @param name the device's name (prefixes its error messages)
 * @param backend the registered backend name
 * @param settings the backend's settings
 * @param clock the time source for attribute times (tests inject a fixed one)
 */
public record OsdConfig(String name, String backend, Map<String, Object> settings, InstantSource clock) {

    /**
     * The common setting that mounts a device read-only ({@link #readOnly()}); the pool sets it
     * for an offline check ({@code fsck} without repair), never a configuration.
     */
    public static final String READ_ONLY = "read-only";

    /** Settings every backend understands. */
    public static final Set<String> COMMON_KEYS = Set.of("strict-declares", READ_ONLY);

    public OsdConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(backend, "backend");
        settings = Map.copyOf(settings == null ? Map.of() : settings);
        clock = clock == null ? InstantSource.system() : clock;
    }

    public static OsdConfig of(String name, String backend, Map<String, Object> settings) {
        return new OsdConfig(name, backend, settings, InstantSource.system());
    }

    /** A copy with {@code key} set to {@code value}. */
    public OsdConfig with(String key, Object value) {
        Map<String, Object> m = new LinkedHashMap<>(settings);
        m.put(key, value);
        return new OsdConfig(name, backend, m, clock);
    }

    public OsdConfig withClock(InstantSource c) {
        return new OsdConfig(name, backend, settings, c);
    }

    private OsdException bad(String key, String why) {
        return new OsdException(Errno.EINVAL, name, "setting '" + key + "' of backend " + backend + ": " + why);
    }

    /** Fails naming the first key that is neither in {@code known} nor common. */
    public void checkKnown(Set<String> known) throws OsdException {
        for (String k : new TreeSet<>(settings.keySet())) {
            if (!known.contains(k) && !COMMON_KEYS.contains(k)) {
                throw bad(k, "unknown key (known: " + String.join(", ", new TreeSet<>(known)) + ")");
            }
        }
    }

    public boolean has(String key) {
        return settings.containsKey(key);
    }

    public String string(String key, String def) {
        Object v = settings.get(key);
        return v == null ? def : v.toString();
    }

    public String requireString(String key) throws OsdException {
        Object v = settings.get(key);
        if (v == null || v.toString().isBlank()) {
            throw bad(key, "required");
        }
        return v.toString();
    }

    public Path path(String key) throws OsdException {
        return Path.of(requireString(key));
    }

    public boolean bool(String key, boolean def) throws OsdException {
        Object v = settings.get(key);
        if (v == null) {
            return def;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        return switch (v.toString().trim().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> throw bad(key, "not a boolean: '" + v + "'");
        };
    }

    public long integer(String key, long def) throws OsdException {
        Object v = settings.get(key);
        if (v == null) {
            return def;
        }
        if (v instanceof Number n) {
            return n.longValue();
        }
        try {
            return Long.parseLong(v.toString().trim());
        } catch (NumberFormatException e) {
            throw bad(key, "not an integer: '" + v + "'");
        }
    }

    private static final Pattern SIZE =
            Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([kmgtp]?)(i?b?)?", Pattern.CASE_INSENSITIVE);

    /**
     * A byte size: a number, or a number with a unit ({@code 64MiB}, {@code 1G}, {@code 512k});
     * units are powers of 1024 whether or not the {@code i} is written, as {@code lfs} reads them.
     */
    public long bytes(String key, long def) throws OsdException {
        Object v = settings.get(key);
        if (v == null) {
            return def;
        }
        try {
            return parseBytes(v.toString());
        } catch (IllegalArgumentException e) {
            throw bad(key, e.getMessage());
        }
    }

    /** Parses a byte size as {@link #bytes} does. */
    public static long parseBytes(String text) {
        Matcher m = SIZE.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("not a size: '" + text + "' (want e.g. 4096, 64MiB, 1G)");
        }
        double n = Double.parseDouble(m.group(1));
        int shift = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            case "t" -> 40;
            case "p" -> 50;
            default -> 0;
        };
        double r = n * (1L << shift);
        if (r >= Long.MAX_VALUE) {
            throw new IllegalArgumentException("size too large: '" + text + "'");
        }
        return (long) r;
    }

    /** A duration: ISO-8601 ({@code PT5S}) or a number with ms/s/m/h/d. */
    public Duration duration(String key, Duration def) throws OsdException {
        Object v = settings.get(key);
        if (v == null) {
            return def;
        }
        try {
            return parseDuration(v.toString());
        } catch (IllegalArgumentException e) {
            throw bad(key, e.getMessage());
        }
    }

    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)", Pattern.CASE_INSENSITIVE);

    /**
     * Parses a duration as {@link #duration} does.
     *
     * @throws IllegalArgumentException naming the text if it is not a duration or does not fit
     *     one ({@code 999999999999999d})
     */
    public static Duration parseDuration(String text) {
        try {
            return parseDurationUnchecked(text);
        } catch (DateTimeParseException | ArithmeticException e) {
            // not IllegalArgumentExceptions: they escaped duration()'s catch as themselves
            throw new IllegalArgumentException("not a duration: '" + text + "' (" + e.getMessage() + ")");
        }
    }

    private static Duration parseDurationUnchecked(String text) {
        String t = text.trim();
        if (t.toUpperCase(Locale.ROOT).startsWith("P")) {
            return Duration.parse(t);
        }
        Matcher m = DURATION.matcher(t);
        if (!m.matches()) {
            throw new IllegalArgumentException("not a duration: '" + text + "' (want e.g. 500ms, 30s, 5m, 7d)");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
    }

    /**
     * The common {@value #READ_ONLY} setting: mount the device without writing a byte to what it
     * keeps (no format, no recovery that writes, no log or state file renewed, nothing written at
     * unmount), so that the mount needs no space and leaves the device as it found it; every
     * change is refused with EROFS naming the device. A backend that cannot mount so says so
     * ({@link OsdProvider#mountsReadOnly()}) and {@link Osds#open} refuses it with EROFS.
     */
    public boolean readOnly() throws OsdException {
        return bool(READ_ONLY, false);
    }

    /** The common {@code strict-declares} setting. */
    public boolean strictDeclares() throws OsdException {
        return bool("strict-declares", false);
    }
}
