package dev.spillway.cli;

import dev.spillway.osd.spi.Osds;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code spillway version}: this build, its Java, and the backends on the classpath. */
@Command(
        name = "version",
        mixinStandardHelpOptions = true,
        description = "Print the version, the Java runtime and the backends available.")
final class VersionCommand implements Callable<Integer> {
    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        String v = SpillwayCommand.version();
        String backends = String.join(", ", Osds.providers().keySet());
        if (json) {
            spec.commandLine()
                    .getOut()
                    .printf(
                            "{\"version\": \"%s\", \"java\": \"%s\", \"backends\": [%s]}%n",
                            v,
                            Runtime.version(),
                            Osds.providers().keySet().stream()
                                    .map(b -> "\"" + b + "\"")
                                    .reduce((a, b) -> a + ", " + b)
                                    .orElse(""));
        } else {
            spec.commandLine().getOut().printf("spillway %s%njava %s%nbackends: %s%n", v, Runtime.version(), backends);
        }
        return ExitCodes.OK;
    }
}
