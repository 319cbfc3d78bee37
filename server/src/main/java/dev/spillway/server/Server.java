package dev.spillway.server;

import dev.spillway.gateway.s3.GatewayConfig;
import dev.spillway.gateway.s3.S3Gateway;
import dev.spillway.gateway.s3.auth.CredentialStore;
import dev.spillway.migrate.daemon.DaemonConfig;
import dev.spillway.migrate.daemon.MigrationDaemon;
import dev.spillway.osd.OsdException;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.server.admin.AdminServer;
import dev.spillway.server.metrics.PoolMetrics;
import java.time.Duration;
import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Spillway server: the pool mounted from the data folder (formatted on first start),
 * the admin API with metrics, and — as they are wired — the migration daemon and the S3 gateway.
 * Closing it stops accepting, lets work in flight finish or park, and unmounts.
 */
public final class Server implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Server.class);

    private final ServerOptions options;
    private final DataDir dir;
    private final PoolLock lock;
    private final PoolOsd pool;
    private final Credentials credentials;
    private final PoolMetrics metrics;
    private final AdminServer admin;
    private final S3Gateway gateway;
    private final MigrationDaemon daemon;
    private final long recoveryNanos;
    private volatile boolean closed;

    private Server(
            ServerOptions options,
            DataDir dir,
            PoolLock lock,
            PoolOsd pool,
            Credentials credentials,
            PoolMetrics metrics,
            AdminServer admin,
            S3Gateway gateway,
            MigrationDaemon daemon,
            long recoveryNanos) {
        this.gateway = gateway;
        this.daemon = daemon;
        this.options = options;
        this.dir = dir;
        this.lock = lock;
        this.pool = pool;
        this.credentials = credentials;
        this.metrics = metrics;
        this.admin = admin;
        this.recoveryNanos = recoveryNanos;
    }

    /** Starts a server; on any failure, what was started is stopped again and the error names the cause. */
    public static Server start(ServerOptions o) throws OsdException {
        DataDir dir = new DataDir(o.data());
        boolean fresh = dir.prepare();
        PoolLock lock = PoolLock.acquire(dir.lock(), "serve", Duration.ofSeconds(2));
        PoolOsd pool = null;
        AdminServer admin = null;
        S3Gateway gateway = null;
        MigrationDaemon daemon = null;
        try {
            boolean[] newKeys = {false};
            Credentials cred = Credentials.loadOrCreate(dir, newKeys);
            PoolConfig cfg = config(o, dir);
            long t0 = System.nanoTime();
            pool = PoolOsd.mount(cfg, InstantSource.system(), PoolOsd.MountMode.RECOVER);
            long recovery = System.nanoTime() - t0;
            LOG.info("pool {} mounted in {} ms: {}", pool.name(), recovery / 1_000_000, pool.recoveryReport());
            PoolMetrics metrics = new PoolMetrics(pool, recovery);
            daemon = MigrationDaemon.attach(pool, DaemonConfig.parse(cfg.policy(), cfg.name()), InstantSource.system());
            pool.listener(dev.spillway.pool.PoolListener.all(java.util.List.of(metrics, daemon)));
            metrics.bindDaemon(daemon);
            daemon.start();
            gateway = S3Gateway.start(
                    pool,
                    GatewayConfig.builder()
                            .host(o.host())
                            .port(o.s3Port())
                            .credentials(CredentialStore.single(cred.accessKey(), cred.secretKey()))
                            .build());
            admin = AdminServer.start(o.host(), o.adminPort(), pool, cred, metrics, resolver(gateway), daemon);
            Server s = new Server(o, dir, lock, pool, cred, metrics, admin, gateway, daemon, recovery);
            s.writeEndpoint();
            s.banner(fresh, newKeys[0]);
            return s;
        } catch (OsdException | RuntimeException e) {
            if (admin != null) {
                admin.close();
            }
            if (gateway != null) {
                try {
                    gateway.close();
                } catch (OsdException ignored) {
                    e.addSuppressed(ignored);
                }
            }
            if (daemon != null) {
                try {
                    daemon.close();
                } catch (OsdException ignored) {
                    e.addSuppressed(ignored);
                }
            }
            if (pool != null) {
                try {
                    pool.close();
                } catch (OsdException ignored) {
                    e.addSuppressed(ignored);
                }
            }
            lock.close();
            throw e;
        }
    }

    /** The pool's configuration: the file given, or the data folder's (the default pool's, written on first start). */
    public static PoolConfig config(ServerOptions o, DataDir dir) throws OsdException {
        if (o.config() != null) {
            return PoolConfigParser.parse(o.config());
        }
        return PoolConfigParser.parse(
                dir.poolConfigText(o.fastCapacity()), dir.poolConfig().toString());
    }

    private void writeEndpoint() throws OsdException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("admin", admin.endpoint().toString());
        m.put("s3", s3Endpoint());
        m.put("pid", ProcessHandle.current().pid());
        dir.writeEndpoint(m);
    }

    /** The S3 endpoint. */
    public String s3Endpoint() {
        return gateway.endpoint().toString();
    }

    public MigrationDaemon daemon() {
        return daemon;
    }

    public S3Gateway gateway() {
        return gateway;
    }

    /** Names objects for the admin API by {@code bucket/key} through the gateway's namespace. */
    private static java.util.function.Function<String, dev.spillway.osd.Fid> resolver(S3Gateway gw) {
        return id -> {
            int slash = id.indexOf('/');
            if (slash <= 0 || slash == id.length() - 1) {
                return null;
            }
            String bucket = id.substring(0, slash);
            byte[] key = id.substring(slash + 1).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            try {
                var b = gw.namespace().findBucket(bucket);
                if (b.isEmpty()) {
                    return null;
                }
                return new dev.spillway.gateway.s3.store.ObjectStore(gw.namespace())
                        .lookup(b.get(), bucket, key)
                        .map(dev.spillway.gateway.s3.store.Records.ObjectRecord::fid)
                        .orElse(null);
            } catch (Exception e) {
                return null;
            }
        };
    }

    private void banner(boolean fresh, boolean newKeys) {
        var out = options.out();
        out.printf(
                "spillway: pool '%s' %s in %s (recovery %.1f ms: %s)%n",
                pool.name(), fresh ? "formatted" : "mounted", dir.root(), recoveryNanos / 1e6, pool.recoveryReport());
        for (var d : pool.devices()) {
            out.printf(
                    "  device %-8s %-4s %-32s %s%n",
                    d.name(),
                    d.backend(),
                    d.roles().stream().map(r -> r.yamlName()).sorted().toList(),
                    d.state().yamlName());
        }
        out.printf("  admin API and metrics: %s (metrics at /metrics)%n", admin.endpoint());
        if (s3Endpoint() != null) {
            out.printf("  S3 API: %s%n", s3Endpoint());
        }
        if (newKeys) {
            out.printf(
                    "  access key: %s%n  secret key: %s%n  (stored in %s, mode 0600; shown once — `spillway credentials` prints them again)%n",
                    credentials.accessKey(), credentials.secretKey(), dir.credentials());
        }
        out.flush();
    }

    public PoolOsd pool() {
        return pool;
    }

    public DataDir dataDir() {
        return dir;
    }

    public AdminServer admin() {
        return admin;
    }

    public Credentials credentials() {
        return credentials;
    }

    /** Stops accepting, lets work in flight finish or park, unmounts, releases the lock. */
    @Override
    public void close() throws OsdException {
        if (closed) {
            return;
        }
        closed = true;
        OsdException err = null;
        admin.close();
        try {
            gateway.close();
        } catch (OsdException e) {
            err = e;
        }
        try {
            // Finishes the pass in flight (a copy completes, or leaves its job for the next mount)
            // and checkpoints heat.
            daemon.close();
        } catch (OsdException e) {
            err = err == null ? e : err;
        }
        try {
            pool.close();
        } catch (OsdException e) {
            err = e;
        }
        dir.removeEndpoint();
        lock.close();
        LOG.info("pool {} unmounted", pool.name());
        if (err != null) {
            throw err;
        }
    }
}
