package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.XattrFlag;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.config.WriteCommit;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.WorkIndex;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The write-commit policy: a sync write is acknowledged (stop returns, callbacks fire) only with
 * its copies durable and in sync; the policy per object by xattr; a device failing mid-write moves
 * the copy to a spare, degrades to {@code min}, or fails the write with EIO; a policy no device
 * can meet fails before anything is written.
 */
class WriteCommitTest {
    private static final String YAML = """
            name: wc
            replicas: 2
            write-commit: %s
            devices:
              - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {strict-declares: true}}
              - {name: slow0, backend: mem, roles: [background], settings: {strict-declares: true}}
              - {name: slow1, backend: mem, roles: [background], settings: {strict-declares: true}}
            """;

    private final Map<String, Flaky> devices = new HashMap<>();

    private PoolOsd mount(String policy) throws OsdException {
        PoolConfig c = PoolConfigParser.parse(String.format(YAML, policy), "wc");
        return PoolOsd.mount(c, InstantSource.system(), PoolOsd.MountMode.RECOVER, (d, clock) -> {
            Flaky f = new Flaky(new MemOsd(new OsdConfig(d.name(), "mem", Map.of("strict-declares", true), clock)));
            devices.put(d.name(), f);
            return f;
        });
    }

    private static Fid fid(int n) {
        return new Fid(0x200000400L, n, 0);
    }

    /** Writes {@code body} (creating the object if needed), with the policy xattr if {@code policy} != null. */
    private static void write(PoolOsd pool, Fid f, byte[] body, String policy, List<OsdException> callback)
            throws OsdException {
        boolean exists = pool.exists(f);
        try (Transaction tx = pool.newTransaction()) {
            if (!exists) {
                tx.declareCreate(f, ObjectKind.DATA);
            }
            tx.declareTruncate(f, 0);
            tx.declareWrite(f, 0, body.length);
            if (policy != null) {
                tx.declareSetXattr(f, WriteCommit.XATTR, policy.length());
            }
            tx.start();
            if (!exists) {
                tx.create(f, ObjectKind.DATA, AttrChange.none());
            }
            tx.truncate(f, 0);
            tx.write(f, 0, ByteBuffer.wrap(body));
            if (policy != null) {
                tx.setXattr(f, WriteCommit.XATTR, policy.getBytes(StandardCharsets.US_ASCII), XattrFlag.UPSERT);
            }
            tx.addCommitCallback((id, err) -> callback.add(err));
        }
    }

    private static byte[] body(int seed, int n) {
        return PoolFixtures.random(n, seed);
    }

    private static byte[] read(Osd osd, Fid key, int size) throws OsdException {
        byte[] out = new byte[size];
        int pos = 0;
        while (pos < size) {
            int n = osd.read(key, pos, ByteBuffer.wrap(out, pos, size - pos));
            assertThat(n).isPositive();
            pos += n;
        }
        return out;
    }

    /** In-sync copies of the current version on background devices, with their bytes checked there. */
    private List<Copy> durableExtraCopies(PoolOsd pool, Fid f, byte[] body) throws OsdException {
        PoolObject p = pool.requireObject(f);
        List<Copy> out = new ArrayList<>();
        for (Copy c : p.inSync()) {
            if (c.device() != 0 && c.version() == p.dataVersion()) {
                assertThat(read(pool.device(c.device()).osd(), c.key(), body.length))
                        .as("copy %s", c)
                        .isEqualTo(body);
                out.add(c);
            }
        }
        return out;
    }

