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
 */
public record ServerOptions(
        Path data, Path config, String host, int s3Port, int adminPort, String fastCapacity, PrintStream out) {
    public static ServerOptions defaults(Path data) {
        return new ServerOptions(data, null, "127.0.0.1", 9000, 9001, "256MiB", System.out);
    }

    public ServerOptions withPorts(int s3, int admin) {
        return new ServerOptions(data, config, host, s3, admin, fastCapacity, out);
    }

    public ServerOptions withConfig(Path c) {
        return new ServerOptions(data, c, host, s3Port, adminPort, fastCapacity, out);
    }

    public ServerOptions withOut(PrintStream o) {
        return new ServerOptions(data, config, host, s3Port, adminPort, fastCapacity, o);
    }

    public ServerOptions withFastCapacity(String c) {
        return new ServerOptions(data, config, host, s3Port, adminPort, c, out);
    }
}
