package dev.spillway.osd.s3;

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
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.spi.Osds;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;

/** osd-s3's own behaviour on s3proxy, beyond the conformance suite. */
class S3OsdTest {
    private static final String BUCKET = "unit";

    private static String prefix() {
        return "unit-" + UUID.randomUUID() + "/";
    }

    private static Osd open(String prefix) throws Exception {
        return open(prefix, Map.of());
    }

    private static Osd open(String prefix, Map<String, Object> extra) throws Exception {
        Map<String, Object> s = S3Peers.s3proxy().settings(BUCKET, prefix);
        s.putAll(extra);
        return Osds.open(OsdConfig.of("unit-s3", "s3", s));
    }

    private static byte[] random(long seed, int n) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] readAll(Osd osd, Fid f) throws OsdException {
        byte[] out = new byte[(int) osd.getAttr(f).size()];
        int pos = 0;
        while (pos < out.length) {
            pos += osd.read(f, pos, ByteBuffer.wrap(out, pos, Math.min(700_001, out.length - pos)));
        }
        return out;
    }

    private static void writeInChunks(Osd osd, Fid f, byte[] body, int chunk, boolean create) throws OsdException {
        try (Transaction tx = osd.newTransaction()) {
            if (create) {
                tx.declareCreate(f, ObjectKind.DATA);
            }
            tx.declareWrite(f, 0, body.length);
            tx.start();
            if (create) {
                tx.create(f, ObjectKind.DATA, AttrChange.none());
            }
            for (int off = 0; off < body.length; off += chunk) {
                tx.write(f, off, ByteBuffer.wrap(body, off, Math.min(chunk, body.length - off)));
            }
        }
    }

    @Test
    void aLargeBodyStreamsAsAMultipartUploadAndReadsBackVerified() throws Exception {
        String p = prefix();
        byte[] body = random(1, (12 << 20) + 333);
        Fid f = Fid.of(0x200000400L, 1);
        try (Osd osd = open(p)) {
            writeInChunks(osd, f, body, 1 << 20, true);
            assertThat(readAll(osd, f)).isEqualTo(body);
            assertThat(osd.getAttr(f).dataVersion()).isEqualTo(2);
            assertThat(osd.statfs().usedBytes()).isEqualTo(body.length);
            assertThat(osd.statfs().objects()).isEqualTo(1);
        }
        assertThat(PoolS3Fixture.uploads(S3Peers.s3proxy(), BUCKET, p)).isEmpty();
        assertThat(PoolS3Fixture.keys(S3Peers.s3proxy(), BUCKET, p + "sums/")).hasSize(1);
        // The counters survive a remount; a replacement by a small body drops the sidecar.
        try (Osd osd = open(p)) {
            assertThat(osd.statfs().usedBytes()).isEqualTo(body.length);
            writeInChunks(osd, f, new byte[] {1, 2, 3}, 3, false);
            assertThat(readAll(osd, f)).containsExactly(1, 2, 3);
            assertThat(osd.statfs().usedBytes()).isEqualTo(3);
        }
        assertThat(PoolS3Fixture.keys(S3Peers.s3proxy(), BUCKET, p + "objects/"))
                .containsExactly(p + "objects/0x200000400:0x1:0x0");
        assertThat(PoolS3Fixture.keys(S3Peers.s3proxy(), BUCKET, p + "sums/")).isEmpty();
    }

    @Test
    void corruptionOnTheServerIsEioNamingTheBlock() throws Exception {
        String p = prefix();
        byte[] body = random(2, 3 << 20);
        Fid f = Fid.of(0x200000400L, 2);
        try (Osd osd = open(p)) {
            writeInChunks(osd, f, body, 1 << 20, true);
            String key = p + "objects/0x200000400:0x2:0x0";
            try (var c = S3Peers.s3proxy().client()) {
                var head = c.headObject(b -> b.bucket(BUCKET).key(key));
                byte[] bad = body.clone();
                bad[(1 << 20) + 5] ^= 1;
                c.putObject(b -> b.bucket(BUCKET).key(key).metadata(head.metadata()), RequestBody.fromBytes(bad));
            }
            assertThat(osd.read(f, 0, ByteBuffer.allocate(1 << 20))).isEqualTo(1 << 20);
            assertThatThrownBy(() -> osd.read(f, (1 << 20) + 100, ByteBuffer.allocate(10)))
                    .isInstanceOfSatisfying(OsdException.class, e -> {
                        assertThat(e.errno()).isEqualTo(Errno.EIO);
                        assertThat(e.getMessage())
                                .contains("checksum mismatch in block 1")
                                .contains(key)
                                .contains("unit-s3");
                    });
        }
    }

    @Test
    void anAbortedTransactionLeavesNoObjectAndNoUpload() throws Exception {
        String p = prefix();
        Fid f = Fid.of(0x200000400L, 3);
        try (Osd osd = open(p)) {
            try (Transaction tx = osd.newTransaction()) {
                tx.declareCreate(f, ObjectKind.DATA);
                tx.declareWrite(f, 0, 20 << 20);
                tx.start();
                tx.create(f, ObjectKind.DATA, AttrChange.none());
                tx.write(f, 0, ByteBuffer.wrap(random(3, 11 << 20)));
                assertThat(osd.exists(f)).as("a body appears only whole").isFalse();
                tx.abort();
            }
            assertThat(osd.exists(f)).isFalse();
            assertThat(osd.statfs().objects()).isZero();
        }
        assertThat(PoolS3Fixture.uploads(S3Peers.s3proxy(), BUCKET, p)).isEmpty();
        assertThat(PoolS3Fixture.keys(S3Peers.s3proxy(), BUCKET, p + "objects/"))
                .isEmpty();
    }

    @Test
    void theMountSweepsStaleUploadsUnderItsPrefixOnly() throws Exception {
        String p = prefix();
        String other = prefix();
        try (Osd osd = open(p);
                Osd neighbour = open(other)) {
            assertThat(((S3Osd) osd).sweptUploads()).isZero();
        }
        try (var c = S3Peers.s3proxy().client()) {
            c.createMultipartUpload(b -> b.bucket(BUCKET).key(p + "objects/0x200000400:0x9:0x0"));
            c.createMultipartUpload(b -> b.bucket(BUCKET).key(other + "objects/0x200000400:0x9:0x0"));
        }
        try (Osd osd = open(p)) {
            assertThat(((S3Osd) osd).sweptUploads()).isEqualTo(1);
        }
        assertThat(PoolS3Fixture.uploads(S3Peers.s3proxy(), BUCKET, p)).isEmpty();
        assertThat(PoolS3Fixture.uploads(S3Peers.s3proxy(), BUCKET, other)).hasSize(1);
    }

    @Test
    void aPrefixHoldingSomethingElseIsRefusedAndLeftAlone() throws Exception {
        String p = prefix();
        try (var c = S3Peers.s3proxy().client()) {
            c.putObject(b -> b.bucket(BUCKET).key(p + "someone-elses.txt"), RequestBody.fromString("keep me"));
        }
        assertThatThrownBy(() -> open(p)).isInstanceOfSatisfying(OsdException.class, e -> {
            assertThat(e.errno()).isEqualTo(Errno.EPROTO);
            assertThat(e.getMessage()).contains("someone-elses.txt").contains("refusing to format");
        });
        assertThat(PoolS3Fixture.keys(S3Peers.s3proxy(), BUCKET, p)).containsExactly(p + "someone-elses.txt");
    }

    @Test
    void errorsMapToErrno() throws Exception {
        assertThatThrownBy(() -> open(prefix(), Map.of("secret-key", "wrong")))
                .isInstanceOfSatisfying(
                        OsdException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EACCES));
        assertThatThrownBy(() -> open(prefix(), Map.of("bucket", "no-such-bucket-here")))
                .isInstanceOfSatisfying(OsdException.class, e -> {
                    assertThat(e.errno()).isEqualTo(Errno.ENOENT);
                    assertThat(e.getMessage()).contains("no-such-bucket-here").contains("does not create buckets");
                });
        assertThatThrownBy(() -> open(prefix(), Map.of("part-size", "1MiB")))
                .isInstanceOfSatisfying(OsdException.class, e -> {
                    assertThat(e.errno()).isEqualTo(Errno.EINVAL);
                    assertThat(e.getMessage()).contains("part-size");
                });
        assertThatThrownBy(() -> open(prefix(), Map.of("colour", "blue")))
                .isInstanceOfSatisfying(
                        OsdException.class,
                        e -> assertThat(e.getMessage()).contains("colour").contains("unknown key"));
        try (Osd osd = open(prefix(), Map.of("quota", "4MiB"))) {
            Fid f = Fid.of(0x200000400L, 4);
            Transaction tx = osd.newTransaction();
            tx.declareCreate(f, ObjectKind.DATA);
            tx.declareWrite(f, 0, 5 << 20);
            assertThatThrownBy(tx::start)
                    .isInstanceOfSatisfying(
                            OsdException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ENOSPC));
            tx.stop();
            assertThat(osd.exists(f)).isFalse();
        }
    }

    @Test
    void xattrNamesKeepCaseAndEveryByteAndTheBudgetIsS3s() throws Exception {
        Fid f = Fid.of(0x200000400L, 5);
        try (Osd osd = open(prefix())) {
            try (Transaction tx = osd.newTransaction()) {
                tx.declareCreate(f, ObjectKind.DATA);
                tx.declareSetXattr(f, null, 100);
                tx.declareSetXattr(f, null, 100);
                tx.declareSetXattr(f, null, 100);
                tx.start();
                tx.create(f, ObjectKind.DATA, AttrChange.none());
                tx.setXattr(f, "user.Color", "Blue".getBytes(StandardCharsets.UTF_8), XattrFlag.CREATE);
                tx.setXattr(f, "user.color", "red".getBytes(StandardCharsets.UTF_8), XattrFlag.CREATE);
                tx.setXattr(f, "user.été,=%", new byte[] {0, (byte) 0xff}, XattrFlag.CREATE);
            }
            assertThat(osd.listXattrs(f)).containsExactlyInAnyOrder("user.Color", "user.color", "user.été,=%");
            assertThat(osd.getXattr(f, "user.Color")).isEqualTo("Blue".getBytes(StandardCharsets.UTF_8));
            assertThat(osd.getXattr(f, "user.color")).isEqualTo("red".getBytes(StandardCharsets.UTF_8));
            assertThat(osd.getXattr(f, "user.été,=%")).containsExactly(0, 0xff);
            // The largest advertised value fits with the longest name, alone.
            int max = osd.capabilities().maxXattrValue();
            String longest = "user." + "Ü".repeat((osd.capabilities().maxXattrName() - 5) / 2);
            Fid g = Fid.of(0x200000400L, 6);
            try (Transaction tx = osd.newTransaction()) {
                tx.declareCreate(g, ObjectKind.DATA);
                tx.declareSetXattr(g, longest, max);
                tx.start();
                tx.create(g, ObjectKind.DATA, AttrChange.none());
                tx.setXattr(g, longest, random(6, max), XattrFlag.CREATE);
            }
            assertThat(osd.getXattr(g, longest)).isEqualTo(random(6, max));
            // A second one does not: S3's 2 KB is per object.
            assertThatThrownBy(() -> {
                        try (Transaction tx = osd.newTransaction()) {
                            tx.declareSetXattr(g, "user.more", 600);
                            tx.start();
                            tx.setXattr(g, "user.more", new byte[600], XattrFlag.CREATE);
                        }
                    })
                    .isInstanceOfSatisfying(
                            OsdException.class, e -> assertThat(e.errno()).isEqualTo(Errno.E2BIG));
            assertThat(osd.listXattrs(g)).containsExactly(longest);
        }
    }

    @Test
    void metadataChangedAfterAMultipartUploadStartedIsStoredWithTheBody() throws Exception {
        Fid f = Fid.of(0x200000400L, 8);
        byte[] body = random(8, 11 << 20);
        String p = prefix();
        try (Osd osd = open(p)) {
            try (Transaction tx = osd.newTransaction()) {
                tx.declareCreate(f, ObjectKind.DATA);
                tx.declareWrite(f, 0, body.length);
                tx.declareSetXattr(f, "user.after", 5);
                tx.declareSetAttr(f);
                tx.start();
                tx.create(f, ObjectKind.DATA, AttrChange.none().mode(0600));
                tx.write(f, 0, ByteBuffer.wrap(body));
                // The upload began with the first 5 MiB part: these come after its metadata was fixed.
                tx.setXattr(f, "user.after", "later".getBytes(StandardCharsets.UTF_8), XattrFlag.CREATE);
                tx.setAttr(f, AttrChange.none().uid(77));
            }
        }
        // Read by a fresh mount, which remembers nothing: what the server holds.
        try (Osd osd = open(p)) {
            assertThat(osd.getXattr(f, "user.after")).isEqualTo("later".getBytes(StandardCharsets.UTF_8));
            assertThat(osd.getAttr(f).uid()).isEqualTo(77);
            assertThat(osd.getAttr(f).mode()).isEqualTo(0600);
            assertThat(osd.getAttr(f).size()).isEqualTo(body.length);
            assertThat(readAll(osd, f)).isEqualTo(body);
        }
    }

    @Test
    void truncateRewritesTheBodyThroughTheClient() throws Exception {
        Fid f = Fid.of(0x200000400L, 7);
        byte[] body = random(7, 3 << 20);
        try (Osd osd = open(prefix())) {
            writeInChunks(osd, f, body, 1 << 20, true);
            long v = osd.getAttr(f).dataVersion();
            try (Transaction tx = osd.newTransaction()) {
                tx.declareTruncate(f, 1_500_000);
                tx.start();
                tx.truncate(f, 1_500_000);
            }
            assertThat(readAll(osd, f)).isEqualTo(Arrays.copyOf(body, 1_500_000));
            try (Transaction tx = osd.newTransaction()) {
                tx.declareTruncate(f, 4 << 20);
                tx.start();
                tx.truncate(f, 4 << 20);
            }
            assertThat(readAll(osd, f)).isEqualTo(Arrays.copyOf(Arrays.copyOf(body, 1_500_000), 4 << 20));
            assertThat(osd.getAttr(f).dataVersion()).isEqualTo(v + 2);
            assertThat(osd.statfs().usedBytes()).isEqualTo(4 << 20);
        }
    }
}