    @Test
    void theConfigurationTakesAsyncSyncAndMinAndRefusesTheRest() throws Exception {
        assertThat(PoolConfigParser.parse(String.format(YAML, "async"), "t").writeCommit())
                .isEqualTo(WriteCommit.ASYNC);
        assertThat(PoolConfigParser.parse(String.format(YAML, "sync 2"), "t").writeCommit())
                .isEqualTo(new WriteCommit(2, 2));
        assertThat(PoolConfigParser.parse(String.format(YAML, "sync 2 min 1"), "t")
                        .writeCommit())
                .isEqualTo(new WriteCommit(2, 1));
        assertThat(PoolConfigParser.parse(YAML.replace("write-commit: %s\n", ""), "t")
                        .writeCommit())
                .isEqualTo(WriteCommit.ASYNC);
        for (String bad :
                List.of("sync", "sync 0", "sync two", "sync 2 min 3", "sync 2 max 1", "fast", "sync 1 min 0")) {
            assertThatThrownBy(() -> PoolConfigParser.parse(String.format(YAML, bad), "t"))
                    .as(bad)
                    .isInstanceOf(OsdException.class)
                    .hasMessageContaining("write-commit")
                    .hasMessageContaining("sync N");
        }
        assertThatThrownBy(() -> PoolConfigParser.parse(String.format(YAML, "sync 3"), "t"))
                .hasMessageContaining("write-commit")
                .hasMessageContaining("replicas is 2");
        assertThatThrownBy(() -> PoolConfigParser.parse(
                        String.format(YAML, "sync 4").replace("replicas: 2", "replicas: 3"), "t"))
                .hasMessageContaining("only 3 durable device(s)");
    }

    @Test
    void aSyncWriteIsAcknowledgedOnlyWithItsCopyDurableAndInSync() throws Exception {
        PoolOsd pool = mount("sync 2");
        Fid f = fid(1);
        List<PoolObject> atAck = new ArrayList<>();
        for (int round = 0; round < 3; round++) {
            byte[] b = body(round, 100_000 + round * 30_000);
            List<OsdException> cb = new ArrayList<>();
            PoolFixtures.replace(
                    pool,
                    f,
                    b,
                    tx -> tx.addCommitCallback((id, err) -> {
                        cb.add(err);
                        try {
                            atAck.add(pool.requireObject(f));
                        } catch (OsdException e) {
                            throw new IllegalStateException(e);
                        }
                    }));
            assertThat(cb).containsExactly((OsdException) null);
            PoolObject p = atAck.get(round);
            assertThat(p.inSync().stream().filter(c -> c.device() != 0 && c.version() == p.dataVersion()))
                    .as("the layout when the callback fired: %s", p)
                    .hasSize(1);
            assertThat(durableExtraCopies(pool, f, b)).hasSize(1);
            assertThat(p.copies()).noneMatch(c -> c.state() == CopyState.PENDING);
            assertThat(WorkIndex.all(pool.metadata().osd())).noneMatch(j -> j.kind() == Job.Kind.COPY);
            // The rewrite replaced the copy on the device that held the old one: no stale copy left.
            assertThat(p.copies()).hasSize(2);
        }
        pool.migrator().collectGarbage();
        assertThat(pool.fsck(false, true, null).problems()).isEmpty();
        pool.close();
    }

    @Test
    void anObjectsXattrSetsItsPolicyOnAnAsyncPool() throws Exception {
        PoolOsd pool = mount("async");
        Fid f = fid(2);
        List<OsdException> cb = new ArrayList<>();
        write(pool, f, body(1, 5000), null, cb);
        assertThat(pool.requireObject(f).copies()).hasSize(1);
        byte[] b2 = body(2, 6000);
        write(pool, f, b2, "sync 2", cb);
        assertThat(durableExtraCopies(pool, f, b2)).hasSize(1);
        // The stored xattr rules later writes.
        byte[] b3 = body(3, 7000);
        write(pool, f, b3, null, cb);
        assertThat(durableExtraCopies(pool, f, b3)).hasSize(1);
        // async again: the other copy goes stale, as on any async pool with replicas 2.
        byte[] b4 = body(4, 8000);
        write(pool, f, b4, "async", cb);
        assertThat(durableExtraCopies(pool, f, b4)).isEmpty();
        assertThat(cb).containsOnlyNulls().hasSize(4);
        // A malformed policy is refused and changes nothing.
        assertThatThrownBy(() -> write(pool, f, body(5, 10), "sync lots", new ArrayList<>()))
                .isInstanceOf(OsdException.class)
                .hasMessageContaining("EINVAL")
                .hasMessageContaining(WriteCommit.XATTR)
                .hasMessageContaining("sync lots");
        assertThat(pool.getAttr(f).size()).isEqualTo(8000);
        pool.migrator().collectGarbage();
        assertThat(pool.fsck(false, true, null).problems()).isEmpty();
        pool.close();
    }

