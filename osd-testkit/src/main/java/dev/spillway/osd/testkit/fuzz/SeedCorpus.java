package dev.spillway.osd.testkit.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;
import java.util.TreeMap;

/**
 * A fuzz target's seed corpus in the source tree, in Jazzer's layout:
 * {@code src/test/resources/<package>/<TestClass>Inputs/<method>/}. Jazzer runs every file there
 * as a regression input in an ordinary test run, starts from them when fuzzing, and writes the
 * inputs it finds crashing there too (each is then kept as a regression input, named
 * {@code crash-…}).
 *
 * <p>Seeds made by a generator (valid encodings from the encoder, requests signed by the AWS SDK)
 * are named {@code seed-…} and checked by an ordinary test of the fuzz test class: the files
 * must be exactly what the generator makes, so the corpus cannot drift from the format.
 * {@code -Dspillway.fuzz.writeSeeds=true} (re)writes them instead. Files with other names
 * (captured requests, crash inputs) are kept as they are.
 */
public final class SeedCorpus {
    /** The system property that makes {@link #check} write the seeds instead of checking them. */
    public static final String WRITE_PROPERTY = "spillway.fuzz.writeSeeds";

    private final Path dir;

    private SeedCorpus(Path dir) {
        this.dir = dir;
    }

    /**
     * The inputs folder of {@code testClass}'s fuzz test {@code method}, in the module's source
     * tree (tests run with the module's folder as working directory, as Maven's do).
     */
    public static SeedCorpus of(Class<?> testClass, String method) {
        String pkg = testClass.getPackageName().replace('.', '/');
        Path dir = Paths.get("src", "test", "resources")
                .resolve(pkg)
                .resolve(testClass.getSimpleName() + "Inputs")
                .resolve(method);
        return new SeedCorpus(dir);
    }

    /** The folder. */
    public Path dir() {
        return dir;
    }

    /** Every file of the folder by name (seeds, captured inputs, crash inputs). */
    public Map<String, byte[]> files() {
        Map<String, byte[]> out = new TreeMap<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (var s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (Files.isRegularFile(p)) {
                    out.put(p.getFileName().toString(), Files.readAllBytes(p));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /**
     * Checks that every generated seed ({@code seed-NAME}) is in the folder byte for byte, and
     * that no {@code seed-} file is there that the generator no longer makes; with
     * {@code -Dspillway.fuzz.writeSeeds=true} writes them instead.
     */
    public void check(Map<String, byte[]> generated) {
        Map<String, byte[]> want = new TreeMap<>();
        generated.forEach((name, bytes) -> want.put("seed-" + name, bytes));
        if (Boolean.getBoolean(WRITE_PROPERTY)) {
            write(want);
            return;
        }
        Map<String, byte[]> have = files();
        for (var e : want.entrySet()) {
            assertThat(have)
                    .as("seed %s in %s (regenerate with -D%s=true)", e.getKey(), dir, WRITE_PROPERTY)
                    .containsKey(e.getKey());
            assertThat(have.get(e.getKey()))
                    .as(
                            "seed %s in %s is what the generator makes (regenerate with -D%s=true)",
                            e.getKey(), dir, WRITE_PROPERTY)
                    .isEqualTo(e.getValue());
        }
        for (String name : have.keySet()) {
            if (name.startsWith("seed-")) {
                assertThat(want)
                        .as("%s/%s is no longer generated (regenerate with -D%s=true)", dir, name, WRITE_PROPERTY)
                        .containsKey(name);
            }
        }
    }

    private void write(Map<String, byte[]> want) {
        try {
            Files.createDirectories(dir);
            try (var s = Files.list(dir)) {
                for (Path p : (Iterable<Path>) s::iterator) {
                    if (p.getFileName().toString().startsWith("seed-")) {
                        Files.delete(p);
                    }
                }
            }
            for (var e : want.entrySet()) {
                Files.write(dir.resolve(e.getKey()), e.getValue());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
