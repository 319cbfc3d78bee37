package dev.spillway.osd.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.filter.FilterOsd;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.ops.MoveResult;
import dev.spillway.pool.recovery.Fsck;
import java.nio.ByteBuffer;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;

/**
 * A pool of a fast osd-kv device (metadata, foreground, promote) in a temporary folder and osd-s3
 * spill devices under fresh prefixes of one bucket. Both persist, so a test can unmount and mount
 * again — a restart — and see the pool's recovery and osd-s3's sweep.
 */
final class PoolS3Fixture implements AutoCloseable {
    final String base = "pool-" + UUID.randomUUID() + "/";
    private final java.nio.file.Path folder;
    private final String yaml;
    PoolOsd pool;

    /** @param spill one settings map per S3 spill device, named s3a, s3b, … */
    PoolS3Fixture(List<Map<String, Object>> spill) throws OsdException {
        try {
            folder = java.nio.file.Files.createTempDirectory("spillway-pool-s3-");
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        StringBuilder y = new StringBuilder("name: p\nreplicas: 1\ndevices:\n");
        y.append(
                        "  - name: fast\n    backend: kv\n    roles: [metadata, foreground, promote]\n    settings: {strict-declares: true, path: '")
                .append(folder.resolve("fast"))
                .append("'}\n");
        for (int i = 0; i < spill.size(); i++) {
            y.append("  - name: s3")
                    .append((char) ('a' + i))
                    .append("\n    backend: s3\n    roles: [background]\n    settings:\n");
            for (Map.Entry<String, Object> e : spill.get(i).entrySet()) {
                y.append("      ")
                        .append(e.getKey())
                        .append(": '")
                        .append(e.getValue())
                        .append("'\n");
            }
        }
        this.yaml = y.toString();
        mount();
    }

    /** Settings of a spill device on {@code peer} under this fixture's prefix + {@code name}. */
    static Map<String, Object> settings(S3Peers.Peer peer, String base, String name) {
        Map<String, Object> s = peer.settings("pools", base + name);
        s.put("strict-declares", true);
        return s;
    }

    void mount() throws OsdException {
        PoolConfig c = PoolConfigParser.parse(yaml, "test");
        pool = PoolOsd.mount(c, InstantSource.system(), PoolOsd.MountMode.RECOVER);
    }

    void remount() throws OsdException {
        pool.close();
        mount();
    }

    S3Osd s3(String device) {
        return (S3Osd) FilterOsd.unwrap(pool.device(device).orElseThrow().osd());
    }

    dev.spillway.pool.device.PoolDevice device(String name) {
        return pool.device(name).orElseThrow();
    }

    Fid write(int oid, byte[] body) throws OsdException {
        Fid f = Fid.of(0x200000400L, oid);
        try (Transaction tx = pool.newTransaction()) {
            tx.declareCreate(f, ObjectKind.DATA);
            tx.declareWrite(f, 0, body.length);
            tx.start();
            tx.create(f, ObjectKind.DATA, AttrChange.none().mode(0100644).uid(1000));
            if (body.length > 0) {
                tx.write(f, 0, ByteBuffer.wrap(body));
            }
        }
        return f;
    }

    static byte[] random(long seed, int size) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    byte[] read(Fid f) throws OsdException {
        long size = pool.getAttr(f).size();
        byte[] out = new byte[(int) size];
        int pos = 0;
        while (pos < out.length) {
            int n = pool.read(f, pos, ByteBuffer.wrap(out, pos, Math.min(1 << 20, out.length - pos)));
            assertThat(n).as("read of %s at %d", f, pos).isPositive();
            pos += n;
        }
        return out;
    }

    boolean resident(Fid f) throws OsdException {
        return pool.requireObject(f).resident(pool.metadataIndex());
    }

    List<Job> jobs(Job.Kind kind) throws OsdException {
        List<Job> out = new ArrayList<>();
        for (Job j : pool.jobs()) {
            if (j.kind() == kind) {
                out.add(j);
            }
        }
        return out;
    }

    /** What the migration daemon does with parked moves: tries each again. */
    List<MoveResult> retryParked() throws OsdException {
        List<MoveResult> out = new ArrayList<>();
        for (Job j : jobs(Job.Kind.PARKED)) {
            out.add(pool.migrator().spill(j.fid(), pool.device(j.device())));
        }
        return out;
    }

    void assertFsckClean() throws OsdException {
        pool.migrator().collectGarbage();
        Fsck.Report r = pool.fsck(false, true, null);
        assertThat(r.problems()).as("fsck problems").isEmpty();
        assertThat(r.clean()).isTrue();
    }

    /** Object keys under a spill device's prefix, multipart uploads in progress, per the server. */
    static List<String> uploads(S3Peers.Peer peer, String bucket, String prefix) {
        try (var c = peer.client()) {
            return c.listMultipartUploads(b -> b.bucket(bucket).prefix(prefix)).uploads().stream()
                    .map(u -> u.key())
                    .toList();
        }
    }

    static List<String> keys(S3Peers.Peer peer, String bucket, String prefix) {
        try (var c = peer.client()) {
            return c.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(prefix)).contents().stream()
                    .map(o -> o.key())
                    .toList();
        }
    }

    @Override
    public void close() throws OsdException {
        if (pool != null) {
            pool.close();
        }
        try (var walk = java.nio.file.Files.walk(folder)) {
            for (var p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                java.nio.file.Files.deleteIfExists(p);
            }
        } catch (java.io.IOException e) {
            // A leftover temporary folder is not worth failing a test over.
        }
    }

    /** The metadata (fast) device, as the pool has it open. */
    Osd fast() {
        return pool.device(pool.metadataIndex()).osd();
    }
}
