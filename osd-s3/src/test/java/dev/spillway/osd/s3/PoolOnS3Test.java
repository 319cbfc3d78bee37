package dev.spillway.osd.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectCursor;
import dev.spillway.osd.StatFs;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.ops.DeviceOps;
import dev.spillway.pool.ops.MoveResult;
import dev.spillway.pool.recovery.Fsck;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.core.sync.RequestBody;

/**
 * A pool with a fast osd-kv device and osd-s3 spill devices, on s3proxy and on Spillway's own
 * gateway: spill, read-through,
 * promote, a corrupted copy caught and resynced, evacuation to a second S3 prefix — byte for
 * byte, with fsck clean and nothing left behind in the bucket.
 */
class PoolOnS3Test {
    // 0 bytes, 1 byte, one block and a bit, one part exactly (5 MiB), three parts (multipart + sidecar)
    private static final int[] SIZES = {0, 1, (1 << 20) + 3, 5 << 20, (12 << 20) + 7};

    @ParameterizedTest(name = "on {0}")
    @ValueSource(strings = {"s3proxy", "gateway"})
    void spillReadThroughPromoteResyncAndEvacuateToASecondPrefix(String server) throws Exception {
        S3Peers.Peer peer = server.equals("s3proxy") ? S3Peers.s3proxy() : S3Peers.gateway();
        String base = "pool-it-" + System.nanoTime() + "/";
        try (PoolS3Fixture fx = new PoolS3Fixture(
                List.of(PoolS3Fixture.settings(peer, base, "a"), PoolS3Fixture.settings(peer, base, "b")))) {
            Map<Fid, byte[]> bodies = new LinkedHashMap<>();
            for (int i = 0; i < SIZES.length; i++) {
                byte[] b = PoolS3Fixture.random(i, SIZES[i]);
                bodies.put(fx.write(i + 1, b), b);
            }
            var s3a = fx.device("s3a");
            // Spill everything to s3a: the fast device keeps zero-length stubs with their attributes.
            for (Fid f : bodies.keySet()) {
                assertThat(fx.pool.migrator().spill(f, s3a)).isInstanceOf(MoveResult.Done.class);
                assertThat(fx.resident(f)).isFalse();
                assertThat(fx.fast().getAttr(f).size()).isZero();
                assertThat(fx.pool.getAttr(f).size()).isEqualTo(bodies.get(f).length);
                assertThat(fx.pool.getAttr(f).uid()).isEqualTo(1000);
            }
            // Read-through: served from the S3 copies, verified.
            for (Map.Entry<Fid, byte[]> e : bodies.entrySet()) {
                assertThat(fx.read(e.getKey()))
                        .as("read-through of %s", e.getKey())
                        .isEqualTo(e.getValue());
            }
            // The copies are plain objects under the device's prefix, named as the layout says.
            S3Osd a = fx.s3(("s3a"));
            List<Fid> listed = new ArrayList<>();
            try (ObjectCursor c = a.listObjects()) {
                while (c.next()) {
                    listed.add(c.fid());
                }
            }
            assertThat(listed).hasSize(bodies.size());
            StatFs st = a.statfs();
            assertThat(st.objects()).isEqualTo(bodies.size());
            assertThat(st.usedBytes())
                    .isEqualTo(bodies.values().stream().mapToLong(b -> b.length).sum());

            // Promote: the body comes back to the fast device; the S3 copy stays in sync.
            Fid big = new ArrayList<>(bodies.keySet()).get(4);
            assertThat(fx.pool.migrator().promote(big)).isInstanceOf(MoveResult.Done.class);
            assertThat(fx.resident(big)).isTrue();
            assertThat(fx.fast().getAttr(big).size()).isEqualTo(bodies.get(big).length);
            assertThat(fx.read(big)).isEqualTo(bodies.get(big));

            // A copy corrupted behind the device's back: fsck (deep) finds it, repair marks it
            // stale, resync rewrites it from the resident body.
            Copy onA = fx.pool.requireObject(big).on(s3a.index()).orElseThrow();
            corrupt(peer, a, onA.key());
            Fsck.Report bad = fx.pool.fsck(true, true, null);
            assertThat(bad.problems()).extracting(Fsck.Problem::kind).contains("checksum");
            assertThat(fx.pool.requireObject(big).on(s3a.index()).orElseThrow().state())
                    .isEqualTo(CopyState.STALE);
            assertThat(fx.jobs(Job.Kind.RESYNC)).hasSize(1);
            assertThat(fx.pool.migrator().resync(big, s3a.index())).isInstanceOf(MoveResult.Done.class);
            assertThat(fx.pool.requireObject(big).on(s3a.index()).orElseThrow().state())
                    .isEqualTo(CopyState.IN_SYNC);
            assertThat(fx.jobs(Job.Kind.RESYNC)).isEmpty();
            fx.assertFsckClean();

            // Evacuate s3a: every copy moves to the second prefix (s3b).
            DeviceOps.Progress p;
            do {
                p = fx.pool.deviceOps().evacuateStep(s3a, 2);
                assertThat(p.errors()).isEmpty();
            } while (!p.done());
            assertThat(s3a.state()).isEqualTo(DeviceState.SPARE);
            var s3b = fx.device("s3b");
            for (Map.Entry<Fid, byte[]> e : bodies.entrySet()) {
                assertThat(fx.pool.requireObject(e.getKey()).on(s3b.index()))
                        .as("copy of %s on s3b", e.getKey())
                        .isPresent();
                assertThat(fx.pool.requireObject(e.getKey()).on(s3a.index())).isEmpty();
                assertThat(fx.read(e.getKey()))
                        .as("after evacuation, %s", e.getKey())
                        .isEqualTo(e.getValue());
            }
            fx.assertFsckClean();
            // Nothing is left under s3a's prefix but its own two records; no upload is pending.
            assertThat(PoolS3Fixture.keys(peer, "pools", base + "a/"))
                    .containsExactlyInAnyOrder(base + "a/.spillway/device", base + "a/.spillway/statfs");
            assertThat(PoolS3Fixture.uploads(peer, "pools", base)).isEmpty();
            assertThat(fx.s3("s3a").statfs().objects()).isZero();
            assertThat(fx.s3("s3a").statfs().usedBytes()).isZero();
            assertThat(fx.s3("s3b").statfs().objects()).isEqualTo(bodies.size());

            // A restart: the pool recovers from its work index, the S3 devices remount their prefixes.
            fx.remount();
            for (Map.Entry<Fid, byte[]> e : bodies.entrySet()) {
                assertThat(fx.read(e.getKey())).isEqualTo(e.getValue());
            }
            assertThat(fx.s3("s3b").statfs().objects()).isEqualTo(bodies.size());
            fx.assertFsckClean();
        }
    }

    /** Rewrites a copy's object with the same metadata and one byte flipped. */
    static void corrupt(S3Peers.Peer peer, S3Osd osd, Fid key) throws Exception {
        String k = osd.keys().object(key);
        try (var c = peer.client()) {
            var head = c.headObject(b -> b.bucket("pools").key(k));
            byte[] body = c.getObjectAsBytes(b -> b.bucket("pools").key(k)).asByteArray();
            body[body.length / 2] ^= 0x5a;
            c.putObject(b -> b.bucket("pools").key(k).metadata(head.metadata()), RequestBody.fromBytes(body));
        }
    }
}
