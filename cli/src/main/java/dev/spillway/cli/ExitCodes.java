package dev.spillway.cli;

import dev.spillway.osd.Errno;

/**
 * The CLI's exit codes, documented in {@code spillway --help}: 0 success, 1 failure, 2 usage.
 * This is the one table from errno to exit code; a failure prints the error's message (which
 * names the device, object and cause), never a stack trace.
 */
public final class ExitCodes {
    public static final int OK = 0;
    public static final int FAILURE = 1;
    public static final int USAGE = 2;

    private ExitCodes() {}

    /** Every OSD error is a failure of the command, except bad arguments, which are usage. */
    public static int of(Errno errno) {
        return errno == Errno.EINVAL ? USAGE : FAILURE;
    }
}
