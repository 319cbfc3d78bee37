package dev.spillway.server;

import dev.spillway.gateway.s3.GatewayConfig;
import dev.spillway.gateway.s3.S3Gateway;
import dev.spillway.migrate.daemon.DaemonConfig;
import dev.spillway.migrate.daemon.MigrationDaemon;
import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.spi.Osds;
import dev.spillway.pool.PoolListener;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.server.admin.AdminServer;
import dev.spillway.server.metrics.PoolMetrics;
import dev.spillway.server.status.Events;
import dev.spillway.server.status.StatusHistory;
import dev.spillway.server.status.StatusSampler;
import java.nio.file.Files;
import java.time.Duration;
import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.List;
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
    private final MountReport mount;
    private final StatusSampler sampler;
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
            MountReport mount,
            StatusSampler sampler) {
        this.gateway = gateway;
        this.daemon = daemon;
        this.options = options;
        this.dir = dir;
        this.lock = lock;
        this.pool = pool;
        this.credentials = credentials;
        this.metrics = metrics;
        this.admin = admin;
        this.mount = mount;
        this.sampler = sampler;
    }

    /** Starts a server; on any failure, what was started is stopped again and the error names the cause. */
    public static Server start(ServerOptions o) throws OsdException {
        // Before anything is created: a taken port leaves no half-made pool behind.
        Ports.checkFree(o.host(), o.s3Port(), "S3 API", "--s3-port");
        Ports.checkFree(o.host(), o.adminPort(), "admin API", "--admin-port");
        StartupWarmUp.awaitLibraries();
        DataDir dir = new DataDir(o.data());
        boolean fresh = dir.prepare();
        PoolLock lock = PoolLock.acquire(dir.lock(), "serve", Duration.ofSeconds(2));
        PoolOsd pool = null;
        AdminServer admin = null;
        S3Gateway gateway = null;
        MigrationDaemon daemon = null;
        StatusSampler sampler = null;
        try {
            boolean[] newKeys = {false};
            Credentials cred = Credentials.loadOrCreate(dir, newKeys);
            boolean newConfig = o.config() == null && !Files.exists(dir.poolConfig());
            PoolConfig cfg = config(o, dir);
            PoolMetrics metrics = new PoolMetrics();
            long t0 = System.nanoTime();
            pool = PoolOsd.mount(
                    cfg,
                    InstantSource.system(),
                    PoolOsd.MountMode.RECOVER,
                    (d, c) -> metrics.timed(Osds.open(new OsdConfig(d.name(), d.backend(), d.settings(), c))),
                    true); // the devices open side by side: the restart's wait is the slowest one's
            MountReport mount = new MountReport(
                    InstantSource.system().instant(), fresh, System.nanoTime() - t0, pool.recoveryReport());
            LOG.info("pool {} {}", pool.name(), mount.summary());
            Events events = new Events(dir, InstantSource.system());
            events.add("mount", true, mount.summary());
            // A device failed — tripped by its I/O errors or set failed by the admin — is an event.
            pool.deviceFailures()
                    .onFailure(c -> events.add(
                            "device",
                            false,
                            c.device() + " failed"
                                    + (c.lost() == null
                                            ? ""
                                            : ": " + c.lost().lost() + " copies lost; objects with no copy left: "
                                                    + c.lost().noCopyLeft())));
            daemon = MigrationDaemon.attach(pool, DaemonConfig.parse(cfg.policy(), cfg.name()), InstantSource.system());
            pool.listener(PoolListener.all(List.of(metrics, daemon)));
            String resized = null;
            if (o.config() == null && o.fastCapacity() != null && !newConfig) {
                resized = resize(pool, dir, cfg.metadata().name(), o.fastCapacity(), true);
            }
            StartupWarmUp.awaitAll();
            gateway = S3Gateway.start(
                    pool,
                    GatewayConfig.builder()
                            .host(o.host())
                            .port(o.s3Port())
                            .credentials(new FileCredentialStore(dir))
                            .multipartExpiry(o.multipartExpiry())
                            .build());
            S3Tiering.wire(gateway, pool);
            gateway.requestListener(metrics::s3Request);
            S3Gateway gw = gateway;
            // Abandoned multipart uploads are aborted by the daemon's pass, like any other chore.
            daemon.addChore("multipart expiry", () -> gw.expireUploads(256));
            DataDir yaml = o.config() != null ? null : dir;
            PoolOsd mounted = pool;
            var names = gateway.names();
            metrics.bindPool(pool, mount, daemon, names::internalObjects);
            StatusHistory history = new StatusHistory(metrics, InstantSource.system());
            admin = AdminServer.start(
                    o.host(),
                    o.adminPort(),
                    new AdminServer.Context(
                            pool,
                            cred,
                            metrics,
                            names,
                            daemon,
                            mount,
                            events,
                            history,
                            (device, size) -> resize(mounted, yaml, device, size, false),
                            gateway::uploadsSummary,
                            InstantSource.system()));
            sampler = StatusSampler.start(history, o.sampleInterval());
            // The daemon's first pass (garbage, chores, adopting the residents a crash left unknown
            // to heat: up to a tier of lookups) starts once both APIs listen, so that it does not
            // compete with their start for the cores: clients are answered first. Writers that wait
            // for room before it starts are served by that first pass (it checks the tier at once).
            daemon.start();
            Server s = new Server(o, dir, lock, pool, cred, metrics, admin, gateway, daemon, mount, sampler);
            s.writeEndpoint();
            s.banner(fresh, newKeys[0] || !Files.exists(dir.credentialsShown()));
            if (resized != null) {
                o.out().println("  " + resized);
                o.out().flush();
            }
            return s;
        } catch (OsdException | RuntimeException e) {
            if (sampler != null) {
                sampler.close();
            }
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
            if (e instanceof OsdException oe) {
                throw Ports.explain(oe, o);
            }
            throw e;
        }
    }

    /** The pool's configuration: the file given, or the data folder's (the default pool's, written on first start). */
    public static PoolConfig config(ServerOptions o, DataDir dir) throws OsdException {
        if (o.config() != null) {
            if (o.fastCapacity() != null) {
                throw new OsdException(
                        Errno.EINVAL,
                        null,
                        null,
                        "--fast-capacity sizes the embedded default pool; this pool is configured by " + o.config()
                                + ": set its fast device's settings.capacity there and restart, or change it while"
                                + " it runs with `spillway device set-capacity DEVICE SIZE`");
            }
            return PoolConfigParser.parse(o.config());
        }
        return PoolConfigParser.parse(
                dir.poolConfigText(o.fastCapacity() != null ? o.fastCapacity() : ServerOptions.DEFAULT_FAST_CAPACITY),
                dir.poolConfig().toString());
    }

    /**
     * Sets {@code device}'s capacity to {@code size} while the pool runs (see
     * {@link dev.spillway.pool.ops.CapacityControl}) and, for a pool configured by {@code yaml}
     * (the default pool's file in the data folder), writes it there so the next start keeps it.
     * With {@code onlyIfChanged}, a size equal to the configured one does nothing.
     *
     * @return a sentence saying what was done
     */
    static String resize(PoolOsd pool, DataDir yaml, String device, String size, boolean onlyIfChanged)
            throws OsdException {
        long bytes;
        try {
            bytes = OsdConfig.parseBytes(size);
        } catch (IllegalArgumentException e) {
            throw new OsdException(Errno.EINVAL, pool.name(), null, "capacity '" + size + "': " + e.getMessage());
        }
        var d = pool.device(device)
                .orElseThrow(() -> new OsdException(
                        Errno.ENOENT,
                        pool.name(),
                        null,
                        "no device '" + device + "' (devices: "
                                + pool.devices().stream().map(x -> x.name()).toList() + ")"));
        if (onlyIfChanged) {
            Object configured =
                    pool.config().device(device).orElseThrow().settings().get("capacity");
            if (configured != null && OsdConfig.parseBytes(configured.toString()) == bytes) {
                return null;
            }
        }
        var r = pool.capacity().resize(d, bytes);
        String persisted;
        if (yaml == null) {
            persisted = "not written to the pool's configuration file (set settings.capacity there to keep it)";
        } else {
            String text = yaml.readPoolConfig()
                    .orElseThrow(() -> new OsdException(
                            Errno.ENOENT, pool.name(), null, "no pool configuration " + yaml.poolConfig()));
            String edited = PoolYamlEdit.withCapacity(text, device, size);
            if (edited == null) {
                persisted = "not written to " + yaml.poolConfig() + " (its layout is not one this edit understands: set"
                        + " devices[].settings.capacity of " + device + " there by hand)";
            } else {
                yaml.writePoolConfig(edited);
                persisted = "written to " + yaml.poolConfig();
            }
        }
        String msg = device + " capacity " + r.from() + " -> " + r.to() + " bytes: " + r.detail() + "; " + persisted;
        LOG.info("pool {}: {}", pool.name(), msg);
        return msg;
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

    private void banner(boolean fresh, boolean showKeys) throws OsdException {
        var out = options.out();
        out.printf("spillway: pool '%s' in %s %s%n", pool.name(), dir.root(), mount.summary());
        for (var d : pool.devices()) {
            out.printf(
                    "  device %-8s %-4s %-32s %s%n",
                    d.name(),
                    d.backend(),
                    d.roles().stream().map(r -> r.yamlName()).sorted().toList(),
                    d.state().yamlName());
        }
        out.printf("  status page: %s/   metrics: %s/metrics%n", admin.endpoint(), admin.endpoint());
        if (s3Endpoint() != null) {
            out.printf("  S3 API: %s%n", s3Endpoint());
        }
        if (showKeys) {
            out.printf(
                    "  access key: %s%n  secret key: %s%n  (stored in %s, mode 0600; `spillway credentials` prints them again)%n",
                    credentials.accessKey(), credentials.secretKey(), dir.credentials());
        } else {
            out.printf("  credentials: `spillway credentials` (or --env for shell exports)%n");
        }
        out.flush();
        // Shown once: until a start got this far, the next start shows them again.
        dir.markCredentialsShown();
    }

    /** How this server's pool was mounted. */
    public MountReport mount() {
        return mount;
    }

    public PoolMetrics metrics() {
        return metrics;
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
        sampler.close();
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
        if (err == null) {
            LOG.info("pool {} unmounted cleanly", pool.name());
        }
        if (err != null) {
            throw err;
        }
    }
}
