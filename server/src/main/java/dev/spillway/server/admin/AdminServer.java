package dev.spillway.server.admin;

import dev.spillway.gateway.s3.ObjectNames;
import dev.spillway.gateway.s3.store.Uploads;
import dev.spillway.migrate.daemon.MigrationDaemon;
import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import dev.spillway.pool.PoolOsd;
import dev.spillway.server.Credentials;
import dev.spillway.server.MountReport;
import dev.spillway.server.metrics.PoolMetrics;
import dev.spillway.server.status.Events;
import dev.spillway.server.status.StatusHistory;
import java.net.URI;
import java.time.InstantSource;
import java.util.concurrent.Executors;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The admin API (JSON over HTTP), the Prometheus metrics at {@code /metrics} and a status page at
 * {@code /}, on Jetty 12 (the same server library as the S3 gateway), on virtual threads.
 */
public final class AdminServer implements AutoCloseable {
    /** Changes a device's capacity (and keeps it, where it can); returns what it did. */
    @FunctionalInterface
    public interface Resizer {
        String resize(String device, String size) throws OsdException;
    }

    /** The multipart uploads in progress, for df, gc and jobs. */
    @FunctionalInterface
    public interface UploadsView {
        Uploads.Summary summary() throws OsdException;
    }

    private final Server server;
    private final ServerConnector connector;

    private AdminServer(String host, int port, AdminApi api) {
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("spillway-admin");
        threads.setVirtualThreadsExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server = new Server(threads);
        connector = new ServerConnector(server, new HttpConnectionFactory(new HttpConfiguration()));
        connector.setHost(host);
        connector.setPort(port);
        server.addConnector(connector);
        server.setHandler(api);
    }

    /** What the admin API serves. */
    public record Context(
            PoolOsd pool,
            Credentials credentials,
            PoolMetrics metrics,
            ObjectNames names,
            MigrationDaemon daemon,
            MountReport mount,
            Events events,
            StatusHistory history,
            Resizer resizer,
            UploadsView uploads,
            InstantSource clock) {}

    public static AdminServer start(String host, int port, Context ctx) throws OsdException {
        AdminServer a = new AdminServer(host, port, new AdminApi(ctx));
        try {
            a.server.start();
        } catch (Exception e) {
            a.close();
            throw new OsdException(
                    Errno.EIO, null, null, "admin API cannot listen on " + host + ":" + port + ": " + e, e);
        }
        return a;
    }

    public int port() {
        return connector.getLocalPort();
    }

    public URI endpoint() {
        String h = connector.getHost();
        return URI.create("http://" + (h.contains(":") ? "[" + h + "]" : h) + ":" + port());
    }

    @Override
    public void close() {
        try {
            server.setStopTimeout(5_000);
            server.stop();
        } catch (Exception ignored) {
            // Stopping: nothing left to serve the error to.
        }
    }
}
