package dev.spillway.cli;

import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.server.Server;
import dev.spillway.server.ServerOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code spillway serve}: runs the pool, the daemon, the S3 gateway, the admin API and metrics. */
@Command(
        name = "serve",
        mixinStandardHelpOptions = true,
        description = {
            "Run Spillway: mount (or, on first start, format) the pool and serve it.",
            "Without --config it runs the embedded default pool under --data: an osd-kv fast device "
                    + "(metadata, foreground, promote; capped by --fast-capacity) and an osd-vfs spill device.",
            "SIGTERM or Ctrl-C stops it cleanly; after SIGKILL the next start recovers from the work index."
        })
final class ServeCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(
            names = "--data",
            defaultValue = "${env:SPILLWAY_DATA:-./spillway-data}",
            description = "Data folder (default: ${DEFAULT-VALUE}).")
    Path data;

    @Option(
            names = "--config",
            description = "A pool YAML (any number of devices and tiers) instead of the default pool.")
    Path config;

    @Option(
            names = "--listen",
            defaultValue = "127.0.0.1",
            description = "Address to listen on (default: ${DEFAULT-VALUE}).")
    String host;

    @Option(
            names = "--s3-port",
            defaultValue = "9000",
            description = "S3 API port (default: ${DEFAULT-VALUE}; 0 = any).")
    int s3Port;

    @Option(
            names = "--admin-port",
            defaultValue = "9001",
            description = "Admin API and metrics port (default: ${DEFAULT-VALUE}; 0 = any).")
    int adminPort;

    @Option(
            names = "--fast-capacity",
            description = "Capacity of the default pool's fast device, so spilling shows on a laptop (a new pool: "
                    + ServerOptions.DEFAULT_FAST_CAPACITY
                    + "). Given for an existing pool it is applied (growing at once; shrinking after the daemon"
                    + " has spilled enough) and kept in its pool.yaml. Refused with --config.")
    String fastCapacity;

    @Option(
            names = "--multipart-expiry",
            defaultValue = "7d",
            description = "Abort multipart uploads not completed this long after they began, and free their parts"
                    + " (default: ${DEFAULT-VALUE}; 0 = never).")
    String multipartExpiry;

    @Override
    public Integer call() throws Exception {
        Duration expiry;
        try {
            expiry = multipartExpiry.strip().equals("0") ? Duration.ZERO : OsdConfig.parseDuration(multipartExpiry);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(), "--multipart-expiry '" + multipartExpiry + "': " + e.getMessage());
        }
        ServerOptions o = new ServerOptions(data, config, host, s3Port, adminPort, fastCapacity, expiry, System.out);
        Server server = Server.start(o);
        CountDownLatch stopped = new CountDownLatch(1);
        int[] code = {ExitCodes.OK};
        Runnable stop = () -> {
            synchronized (code) {
                if (stopped.getCount() == 0) {
                    return;
                }
                System.err.println("spillway: stopping: finishing the work in flight and unmounting...");
                try {
                    server.close();
                    System.err.println("spillway: pool '" + server.pool().name() + "' unmounted cleanly");
                } catch (Exception e) {
                    System.err.println(SpillwayCommand.message(e)
                            + " (unmount failed; the next start recovers from the work index)");
                    code[0] = ExitCodes.FAILURE;
                } finally {
                    System.err.flush();
                    stopped.countDown();
                }
            }
        };
        // SIGTERM and Ctrl-C stop cleanly and exit 0 (not 143/130): a clean stop is success. The
        // shutdown hook covers any other way the JVM ends.
        for (String sig : new String[] {"TERM", "INT"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(sig), s -> {
                    stop.run();
                    System.exit(code[0]);
                });
            } catch (IllegalArgumentException notHere) {
                // A JVM that reserves the signal: the shutdown hook stops the server instead.
            }
        }
        Runtime.getRuntime().addShutdownHook(new Thread(stop, "spillway-shutdown"));
        stopped.await();
        return code[0];
    }
}
