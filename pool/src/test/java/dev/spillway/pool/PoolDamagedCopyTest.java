package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.testkit.fault.CrashSwitch;
import dev.spillway.osd.testkit.fault.FaultInjectingStorage;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.WorkIndex;
import dev.spillway.pool.recovery.Fsck;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * What a crash or a disk may leave of a copy on a spill device (osd-vfs on the fault-injecting
 * storage) and what the pool makes of it: garbage the device cannot delete, or that is gone
 * already, never stops a mount and is counted in its report.
 */
class PoolDamagedCopyTest {
    static final Fid F = CrashCampaign.object(0);

    /** A machine whose pool has one garbage copy on the journal-off spill device, unmounted by a power cut. */
    static PowerLossCampaign.Machine withGarbage(Fid[] key) throws Exception {
        PowerLossCampaign.Machine m = new PowerLossCampaign.Machine(PoolPowerLossTest.config(1), new CrashSwitch(0));
        PoolOsd pool = m.mount();
        CrashCampaign.write(pool, F, new byte[50_000], true, new CrashCampaign.Model());
        pool.migrator().spill(F, pool.devices().get(1));
        Copy c = pool.object(F).orElseThrow().copies().stream()
                .filter(x -> x.device() == 1)
                .findFirst()
                .orElseThrow();
        key[0] = c.key();
        // The object goes: its copy becomes garbage, collected by the next garbage pass or mount.
        CrashCampaign.destroy(pool, F, new CrashCampaign.Model());
        pool.sync();
        List<Job> jobs = WorkIndex.all(pool.metadata().osd());
        assertThat(jobs).anyMatch(j -> j.kind() == Job.Kind.GC && j.key().equals(c.key()));
        return m.survivor(FaultInjectingStorage.CrashMode.DROP, 1);
    }

    static String name(Fid key) {
        return String.format("%016x-%08x-%08x", key.seq(), key.oid(), key.ver());
    }

    @Test
    void aGarbageCopyItsDeviceCannotDeleteIsLeftForLaterAndTheMountGoesOn() throws Exception {
        Fid[] key = new Fid[1];
        PowerLossCampaign.Machine m = withGarbage(key);
        FaultInjectingStorage slow0 = m.storages.get(1);
        slow0.setFault((op, path, n) -> op == FaultInjectingStorage.Op.DELETE && path.contains(name(key[0]))
                ? new IOException("Input/output error")
                : null);
        try (PoolOsd pool = m.mount()) {
            assertThat(pool.recoveryReport().deferred()).isEqualTo(1);
            assertThat(pool.recoveryReport().toString()).contains("1 left for the daemon");
            assertThat(WorkIndex.all(pool.metadata().osd()))
                    .anyMatch(j -> j.kind() == Job.Kind.GC && j.key().equals(key[0]));
            // The disk recovers: the next garbage pass deletes it.
            slow0.setFault(null);
            assertThat(pool.migrator().collectGarbage()).isEqualTo(1);
            assertThat(pool.devices().get(1).osd().exists(key[0])).isFalse();
            assertThat(pool.fsck(false, true, null).problems()).isEmpty();
        }
    }

    @Test
    void aGarbageCopyAlreadyGoneIsCountedAndItsJobDone() throws Exception {
        Fid[] key = new Fid[1];
        PowerLossCampaign.Machine m = withGarbage(key);
        FaultInjectingStorage slow0 = m.storages.get(1);
        String dir = null;
        for (String d : slow0.list("objects")) {
            if (slow0.list("objects/" + d).stream().anyMatch(n -> n.startsWith(name(key[0])))) {
                dir = "objects/" + d;
            }
        }
        for (String n : slow0.list(dir)) {
            if (n.startsWith(name(key[0]))) {
                slow0.delete(dir + "/" + n);
            }
        }
        try (PoolOsd pool = m.mount()) {
            assertThat(pool.recoveryReport().missing()).isEqualTo(1);
            assertThat(pool.recoveryReport().toString()).contains("1 already gone");
            assertThat(WorkIndex.all(pool.metadata().osd())).noneMatch(j -> j.kind() == Job.Kind.GC);
            assertThat(pool.fsck(false, true, null).problems()).isEmpty();
        }
    }

