package dev.spillway.osd.kv;

import static dev.spillway.osd.kv.KvTestSupport.fingerprint;
import static dev.spillway.osd.kv.KvTestSupport.open;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.spi.Osds;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The on-disk format and the mount checks: what is formatted, what is refused, and that a
 * refused folder is left exactly as it was.
 */
class KvFolderTest {
    @TempDir
    Path tmp;

    private static final Fid A = Fid.of(0x200000401L, 1);
    private static final Fid BIG = Fid.of(0x200000401L, 2);

    /** A device with an inline object, an extent-file object and SST files. */
    private Path populated() throws Exception {
        Path dir = tmp.resolve("dev");
        try (KvOsd osd = open(dir)) {
            KvTestSupport.createData(osd, A, "hello".getBytes(StandardCharsets.UTF_8));
            KvTestSupport.createData(osd, BIG, new byte[300_000]);
            osd.flush();
        }
        // The refusal tests below then go through the mount of a database the folder knows: one
        // read-write open, no read-only check first.
        assertThat(dir.resolve(KvFolder.KNOWN_DB)).exists();
        return dir;
    }

    /** Opening must fail with {@code errno}, name the folder, and leave every file as it was. */
    private OsdException refused(Path dir, Errno errno) {
        Map<String, String> before = fingerprint(dir);
        OsdException e = (OsdException)
                org.assertj.core.api.Assertions.catchThrowable(() -> open(dir).close());
        assertThat(e).as("opening %s must fail", dir).isNotNull();
        System.out.println("refused as expected: " + e.getMessage());
        assertThat(e.errno()).as("errno of: %s", e.getMessage()).isEqualTo(errno);
        assertThat(e.getMessage()).contains(dir.toAbsolutePath().toString());
        assertThat(fingerprint(dir)).as("the folder is untouched").isEqualTo(before);
        return e;
    }

    private static boolean nonEmpty(Path p) {
        try {
            return Files.size(p) > 0;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void formatsAMissingFolderAndAnEmptyOneAndReopensThem() throws Exception {
        Path missing = tmp.resolve("a/b");
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        for (Path p : new Path[] {missing, empty}) {
            try (KvOsd osd = open(p)) {
                KvTestSupport.createData(osd, A, new byte[] {1, 2, 3});
            }
            try (KvOsd osd = open(p)) {
                assertThat(KvTestSupport.readAll(osd, A)).containsExactly(1, 2, 3);
            }
            assertThat(p.resolve(KvFolder.SUPER)).exists();
            assertThat(p.resolve(KvFolder.FORMATTING)).doesNotExist();
        }
    }

    @Test
    void aForeignFolderIsNeverFormatted() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("photos"));
        Files.writeString(dir.resolve("holiday.jpg"), "not a database");
        OsdException e = refused(dir, Errno.EPROTO);
        assertThat(e.getMessage()).contains("not an osd-kv").contains("holiday.jpg");
    }

    @Test
    void aFileIsNotAFolder() throws Exception {
        Path f = Files.writeString(tmp.resolve("plain"), "x");
        assertThatThrownBy(() -> open(f))
                .isInstanceOf(OsdException.class)
                .hasMessageContaining(f.toString())
                .hasMessageContaining("not a folder");
    }

    @Test
    void aCorruptSuperblockIsRefused() throws Exception {
        Path dir = populated();
        byte[] sb = Files.readAllBytes(dir.resolve(KvFolder.SUPER));
        sb[20] ^= 0x40;
        Files.write(dir.resolve(KvFolder.SUPER), sb);
        assertThat(refused(dir, Errno.EBADMSG).getMessage()).contains("corrupt");
    }

    @Test
    void aNewerFormatIsRefused() throws Exception {
        Path dir = populated();
        Superblock newer = new Superblock(Superblock.FORMAT_VERSION + 1, 4096, UUID.randomUUID(), 0);
        Files.write(dir.resolve(KvFolder.SUPER), newer.encode());
        assertThat(refused(dir, Errno.EPROTO).getMessage()).contains("newer");
    }

    @Test
    void aMissingSuperblockMakesItForeign() throws Exception {
        Path dir = populated();
        Files.delete(dir.resolve(KvFolder.SUPER));
        refused(dir, Errno.EPROTO);
    }

    @Test
    void aMissingDatabaseFileIsRefused() throws Exception {
        Path dir = populated();
        Files.delete(dir.resolve("db/CURRENT"));
        assertThat(refused(dir, Errno.EIO).getMessage()).contains("db/CURRENT");
    }

