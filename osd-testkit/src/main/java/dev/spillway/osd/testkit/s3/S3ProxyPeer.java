package dev.spillway.osd.testkit.s3;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * s3proxy (Maven Central's {@code org.gaul:s3proxy}, its jar-with-dependencies) as a real S3
 * server on loopback, in a child JVM so that none of its dependencies meet the caller's: the
 * filesystem blobstore under a folder, one access key. osd-s3's tests and the benchmarks use it
 * as their S3 peer and baseline. {@link #kill()} is SIGKILL (the server stops mid-request);
 * {@link #start()} brings it back on the same port and folder.
 *
 * <p>Needs no library: the jar is found through {@code -Dspillway.s3proxy.jar} (the build copies
 * it), a module's {@code target/s3proxy/s3proxy.jar}, or the local Maven repository.
 */
public final class S3ProxyPeer implements AutoCloseable {
    public static final String ACCESS_KEY = "SPILLWAYS3PROXY";
    public static final String SECRET_KEY = "spillway-s3proxy-secret";

    private final Path jar;
    private final Path dir;
    private final int port;
    private Process process;

    private S3ProxyPeer(Path jar, Path dir, int port) {
        this.jar = jar;
        this.dir = dir;
        this.port = port;
    }

    /** Starts s3proxy with its blobs and log under {@code dir} on a free loopback port. */
    public static S3ProxyPeer start(Path dir) throws IOException {
        Path jar = findJar();
        if (jar == null) {
            throw new IOException(
                    "s3proxy jar not found: build with Maven (it copies org.gaul:s3proxy:jar-with-dependencies),"
                            + " or pass -Dspillway.s3proxy.jar=PATH");
        }
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        S3ProxyPeer p = new S3ProxyPeer(jar, Files.createDirectories(dir), port);
        p.start();
        return p;
    }

    /** The s3proxy jar, or null. */
    public static Path findJar() {
        List<Path> candidates = new ArrayList<>();
        String prop = System.getProperty("spillway.s3proxy.jar");
        if (prop != null) {
            candidates.add(Path.of(prop));
        }
        candidates.add(Path.of("target/s3proxy/s3proxy.jar"));
        candidates.add(Path.of("bench/target/s3proxy/s3proxy.jar"));
        candidates.add(Path.of("osd-s3/target/s3proxy/s3proxy.jar"));
        candidates.add(Path.of(
                System.getProperty("user.home"),
                ".m2/repository/org/gaul/s3proxy/4.1.0/s3proxy-4.1.0-jar-with-dependencies.jar"));
        for (Path p : candidates) {
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return null;
    }

    /** (Re)starts the server on its port and folder; returns once it accepts connections. */
    public synchronized void start() throws IOException {
        if (process != null && process.isAlive()) {
            return;
        }
        Path blobs = Files.createDirectories(dir.resolve("blobs"));
        Path props = dir.resolve("s3proxy.properties");
        Files.writeString(
                props,
                "s3proxy.endpoint=http://127.0.0.1:" + port + "\n"
                        + "s3proxy.authorization=aws-v2-or-v4\n"
                        + "s3proxy.identity=" + ACCESS_KEY + "\n"
                        + "s3proxy.credential=" + SECRET_KEY + "\n"
                        + "jclouds.provider=filesystem\n"
                        + "jclouds.filesystem.basedir=" + blobs + "\n"
                        + "jclouds.regions=us-east-1\n");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        process = new ProcessBuilder(java, "-jar", jar.toString(), "--properties", props.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(
                        dir.resolve("s3proxy.log").toFile()))
                .start();
        waitForPort();
    }

    private void waitForPort() throws IOException {
        for (int i = 0; i < 1200; i++) {
            if (!process.isAlive()) {
                throw new IOException("s3proxy exited with " + process.exitValue() + " before listening on " + port
                        + " (log: " + dir.resolve("s3proxy.log") + ")");
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException e) {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted waiting for s3proxy", ie);
                }
            }
        }
        throw new IOException(
                "s3proxy did not listen on " + port + " within 60 s (log: " + dir.resolve("s3proxy.log") + ")");
    }

    /** SIGKILL: the server stops at once, in the middle of whatever it was doing. */
    public synchronized void kill() throws IOException {
        if (process == null) {
            return;
        }
        process.destroyForcibly();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                throw new IOException("s3proxy did not die within 30 s of SIGKILL");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for s3proxy to die", e);
        }
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + port);
    }

    public int port() {
        return port;
    }

    public Path dir() {
        return dir;
    }

    @Override
    public void close() throws IOException {
        kill();
    }
}
