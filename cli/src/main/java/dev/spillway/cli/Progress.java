package dev.spillway.cli;

import picocli.CommandLine.Option;

/** {@code --no-progress} for the commands that draw a progress bar. */
final class Progress {
    @Option(
            names = "--no-progress",
            description = "Draw no progress bar (none is drawn anyway unless stderr is a terminal).")
    boolean off;
}