    @Test
    void aMissingSstIsRefused() throws Exception {
        Path dir = populated();
        Path sst;
        try (Stream<Path> s = Files.list(dir.resolve("db"))) {
            sst = s.filter(p -> p.toString().endsWith(".sst")).findFirst().orElseThrow();
        }
        Files.delete(sst);
        refused(dir, Errno.EIO);
    }

    @Test
    void aCorruptManifestIsRefused() throws Exception {
        Path dir = populated();
        Path manifest;
        try (Stream<Path> s = Files.list(dir.resolve("db"))) {
            manifest = s.filter(p -> p.getFileName().toString().startsWith("MANIFEST-"))
                    .findFirst()
                    .orElseThrow();
        }
        byte[] m = Files.readAllBytes(manifest);
        for (int i = 7; i < m.length; i += 13) {
            m[i] ^= 0x5a;
        }
        Files.write(manifest, m);
        refused(dir, Errno.EIO);
    }

    /** One damaged object never stops a mount: the others read, it reads with EIO naming the file, fsck lists it. */
    private void damagedObjectOnly(Path dir, Path ext, String fsckSays) throws Exception {
        try (KvOsd osd = open(dir)) {
            assertThat(KvTestSupport.readAll(osd, A)).isEqualTo("hello".getBytes(StandardCharsets.UTF_8));
            OsdException e = (OsdException)
                    org.assertj.core.api.Assertions.catchThrowable(() -> KvTestSupport.readAll(osd, BIG));
            assertThat(e).isNotNull();
            assertThat(e.errno()).isEqualTo(Errno.EIO);
            assertThat(e.getMessage())
                    .contains(BIG.toString())
                    .contains(ext.getFileName().toString());
            assertThat(osd.fsck()).anyMatch(p -> p.contains(ext.getFileName().toString()) && p.contains(fsckSays));
        }
    }

    @Test
    void aMissingExtentFileDamagesItsObjectNotTheDevice() throws Exception {
        Path dir = populated();
        Path ext;
        try (Stream<Path> s = Files.list(dir.resolve(KvFolder.EXTENTS))) {
            ext = s.filter(KvFolderTest::nonEmpty).findFirst().orElseThrow();
        }
        Files.delete(ext);
        damagedObjectOnly(dir, ext, "");
    }

