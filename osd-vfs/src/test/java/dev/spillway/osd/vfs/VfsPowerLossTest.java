package dev.spillway.osd.vfs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectCursor;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.testkit.Seeds;
import dev.spillway.osd.testkit.fault.FaultInjectingStorage;
import dev.spillway.osd.testkit.fault.SteppingClock;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Journal off under power cuts, used the way the pool uses a spill device: copies written and
 * synced one by one (several in one object directory, so one copy's sync forces the directory
 * holding another's new names), batches of copies written and then synced in one
 * {@code sync(Collection)} (as the pool syncs a spill batch), copies cut short, copies destroyed. The workload is cut at an
 * operation drawn over all of them, in every crash mode; then the device must mount, keep every
 * copy whose sync returned (and was not changed since) byte for byte, and let every object it
 * lists be destroyed — whatever a crash left of it (missing, empty, torn): that is what the
 * pool's recovery does to copies that were never committed.
 *
 * <p>{@code -Dspillway.crash.points=N} (default 1,000) over {@code -Dspillway.crash.seeds=S}
 * workloads (default 12); {@code -Dspillway.seed} the master seed. A failure prints its
 * workload seed, operation and mode; {@code -Dspillway.crash.replay=SEED:OP:MODE} replays it.
 */
class VfsPowerLossTest {
    static final int OBJECTS = 12;

    /** {@code records}: auto (in the body's xattr, as ext4 allows) or file (the .attr record files). */
    static Osd open(FaultInjectingStorage s, String records) throws OsdException {
        VfsOsd osd = VfsOsd.open(
                OsdConfig.of(
                                "spill",
                                "vfs",
                                Map.of(
                                        "journal",
                                        "off",
                                        "sync-threads",
                                        1,
                                        "strict-declares",
                                        true,
                                        "records",
                                        records))
                        .withClock(new SteppingClock()),
                s,
                Runnable::run);
        // the campaign must run on the record format it names, not on a silent fallback
        String want = records.equals("file") ? ".attr files" : "user." + XattrRecord.NAME;
        if (osd.mountNotes().stream().noneMatch(n -> n.startsWith("records: ") && n.contains(want))) {
            osd.close();
            throw new AssertionError("device did not mount with records in " + want + ": " + osd.mountNotes());
        }
        return osd;
    }

    /** FIDs of the campaign: most of them in one object directory, as copies that happen to share it. */
    static List<Fid> fids() {
        List<Fid> out = new ArrayList<>();
        String shared = null;
        for (int i = 1; out.size() < OBJECTS; i++) {
            Fid f = Fid.of(0x2c0000000L, i);
            String dir = ObjectIndex.dir(f);
            if (shared == null) {
                shared = dir;
            }
            if (dir.equals(shared) || out.size() >= OBJECTS - 3) {
                out.add(f);
            }
        }
        return out;
    }

    /** What a workload acknowledged: the content of each copy whose sync returned, null if destroyed durably. */
    static final class Model {
        final Map<Fid, byte[]> synced = new HashMap<>();
    }

    static void copy(Osd osd, Fid f, byte[] body, boolean sync, Model m) throws OsdException {
        m.synced.remove(f);
        try (Transaction tx = osd.newTransaction()) {
            tx.declareCreate(f, ObjectKind.DATA);
            tx.declareWrite(f, 0, body.length);
            tx.start();
            tx.create(f, ObjectKind.DATA, AttrChange.none());
            for (int off = 0; off < body.length; off += 16 << 10) {
                int n = Math.min(16 << 10, body.length - off);
                tx.write(f, off, ByteBuffer.wrap(body, off, n));
            }
        }
        if (sync) {
            osd.sync(f);
            m.synced.put(f, body);
        }
    }

    static void destroy(Osd osd, Fid f, Model m) throws OsdException {
        m.synced.remove(f);
        try (Transaction tx = osd.newTransaction()) {
            tx.declareDestroy(f);
            tx.start();
            tx.destroy(f);
        }
    }

    static void workload(Osd osd, long seed, Model m) throws OsdException {
        Random r = new Random(seed);
        List<Fid> fids = fids();
        // Copies written and not yet synced, to be synced together as the pool syncs a spill batch.
        Map<Fid, byte[]> batch = new LinkedHashMap<>();
        for (int step = 0; step < 40; step++) {
            Fid f = fids.get(r.nextInt(fids.size()));
            int op = r.nextInt(10);
            if (osd.exists(f)) {
                if (op < 5 && !batch.containsKey(f)) {
                    destroy(osd, f, m);
                    if (r.nextBoolean()) {
                        osd.sync();
                    }
                }
                continue;
            }
            byte[] body = new byte[r.nextInt(4) == 0 ? r.nextInt(300) : 1 + r.nextInt(60_000)];
            r.nextBytes(body);
            if (op < 4) {
                // Most copies are synced right away, as a single copy is.
                copy(osd, f, body, true, m);
            } else if (op < 8) {
                // A spill batch: written one after the other, then synced together in one call.
                copy(osd, f, body, false, m);
                batch.put(f, body);
                if (batch.size() >= 2 + r.nextInt(3)) {
                    syncBatch(osd, batch, m);
                }
            } else {
                // Cut short: never synced.
                copy(osd, f, body, false, m);
            }
        }
        if (!batch.isEmpty()) {
            syncBatch(osd, batch, m);
        }
    }

    /** Syncs the batch's copies in one {@link Osd#sync(java.util.Collection)}; only then are they acknowledged. */
    static void syncBatch(Osd osd, Map<Fid, byte[]> batch, Model m) throws OsdException {
        osd.sync(List.copyOf(batch.keySet()));
        m.synced.putAll(batch);
        batch.clear();
    }

    /** Runs one crash point; returns a description of what the recovery found. */
    static void check(long seed, long at, FaultInjectingStorage.CrashMode mode, String records) throws Exception {
        FaultInjectingStorage s = new FaultInjectingStorage(FaultInjectingStorage.Features.ext4());
        s.crashAt(at);
        Model m = new Model();
        try {
            Osd osd = open(s, records);
            workload(osd, seed, m);
        } catch (OsdException e) {
            if (!s.crashed()) {
                throw e;
            }
        }
        FaultInjectingStorage after = s.survivor(mode, seed ^ at);
        try (Osd osd = open(after, records)) {
            for (Map.Entry<Fid, byte[]> e : m.synced.entrySet()) {
                Fid f = e.getKey();
                assertThat(osd.exists(f)).as("synced copy %s", f).isTrue();
                byte[] got = new byte[(int) osd.getAttr(f).size()];
                ByteBuffer b = ByteBuffer.wrap(got);
                while (b.hasRemaining() && osd.read(f, b.position(), b) > 0) {
                    // until full
                }
                assertThat(Arrays.equals(got, e.getValue()))
                        .as("synced copy %s holds its bytes", f)
                        .isTrue();
            }
            // What the pool's recovery does to copies never committed: destroy them, whatever is left.
            List<Fid> listed = new ArrayList<>();
            try (ObjectCursor c = osd.listObjects()) {
                while (c.next()) {
                    listed.add(c.fid());
                }
            }
            for (Fid f : fids()) {
                if (!listed.contains(f) && !osd.exists(f)) {
                    continue;
                }
                if (m.synced.containsKey(f)) {
                    continue;
                }
                try {
                    osd.getAttr(f);
                } catch (OsdException damaged) {
                    // EIO naming the record is fine (the pool marks such a copy bad) — except
                    // where only what was forced survives: a directory's fsync forces the files
                    // named in it first, so no name is durable without its content.
                    assertThat(mode)
                            .as("%s is damaged after a cut that kept only what was forced: %s", f, damaged)
                            .isNotEqualTo(FaultInjectingStorage.CrashMode.DROP);
                }
                destroy(osd, f, new Model());
                assertThat(osd.exists(f)).as("%s after destroy", f).isFalse();
            }
            osd.sync();
        }
        try (Osd osd = open(after, records)) {
            for (Fid f : fids()) {
                assertThat(osd.exists(f)).isEqualTo(m.synced.containsKey(f));
            }
        }
    }

    /** Records in the bodies' xattrs (format version 2): the campaign at full size. */
    @Test
    void everyCutLeavesADeviceThatMountsKeepsSyncedCopiesAndDestroysTheRest() throws Exception {
        campaign(
                "auto",
                Integer.getInteger("spillway.crash.points", 1000),
                Integer.getInteger("spillway.crash.seeds", 12));
    }

    /** Records in .attr files (format version 1, devices formatted before record xattrs): a smaller campaign. */
    @Test
    void theSameHoldsWithRecordFiles() throws Exception {
        campaign("file", Integer.getInteger("spillway.crash.points", 1000) / 5, 4);
    }

    static void campaign(String records, int points, int seeds) throws Exception {
        String replay = System.getProperty("spillway.crash.replay");
        if (replay != null) {
            String[] p = replay.split(":");
            check(Seeds.parse(p[0]), Long.parseLong(p[1]), FaultInjectingStorage.CrashMode.valueOf(p[2]), records);
            return;
        }
        long master = Seeds.master();
        System.out.printf(
                "vfs power-loss campaign (records %s): master seed 0x%x, %d points over %d workloads%n",
                records, master, points, seeds);
        SplittableRandom sr = new SplittableRandom(master);
        FaultInjectingStorage.CrashMode[] modes = FaultInjectingStorage.CrashMode.values();
        Map<FaultInjectingStorage.CrashMode, Integer> byMode = new LinkedHashMap<>();
        int ran = 0;
        for (int w = 0; w < seeds; w++) {
            long seed = sr.nextLong();
            FaultInjectingStorage dry = new FaultInjectingStorage(FaultInjectingStorage.Features.ext4());
            workload(open(dry, records), seed, new Model());
            long total = dry.operations();
            int here = points / seeds + (w < points % seeds ? 1 : 0);
            Random pick = new Random(seed);
            for (int k = 0; k < here; k++) {
                long at = 1 + (long) (pick.nextDouble() * total);
                FaultInjectingStorage.CrashMode mode = modes[(k + w) % modes.length];
                try {
                    check(seed, at, mode, records);
                } catch (Throwable e) {
                    throw new AssertionError(
                            String.format(
                                    "crash point failed (records %s): seed 0x%x, crash at operation %d of %d, mode %s"
                                            + " (master seed 0x%x); replay with -Dspillway.crash.replay=0x%x:%d:%s: %s",
                                    records, seed, at, total, mode, master, seed, at, mode, e),
                            e);
                }
                byMode.merge(mode, 1, Integer::sum);
                ran++;
            }
        }
        System.out.printf("vfs power-loss campaign: %d crash points %s%n", ran, byMode);
        assertThat(ran).isEqualTo(points);
    }
}
