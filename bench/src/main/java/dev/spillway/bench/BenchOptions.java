package dev.spillway.bench;

import java.io.PrintStream;
import java.nio.file.Path;

/**
 * How a benchmark runs.
 *
 * @param quick finish in under 60 s on 2 cores, still measuring the real thing smaller
 * @param workDir a folder on the filesystem under test; the benchmark cleans up after itself
 * @param log where progress goes (stderr), never the JSON
 * @param extra free-form arguments after the name (e.g. {@code --trace FILE})
 */
public record BenchOptions(boolean quick, Path workDir, PrintStream log, java.util.List<String> extra) {

    /** The value following {@code flag} in {@link #extra()}, or {@code def}. */
    public String option(String flag, String def) {
        int i = extra.indexOf(flag);
        return i >= 0 && i + 1 < extra.size() ? extra.get(i + 1) : def;
    }
}
