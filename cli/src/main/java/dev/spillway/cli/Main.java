package dev.spillway.cli;

import dev.spillway.server.StartupWarmUp;
import picocli.CommandLine;

/** Entry point of the {@code spillway} command. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code (see {@link ExitCodes}). */
    public static int run(String... args) {
        if (args.length > 0 && args[0].equals("serve")) {
            // Sets up the libraries serve uses on another core while picocli builds the command.
            StartupWarmUp.start();
        }
        CommandLine cl = SpillwayCommand.commandLine(args);
        int code = cl.execute(args);
        // print() without a newline is not flushed by itself, and main() exits right after.
        cl.getOut().flush();
        cl.getErr().flush();
        return code;
    }
}
