package dev.spillway.cli;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * A progress bar with rate and ETA, redrawn in place on stderr, for fsck, scrub, gc and evacuate:
 * {@code fsck walk [##########..........] 50% 5000/10000 objects 1234/s ETA 0:04}. Drawn only on a
 * terminal and without {@code --no-progress} or {@code --json}: a pipe or a file gets no bar at
 * all, so scripts read clean output.
 */
final class ProgressBar {
    private static final int WIDTH = 24;
    private final PrintWriter err;
    private final String what;
    private final String unit;
    private final boolean on;
    private final LongSupplier nanos;
    private final long t0;
    private int lastLength;
    private boolean drawn;

    ProgressBar(PrintWriter err, String what, String unit, boolean on, LongSupplier nanos) {
        this.err = err;
        this.what = what;
        this.unit = unit;
        this.on = on;
        this.nanos = nanos;
        this.t0 = nanos.getAsLong();
    }

    /** On when stderr is a terminal and neither --no-progress nor --json was given. */
    static boolean wanted(boolean noProgress, boolean json) {
        return !noProgress && !json && System.console() != null;
    }

    /** The line for this state (the tests read it; the terminal gets it after a carriage return). */
    String line(String phase, long done, long total) {
        double secs = Math.max(1e-9, (nanos.getAsLong() - t0) / 1e9);
        double rate = done / secs;
        StringBuilder b = new StringBuilder(what);
        if (phase != null && !phase.isEmpty()) {
            b.append(' ').append(phase);
        }
        if (total > 0) {
            int pct = (int) Math.min(100, 100 * done / total);
            int fill = pct * WIDTH / 100;
            b.append(" [")
                    .append("#".repeat(fill))
                    .append(".".repeat(WIDTH - fill))
                    .append("] ")
                    .append(String.format(Locale.ROOT, "%3d%%", pct))
                    .append(' ')
                    .append(done)
                    .append('/')
                    .append(total);
        } else {
            b.append(' ').append(done);
        }
        b.append(' ').append(unit);
        b.append(String.format(Locale.ROOT, " %.0f/s", rate));
        if (total > 0 && done < total) {
            b.append(" ETA ").append(rate > 0 ? Human.duration((total - done) / rate) : "?");
        } else {
            b.append(" in ").append(Human.duration(secs));
        }
        return b.toString();
    }

    void update(String phase, long done, long total) {
        if (!on) {
            return;
        }
        String l = line(phase, done, total);
        err.print("\r" + l + " ".repeat(Math.max(0, lastLength - l.length())));
        err.flush();
        lastLength = l.length();
        drawn = true;
    }

    /** Ends the bar's line, so that what follows starts on a line of its own. */
    void finish() {
        if (on && drawn) {
            err.println();
            err.flush();
        }
    }
}
