package dev.spillway.cli;

import dev.spillway.osd.OsdException;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Properties;
import java.util.ServiceLoader;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code spillway}: the top command; each subcommand is its own class. */
@Command(
        name = "spillway",
        mixinStandardHelpOptions = true,
        versionProvider = SpillwayCommand.Version.class,
        description =
                "Spillway: a stacking object storage device (OSD) stack — a fast tier that spills cold objects to slower devices.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:failure (the message names the device, object and cause)", "2:usage error"})
public final class SpillwayCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /**
     * The built-in subcommands in the order help lists them. They are added by hand rather than
     * through {@code @Command(subcommands = ...)} so that a command line names only what it runs:
     * picocli builds each command's model by reflection (about a second for all of them on a busy
     * 2-core machine, and its classes cannot go into the JDK's AOT cache), which every CLI answer
     * would otherwise pay.
     */
    static final List<String> BUILT_IN = List.of(
            "serve",
            "df",
            "getstripe",
            "spill",
            "promote",
            "release",
            "migrate",
            "mirror",
            "device",
            "jobs",
            "fsck",
            "scrub",
            "gc",
            "credentials",
            "inactive",
            "format",
            "version");

    /**
     * A new built-in subcommand, or null for another name. A switch, not a map of constructor
     * references: each method reference spins a class at its first use, and linking it loads and
     * verifies the command class it names (the CLI's classes are not in the AOT cache, as they
     * link against picocli's) — every command's, for a start that runs one.
     */
    static Object newBuiltIn(String name) {
        return switch (name) {
            case "serve" -> new ServeCommand();
            case "df" -> new DfCommand();
            case "getstripe" -> new GetstripeCommand();
            case "spill" -> new ObjectCommands.Spill();
            case "promote" -> new ObjectCommands.Promote();
            case "release" -> new ObjectCommands.Release();
            case "migrate" -> new ObjectCommands.Migrate();
            case "mirror" -> new ObjectCommands.Mirror();
            case "device" -> new DeviceCommand();
            case "jobs" -> new AdminCommands.Jobs();
            case "fsck" -> new AdminCommands.Fsck();
            case "scrub" -> new AdminCommands.Scrub();
            case "gc" -> new AdminCommands.Gc();
            case "credentials" -> new CredentialsCommand();
            case "inactive" -> new InactiveCommand();
            case "format" -> new FormatCommand();
            case "version" -> new VersionCommand();
            default -> null;
        };
    }

    /** The whole command tree with Spillway's error handling: messages, not stack traces. */
    public static CommandLine commandLine() {
        return build(null);
    }

    /**
     * The command line for {@code args}: when the first argument names a subcommand, the tree
     * holds that subcommand only (it parses and runs the same); otherwise (help, no argument, a
     * typo that deserves suggestions) the whole tree.
     */
    public static CommandLine commandLine(String... args) {
        return build(args.length > 0 ? args[0] : null);
    }

    private static CommandLine build(String only) {
        CommandLine cl = new CommandLine(new SpillwayCommand());
        boolean known = only != null && BUILT_IN.contains(only);
        for (String name : BUILT_IN) {
            if (only == null || !known || name.equals(only)) {
                cl.addSubcommand(name, newBuiltIn(name));
            }
        }
        if (!known) {
            for (CommandProvider p :
                    ServiceLoader.load(CommandProvider.class, SpillwayCommand.class.getClassLoader())) {
                if (!cl.getSubcommands().containsKey(p.name())) {
                    cl.addSubcommand(p.name(), p.command());
                    p.configure(cl.getSubcommands().get(p.name()));
                }
            }
            cl.addSubcommand("help", new CommandLine.HelpCommand());
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
