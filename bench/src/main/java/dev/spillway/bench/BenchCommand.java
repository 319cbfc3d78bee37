package dev.spillway.bench;

import dev.spillway.cli.CommandProvider;
import dev.spillway.cli.ExitCodes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code spillway bench NAME [--quick] [--json]}: runs one benchmark, or lists them. */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description = "Run a benchmark against its baseline (shared/BENCHMARKS.md). Without NAME, list them.")
public final class BenchCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", description = "The benchmark to run.")
    String name;

    @Parameters(
            index = "1..*",
            arity = "0..*",
            description = "Arguments for the benchmark, e.g. policy --trace FILE --sizes 0.1,1,10.")
    List<String> extra = new ArrayList<>();

    @Option(names = "--quick", description = "Smaller size; under 60 s on 2 cores.")
    boolean quick;

    @Option(names = "--json", description = "End with one JSON line per metric.")
    boolean json;

    @Option(
            names = "--work",
            description = "Folder on the filesystem to measure (default: a temporary folder under ./target or /tmp).")
    Path work;

    @Spec
    CommandSpec spec;

    /** Registers {@code bench} with the CLI. */
    public static final class Provider implements CommandProvider {
        @Override
        public String name() {
            return "bench";
        }

        @Override
        public Object command() {
            return new BenchCommand();
        }

        /**
         * A benchmark's own options ({@code --trace FILE}, {@code --sizes ...}) follow its name as
         * written and reach it untouched: no {@code --} needed before them.
         */
        @Override
        public void configure(CommandLine added) {
            added.setUnmatchedOptionsArePositionalParams(true);
        }
    }

    static Map<String, Benchmark> all() {
        Map<String, Benchmark> m = new TreeMap<>();
        for (Benchmark b : ServiceLoader.load(Benchmark.class, BenchCommand.class.getClassLoader())) {
            m.put(b.name(), b);
        }
        return m;
    }

    @Override
    public Integer call() throws Exception {
        var out = spec.commandLine().getOut();
        Map<String, Benchmark> all = all();
        if (name == null) {
            all.values().forEach(b -> out.printf("%-14s %s%n", b.name(), b.description()));
            out.flush();
            return ExitCodes.OK;
        }
        Benchmark b = all.get(name);
        if (b == null) {
            spec.commandLine()
                    .getErr()
                    .println("spillway bench: no benchmark '" + name + "' (known: " + String.join(", ", all.keySet())
                            + ")");
            return ExitCodes.USAGE;
        }
        Path dir = Files.createTempDirectory(
                work != null ? Files.createDirectories(work) : Path.of(System.getProperty("java.io.tmpdir")),
                "spillway-bench-" + name + "-");
        List<BenchResult> results;
        try {
            results = b.run(new BenchOptions(quick, dir, System.err, List.copyOf(extra)));
        } finally {
            deleteTree(dir);
        }
        for (BenchResult r : results) {
            out.println(r.toText());
        }
        if (json) {
            for (BenchResult r : results) {
                out.println(r.toJson());
            }
        }
        out.flush();
        return ExitCodes.OK;
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
