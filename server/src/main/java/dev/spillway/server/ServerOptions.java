package dev.spillway.server;

import java.io.PrintStream;
import java.nio.file.Path;

/**
 * How {@code spillway serve} runs.
 *
 * @param data the data folder
 * @param config a pool YAML, or null for the embedded default pool under the data folder
 * @param host the address to listen on (loopback by default)
 * @param s3Port the S3 API's port (0: any free port)
 * @param adminPort the admin API's and metrics' port (0: any free port)
 * @param fastCapacity the default pool's fast-device capacity
 * @param out where the start-up banner goes
 * @param sampleInterval how often the status page's history is sampled
 */
public record ServerOptions(
        Path data,
        Path config,
        String host,
        int s3Port,
        int adminPort,
        String fastCapacity,
        PrintStream out,
        java.time.Duration sampleInterval) {
    public ServerOptions(
            Path data, Path config, String host, int s3Port, int adminPort, String fastCapacity, PrintStream out) {
        this(data, config, host, s3Port, adminPort, fastCapacity, out, java.time.Duration.ofSeconds(5));
    }

    public static ServerOptions defaults(Path data) {
        return new ServerOptions(data, null, "127.0.0.1", 9000, 9001, "256MiB", System.out);
    }

    public ServerOptions withSampleInterval(java.time.Duration d) {
        return new ServerOptions(data, config, host, s3Port, adminPort, fastCapacity, out, d);
    }

    public ServerOptions withPorts(int s3, int admin) {
        return new ServerOptions(data, config, host, s3, admin, fastCapacity, out, sampleInterval);
    }

    public ServerOptions withConfig(Path c) {
        return new ServerOptions(data, c, host, s3Port, adminPort, fastCapacity, out, sampleInterval);
    }

    public ServerOptions withOut(PrintStream o) {
        return new ServerOptions(data, config, host, s3Port, adminPort, fastCapacity, o, sampleInterval);
    }

    public ServerOptions withFastCapacity(String c) {
        return new ServerOptions(data, config, host, s3Port, adminPort, c, out, sampleInterval);
    }
}
