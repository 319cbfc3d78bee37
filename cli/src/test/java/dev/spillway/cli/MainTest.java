package dev.spillway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
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
    void unknownCommandIsAUsageError() {
        String[] r = run("no-such-command");
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[2]).contains("no-such-command");
    }
}
