package dev.spillway.osd.testkit.fault;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A crash point shared by every {@link CrashingOsd} of a test: each device call ticks it, and the
 * call numbered {@code crashAt} — and every call after it, on any device — fails with
 * {@link SimulatedCrash}, as if the machine had lost power just before that I/O. With
 * {@code crashAt <= 0} it never fires and just counts (to learn how many crash points a workload
 * has).
 */
public final class CrashSwitch {
    private final AtomicLong calls = new AtomicLong();
    private final long crashAt;
    private volatile String crashedAt;

    public CrashSwitch(long crashAt) {
        this.crashAt = crashAt;
    }

    /** Counts one call of {@code where}; throws once the crash point is reached. */
    public void tick(String where) {
        if (crashedAt != null) {
            throw new SimulatedCrash(
                    "device is down since the crash at call " + crashAt + " (" + crashedAt + "); now: " + where);
        }
        long n = calls.incrementAndGet();
        if (n == crashAt) {
            crashedAt = where;
            throw new SimulatedCrash("simulated crash at call " + n + ": " + where);
        }
    }

    public long calls() {
        return calls.get();
    }

    public boolean crashed() {
        return crashedAt != null;
    }

    /** Thrown at and after the crash point: nothing reaches the device any more. */
    public static final class SimulatedCrash extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public SimulatedCrash(String message) {
            super(message);
        }
    }
}
