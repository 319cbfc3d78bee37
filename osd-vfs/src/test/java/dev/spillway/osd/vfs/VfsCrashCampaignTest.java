package dev.spillway.osd.vfs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.testkit.fault.CrashCampaign;
import dev.spillway.osd.testkit.fault.FaultInjectingStorage;
import dev.spillway.osd.testkit.fault.SteppingClock;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Journal mode under the crash-point campaign: 1,000+ crash points (drop, torn, reordered
 * writeback) over random multi-object transactions; after each, the remounted device shows
 * every acknowledged transaction wholly and no transaction partly. Small segments make
 * checkpoints and log truncation happen during the workloads; a small inline limit sends larger
 * new bodies through staging files. {@code -Dspillway.seed} fixes the master seed;
 * {@code -Dspillway.crash.workloads}, {@code -Dspillway.crash.points} and
 * {@code -Dspillway.crash.transactions} change the size; {@code -Dspillway.crash.replay=SEED:OP:MODE}
 * replays one point (the failure message prints it). Properties reach the test JVM through
 * {@code -Dspillway.test.args="-Xmx1g -D..."}.
 */
class VfsCrashCampaignTest {
    static final int TRANSACTIONS = Integer.getInteger("spillway.crash.transactions", 24);

    /**
     * {@code records}: auto (in each body's xattr where the storage has user xattrs) or file; the
     * opener fails if the device mounted with records anywhere but {@code expect}.
     */
    static CrashCampaign.Opener opener(String records, String expect) {
        OsdConfig c = OsdConfig.of("crash", "vfs", settings(records));
        return storage -> {
            VfsOsd osd = VfsOsd.open(c.withClock(new SteppingClock()), storage, Runnable::run);
            if (osd.mountNotes().stream().noneMatch(n -> n.startsWith("records: ") && n.contains(expect))) {
                osd.close();
                throw new AssertionError("device did not mount with records in " + expect + ": " + osd.mountNotes());
            }
            return osd;
        };
    }

    /** The same device mounted read-only (the pool's offline check). */
    static CrashCampaign.Opener readOnlyOpener(String records) {
        Map<String, Object> m = new java.util.LinkedHashMap<>(settings(records));
        m.put(OsdConfig.READ_ONLY, true);
        OsdConfig c = OsdConfig.of("crash", "vfs", m);
        return storage -> VfsOsd.open(c.withClock(new SteppingClock()), storage, Runnable::run);
    }

    private static Map<String, Object> settings(String records) {
        return Map.of(
                "journal",
                "on",
                "journal-segment-size",
                "24KiB",
                "journal-inline-limit",
                "16KiB",
                "sync-threads",
                1, // forces in a fixed order: operation numbers must replay exactly
                "strict-declares",
                true,
                "records",
                records);
    }

    static final String IN_XATTRS = "user." + XattrRecord.NAME;
    static final String IN_FILES = ".attr files";

    /** Records in the bodies' xattrs (format version 2, what a device formatted on ext4 gets). */
    @Test
    void everyAcknowledgedTransactionSurvivesAndNoneIsHalfThere() throws Exception {
        long master = dev.spillway.osd.testkit.Seeds.master();
        int workloads = Integer.getInteger("spillway.crash.workloads", 25);
        int points = Integer.getInteger("spillway.crash.points", 42);
        CrashCampaign.Report r = new CrashCampaign(
                        opener("auto", IN_XATTRS), FaultInjectingStorage.Features.ext4(), TRANSACTIONS)
                .run(master, workloads, points, System.out);
        if (System.getProperty(CrashCampaign.REPLAY_PROPERTY) == null) {
            assertThat(r.crashPoints()).isEqualTo(workloads * points);
            assertThat(r.crashPoints()).isGreaterThanOrEqualTo(Math.min(1000, workloads * points));
            assertThat(r.byMode()).hasSize(FaultInjectingStorage.CrashMode.values().length);
        }
    }

    /** Records in .attr files (format version 1: devices formatted before record xattrs, or with records: file). */
    @Test
    void theCampaignAlsoHoldsWithRecordFiles() throws Exception {
        long master = dev.spillway.osd.testkit.Seeds.master();
        CrashCampaign.Report r = new CrashCampaign(
                        opener("file", IN_FILES), FaultInjectingStorage.Features.ext4(), TRANSACTIONS)
                .run(master, 6, 25, System.out);
        assertThat(r.crashPoints()).isEqualTo(150);
    }

    /**
     * A read-only mount of every survivor first (issue 12: an offline check writes nothing): it
     * replays the journal in memory, tries no change on the storage (a {@code
     * WriteRefusingStorage} under it), and shows what the read-write mount after it shows.
     * Before the in-memory replay, a journal with records after its checkpoint refused the mount.
     */
    @Test
    void aReadOnlyMountOfEverySurvivorShowsTheReplayedStateAndWritesNothing() throws Exception {
        long master = dev.spillway.osd.testkit.Seeds.master();
        CrashCampaign.Report r = new CrashCampaign(
                        opener("auto", IN_XATTRS), FaultInjectingStorage.Features.ext4(), TRANSACTIONS)
                .withReadOnlyMountFirst(readOnlyOpener("auto"))
                .run(master, 10, 30, System.out);
        CrashCampaign.Report files = new CrashCampaign(
                        opener("file", IN_FILES), FaultInjectingStorage.Features.ext4(), TRANSACTIONS)
                .withReadOnlyMountFirst(readOnlyOpener("file"))
                .run(master, 4, 25, System.out);
        if (System.getProperty(CrashCampaign.REPLAY_PROPERTY) == null) {
            assertThat(r.crashPoints() + files.crashPoints()).isEqualTo(400);
        }
    }

    /** Without user xattrs the device falls back to record files at format. */
    @Test
    void theCampaignAlsoHoldsWithoutXattrsOrHoles() throws Exception {
        long master = dev.spillway.osd.testkit.Seeds.master();
        CrashCampaign.Report r = new CrashCampaign(
                        opener("auto", IN_FILES),
                        FaultInjectingStorage.Features.ext4().withoutXattrs().withoutHoles(),
                        TRANSACTIONS)
                .run(master, 4, 25, System.out);
        assertThat(r.crashPoints()).isPositive();
    }
}
