package dev.spillway.cli;

import java.io.PrintWriter;

/** Human-readable sizes ({@code df -h}) and progress display, plain when not on a terminal. */
final class Human {
    private Human() {}

    static String bytes(long b, boolean human) {
        if (!human) {
            return Long.toString(b);
        }
        String[] u = {"B", "K", "M", "G", "T", "P"};
        double v = b;
        int i = 0;
        while (v >= 1024 && i < u.length - 1) {
            v /= 1024;
            i++;
        }
        return i == 0 ? b + "B" : String.format(v >= 10 ? "%.0f%s" : "%.1f%s", v, u[i]);
    }

    /** A progress line: redrawn in place on a terminal, one line per update otherwise. */
    static void progress(PrintWriter out, String what, long done, long total) {
        boolean tty = System.console() != null;
        int pct = total <= 0 ? 100 : (int) (100 * done / Math.max(1, total));
        if (tty) {
            int w = 30;
            int fill = pct * w / 100;
            out.printf("\r%s [%s%s] %d%% (%d/%d)", what, "#".repeat(fill), ".".repeat(w - fill), pct, done, total);
        } else {
            out.printf("%s: %d/%d (%d%%)%n", what, done, total, pct);
        }
        out.flush();
    }

    static void progressDone(PrintWriter out) {
        if (System.console() != null) {
            out.println();
        }
    }
}
