package dev.spillway.pool.config;

import java.util.Map;

/**
 * When the pool gives a device up on its own: after {@code fail-after-errors} consecutive I/O
 * errors (EIO) with no success between them, the device is marked {@code failed} and its copies
 * lost (see {@code DeviceFailures}). Pool-wide ({@code fail-after-errors:} at the top of the
 * YAML), overridden per device ({@code fail-after-errors:} in a device's mapping). 0 = never: only
 * the admin fails the device.
 *
 * @param failAfterErrors the pool-wide count
 * @param perDevice device name → its own count
 */
public record FailureConfig(int failAfterErrors, Map<String, Integer> perDevice) {
    /**
     * Enough that a passing hiccup (an object store's retried 503s, one damaged record) does not
     * trip a device, few enough that a dead disk is given up within one client's retries.
     */
    public static final int DEFAULT_FAIL_AFTER_ERRORS = 8;

    public FailureConfig {
        if (failAfterErrors < 0) {
            throw new IllegalArgumentException("fail-after-errors must be >= 0");
        }
        perDevice = Map.copyOf(perDevice);
    }

    public static FailureConfig defaults() {
        return new FailureConfig(DEFAULT_FAIL_AFTER_ERRORS, Map.of());
    }

    /** The count for device {@code name} (0: never tripped automatically). */
    public int failAfterErrors(String name) {
        return perDevice.getOrDefault(name, failAfterErrors);
    }
}
