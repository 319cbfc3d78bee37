package dev.spillway.migrate.daemon;

import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The daemon's back-off per device: each consecutive failure of a move to a device doubles the
 * time the daemon leaves it alone (from {@code base} up to {@code max}); a success clears it.
 * Times are the daemon's injected clock, in nanoseconds, so tests drive it without sleeping.
 */
final class Backoff {
    /** One device's state: consecutive failures, and the time before which it is left alone. */
    private record Entry(long failures, long untilNanos) {}

    private final long baseNanos;
    private final long maxNanos;
    private final Map<Integer, Entry> devices = new ConcurrentHashMap<>();

    Backoff(Duration base, Duration max) {
        this.baseNanos = base.toNanos();
        this.maxNanos = max.toNanos();
    }

    /** Whether moves to {@code device} wait at {@code nowNanos}. */
    boolean active(int device, long nowNanos) {
        Entry e = devices.get(device);
        return e != null && nowNanos < e.untilNanos();
    }

    /** Counts a failure of {@code device} at {@code nowNanos}; returns how long it is now left alone. */
    Duration failed(int device, long nowNanos) {
        Entry e = devices.merge(device, new Entry(1, 0), (was, one) -> new Entry(was.failures() + 1, 0));
        long delay = Math.min(maxNanos, baseNanos << Math.min(30, e.failures() - 1));
        devices.put(device, new Entry(e.failures(), nowNanos + delay));
        return Duration.ofNanos(delay);
    }

    /** The devices left alone at {@code nowNanos}, with the time left for each. */
    Map<Integer, Duration> active(long nowNanos) {
        Map<Integer, Duration> out = new TreeMap<>();
        devices.forEach((d, e) -> {
            if (e.untilNanos() > nowNanos) {
                out.put(d, Duration.ofNanos(e.untilNanos() - nowNanos));
            }
        });
        return out;
    }

    /** A move to {@code device} worked: it is no longer backed off. */
    void succeeded(int device) {
        devices.remove(device);
    }
}