    /**
     * Deletes the files of copy {@code key} on a vfs storage (external damage: a disk lost them);
     * {@code bodyOnly}: its bytes only, its record kept — the body deleted beside its {@code .attr}
     * record file (osd-vfs format 1), or emptied where the record is the body's own xattr (format 2).
     */
    static void lose(FaultInjectingStorage s, Fid key, boolean bodyOnly) throws IOException {
        for (String d : s.list("objects")) {
            List<String> names = s.list("objects/" + d);
            for (String n : names) {
                if (!n.startsWith(name(key)) || (bodyOnly && n.endsWith(".attr"))) {
                    continue;
                }
                String path = "objects/" + d + "/" + n;
                if (bodyOnly && !names.contains(n + ".attr")) {
                    try (var f = s.open(path, java.nio.file.StandardOpenOption.WRITE)) {
                        f.truncate(0);
                        f.force(true);
                    }
                } else {
                    s.delete(path);
                }
            }
        }
    }

    static byte[] read(PoolOsd pool, Fid f) throws Exception {
        byte[] b = new byte[(int) pool.getAttr(f).size()];
        ByteBuffer bb = ByteBuffer.wrap(b);
        while (bb.hasRemaining() && pool.read(f, bb.position(), bb) > 0) {
            // until full
        }
        return b;
    }

    @Test
    void aLostCopyDoesNotStopTheMountIsHealedFromTheOtherAndFsckListsAndRepairsIt() throws Exception {
        PowerLossCampaign.Machine m = new PowerLossCampaign.Machine(PoolPowerLossTest.config(2), new CrashSwitch(0));
        byte[] body = new byte[70_000];
        new Random(7).nextBytes(body);
        Fid key;
        try (PoolOsd pool = m.mount()) {
            CrashCampaign.write(pool, F, body, true, new CrashCampaign.Model());
            pool.migrator().copy(F, pool.devices().get(1), false);
            pool.migrator().spill(F, pool.devices().get(2));
            key = pool.object(F).orElseThrow().copies().stream()
                    .filter(x -> x.device() == 1)
                    .findFirst()
                    .orElseThrow()
                    .key();
            pool.sync();
        }
        PowerLossCampaign.Machine after = m.survivor(FaultInjectingStorage.CrashMode.DROP, 1);
        lose(after.storages.get(1), key, true);
        try (PoolOsd pool = after.mount()) {
            Fsck.Report r = pool.fsck(false, true, null);
            // The body is gone, its record not: the copy reads as 0 bytes.
            assertThat(r.problems())
                    .anyMatch(p -> p.kind().equals("copy-size") && F.equals(p.fid()) && "slow0".equals(p.device()));
            Fsck.Report fixed = pool.fsck(true, true, null);
            assertThat(fixed.problems()).allMatch(Fsck.Problem::repaired);
            assertThat(read(pool, F)).isEqualTo(body);
            pool.migrator().resync(F, 1);
            assertThat(pool.fsck(false, true, null).problems()).isEmpty();
            assertThat(read(pool, F)).isEqualTo(body);
        }
    }

    @Test
    void theOnlyCopyLostMountsReadsWithAClearEioAndFsckSaysSo() throws Exception {
        PowerLossCampaign.Machine m = new PowerLossCampaign.Machine(PoolPowerLossTest.config(1), new CrashSwitch(0));
        Fid other = CrashCampaign.object(1);
        Fid key;
        try (PoolOsd pool = m.mount()) {
            CrashCampaign.write(pool, F, new byte[30_000], true, new CrashCampaign.Model());
            CrashCampaign.write(pool, other, new byte[30_000], true, new CrashCampaign.Model());
            pool.migrator().spill(F, pool.devices().get(1));
            pool.migrator().spill(other, pool.devices().get(1));
            key = pool.object(F).orElseThrow().copies().stream()
                    .filter(x -> x.device() == 1)
                    .findFirst()
                    .orElseThrow()
                    .key();
            pool.sync();
        }
        PowerLossCampaign.Machine after = m.survivor(FaultInjectingStorage.CrashMode.DROP, 1);
        lose(after.storages.get(1), key, false);
        try (PoolOsd pool = after.mount()) {
            assertThat(read(pool, other)).hasSize(30_000);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> read(pool, F))
                    .isInstanceOfSatisfying(OsdException.class, e -> {
                        assertThat(e.errno()).isEqualTo(Errno.EIO);
                        assertThat(e.getMessage()).contains(F.toString()).contains("no good copy left");
                    });
            Fsck.Report r = pool.fsck(true, true, null);
            assertThat(r.problems())
                    .anyMatch(p -> p.kind().equals("missing")
                            && F.equals(p.fid())
                            && !p.repaired()
                            && p.detail().contains("its only in-sync copy: reads fail with EIO"));
            assertThat(r.problems()).noneMatch(p -> other.equals(p.fid()));
        }
    }
}
