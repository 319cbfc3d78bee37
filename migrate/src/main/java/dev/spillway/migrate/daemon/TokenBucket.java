package dev.spillway.migrate.daemon;

import java.time.InstantSource;

/**
 * The daemon's bandwidth cap: {@code rate} bytes per second, with a burst of one second's worth,
 * refilled from the injected clock (so tests drive it deterministically). A rate of 0 is no cap.
 * A new move starts only when the bucket is not in debt ({@link #hasTokens()}); the copy then
 * pays for each chunk as it goes ({@link #await}), sleeping when it runs ahead of the rate.
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

    /**
     * Takes {@code bytes}, sleeping until the bucket allows it: the pace of a copy in flight, chunk
     * by chunk, so a capped daemon moves data evenly instead of in one-second bursts.
     */
    void await(long bytes) {
        if (rate <= 0) {
            return;
        }
        long waitNanos;
        synchronized (this) {
            long now = nanos();
            tokens = Math.min(rate, tokens + (now - lastNanos) / 1e9 * rate);
            lastNanos = now;
            tokens -= bytes;
            waitNanos = tokens >= 0 ? 0 : (long) (-tokens / rate * 1e9);
        }
        if (waitNanos > 0) {
            try {
                Thread.sleep(waitNanos / 1_000_000, (int) (waitNanos % 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The bytes the bucket holds now (Long.MAX_VALUE without a cap): what a batch of moves may plan. */
    synchronized long available() {
        if (rate <= 0) {
            return Long.MAX_VALUE;
        }
        long now = nanos();
        tokens = Math.min(rate, tokens + (now - lastNanos) / 1e9 * rate);
        lastNanos = now;
        return (long) Math.max(0, tokens);
    }

    /** True if the bucket is not in debt: a new move may start (the pacer charges it as it goes). */
    synchronized boolean hasTokens() {
        if (rate <= 0) {
            return true;
        }
        long now = nanos();
        tokens = Math.min(rate, tokens + (now - lastNanos) / 1e9 * rate);
        lastNanos = now;
        return tokens > 0;
    }
}
