package dev.spillway.gateway.s3;

import dev.spillway.gateway.s3.http.S3Context;
import dev.spillway.gateway.s3.http.S3ErrorHandler;
import dev.spillway.gateway.s3.http.S3Handler;
import dev.spillway.gateway.s3.lifecycle.LifecycleWorker;
import dev.spillway.gateway.s3.store.BucketObjects;
import dev.spillway.gateway.s3.store.GarbageSweeper;
import dev.spillway.gateway.s3.store.Namespace;
import dev.spillway.gateway.s3.store.UploadExpiry;
import dev.spillway.gateway.s3.store.Uploads;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import java.net.URI;
import java.time.InstantSource;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The S3 gateway, embeddable: {@link #start(Osd, GatewayConfig)} mounts the gateway's namespace
 * on an OSD (formatting it on first use), sweeps garbage left by a crash, and serves the S3 API
 * over HTTP with Jetty, one virtual thread per request. {@link #close()} stops serving; the OSD
 * stays the caller's.
 */
public final class S3Gateway implements AutoCloseable {
    private final Server server;
    private final ServerConnector connector;
    private final Namespace namespace;
    private final GarbageSweeper sweeper;
    private final LifecycleWorker dueWork;
    // Runs the due work on the sweeper's thread until the server hands it to the migration daemon.
    private volatile boolean ownDueWork = true;
    private final S3Handler handler;
    private final Uploads uploads;
    private final InstantSource clock;
    private final Thread sweeperThread;
    private final AtomicReference<OsdException> sweepFailure = new AtomicReference<>();
    private volatile boolean closed;

    private S3Gateway(Osd osd, GatewayConfig cfg) throws OsdException {
        this.namespace = Namespace.mount(osd, cfg.fidSequence(), cfg.fidSequenceCount(), cfg.clock());
        namespace
                .uploadExpiry()
                .policy(UploadExpiry.Policy.afterMillis(cfg.multipartExpiry().toMillis()));
        this.sweeper = new GarbageSweeper(namespace);
        // Everything in the garbage index at mount is unreferenced: no reader or writer is left.
        sweeper.runOnce();
        BucketObjects objects = new BucketObjects(namespace);
        this.uploads = new Uploads(objects);
        this.clock = cfg.clock();
        S3Context ctx = new S3Context(cfg, namespace, objects, uploads);
        namespace.planner(ctx.lifecycle());
        this.dueWork = new LifecycleWorker(namespace, objects, uploads, ctx.lifecycle());

        QueuedThreadPool pool = new QueuedThreadPool();
        pool.setName("s3-gateway");
        pool.setVirtualThreadsExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server = new Server(pool);
        HttpConfiguration http = new HttpConfiguration();
        // Keys are opaque bytes: "..", "%2F", "//" and NULs must reach the handler as sent.
        http.setUriCompliance(UriCompliance.UNSAFE);
        http.setSendServerVersion(false);
        // The handler writes Date from the gateway's clock, as an IMF-fixdate (HttpDates).
        http.setSendDateHeader(false);
        // SigV4 signs header values byte for byte: Jetty's header cache must not swap in its
        // own spelling of a common value ("charset=UTF-8" → "charset=utf-8").
        http.setHeaderCacheCaseSensitive(true);
        http.setRequestHeaderSize(cfg.maxRequestHeaderBytes());
        http.setOutputBufferSize(256 << 10);
        connector = new ServerConnector(server, new HttpConnectionFactory(http));
        connector.setHost(cfg.host());
        connector.setPort(cfg.port());
        connector.setIdleTimeout(60_000);
        server.addConnector(connector);
        handler = new S3Handler(ctx);
        server.setHandler(handler);
        server.setErrorHandler(new S3ErrorHandler());

        sweeperThread = Thread.ofVirtual().name("s3-gateway-sweeper").unstarted(() -> sweepLoop(cfg));
        namespace.setSweeperHint(() -> LockSupport.unpark(sweeperThread));
    }

    /**
     * Starts a gateway serving {@code osd}.
     *
     * @throws OsdException EOPNOTSUPP if the OSD lacks index objects, xattrs or transactions; EIO
     *     naming the address if the port cannot be bound
     */
    public static S3Gateway start(Osd osd, GatewayConfig cfg) throws OsdException {
        S3Gateway g = new S3Gateway(osd, cfg);
        try {
            g.server.start();
        } catch (Exception e) {
            try {
                g.server.stop();
            } catch (Exception ignored) {
                e.addSuppressed(ignored);
            }
            throw new OsdException(
                    Errno.EIO,
                    osd.name(),
                    null,
                    "S3 gateway cannot listen on " + cfg.host() + ":" + cfg.port() + ": " + e,
                    e);
        }
        g.sweeperThread.start();
        return g;
    }

    private void sweepLoop(GatewayConfig cfg) {
        long interval = Math.max(1, cfg.sweepInterval().toNanos());
        while (!closed) {
            LockSupport.parkNanos(interval);
            if (closed) {
                return;
            }
            try {
                sweeper.runOnce();
                if (ownDueWork) {
                    dueWork.runOnce(1000);
                }
            } catch (OsdException e) {
                // Kept for sweepNow() and close() to report; the next pass retries.
                sweepFailure.set(e);
            }
        }
    }

    /** The port the gateway listens on. */
    public int port() {
        return connector.getLocalPort();
    }

    /** {@code http://host:port} of the gateway. */
    public URI endpoint() {
        String host = connector.getHost();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return URI.create("http://" + host + ":" + port());
    }

    /**
     * The lifecycle and storage-class work that falls due. The gateway runs it on its own
     * background thread until {@link #handOverDueWork()}; a server with a migration daemon hands
     * it over so that the daemon runs it, paced with its own moves.
     */
    public LifecycleWorker dueWork() {
        return dueWork;
    }

    /** Stops running the due work on the gateway's thread: its caller runs {@link #dueWork()} now. */
    public void handOverDueWork() {
        ownDueWork = false;
    }

    /** Sets the listener told about every S3 request answered (the server's metrics). */
    public void requestListener(RequestListener l) {
        handler.listener(l);
    }

    /** Names of the gateway's objects (bucket/key to FID and back, multipart parts), for the admin API. */
    public ObjectNames names() {
        return new ObjectNames(namespace);
    }

    /** The namespace (tests, the server's admin API). */
    public Namespace namespace() {
        return namespace;
    }

    /**
     * Runs one garbage sweep now, reporting a failure of an earlier background sweep first.
     *
     * @return the objects destroyed
     */
    public int sweepNow() throws OsdException {
        OsdException earlier = sweepFailure.getAndSet(null);
        if (earlier != null) {
            throw earlier;
        }
        return sweeper.runOnce();
    }

    /**
     * Aborts the multipart uploads whose expiry is due (at most {@code max}); their parts go to
     * the garbage index and the sweeper frees them. The server's daemon calls it every pass.
     *
     * @return the uploads aborted
     */
    public int expireUploads(int max) throws OsdException {
        return uploads.expire(clock.millis(), max);
    }

    /** Multipart uploads in progress, their parts and bytes, and the next expiry (for df, gc, jobs). */
    public Uploads.Summary uploadsSummary() throws OsdException {
        return uploads.summary();
    }

    /** Entries waiting in the garbage index. */
    public long garbagePending() throws OsdException {
        return sweeper.pending();
    }

    /** Stops serving and waits for requests in flight; does not close the OSD. */
    @Override
    public void close() throws OsdException {
        if (closed) {
            return;
        }
        closed = true;
        LockSupport.unpark(sweeperThread);
        try {
            server.setStopTimeout(5_000);
            server.stop();
            sweeperThread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (Exception e) {
            throw new OsdException(Errno.EIO, namespace.osd().name(), null, "S3 gateway did not stop cleanly: " + e, e);
        }
    }
}
