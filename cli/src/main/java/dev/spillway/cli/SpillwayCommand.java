package dev.spillway.cli;

import dev.spillway.osd.OsdException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code spillway}: the top command; each subcommand is its own class. */
@Command(
        name = "spillway",
        mixinStandardHelpOptions = true,
        versionProvider = SpillwayCommand.Version.class,
        description =
                "Spillway: a stacking object storage device (OSD) stack — a fast tier that spills cold objects to slower devices.",
        subcommands = {
            ServeCommand.class,
            DfCommand.class,
            GetstripeCommand.class,
            ObjectCommands.Spill.class,
            ObjectCommands.Promote.class,
            ObjectCommands.Release.class,
            ObjectCommands.Migrate.class,
            ObjectCommands.Mirror.class,
            DeviceCommand.class,
            AdminCommands.Jobs.class,
            AdminCommands.Fsck.class,
            AdminCommands.Scrub.class,
            AdminCommands.Gc.class,
            CredentialsCommand.class,
            InactiveCommand.class,
            FormatCommand.class,
            VersionCommand.class,
            CommandLine.HelpCommand.class
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:failure (the message names the device, object and cause)", "2:usage error"})
public final class SpillwayCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The command line with Spillway's error handling: messages, not stack traces. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new SpillwayCommand());
        for (CommandProvider p :
                java.util.ServiceLoader.load(CommandProvider.class, SpillwayCommand.class.getClassLoader())) {
            if (!cl.getSubcommands().containsKey(p.name())) {
                cl.addSubcommand(p.name(), p.command());
                p.configure(cl.getSubcommands().get(p.name()));
            }
        }
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getOut().flush();
            cmd.getErr().println(message(ex));
            cmd.getErr().flush();
            return ex instanceof OsdException oe ? ExitCodes.of(oe.errno()) : ExitCodes.FAILURE;
        });
        return cl;
    }

    /**
     * An error as one line: one {@code spillway:} prefix, then the device and object if any, the
     * errno once, and what failed and what to do (the message's own words).
     */
    static String message(Throwable ex) {
        if (ex instanceof OsdException oe) {
            return "spillway: " + oe.getMessage();
        }
        // Not the tool's own error: a bug. Say so in words, not as a Java exception.
        String m = ex.getMessage();
        return "spillway: internal error: "
                + (m == null || m.isBlank() ? ex.getClass().getSimpleName() : m)
                + " (a bug in Spillway; please report it with the command line)";
    }

    /** The version of this build. */
    public static String version() {
        Properties p = new Properties();
        try (InputStream in = SpillwayCommand.class.getResourceAsStream("/spillway-version.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            return "unknown";
        }
        return p.getProperty("version", "unknown");
    }

    /** picocli's --version. */
    public static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {
                "spillway " + version(), "java " + Runtime.version() + " (" + System.getProperty("java.home") + ")"
            };
        }
    }
}
