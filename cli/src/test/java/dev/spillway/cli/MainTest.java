package dev.spillway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class MainTest {
    private static String[] run(String... args) {
        CommandLine cl = SpillwayCommand.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new String[] {Integer.toString(code), out.toString(), err.toString()};
    }

    @Test
    void helpListsTheCommandsAndExitCodes() {
        String[] r = run("--help");
        assertThat(r[0]).isEqualTo("0");
        assertThat(r[1]).contains("Usage: spillway", "version", "Exit codes");
    }

    @Test
    void versionNamesTheBuildAndTheBackends() {
        String[] r = run("version");
        assertThat(r[0]).isEqualTo("0");
        assertThat(r[1]).startsWith("spillway ").contains("java ").contains("mem");
        assertThat(r[1]).doesNotContain("${project.version}");
    }

    @Test
    void everyCommandHasHelp() {
        List<String> seen = new ArrayList<>();
        walk(SpillwayCommand.commandLine(), new ArrayList<>(), seen);
        assertThat(seen).contains("df", "getstripe", "device evacuate", "mirror resync", "jobs", "serve", "fsck");
    }

    private static void walk(CommandLine cl, List<String> path, List<String> seen) {
        for (var e : cl.getSubcommands().entrySet()) {
            if (e.getKey().equals("help")) {
                continue;
            }
            List<String> p = new ArrayList<>(path);
            p.add(e.getKey());
            List<String> args = new ArrayList<>(p);
            args.add("--help");
            String[] r = run(args.toArray(String[]::new));
            assertThat(r[0]).as(String.join(" ", args) + ": " + r[2]).isEqualTo("0");
            assertThat(r[1]).as(String.join(" ", args)).startsWith("Usage: spillway " + String.join(" ", p));
            seen.add(String.join(" ", p));
            walk(e.getValue(), p, seen);
        }
    }

    @Test
    void unknownCommandIsAUsageError() {
        String[] r = run("no-such-command");
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[2]).contains("no-such-command");
    }
}
