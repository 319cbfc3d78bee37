package dev.spillway.bench;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * How a benchmark runs.
 *
 * @param quick finish in under 60 s on 2 cores, still measuring the real thing smaller
 * @param workDir a folder on the filesystem under test; the benchmark cleans up after itself
 * @param log where progress goes (stderr), never the JSON
 * @param extra free-form arguments after the name (e.g. {@code --trace FILE})
 */
public record BenchOptions(boolean quick, Path workDir, PrintStream log, List<String> extra) {

    /** The value following {@code flag} in {@link #extra()} (its last occurrence), or {@code def}. */
    public String option(String flag, String def) {
        List<String> all = options(flag);
        return all.isEmpty() ? def : all.get(all.size() - 1);
    }

    /** Every value following {@code flag} ({@code --flag V} or {@code --flag=V}), in order. */
    public List<String> options(String flag) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < extra.size(); i++) {
            String a = extra.get(i);
            if (a.equals(flag)) {
                if (i + 1 >= extra.size()) {
                    throw new IllegalArgumentException(flag + " needs a value");
                }
                out.add(extra.get(++i));
            } else if (a.startsWith(flag + "=")) {
                out.add(a.substring(flag.length() + 1));
            }
        }
        return out;
    }
}
