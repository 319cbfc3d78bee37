package dev.spillway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.OsdException;
import dev.spillway.osd.testkit.Seeds;
import dev.spillway.osd.testkit.fault.FaultInjectingStorage;
import dev.spillway.server.Credentials;
import dev.spillway.server.DataDir;
import dev.spillway.server.Server;
import dev.spillway.server.ServerOptions;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data folder's files under power cuts: the server's first start, a stop, a second start and
 * stop, as {@code Server.start}/{@code close} do them to {@code pool.yaml}, {@code
 * credentials.json} and {@code endpoint.json}, run on the fault-injecting storage and cut at every
 * one of their operations, in every crash mode. After each cut the next start must work, keep the
 * credentials it had shown and the configuration it had used, and the CLI must find the server
 * or say there is none — never an exception that is not the tool's own error.
 *
 * <p>{@code -Dspillway.crash.seeds=N} crash states per (operation, mode) (default 3);
 * {@code -Dspillway.seed} the master seed.
 */
class DataFolderCrashTest {
    @TempDir
    Path tmp;

    /** What the user was shown, i.e. what must survive. */
    static final class Acked {
        Credentials credentials;
        String config;
    }

    static ServerOptions options(Path data) {
        return ServerOptions.defaults(data).withFastCapacity("64MiB");
    }

    /** The data-folder part of one start and stop of the server, in its order. */
    static void startAndStop(DataDir dir, Acked acked, int port) throws OsdException {
        dir.prepare();
        boolean[] created = {false};
        Credentials c = Credentials.loadOrCreate(dir, created);
        String config = Server.config(options(dir.root()), dir).toString();
        Map<String, Object> m = new LinkedHashMap<>();
        // Port 1: nothing listens there, so the CLI finds the server gone, as after a crash.
        m.put("admin", "http://127.0.0.1:1/" + port);
        m.put("s3", "http://127.0.0.1:1/" + (port + 1));
        m.put("pid", 4242);
        dir.writeEndpoint(m);
        // The banner: credentials shown, the pool served with this configuration.
        acked.credentials = c;
        acked.config = config;
        dir.removeEndpoint();
    }

    static void workload(DataDir dir, Acked acked) throws OsdException {
        startAndStop(dir, acked, 9001);
        startAndStop(dir, acked, 9101);
    }

    /** After a cut: the next start works and keeps what was shown; the CLI's view is an answer or its own error. */
    static void restart(DataDir dir, Acked acked, String where) throws Exception {
        try {
            // As `spillway fsck` asks whether a server runs before it works offline.
            AdminClient.of(dir, null).call("GET", "status", Map.of());
        } catch (OsdException expected) {
            // "no running server": the CLI then works offline
        } catch (RuntimeException e) {
            throw new AssertionError("the CLI failed reading the endpoint file (" + where + "): " + e, e);
        }
        Acked again = new Acked();
        try {
            startAndStop(dir, again, 9201);
        } catch (OsdException e) {
            throw new AssertionError("the next start failed (" + where + "): " + e.getMessage(), e);
        }
        if (acked.credentials != null) {
            assertThat(again.credentials)
                    .as("credentials shown before the cut (%s)", where)
                    .isEqualTo(acked.credentials);
        }
        if (acked.config != null) {
            assertThat(again.config)
                    .as("configuration served before the cut (%s)", where)
                    .isEqualTo(acked.config);
        }
        assertThat(((FaultInjectingStorage) dir.files()).ownerOnly("credentials.json"))
                .as("credentials readable by the owner only (%s)", where)
                .isTrue();
    }

    static FaultInjectingStorage fresh() {
        return new FaultInjectingStorage(
                FaultInjectingStorage.Features.ext4(), FaultInjectingStorage.Root.MISSING, null, "data");
    }

    @Test
    void everyCutOfTheDataFolderLeavesAFolderTheNextStartUses() throws Exception {
        long master = Seeds.master();
        int seeds = Integer.getInteger("spillway.crash.seeds", 3);
        Path root = tmp.resolve("data");
        FaultInjectingStorage dry = fresh();
        workload(new DataDir(root, dry), new Acked());
        long total = dry.operations();
        System.out.printf(
                "data folder crash campaign: master seed 0x%x, %d operations x %d modes x %d states%n",
                master, total, FaultInjectingStorage.CrashMode.values().length, seeds);
        SplittableRandom sr = new SplittableRandom(master);
        int points = 0;
        int failed = 0;
        Map<String, String> failures = new LinkedHashMap<>();
        for (long at = 1; at <= total; at++) {
            for (FaultInjectingStorage.CrashMode mode : FaultInjectingStorage.CrashMode.values()) {
                for (int k = 0; k < seeds; k++) {
                    long seed = sr.nextLong();
                    String where = String.format(
                            "crash at operation %d of %d, mode %s, state seed 0x%x (master seed 0x%x)",
                            at, total, mode, seed, master);
                    FaultInjectingStorage s = fresh();
                    s.crashAt(at);
                    Acked acked = new Acked();
                    try {
                        workload(new DataDir(root, s), acked);
                    } catch (OsdException crashed) {
                        assertThat(s.crashed())
                                .as("%s: %s", where, crashed.getMessage())
                                .isTrue();
                    }
                    try {
                        restart(new DataDir(root, s.survivor(mode, seed)), acked, where);
                    } catch (AssertionError e) {
                        // One example of each kind of failure: its message without the crash point and paths.
                        String kind = e.getMessage()
                                .replaceAll("\\(crash at[^)]*\\)\\)", "")
                                .replaceAll("/tmp/\\S+", "");
                        failures.putIfAbsent(kind.substring(0, Math.min(kind.length(), 120)), e.getMessage());
                        failed++;
                    }
                    points++;
                }
            }
        }
        System.out.printf("data folder crash campaign: %d crash points, %d failed%n", points, failed);
        if (failed > 0) {
            throw new AssertionError(failed + " of " + points + " crash points failed; the first of each kind:\n"
                    + String.join("\n", failures.values()));
        }
        assertThat(points).isGreaterThanOrEqualTo(500);
    }
}
