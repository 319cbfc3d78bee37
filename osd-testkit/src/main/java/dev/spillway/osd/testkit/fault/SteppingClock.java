package dev.spillway.osd.testkit.fault;

import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A clock for crash campaigns: starts at a fixed instant and moves one microsecond per reading,
 * so that every run of a workload writes the same bytes (times are encoded in records, and a
 * record's size decides where a log rotates) and a crash point replays operation by operation.
 */
public final class SteppingClock implements InstantSource {
    private static final Instant START = Instant.parse("2025-11-01T00:00:00Z");
    private final AtomicLong micros = new AtomicLong();

    @Override
    public Instant instant() {
        return START.plusNanos(micros.incrementAndGet() * 1000);
    }
}
