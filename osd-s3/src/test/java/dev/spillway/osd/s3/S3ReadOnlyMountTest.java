package dev.spillway.osd.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectCursor;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.spi.Osds;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.ops.MoveResult;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;

/**
 * osd-s3's read-only mount (the common {@code read-only} setting; the pool's offline check, issue
 * 12: "a read-only check must never need space at all"): it makes no request that writes — no
 * format, no sweep of stale multipart uploads, no counters flush — refuses every transaction with
 * EROFS, and reads as a read-write mount does. Checked on s3proxy by what the server holds before
 * and after: every key under the prefix with its bytes' digest and ETag, and every multipart
 * upload in progress. Before the read-only mount, a check formatted an empty prefix and aborted
 * stale uploads (deleting their sidecar keys).
 */
class S3ReadOnlyMountTest {
    private static final String BUCKET = "readonly";

    @TempDir
    Path tmp;

    private static Map<String, Object> settings(String prefix, boolean readOnly) throws Exception {
        Map<String, Object> s = new HashMap<>(S3Peers.s3proxy().settings(BUCKET, prefix));
        if (readOnly) {
            s.put(OsdConfig.READ_ONLY, true);
        }
        return s;
    }

    private static Osd open(String prefix, boolean readOnly) throws Exception {
        return Osds.open(OsdConfig.of("ro-s3", "s3", settings(prefix, readOnly)));
    }

