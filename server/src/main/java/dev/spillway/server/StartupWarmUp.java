package dev.spillway.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.spi.storage.posix.PosixNative;
import dev.spillway.pool.config.PoolConfigParser;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * What a {@code serve} start can do ahead of need on another core: the one-time set-up of the
 * libraries a start then uses (Jackson and YAML, the Prometheus registry, the FFM downcalls of
 * the POSIX storage, Jetty's MIME table, the JDK's security providers that a signed request's
 * HMAC and digests use), while the main thread is still parsing the command line
 * (picocli: a few hundred milliseconds, its classes cannot be cached) and mounting the pool. The
 * CLI starts it for {@code serve} before picocli; {@link Server#start} uses none of those
 * libraries before the part that set them up has ended ({@link #awaitLibraries}, {@link
 * #awaitAll}), so no two threads ever run a library's class initialisers at once. Nothing here is
 * needed: a step that fails is skipped quietly (the start then does it itself and reports any
 * error), and a start without the warm-up ({@link Server#start} from a test) is the same start.
 */
public final class StartupWarmUp {
    // Bounds a wait for the warm-up: a stuck warm-up must not stop a start (it only saves time).
    private static final long WAIT_SECONDS = 30;
    private static final CountDownLatch LIBRARIES = new CountDownLatch(1);
    private static final CountDownLatch ALL = new CountDownLatch(1);
    private static volatile boolean started;

    private StartupWarmUp() {}

    /**
     * Starts the warm-up thread, once per JVM; not with {@code -Dspillway.warm-up=off} (to measure
     * a start without it).
     */
    public static synchronized void start() {
        if (started || "off".equals(System.getProperty("spillway.warm-up"))) {
            return;
        }
        started = true;
        Thread.ofPlatform().daemon().name("spillway-warm-up").start(StartupWarmUp::run);
    }

    private static void run() {
        try {
            // What DataDir, PoolLock, Credentials and the pool configuration read first.
            new ObjectMapper().readTree("{\"warm-up\": [1, 2.5, true, null]}");
            PoolConfigParser.parse(
                    "name: warm-up\ndevices:\n  - {name: m, backend: mem, roles: [metadata, foreground]}\n",
                    "start-up warm-up");
            Class.forName(
                    "io.micrometer.prometheusmetrics.PrometheusMeterRegistry",
                    true,
                    StartupWarmUp.class.getClassLoader());
        } catch (IOException | OsdException | ReflectiveOperationException | RuntimeException | LinkageError e) {
            // The start does it again and says what is wrong.
        } finally {
            LIBRARIES.countDown();
        }
        try {
            // Links the downcalls osd-vfs's probe uses at every mount (the first link in a JVM
            // also sets up the linker): off the mount's critical path.
            PosixNative.load().prepare();
            Class.forName("org.eclipse.jetty.http.MimeTypes", true, StartupWarmUp.class.getClassLoader());
            Class.forName("org.eclipse.jetty.server.Server", true, StartupWarmUp.class.getClassLoader());
            // The first signed request's own set-up: the JDK's security providers (SigV4's
            // HMAC-SHA256, the payload's SHA-256, the ETag's MD5) and an HTTP date.
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(new byte[32], "HmacSHA256"));
            mac.doFinal(new byte[1]);
            MessageDigest.getInstance("SHA-256").digest(new byte[1]);
            MessageDigest.getInstance("MD5").digest(new byte[1]);
            DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC));
        } catch (GeneralSecurityException | ReflectiveOperationException | RuntimeException | LinkageError e) {
            // As above.
        } finally {
            ALL.countDown();
        }
    }

    /** Before a start's first use of Jackson, YAML or Micrometer: waits for that part of the warm-up. */
    static void awaitLibraries() {
        await(LIBRARIES);
    }

    /** Before a start's first use of Jetty: waits for the whole warm-up. */
    static void awaitAll() {
        await(ALL);
    }

    private static void await(CountDownLatch latch) {
        if (!started) {
            return;
        }
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    latch.await(WAIT_SECONDS, TimeUnit.SECONDS);
                    return;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
