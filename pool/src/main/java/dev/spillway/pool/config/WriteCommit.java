package dev.spillway.pool.config;

import dev.spillway.osd.WriteCommitHint;
import java.util.Locale;

/**
 * A write-commit policy: what a client write must reach before the pool acknowledges it (its
 * transaction's stop returns and its commit callbacks fire). Pool-wide as {@code write-commit:} in
 * the configuration; per object as the xattr {@link #XATTR} (which the S3 gateway sets per bucket
 * or prefix), whose value is written the same way.
 *
 * <ul>
 * <li>{@code async} — acknowledged once the metadata device's transaction commits; the migration
 *     daemon makes the other {@code replicas} copies later (a fast-device loss in that window loses
 *     the write).</li>
 * <li>{@code sync N} — acknowledged only once {@code N} copies of the new body are durable on
 *     distinct durable devices (the metadata device's copy counts if that device is durable).</li>
 * <li>{@code sync N min M} — as {@code sync N}, but a write whose extra copies cannot all be made
 *     (a device failing mid-write, no writable device left) is acknowledged with {@code M} copies
 *     or more, as bcachefs's {@code data_replicas_required}; below {@code M} it fails with EIO.</li>
 * </ul>
 *
 * @param copies durable copies before the acknowledgement (0 for async)
 * @param min the fewest copies a degraded write may be acknowledged with ({@code copies} when no
 *     degradation is allowed; 0 for async)
 */
public record WriteCommit(int copies, int min) {
    /** The per-object policy: an xattr on a DATA object, ASCII, the same syntax as the configuration. */
    public static final String XATTR = WriteCommitHint.XATTR;

    /** Today's behaviour: the metadata device's commit acknowledges. */
    public static final WriteCommit ASYNC = new WriteCommit(0, 0);

    public WriteCommit {
        if (copies < 0 || min < 0 || min > copies || (copies > 0 && min < 1)) {
            throw new IllegalArgumentException("write-commit: bad copies " + copies + " / min " + min);
        }
    }

    public boolean sync() {
        return copies > 0;
    }

    /**
     * Parses {@code async}, {@code sync N} or {@code sync N min M}.
     *
     * @throws IllegalArgumentException naming what is wrong and the accepted forms
     */
    public static WriteCommit parse(String text) {
        String usage = "expected 'async', 'sync N' or 'sync N min M' (N, M >= 1, M <= N)";
        if (text == null) {
            throw new IllegalArgumentException("no value; " + usage);
        }
        String[] w = text.trim().toLowerCase(Locale.ROOT).split("\\s+");
        if (w.length == 1 && w[0].equals("async")) {
            return ASYNC;
        }
        if (!(w.length == 2 || w.length == 4) || !w[0].equals("sync") || (w.length == 4 && !w[2].equals("min"))) {
            throw new IllegalArgumentException("'" + text + "': " + usage);
        }
        int n = count(w[1], text, usage);
        int m = w.length == 4 ? count(w[3], text, usage) : n;
        if (m > n) {
            throw new IllegalArgumentException(
                    "'" + text + "': min " + m + " is more than the " + n + " copies asked; " + usage);
        }
        return new WriteCommit(n, m);
    }

    private static int count(String s, String text, String usage) {
        try {
            int v = Integer.parseInt(s);
            if (v >= 1 && v <= 64) {
                return v;
            }
        } catch (NumberFormatException e) {
            // falls through to the error below
        }
        throw new IllegalArgumentException("'" + text + "': '" + s + "' is not a copy count from 1 to 64; " + usage);
    }

    /** The policy as the configuration writes it. */
    @Override
    public String toString() {
        if (!sync()) {
            return "async";
        }
        return "sync " + copies + (min == copies ? "" : " min " + min);
    }
}
