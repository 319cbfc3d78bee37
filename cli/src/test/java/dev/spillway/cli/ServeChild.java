package dev.spillway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import picocli.CommandLine;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;

/**
 * A {@code spillway serve} child JVM for the end-to-end process tests: started on the classpath of
 * the test, its output in a log file, found through the data folder's {@code endpoint.json} (the
 * event that says it serves), and driven through S3 and the in-process CLI.
 */
final class ServeChild {
    private ServeChild() {}

    /** Starts {@code spillway serve --data data} with any port, its output to {@code log}. */
    static Process start(Path data, Path log, List<String> jvm, String... extra) throws IOException {
        return startOn(System.getProperty("java.class.path"), data, log, jvm, extra);
    }

    /** As {@link #start(Path, Path, List, String...)} on the given class path. */
    static Process startOn(String classpath, Path data, Path log, List<String> jvm, String... extra)
            throws IOException {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-Xmx512m"));
        cmd.addAll(jvm);
        cmd.addAll(List.of(
                "-cp",
                classpath,
                Main.class.getName(),
                "serve",
                "--data",
                data.toString(),
                "--s3-port",
                "0",
                "--admin-port",
                "0"));
        cmd.addAll(List.of(extra));
        return new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
    }

    /**
     * Waits for {@code p}'s own {@code endpoint.json} (a killed server leaves its file behind, so
     * the pid must match); the attempts bound only a broken run.
     */
    static JsonNode endpoint(Path data, Process p) throws Exception {
        Path e = data.resolve("endpoint.json");
        for (int i = 0; i < 3000 && p.isAlive(); i++) {
            if (Files.exists(e)) {
                try {
                    JsonNode j = new ObjectMapper().readTree(e.toFile());
                    if (j.path("pid").asLong() == p.pid()) {
                        return j;
                    }
                } catch (IOException partial) {
                    // Being written: try again.
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("server did not start (alive: " + p.isAlive() + ")");
    }

    record Run(int code, String out, String err) {}

    /** Runs a {@code spillway} command in this JVM against {@code data}. */
    static Run cli(Path data, String... args) {
        CommandLine cl = SpillwayCommand.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--data");
        all.add(data.toString());
        return new Run(cl.execute(all.toArray(String[]::new)), out.toString(), err.toString());
    }

    /** An S3 client of the server's endpoint with the data folder's credentials. */
    static S3Client s3(Path data, JsonNode ep) throws Exception {
        return s3(data, ep, b -> {});
    }

    /** As {@link #s3(Path, JsonNode)}, {@code more} adjusting the builder (retries, timeouts). */
    static S3Client s3(Path data, JsonNode ep, Consumer<S3ClientBuilder> more) throws Exception {
        JsonNode cred =
                new ObjectMapper().readTree(data.resolve("credentials.json").toFile());
        S3ClientBuilder b = S3Client.builder()
                .endpointOverride(URI.create(ep.path("s3").asText()))
                .region(Region.US_EAST_1)
                .forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(
                        cred.path("accessKey").asText(), cred.path("secretKey").asText())))
                .httpClient(UrlConnectionHttpClient.create());
        more.accept(b);
        return b.build();
    }

    /**
     * The test's class path with each folder of classes (this module's own, as Maven hands them
     * to the test) packed into a jar under {@code into}: a JDK AOT cache (JEP 514) records only
     * jars.
     */
    static String jarredClasspath(Path into) throws IOException {
        List<String> out = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(e);
            if (!Files.isDirectory(p)) {
                out.add(e);
                continue;
            }
            Path jar = into.resolve("classes-" + out.size() + ".jar");
            try (var z = new JarOutputStream(Files.newOutputStream(jar));
                    var files = Files.walk(p)) {
                for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                    z.putNextEntry(new JarEntry(p.relativize(f).toString().replace(File.separatorChar, '/')));
                    Files.copy(f, z);
                    z.closeEntry();
                }
            }
            out.add(jar.toString());
        }
        return String.join(File.pathSeparator, out);
    }
}