    @Test
    void aShortExtentFileDamagesItsObjectNotTheDevice() throws Exception {
        Path dir = populated();
        Path ext;
        try (Stream<Path> s = Files.list(dir.resolve(KvFolder.EXTENTS))) {
            ext = s.filter(KvFolderTest::nonEmpty).findFirst().orElseThrow();
        }
        try (var ch = java.nio.channels.FileChannel.open(ext, java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(1000);
        }
        damagedObjectOnly(dir, ext, "");
    }

    @Test
    void aDatabaseFromAnotherDeviceIsRefused() throws Exception {
        Path dir = populated();
        Path other = tmp.resolve("other");
        open(other).close();
        Files.write(dir.resolve(KvFolder.SUPER), Files.readAllBytes(other.resolve(KvFolder.SUPER)));
        assertThat(refused(dir, Errno.EPROTO).getMessage()).contains("does not belong");
    }

    @Test
    void theDatabaseAFolderLastMountedIsOpenedOnceAnyOtherIsCheckedReadOnlyFirst() throws Exception {
        Path dir = populated();
        try (KvOsd osd = open(dir)) {
            assertThat(osd.checkedReadOnly()).as("the folder's own database").isFalse();
            assertThat(KvTestSupport.readAll(osd, A)).isEqualTo("hello".getBytes(StandardCharsets.UTF_8));
        }
        // A folder mounted before the record existed, or whose record was lost.
        Files.delete(dir.resolve(KvFolder.KNOWN_DB));
        try (KvOsd osd = open(dir)) {
            assertThat(osd.checkedReadOnly()).as("no record").isTrue();
        }
        try (KvOsd osd = open(dir)) {
            assertThat(osd.checkedReadOnly())
                    .as("recorded again by the last mount")
                    .isFalse();
        }
        // A record that names another database.
        Files.writeString(dir.resolve(KvFolder.KNOWN_DB), "osd-kv db-id 1\nsuperblock 00\nrocksdb someone-else\n");
        try (KvOsd osd = open(dir)) {
            assertThat(osd.checkedReadOnly()).as("a record of another database").isTrue();
            assertThat(osd.fsck()).isEmpty();
        }
    }

    /** Without the flush at unmount, every later mount replayed the same WAL again (the mount does not flush). */
    @Test
    void aCleanUnmountLeavesTheNextMountNothingToReplay() throws Exception {
        Path dir = tmp.resolve("dev");
        try (KvOsd osd = open(dir)) {
            KvTestSupport.createData(osd, A, "hello".getBytes(StandardCharsets.UTF_8));
        }
        try (KvDatabase db = KvDatabase.openReadOnly(dir.resolve(KvFolder.DB), "check")) {
            assertThat(db.db.getLongProperty(db.meta, "rocksdb.num-entries-active-mem-table"))
                    .isZero();
            assertThat(db.db.getLongProperty(db.body, "rocksdb.num-entries-active-mem-table"))
                    .isZero();
        }
        try (KvOsd osd = open(dir)) {
            assertThat(KvTestSupport.readAll(osd, A)).isEqualTo("hello".getBytes(StandardCharsets.UTF_8));
        }
    }

    @Test
    void aDatabaseCopiedInFromAnotherDeviceIsRefusedUntouched() throws Exception {
        Path dir = populated();
        Path other = tmp.resolve("other");
        try (KvOsd osd = open(other)) {
            KvTestSupport.createData(osd, A, new byte[] {9});
        }
        // Its own superblock stays; its database is the other device's (RocksDB's IDENTITY too).
        KvTestSupport.deleteTree(dir.resolve(KvFolder.DB));
        KvTestSupport.copyTree(other.resolve(KvFolder.DB), dir.resolve(KvFolder.DB));
        assertThat(refused(dir, Errno.EPROTO).getMessage()).contains("does not belong");
    }

    @Test
    void anInterruptedFormatIsRedone() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("half"));
        Files.createFile(dir.resolve(KvFolder.FORMATTING));
        Files.createDirectories(dir.resolve("db"));
        Files.writeString(dir.resolve("db/junk"), "left by a crash");
        try (KvOsd osd = open(dir)) {
            KvTestSupport.createData(osd, A, new byte[] {7});
        }
        try (KvOsd osd = open(dir)) {
            assertThat(KvTestSupport.readAll(osd, A)).containsExactly(7);
        }
        assertThat(dir.resolve("db/junk")).doesNotExist();
    }

    @Test
    void aSecondMountInTheSameProcessIsEbusyAndHarmless() throws Exception {
        Path dir = tmp.resolve("dev");
        try (KvOsd first = open(dir)) {
            assertThatThrownBy(() -> open(dir))
                    .isInstanceOfSatisfying(
                            OsdException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EBUSY));
            KvTestSupport.createData(first, A, new byte[] {5});
            assertThat(KvTestSupport.readAll(first, A)).containsExactly(5);
        }
        open(dir).close();
    }

    @Test
    void aMountHeldByAnotherProcessIsEbusy() throws Exception {
        Path dir = tmp.resolve("dev");
        open(dir).close();
        Process child = KvChild.start("hold", dir.toString());
        try (BufferedReader out =
                new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line = out.readLine();
            assertThat(line).as("child mounted the device").isEqualTo("MOUNTED");
            Map<String, String> before = fingerprint(dir);
            OsdException e = (OsdException) org.assertj.core.api.Assertions.catchThrowable(() -> open(dir));
            assertThat(e.errno()).isEqualTo(Errno.EBUSY);
            assertThat(e.getMessage()).contains(dir.toAbsolutePath().toString()).contains("another process");
            before.keySet().removeIf(k -> k.startsWith("db/"));
            Map<String, String> after = new TreeMap<>(fingerprint(dir));
            after.keySet().removeIf(k -> k.startsWith("db/"));
            assertThat(after).isEqualTo(before);
        } finally {
            child.destroyForcibly();
            child.waitFor(30, TimeUnit.SECONDS);
        }
        try (KvOsd osd = open(dir)) {
            assertThat(osd.fsck()).isEmpty();
        }
    }

    @Test
    void settingsAreChecked() throws Exception {
        Path dir = tmp.resolve("dev");
        Map<String, Object> s = Map.of("path", dir.toString(), "bogus", 1);
        assertThatThrownBy(() -> Osds.open(OsdConfig.of("x", "kv", s)))
                .isInstanceOfSatisfying(
                        OsdException.class,
                        e -> assertThat(e.getMessage()).contains("bogus").contains("inline-max"));
        assertThatThrownBy(() -> Osds.open(OsdConfig.of("x", "kv", Map.of()))).hasMessageContaining("'path'");
        open(dir).close();
        assertThatThrownBy(() -> open(dir, "block-size", 8192))
                .isInstanceOfSatisfying(
                        OsdException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EINVAL));
    }
}
