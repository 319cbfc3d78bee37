package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectCursor;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.filter.FilterOsd;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.pool.config.DeviceConfig;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.recovery.Fsck;
import java.nio.ByteBuffer;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** What the pool's tests share: configurations, mounting, and objects written and read whole. */
final class PoolFixtures {
    private PoolFixtures() {}

    /** A pool of two mem devices: fast (metadata, foreground, promote) and slow (background). */
    static PoolConfig memMem(String name, long fastCapacity, int replicas, int backgrounds) throws OsdException {
        return memMem(name, fastCapacity, replicas, backgrounds, "async");
    }

    /** As {@link #memMem(String, long, int, int)}, with the pool-wide {@code write-commit:} policy given. */
    static PoolConfig memMem(String name, long fastCapacity, int replicas, int backgrounds, String writeCommit)
            throws OsdException {
        return PoolConfigParser.parse(memMemYaml(name, fastCapacity, replicas, backgrounds, writeCommit), "test");
    }

    /**
     * As {@link #memMem(String, long, int, int)}, one replica, with {@code space.write-around} given
     * ({@code always}: every new body is written around the fast tier; docs/design.md, "Write-around").
     */
    static PoolConfig memMemAround(String name, long fastCapacity, int backgrounds, String writeAround)
            throws OsdException {
        return PoolConfigParser.parse(
                memMemYaml(name, fastCapacity, 1, backgrounds, "async") + "space: {write-around: " + writeAround
                        + "}\n",
                "test");
    }

    private static String memMemYaml(
            String name, long fastCapacity, int replicas, int backgrounds, String writeCommit) {
        StringBuilder y = new StringBuilder();
        y.append("name: ").append(name).append("\nreplicas: ").append(replicas);
        y.append("\nwrite-commit: ").append(writeCommit).append("\ndevices:\n");
        y.append(
                "  - name: fast\n    backend: mem\n    roles: [metadata, foreground, promote]\n    settings:\n      strict-declares: true\n");
        if (fastCapacity > 0) {
            y.append("      capacity: ").append(fastCapacity).append('\n');
        }
        for (int i = 0; i < backgrounds; i++) {
            y.append("  - name: slow")
                    .append(i)
                    .append(
                            "\n    backend: mem\n    roles: [background]\n    settings:\n      strict-declares: true\n");
            if (fastCapacity > 0) {
                y.append("      capacity: ").append(fastCapacity).append('\n');
            }
        }
        return y.toString();
    }

    /**
     * What every pool conformance test leaves must check clean (as osd-kv's conformance runs its
     * own fsck): a deep fsck of the pool under {@code device} (a pool, or a filter over one) finds
     * nothing — layouts, records, copies and their checksums, device indexes, orphans, counters.
     */
    static void assertFsckClean(Osd device) throws OsdException {
        Osd o = device;
        while (o instanceof FilterOsd f) {
            o = f.delegate();
        }
        Fsck.Report r = ((PoolOsd) o).fsck(false, true, null);
        assertThat(r.problems()).as("fsck of %s", device).isEmpty();
    }

    static PoolOsd mount(PoolConfig c) throws OsdException {
        return PoolOsd.mount(c, InstantSource.system(), PoolOsd.MountMode.RECOVER);
    }

    /**
     * A fresh osd-mem device for each device of {@code c}, in index order, opened with its
     * settings: what a test keeps to mount the pool on again, crash, or look at below the pool.
     */
    static List<MemOsd> memDevices(PoolConfig c) throws OsdException {
        List<MemOsd> l = new ArrayList<>();
        for (DeviceConfig d : c.devices()) {
            l.add(new MemOsd(new OsdConfig(d.name(), d.backend(), d.settings(), InstantSource.system())));
        }
        return l;
    }

    /** Mounts {@code c} on devices already open, {@code devices.get(i)} for device index {@code i}. */
    static PoolOsd mountOn(PoolConfig c, List<? extends Osd> devices, PoolOsd.MountMode mode) throws OsdException {
        return PoolOsd.mount(c, InstantSource.system(), mode, (d, clock) -> devices.get(d.index()));
    }

    /** A step a test adds to a transaction after its updates, before its stop (a commit callback, say). */
    @FunctionalInterface
    interface BeforeStop {
        void run(Transaction tx) throws OsdException;
    }

    /** Creates the DATA object {@code f} (mode 0644) holding {@code body}, in one transaction. */
    static Fid create(Osd osd, Fid f, byte[] body) throws OsdException {
        try (Transaction tx = osd.newTransaction()) {
            tx.declareCreate(f, ObjectKind.DATA);
            tx.declareWrite(f, 0, body.length);
            tx.start();
            tx.create(f, ObjectKind.DATA, AttrChange.none().mode(0644));
            tx.write(f, 0, ByteBuffer.wrap(body));
        }
        return f;
    }

    /**
     * Makes {@code body} the whole body of the DATA object {@code f}, creating it (mode 0644) if it
     * does not exist, in one transaction: truncate to 0, write. {@code beforeStop} runs after the
     * updates, before the stop.
     */
    static void replace(Osd osd, Fid f, byte[] body, BeforeStop beforeStop) throws OsdException {
        boolean exists = osd.exists(f);
        try (Transaction tx = osd.newTransaction()) {
            if (!exists) {
                tx.declareCreate(f, ObjectKind.DATA);
            }
            tx.declareTruncate(f, 0);
            tx.declareWrite(f, 0, body.length);
            tx.start();
            if (!exists) {
                tx.create(f, ObjectKind.DATA, AttrChange.none().mode(0644));
            }
            tx.truncate(f, 0);
            tx.write(f, 0, ByteBuffer.wrap(body));
            beforeStop.run(tx);
        }
    }

    /** The whole body of {@code f}, as long as its size says. */
    static byte[] read(Osd osd, Fid f) throws OsdException {
        byte[] out = new byte[(int) osd.getAttr(f).size()];
        int pos = 0;
        while (pos < out.length) {
            pos += osd.read(f, pos, ByteBuffer.wrap(out, pos, out.length - pos));
        }
        return out;
    }

    /** {@code n} pseudo-random bytes, the same for the same seed. */
    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** Every object on device {@code osd}, in its listing's order. */
    static List<Fid> onDevice(Osd osd) throws OsdException {
        List<Fid> out = new ArrayList<>();
        try (ObjectCursor c = osd.listObjects()) {
            while (c.next()) {
                out.add(c.fid());
            }
        }
        return out;
    }

    /** {@code f} has in-sync copies of its current version on exactly two devices. */
    static void assertTwoInSyncCopies(PoolOsd pool, Fid f) throws OsdException {
        PoolObject p = pool.requireObject(f);
        assertThat(p.copies().stream()
                        .filter(c -> c.state() == CopyState.IN_SYNC && c.version() == p.dataVersion())
                        .map(Copy::device)
                        .distinct()
                        .count())
                .as("in-sync copies of %s", f)
                .isEqualTo(2);
    }
}
