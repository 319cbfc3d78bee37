package dev.spillway.gateway.s3;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;

/** A clock tests set and advance; the gateway reads it for record times, Date and lifecycle. */
public final class MutableClock implements InstantSource {
    private volatile Instant now;

    public MutableClock(Instant start) {
        this.now = start;
    }

    @Override
    public Instant instant() {
        return now;
    }

    public void set(Instant t) {
        now = t;
    }

    public void advance(Duration d) {
        now = now.plus(d);
    }
}