    /** Every key under {@code prefix} with its ETag and SHA-256, and every upload in progress. */
    private static Map<String, String> serverState(String bucket, String prefix) throws Exception {
        Map<String, String> m = new TreeMap<>();
        try (var c = S3Peers.s3proxy().client()) {
            for (var o : c.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(prefix))
                    .contents()) {
                byte[] body =
                        c.getObjectAsBytes(b -> b.bucket(bucket).key(o.key())).asByteArray();
                m.put(
                        o.key(),
                        o.eTag() + " " + o.size() + " "
                                + HexFormat.of()
                                        .formatHex(MessageDigest.getInstance("SHA-256")
                                                .digest(body)));
            }
            for (var u :
                    c.listMultipartUploads(b -> b.bucket(bucket).prefix(prefix)).uploads()) {
                m.put("upload " + u.key() + " " + u.uploadId(), "in progress");
            }
        }
        return m;
    }

    private static byte[] body(int n, long seed) {
        byte[] b = new byte[n];
        new java.util.Random(seed).nextBytes(b);
        return b;
    }

    private static void create(Osd osd, Fid f, byte[] body) throws OsdException {
        try (Transaction tx = osd.newTransaction()) {
            tx.declareCreate(f, ObjectKind.DATA);
            tx.declareWrite(f, 0, body.length);
            tx.declareSetXattr(f, "user.k", 1);
            tx.start();
            tx.create(f, ObjectKind.DATA, AttrChange.none().mode(0100600));
            tx.write(f, 0, ByteBuffer.wrap(body));
            tx.setXattr(f, "user.k", new byte[] {7}, dev.spillway.osd.XattrFlag.UPSERT);
        }
    }

    private static byte[] read(Osd osd, Fid f) throws OsdException {
        byte[] out = new byte[(int) osd.getAttr(f).size()];
        int pos = 0;
        while (pos < out.length) {
            pos += osd.read(f, pos, ByteBuffer.wrap(out, pos, out.length - pos));
        }
        return out;
    }

    private static List<Fid> listed(Osd osd) throws OsdException {
        List<Fid> out = new ArrayList<>();
        try (ObjectCursor c = osd.listObjects()) {
            while (c.next()) {
                out.add(c.fid());
            }
        }
        return out;
    }

    /** What an upload a kill interrupted leaves: the upload in progress and a sidecar no body names. */
    private static void leaveAKilledUpload(String prefix, Fid f) throws Exception {
        String text = "0x" + Long.toHexString(f.seq()) + ":0x" + Integer.toHexString(f.oid()) + ":0x"
                + Integer.toHexString(f.ver());
        try (var c = S3Peers.s3proxy().client()) {
            c.createMultipartUpload(b -> b.bucket(BUCKET).key(prefix + "objects/" + text));
            c.putObject(
                    b -> b.bucket(BUCKET).key(prefix + "sums/" + text + "/0123456789abcdef"),
                    RequestBody.fromBytes(new byte[32]));
        }
    }

    @Test
    void aReadOnlyMountOfAMissingDeviceIsRefusedNamingBucketAndPrefixAndFormatsNothing() throws Exception {
        String p = "ro-" + UUID.randomUUID() + "/";
        assertThatThrownBy(() -> open(p, true)).isInstanceOfSatisfying(OsdException.class, e -> {
            assertThat(e.errno()).isEqualTo(Errno.EROFS);
            assertThat(e.getMessage())
                    .contains("ro-s3")
                    .contains(BUCKET)
                    .contains(p)
                    .contains("formats nothing");
        });
        assertThat(serverState(BUCKET, p)).isEmpty();
    }

    @Test
    void aReadOnlyMountReadsEverythingAndWritesNothing() throws Exception {
        String p = "ro-" + UUID.randomUUID() + "/";
        Fid a = Fid.of(0x200000400L, 1);
        Fid b = Fid.of(0x200000400L, 2);
        byte[] small = body(3000, 1);
        byte[] large = body((9 << 20) + 17, 2); // past 8 blocks: its sums in a sidecar
        try (Osd osd = open(p, false)) {
            create(osd, a, small);
            create(osd, b, large);
        }
        leaveAKilledUpload(p, Fid.of(0x200000400L, 3));
        Map<String, String> before = serverState(BUCKET, p);
        assertThat(before.keySet()).anyMatch(k -> k.startsWith("upload "));
        try (Osd ro = open(p, true)) {
            assertThat(((S3Osd) ro).sweptUploads()).isZero();
            assertThat(read(ro, a)).isEqualTo(small);
            assertThat(read(ro, b)).isEqualTo(large);
            assertThat(ro.getAttr(a).mode()).isEqualTo(0100600);
            assertThat(ro.getXattr(b, "user.k")).containsExactly(7);
            assertThat(listed(ro)).containsExactlyInAnyOrder(a, b);
            assertThat(ro.statfs().objects()).isEqualTo(2);
            assertThatThrownBy(ro::newTransaction)
                    .isInstanceOfSatisfying(
                            OsdException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EROFS));
            ro.sync();
        }
        assertThat(serverState(BUCKET, p))
                .as("every key, byte and upload under the prefix as it was")
                .isEqualTo(before);
        // A read-write mount sweeps what the killed upload left.
        try (Osd rw = open(p, false)) {
            assertThat(((S3Osd) rw).sweptUploads()).isEqualTo(1);
        }
        assertThat(serverState(BUCKET, p).keySet()).noneMatch(k -> k.startsWith("upload ") || k.contains("0x3:"));
    }

    // ---- a pool: osd-kv fast, osd-s3 spill, crashed mid-spill -----------------------------------

    private PoolConfig poolConfig(Path kv, String prefix) throws Exception {
        StringBuilder y = new StringBuilder("name: ro\ndevices:\n");
        y.append("  - {name: fast, backend: kv, roles: [metadata, foreground, promote], settings: {path: '")
                .append(kv)
                .append("'}}\n");
        y.append("  - name: cold\n    backend: s3\n    roles: [background]\n    settings:\n");
        for (Map.Entry<String, Object> e : settings(prefix, false).entrySet()) {
            y.append("      ")
                    .append(e.getKey())
                    .append(": '")
                    .append(e.getValue())
                    .append("'\n");
        }
        return PoolConfigParser.parse(y.toString(), "s3 read-only check test");
    }

    private static Fid object(int i) {
        return new Fid(0x200000400L, i, 0);
    }

    private static Map<Fid, String> view(PoolOsd pool) throws OsdException {
        Map<Fid, String> m = new TreeMap<>();
        for (int i = 1; i <= 8; i++) {
            if (i != 6) {
                m.put(
                        object(i),
                        pool.getAttr(object(i)).size() + " " + HexFormat.of().formatHex(pool.rawLayout(object(i))));
            }
        }
        return m;
    }

    /**
     * A pool crashed mid-spill (the kv folder copied while mounted: a copy begun, objects spilled)
     * whose S3 prefix also holds what a killed upload left: the offline check reads every object
     * and changes no key, byte or upload in the bucket; the read-write mount after it sees the same
     * objects, sizes and layouts, rolls the copy back and sweeps the upload.
     */
    @Test
    void aReadOnlyCheckOfACrashedPoolChangesNothingInTheBucket() throws Exception {
        String prefix = "pool-" + UUID.randomUUID() + "/cold";
        Path live = tmp.resolve("live");
        Path image = tmp.resolve("image");
        try (PoolOsd pool =
                PoolOsd.mount(poolConfig(live, prefix), InstantSource.system(), PoolOsd.MountMode.RECOVER)) {
            for (int i = 1; i <= 8; i++) {
                create(pool, object(i), body(i * 70_000, i));
            }
            for (int i = 1; i <= 4; i++) {
                assertThat(pool.migrator().spill(object(i), pool.device(1))).isInstanceOf(MoveResult.Done.class);
            }
            assertThat(pool.migrator().begin(object(6), pool.device(1))).isPresent();
            copyTree(live, image);
        }
        leaveAKilledUpload(prefix + "/", object(7));
        Map<String, String> before = serverState(BUCKET, prefix + "/");
        Map<Fid, String> seen;
        try (PoolOsd pool = PoolOsd.mount(poolConfig(image, prefix), InstantSource.system(), PoolOsd.MountMode.CHECK)) {
            assertThat(pool.recoveryReport().jobs()).containsEntry("COPY", 1);
            assertThat(pool.fsck(false, true, null).problems()).isEmpty();
            for (int i = 1; i <= 8; i++) {
                assertThat(read(pool, object(i))).isEqualTo(body(i * 70_000, i));
            }
            seen = view(pool);
        }
        assertThat(serverState(BUCKET, prefix + "/"))
                .as("every key, byte and upload of the spill device as it was")
                .isEqualTo(before);
        try (PoolOsd pool =
                PoolOsd.mount(poolConfig(image, prefix), InstantSource.system(), PoolOsd.MountMode.RECOVER)) {
            assertThat(pool.recoveryReport().rolledBack()).isEqualTo(1);
            assertThat(pool.fsck(false, true, null).problems()).isEmpty();
            assertThat(view(pool)).isEqualTo(seen);
        }
        assertThat(serverState(BUCKET, prefix + "/").keySet()).noneMatch(k -> k.startsWith("upload "));
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }
}
