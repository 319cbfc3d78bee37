package dev.spillway.simulator;

import java.time.Instant;
import java.time.InstantSource;

/**
 * Trace time as an {@link InstantSource}: the request's second, plus a nanosecond per earlier
 * request in the same second so that order within a second survives (traces record whole seconds).
 */
final class SimClock implements InstantSource {
    private long nanos = Long.MIN_VALUE;

    void advanceTo(long seconds) {
        long t = seconds * 1_000_000_000L;
        nanos = Math.max(t, nanos == Long.MIN_VALUE ? t : nanos + 1);
    }

    @Override
    public Instant instant() {
        return Instant.ofEpochSecond(0, nanos == Long.MIN_VALUE ? 0 : nanos);
    }
}
