package dev.spillway.osd;

/**
 * A client's write-commit policy for one DATA object, as an xattr named {@link #XATTR}: what a
 * write to the object must reach before a pool acknowledges it. Values (ASCII): {@code async},
 * {@code sync N}, {@code sync N min M} — the pool configuration's {@code write-commit:} syntax
 * (the pool module's {@code WriteCommit}). A pool reads it and refuses a malformed value with
 * EINVAL; any other device keeps it as an ordinary xattr, so setting it is always safe.
 */
public final class WriteCommitHint {
    /** The xattr holding the policy. */
    public static final String XATTR = "spillway.write-commit";

    private WriteCommitHint() {}
}
