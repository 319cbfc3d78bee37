package dev.spillway.server;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;

/**
 * How {@code spillway serve} runs.
 *
 * @param data the data folder
 * @param config a pool YAML, or null for the embedded default pool under the data folder
 * @param host the address to listen on (loopback by default)
 * @param s3Port the S3 API's port (0: any free port)
 * @param adminPort the admin API's and metrics' port (0: any free port)
 * @param fastCapacity the default pool's fast-device capacity, or null: {@value #DEFAULT_FAST_CAPACITY}
 *     for a new pool, what the pool has for an existing one. Given for an existing default pool it
 *     is applied (growing, or shrinking after spilling) and written to its {@code pool.yaml}; with
 *     {@code config} it is refused.
 * @param multipartExpiry how long an abandoned multipart upload lives (0: forever)
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
        Duration multipartExpiry,
        PrintStream out,
        Duration sampleInterval) {
    public static final String DEFAULT_FAST_CAPACITY = "256MiB";

    /** Sampling the status page's history every 5 s. */
    public ServerOptions(
            Path data,
            Path config,
            String host,
            int s3Port,
            int adminPort,
            String fastCapacity,
            Duration multipartExpiry,
            PrintStream out) {
        this(data, config, host, s3Port, adminPort, fastCapacity, multipartExpiry, out, Duration.ofSeconds(5));
    }

    public static ServerOptions defaults(Path data) {
        return new ServerOptions(data, null, "127.0.0.1", 9000, 9001, null, Duration.ofDays(7), System.out);
    }

    public ServerOptions withSampleInterval(Duration d) {
        return new ServerOptions(data, config, host, s3Port, adminPort, fastCapacity, multipartExpiry, out, d);
    }

    public ServerOptions withPorts(int s3, int admin) {
        return new ServerOptions(data, config, host, s3, admin, fastCapacity, multipartExpiry, out, sampleInterval);
    }

    public ServerOptions withConfig(Path c) {
        return new ServerOptions(data, c, host, s3Port, adminPort, fastCapacity, multipartExpiry, out, sampleInterval);
    }

    public ServerOptions withOut(PrintStream o) {
        return new ServerOptions(
                data, config, host, s3Port, adminPort, fastCapacity, multipartExpiry, o, sampleInterval);
    }

    public ServerOptions withFastCapacity(String c) {
        return new ServerOptions(data, config, host, s3Port, adminPort, c, multipartExpiry, out, sampleInterval);
    }

    public ServerOptions withMultipartExpiry(Duration d) {
        return new ServerOptions(data, config, host, s3Port, adminPort, fastCapacity, d, out, sampleInterval);
    }
}
