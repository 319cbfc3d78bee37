package dev.spillway.migrate.daemon;

import java.time.InstantSource;

/**
 * The daemon's bandwidth cap: {@code rate} bytes per second, with a burst of one second's worth,
 * refilled from the injected clock (so tests drive it deterministically). A rate of 0 is no cap.
 * A move larger than the burst is allowed when the bucket is full, and leaves it in debt.
 */
final class TokenBucket {
    private final long rate;
    private final InstantSource clock;
    // guarded by this
    private double tokens;
    private long lastNanos;

    TokenBucket(long rate, InstantSource clock) {
        this.rate = rate;
        this.clock = clock;
        this.tokens = rate;
        this.lastNanos = nanos();
    }

    private long nanos() {
        var i = clock.instant();
        return i.getEpochSecond() * 1_000_000_000L + i.getNano();
    }

    /** Takes {@code bytes} if the bucket allows it now. */
    synchronized boolean tryTake(long bytes) {
        if (rate <= 0) {
            return true;
        }
        long now = nanos();
        tokens = Math.min(rate, tokens + (now - lastNanos) / 1e9 * rate);
        lastNanos = now;
        if (tokens >= Math.min(bytes, rate)) {
            tokens -= bytes;
            return true;
        }
        return false;
    }
}
