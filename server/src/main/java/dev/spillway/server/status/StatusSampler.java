package dev.spillway.server.status;

import java.time.Duration;

/** Samples the status history on a timer, in a daemon thread of its own, until closed. */
public final class StatusSampler implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(StatusSampler.class.getName());
    private final Thread thread;
    private volatile boolean closed;

    private StatusSampler(StatusHistory history, Duration interval) {
        this.thread = Thread.ofVirtual().name("spillway-status-sampler").unstarted(() -> {
            while (!closed) {
                try {
                    history.sample();
                } catch (RuntimeException e) {
                    // A sample that cannot be taken leaves a gap in the charts, nothing more.
                    LOG.log(System.Logger.Level.DEBUG, "status sample failed: " + e);
                }
                try {
                    Thread.sleep(interval);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }

    public static StatusSampler start(StatusHistory history, Duration interval) {
        StatusSampler s = new StatusSampler(history, interval);
        s.thread.start();
        return s;
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