    @Test
    void aDeviceFailingMidWriteHandsTheCopyToASpare() throws Exception {
        PoolOsd pool = mount("sync 2");
        Fid f = fid(3);
        List<OsdException> cb = new ArrayList<>();
        write(pool, f, body(1, 50_000), null, cb);
        assertThat(pool.requireObject(f).on(1)).isPresent();
        devices.get("slow0").failWrites.set(true);
        byte[] b = body(2, 70_000);
        write(pool, f, b, null, cb);
        assertThat(cb).containsOnlyNulls().hasSize(2);
        List<Copy> extra = durableExtraCopies(pool, f, b);
        assertThat(extra).extracting(Copy::device).containsExactly(2);
        devices.get("slow0").failWrites.set(false);
        pool.migrator().collectGarbage();
        assertThat(pool.fsck(false, true, null).problems()).isEmpty();
        pool.close();
    }

    @Test
    void noDeviceLeftFailsTheWriteWithEioOrDegradesToMin() throws Exception {
        PoolOsd pool = mount("sync 2");
        Fid f = fid(4);
        write(pool, f, body(1, 20_000), null, new ArrayList<>());
        devices.get("slow0").failWrites.set(true);
        devices.get("slow1").failWrites.set(true);
        List<OsdException> cb = new ArrayList<>();
        byte[] b = body(2, 30_000);
        assertThatThrownBy(() -> write(pool, f, b, null, cb))
                .isInstanceOf(OsdException.class)
                .satisfies(e -> assertThat(((OsdException) e).errno()).isEqualTo(Errno.EIO))
                .hasMessageContaining(f.toString())
                .hasMessageContaining("made 1 durable copy of 2")
                .hasMessageContaining("slow0")
                .hasMessageContaining("slow1")
                .hasMessageContaining("injected write error");
        assertThat(cb).hasSize(1);
        assertThat(cb.get(0)).isNotNull();
        // Like a write whose fsync failed: the new version is there, with the copies it has.
        assertThat(pool.getAttr(f).size()).isEqualTo(30_000);
        assertThat(pool.requireObject(f).copies()).noneMatch(c -> c.state() == CopyState.PENDING);
        // sync 2 min 1 accepts the one copy.
        List<OsdException> cb2 = new ArrayList<>();
        byte[] b3 = body(3, 40_000);
        write(pool, f, b3, "sync 2 min 1", cb2);
        assertThat(cb2).containsExactly((OsdException) null);
        assertThat(durableExtraCopies(pool, f, b3)).isEmpty();
        devices.get("slow0").failWrites.set(false);
        devices.get("slow1").failWrites.set(false);
        pool.migrator().collectGarbage();
        assertThat(pool.fsck(false, true, null).problems()).isEmpty();
        pool.close();
    }

    @Test
    void aPolicyNoWritableDeviceCanMeetFailsBeforeAnythingIsWritten() throws Exception {
        PoolOsd pool = mount("sync 2");
        Fid f = fid(5);
        byte[] old = body(1, 10_000);
        write(pool, f, old, null, new ArrayList<>());
        pool.deviceOps().setState(pool.device(1), DeviceState.RO);
        pool.deviceOps().setState(pool.device(2), DeviceState.RO);
        List<OsdException> cb = new ArrayList<>();
        assertThatThrownBy(() -> write(pool, f, body(2, 12_000), null, cb))
                .isInstanceOf(OsdException.class)
                .hasMessageContaining("EIO")
                .hasMessageContaining("sync 2")
                .hasMessageContaining("nothing was written");
        assertThat(cb).hasSize(1).doesNotContainNull();
        assertThat(read(pool, f, old.length)).isEqualTo(old);
        assertThat(pool.getAttr(f).size()).isEqualTo(old.length);
        assertThat(pool.fsck(false, true, null).problems()).isEmpty();
        pool.close();
    }
}
