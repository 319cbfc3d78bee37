package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.osd.testkit.fault.CrashSwitch;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.meta.Job;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A crash-point campaign over write-around writes ({@code space.write-around: always};
 * docs/design.md, "Write-around"), modelled on {@link SyncCommitCrashTest}: new bodies written to
 * the background device only — created and written in one transaction, or created empty and
 * written in the next (the S3 gateway's staged body) — mixed with whole rewrites (which land on
 * the fast tier, recalling nothing), destroys, spills, promotions, garbage collection and syncs,
 * crashed at 1,000 points. After each: recovery, a deep fsck that finds nothing, every
 * acknowledged write byte for byte, and no write-around job left in the work index.
 *
 * <p>{@code -Dspillway.crash.points=N} (default 1,000) over {@code -Dspillway.crash.seeds=S}
 * workloads (default 10); {@code -Dspillway.seed=X} picks the master seed.
 */
class WriteAroundCrashTest {
    private static final int OBJECTS = 4;

    static PoolConfig config(int seed) {
        try {
            String y = "name: aroundcrash\nreplicas: 1\ndevices:\n"
                    + "  - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {durability: simulated, strict-declares: true}}\n"
                    + "  - {name: slow0, backend: mem, roles: [background], settings: {durability: simulated, strict-declares: true}}\n"
                    + "space: {write-around: always}\n";
            return PoolConfigParser.parse(y, "write-around crash test");
        } catch (OsdException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A new object created and written in one transaction: written around the fast tier. */
    static void create(PoolOsd pool, Fid f, byte[] body, boolean sync, CrashCampaign.Model model) throws OsdException {
        try (Transaction tx = pool.newTransaction()) {
            tx.declareCreate(f, ObjectKind.DATA);
            tx.declareWrite(f, 0, body.length);
            tx.start();
            tx.create(f, ObjectKind.DATA, AttrChange.none().mode(0644));
            tx.write(f, 0, ByteBuffer.wrap(body));
            ack(tx, f, body, sync, model);
        }
    }

    /** Created empty, then written in a transaction of its own (as the S3 gateway stages a body). */
    static void staged(PoolOsd pool, Fid f, byte[] body, boolean sync, CrashCampaign.Model model) throws OsdException {
        try (Transaction tx = pool.newTransaction()) {
            tx.declareCreate(f, ObjectKind.DATA);
            tx.start();
            tx.create(f, ObjectKind.DATA, AttrChange.none().mode(0644));
            ack(tx, f, new byte[0], sync, model);
        }
        try (Transaction tx = pool.newTransaction()) {
            // Two writes, the second first: a body written out of order is still whole.
            int half = body.length / 2;
            tx.declareWrite(f, 0, body.length);
            tx.start();
            tx.write(f, half, ByteBuffer.wrap(body, half, body.length - half));
            tx.write(f, 0, ByteBuffer.wrap(body, 0, half));
            ack(tx, f, body, sync, model);
        }
    }

    private static void ack(Transaction tx, Fid f, byte[] state, boolean sync, CrashCampaign.Model model) {
        int idx = model.add(f, state);
        tx.addCommitCallback((id, err) -> {
            if (err == null) {
                model.ack(f, idx);
            }
        });
        tx.setSync(sync);
    }

    static void workload(long seed, PoolOsd pool, CrashSwitch sw, CrashCampaign.Model model) throws Exception {
        Random r = new Random(seed);
        for (int step = 0; step < 30; step++) {
            Fid f = CrashCampaign.object(r.nextInt(OBJECTS));
            int op = r.nextInt(100);
            try {
                byte[] body = new byte[1 + r.nextInt(30_000)];
                r.nextBytes(body);
                boolean exists = pool.exists(f);
                if (op < 35) {
                    if (exists) {
                        CrashCampaign.destroy(pool, f, model);
                    }
                    create(pool, f, body, r.nextBoolean(), model);
                } else if (op < 55) {
                    if (exists) {
                        CrashCampaign.destroy(pool, f, model);
                    }
                    staged(pool, f, body, r.nextBoolean(), model);
                } else if (op < 65) {
                    // A whole rewrite (a truncate): not written around; a spilled body is not recalled.
                    CrashCampaign.write(pool, f, body, r.nextBoolean(), model);
                } else if (op < 72) {
                    if (exists) {
                        CrashCampaign.destroy(pool, f, model);
                    }
                } else if (op < 79) {
                    pool.migrator().spill(f, pool.devices().get(1));
                } else if (op < 86) {
                    pool.migrator().promote(f);
                } else if (op < 93) {
                    pool.migrator().collectGarbage();
                } else {
                    pool.sync();
                }
            } catch (OsdException e) {
                CrashCampaign.refusedOrCrashed(e, sw, step);
            }
        }
    }

    /** Recovery settled every write-around: no job of one is left. */
    static void noJobLeft(PoolOsd pool, CrashCampaign.Model model, String where) throws Exception {
        assertThat(pool.jobs())
                .as("jobs after recovery (%s)", where)
                .noneMatch(j -> j.kind() == Job.Kind.SYNC_COPY || j.kind() == Job.Kind.WRITE_AROUND);
    }

    @Test
    void everyCrashPointLeavesTheOldOrTheNewVersion() throws Exception {
        int points = Integer.getInteger("spillway.crash.points", 1000);
        int seeds = Integer.getInteger("spillway.crash.seeds", 10);
        int ran = CrashCampaign.run(
                "write-around crash campaign",
                points,
                seeds,
                WriteAroundCrashTest::config,
                OBJECTS,
                null,
                WriteAroundCrashTest::workload,
                WriteAroundCrashTest::noJobLeft);
        assertThat(ran).isEqualTo(points);
    }

    @Test
    void withoutACrashNewBodiesAreWrittenAroundTheFastTier() throws Exception {
        PoolConfig c = config(0);
        CrashSwitch sw = new CrashSwitch(0);
        List<MemOsd> raw = CrashCampaign.freshDevices(c);
        PoolOsd pool = CrashCampaign.mount(c, raw, sw);
        CrashCampaign.Model model = new CrashCampaign.Model();
        workload(7, pool, sw, model);
        assertThat(sw.crashed()).isFalse();
        assertThat(model.acked).isNotEmpty();
        Fid f = new Fid(0x200000400L, 99, 0);
        byte[] body = PoolFixtures.random(200_000, 5);
        create(pool, f, body, true, model);
        assertThat(pool.object(f).orElseThrow().resident(pool.devices().get(0).index()))
                .as("written around: not resident")
                .isFalse();
        assertThat(pool.object(f).orElseThrow().inSync()).hasSize(1);
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(body);
        noJobLeft(pool, model, "no crash");
    }
}
