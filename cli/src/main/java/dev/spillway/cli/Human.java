package dev.spillway.cli;

import java.util.Locale;

/** Numbers for people: sizes ({@code df -h}), rates, durations. */
final class Human {
    private Human() {}

    /** {@code df -h} style (1024-based, one decimal below 10) when {@code human}, else the exact byte count. */
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
        return i == 0 ? b + "B" : String.format(Locale.ROOT, v >= 10 ? "%.0f%s" : "%.1f%s", v, u[i]);
    }

    /** {@code 3.8 MiB}: for sentences. */
    static String size(long b) {
        String[] u = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = b;
        int i = 0;
        while (v >= 1024 && i < u.length - 1) {
            v /= 1024;
            i++;
        }
        return i == 0 ? b + " B" : String.format(Locale.ROOT, "%.1f %s", v, u[i]);
    }

    /** {@code 1:05:03}, {@code 4:07}, {@code 0:09}. */
    static String duration(double seconds) {
        if (Double.isNaN(seconds) || Double.isInfinite(seconds) || seconds < 0) {
            return "?";
        }
        long s = Math.round(seconds);
        return s >= 3600
                ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }

    /** An age for people: {@code 42s}, {@code 5m}, {@code 3h}, {@code 2d}. */
    static String age(double seconds) {
        if (seconds < 120) {
            return Math.round(seconds) + "s";
        }
        if (seconds < 7200) {
            return Math.round(seconds / 60) + "m";
        }
        if (seconds < 172800) {
            return Math.round(seconds / 3600) + "h";
        }
        return Math.round(seconds / 86400) + "d";
    }
}
