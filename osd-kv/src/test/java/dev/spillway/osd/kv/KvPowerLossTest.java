package dev.spillway.osd.kv;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.OsdException;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.testkit.Seeds;
import dev.spillway.osd.testkit.fault.CrashCampaign;
import dev.spillway.osd.testkit.fault.FaultInjectingStorage;
import dev.spillway.osd.testkit.fault.SteppingClock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * osd-kv under power cuts: its folder (superblock, format marker, lock, extent files) on the
 * fault-injecting storage, cut at any of its operations in every crash mode, while RocksDB keeps
 * what was written to it before the cut (everything that reached the page cache: the state most
 * hostile to the ordering "extent data durable before the metadata that points to it"). Random
 * multi-object transactions, most writes large enough for extent files; after each cut the device
 * must mount and show the last acknowledged transaction or the one in flight, wholly.
 *
 * <p>{@code -Dspillway.crash.points=N} per workload (default 15) over
 * {@code -Dspillway.crash.workloads=W} (default 10); {@code -Dspillway.seed} the master seed;
 * {@code -Dspillway.crash.replay=SEED:OP:MODE} replays one point.
 */
class KvPowerLossTest {
    @TempDir
    Path tmp;

    // RocksDB's folder of each storage the campaign made: a survivor gets a copy of its crashed
    // storage's, taken after the crash (nothing reaches RocksDB past the crash point).
    private final Map<FaultInjectingStorage, Path> dbs = new IdentityHashMap<>();
    private int made;

    private Path db(FaultInjectingStorage s) {
        return dbs.computeIfAbsent(s, k -> tmp.resolve("db" + made++));
    }

    /** A storage the campaign has not shown before is a new run: the folders of the earlier ones are done with. */
    private Path dbOfNewRun(FaultInjectingStorage s) throws IOException {
        if (!dbs.containsKey(s)) {
            for (Path old : dbs.values()) {
                delete(old);
            }
            dbs.clear();
        }
        return db(s);
    }

    private static void delete(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(x);
            }
        }
    }

    private void copyDb(FaultInjectingStorage crashed, FaultInjectingStorage survivor) throws IOException {
        Path from = db(crashed);
        Path to = db(survivor);
        if (!Files.exists(from)) {
            return;
        }
        Files.createDirectories(to);
        try (Stream<Path> s = Files.list(from)) {
            for (Path f : s.toList()) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
    }

    private KvOsd open(FaultInjectingStorage s) throws OsdException {
        try {
            return KvOsd.open(
                    OsdConfig.of(
                                    "kvcrash",
                                    "kv",
                                    Map.of(
                                            "path",
                                            "/unused",
                                            "inline-max",
                                            "4KiB",
                                            "block-cache",
                                            "1MiB",
                                            "strict-declares",
                                            true))
                            .withClock(new SteppingClock()),
                    s,
                    dbOfNewRun(s),
                    Runnable::run);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void everyAcknowledgedTransactionSurvivesAndNoneIsHalfThere() throws Exception {
        int workloads = Integer.getInteger("spillway.crash.workloads", 10);
        int points = Integer.getInteger("spillway.crash.points", 15);
        CrashCampaign.Report r = new CrashCampaign(
                        s -> open((FaultInjectingStorage) s), FaultInjectingStorage.Features.ext4(), 16)
                .withSyncCommits(this::copyDb)
                .run(Seeds.master(), workloads, points, System.out);
        if (System.getProperty(CrashCampaign.REPLAY_PROPERTY) == null) {
            assertThat(r.crashPoints()).isEqualTo(workloads * points);
            assertThat(r.byMode()).hasSize(FaultInjectingStorage.CrashMode.values().length);
        }
    }
}
