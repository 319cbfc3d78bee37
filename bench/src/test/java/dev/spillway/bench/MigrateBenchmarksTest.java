package dev.spillway.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.cli.SpillwayCommand;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class MigrateBenchmarksTest {
    @Test
    void policyAndCandidatesAreRegistered() {
        assertThat(BenchCommand.all()).containsKeys("policy", "candidates");
        assertThat(BenchCommand.all().get("policy").description()).contains("LRU");
    }

    @Test
    void aBenchmarksOwnOptionsFollowItsNameAsWritten() {
        CommandLine cl = SpillwayCommand.commandLine();
        CommandLine.ParseResult r = cl.parseArgs(
                "bench", "policy", "--trace", "a.lis", "--trace=b.csv", "--sizes", "0.1,20", "--json", "--quick");
        BenchCommand b = (BenchCommand) r.subcommand().commandSpec().userObject();
        assertThat(b.name).isEqualTo("policy");
        assertThat(b.json).isTrue();
        assertThat(b.quick).isTrue();
        BenchOptions o = new BenchOptions(b.quick, Path.of("."), System.err, List.copyOf(b.extra));
        assertThat(o.options("--trace")).containsExactly("a.lis", "b.csv");
        assertThat(o.option("--sizes", null)).isEqualTo("0.1,20");
        assertThat(o.option("--seed", "7")).isEqualTo("7");
    }
}
