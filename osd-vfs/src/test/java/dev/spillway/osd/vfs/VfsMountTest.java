package dev.spillway.osd.vfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Capability;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.XattrFlag;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.spi.Osds;
import dev.spillway.osd.spi.storage.posix.PosixNative;
import dev.spillway.osd.spi.storage.posix.PosixStorage;
import dev.spillway.osd.testkit.fault.FaultInjectingStorage;
import java.nio.ByteBuffer;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Mounting: the folder's state, the filesystem's abilities, and bad settings — each a clear error that loses nothing. */
class VfsMountTest {
    @TempDir
    Path tmp;

    static Map<String, Object> settings(Path p, Object... kv) {
        Map<String, Object> s = new HashMap<>();
        s.put("path", p.toString());
        for (int i = 0; i < kv.length; i += 2) {
            s.put((String) kv[i], kv[i + 1]);
        }
        return s;
    }

    static Osd open(Path p, Object... kv) throws OsdException {
        return Osds.open(OsdConfig.of("mnt", "vfs", settings(p, kv)));
    }

    static Consumer<OsdException> errno(Errno e, String... parts) {
        return x -> {
            assertThat(x.errno()).as(x.getMessage()).isEqualTo(e);
            assertThat(x.getMessage()).startsWith("mnt: ");
            for (String p : parts) {
                assertThat(x.getMessage()).contains(p);
            }
        };
    }

    static void createWith(Osd osd, Fid f, byte[] body) throws OsdException {
        try (Transaction t = osd.newTransaction()) {
            t.declareCreate(f, ObjectKind.DATA);
            t.declareWrite(f, 0, body.length);
            t.start();
            t.create(f, ObjectKind.DATA, AttrChange.none());
            t.write(f, 0, ByteBuffer.wrap(body));
        }
    }

    @Test
    void aMissingFolderWhoseParentExistsIsFormatted() throws Exception {
        Path p = tmp.resolve("dev");
        try (Osd osd = open(p)) {
            assertThat(osd.backend()).isEqualTo("vfs");
        }
        assertThat(Files.readString(p.resolve("SPILLWAY-VFS")))
                .contains("format: spillway-vfs")
                .contains("version: 2")
                .contains("records: xattr");
        assertThat(p.resolve("objects")).isDirectory();
    }

    @Test
    void aMissingFolderWithCreateOffIsEnoent() {
        Path p = tmp.resolve("dev");
        assertThatThrownBy(() -> open(p, "create", false))
                .isInstanceOfSatisfying(
                        OsdException.class, errno(Errno.ENOENT, p.toString(), "does not exist", "create: false"));
        assertThat(p).doesNotExist();
    }

    @Test
    void aMissingParentIsEnoentAskingWhetherTheFilesystemIsMounted() {
        Path p = tmp.resolve("not-mounted/dev");
        assertThatThrownBy(() -> open(p))
                .isInstanceOfSatisfying(
                        OsdException.class, errno(Errno.ENOENT, p.toString(), "neither does its parent", "mounted"));
        assertThat(tmp.resolve("not-mounted")).doesNotExist();
    }

    @Test
    void aFileWhereTheFolderShouldBeIsEnotdir() throws Exception {
        Path p = Files.writeString(tmp.resolve("dev"), "precious");
        assertThatThrownBy(() -> open(p))
                .isInstanceOfSatisfying(OsdException.class, errno(Errno.ENOTDIR, p.toString(), "not a folder"));
        assertThat(Files.readString(p)).isEqualTo("precious");
    }

    @Test
    void aFolderOfSomethingElseIsRefusedAndLeftAlone() throws Exception {
        Path p = Files.createDirectories(tmp.resolve("dev"));
        Files.writeString(p.resolve("thesis.tex"), "precious");
        assertThatThrownBy(() -> open(p))
                .isInstanceOfSatisfying(
                        OsdException.class,
                        errno(Errno.EINVAL, p.toString(), "not empty", "thesis.tex", "refusing to format"));
        try (var s = Files.list(p)) {
            assertThat(s.map(x -> x.getFileName().toString())).containsExactly("thesis.tex");
        }
    }

    @Test
    void aFolderWithoutPermissionIsEacces() throws Exception {
        Path p = Files.createDirectories(tmp.resolve("dev"));
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("---------"));
        try {
            Assumptions.assumeFalse(
                    Files.isReadable(p) && Files.isWritable(p),
                    "running as root: permissions do not stop it here (the simulated-storage test below covers the error path)");
            assertThatThrownBy(() -> open(p))
                    .isInstanceOfSatisfying(OsdException.class, errno(Errno.EACCES, p.toString()));
        } finally {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
        }
    }

    @Test
    void aFolderThatRefusesListingIsEaccesNamingIt() {
        FaultInjectingStorage s = new FaultInjectingStorage(FaultInjectingStorage.Features.ext4());
        s.setFault((op, path, n) -> op == FaultInjectingStorage.Op.LIST && path.isEmpty()
                ? new AccessDeniedException("/srv/spill/dev0", null, "Permission denied")
                : null);
        assertThatThrownBy(() -> VfsOsd.open(OsdConfig.of("mnt", "vfs", Map.of()), s, Runnable::run))
                .isInstanceOfSatisfying(OsdException.class, errno(Errno.EACCES, "no permission", "/srv/spill/dev0"));
    }

    @Test
    void aSecondMountOfTheSameFolderIsEbusy() throws Exception {
        Path p = tmp.resolve("dev");
        try (Osd first = open(p)) {
            assertThatThrownBy(() -> open(p))
                    .isInstanceOfSatisfying(OsdException.class, errno(Errno.EBUSY, "LOCK", "mounted"));
            assertThat(first.statfs()).isNotNull();
        }
        open(p).close();
    }

    /** A read-only mount takes LOCK shared (through a read-only handle): it and a read-write mount refuse each other. */
    @Test
    void aReadOnlyMountAndAReadWriteMountRefuseEachOther() throws Exception {
        Path p = tmp.resolve("dev");
        open(p).close();
        try (Osd ro = open(p, OsdConfig.READ_ONLY, true)) {
            assertThatThrownBy(() -> open(p))
                    .isInstanceOfSatisfying(OsdException.class, errno(Errno.EBUSY, "LOCK", "mounted"));
            assertThat(ro.statfs()).isNotNull();
        }
        try (Osd rw = open(p)) {
            assertThatThrownBy(() -> open(p, OsdConfig.READ_ONLY, true))
                    .isInstanceOfSatisfying(OsdException.class, errno(Errno.EBUSY, "LOCK", "mounted"));
            assertThat(rw.statfs()).isNotNull();
        }
    }

    @Test
    void anUnknownFormatVersionIsEproto() throws Exception {
        Path p = tmp.resolve("dev");
        open(p).close();
        Files.writeString(
                p.resolve("SPILLWAY-VFS"),
                Files.readString(p.resolve("SPILLWAY-VFS")).replace("version: 2", "version: 7"));
        assertThatThrownBy(() -> open(p)).isInstanceOfSatisfying(OsdException.class, errno(Errno.EPROTO, "version 7"));
    }

    @Test
    void badSettingsNameTheKey() {
        Path p = tmp.resolve("dev");
        assertThatThrownBy(() -> open(p, "journal", "maybe"))
                .isInstanceOfSatisfying(OsdException.class, errno(Errno.EINVAL, "'journal'", "maybe"));
        assertThatThrownBy(() -> open(p, "journaling", "on"))
                .isInstanceOfSatisfying(OsdException.class, errno(Errno.EINVAL, "'journaling'"));
        assertThatThrownBy(() -> Osds.open(OsdConfig.of("mnt", "vfs", Map.of())))
                .isInstanceOfSatisfying(OsdException.class, errno(Errno.EINVAL, "'path'"));
        assertThat(p).doesNotExist();
    }

    @Test
    void requireXattrRefusesAFilesystemWithoutThem() {
        FaultInjectingStorage s =
                new FaultInjectingStorage(FaultInjectingStorage.Features.ext4().withoutXattrs());
        assertThatThrownBy(
                        () -> VfsOsd.open(OsdConfig.of("mnt", "vfs", Map.of("require-xattr", true)), s, Runnable::run))
                .isInstanceOfSatisfying(
                        OsdException.class, errno(Errno.EOPNOTSUPP, "require-xattr", "no working user xattrs"));
    }

    @Test
    void withoutXattrsTheDeviceSaysSoAndRefusesXattrCalls() throws Exception {
        FaultInjectingStorage s =
                new FaultInjectingStorage(FaultInjectingStorage.Features.ext4().withoutXattrs());
        try (Osd osd = VfsOsd.open(OsdConfig.of("mnt", "vfs", Map.of()), s, Runnable::run)) {
            assertThat(osd.capabilities().has(Capability.XATTRS)).isFalse();
            assertThat(osd.capabilities().maxXattrValue()).isZero();
            Fid f = Fid.of(0x700000000L, 1);
            createWith(osd, f, new byte[10]);
            assertThatThrownBy(() -> osd.getXattr(f, "user.a"))
                    .isInstanceOfSatisfying(OsdException.class, errno(Errno.EOPNOTSUPP, "XATTRS"));
        }
    }

    @Test
    void theProbedXattrLimitIsExactlyWhatFits() throws Exception {
        try (Osd osd = open(tmp.resolve("dev"))) {
            Assumptions.assumeTrue(osd.capabilities().has(Capability.XATTRS), "this filesystem has no user xattrs");
            int max = osd.capabilities().maxXattrValue();
            String longest = "u".repeat(osd.capabilities().maxXattrName());
            Fid f = Fid.of(0x700000000L, 2);
            createWith(osd, f, new byte[0]);
            try (Transaction t = osd.newTransaction()) {
                t.declareSetXattr(f, longest, max);
                t.start();
                t.setXattr(f, longest, new byte[max], XattrFlag.CREATE);
            }
            assertThat(osd.getXattr(f, longest)).hasSize(max);
            Fid g = Fid.of(0x700000000L, 3);
            createWith(osd, g, new byte[0]);
            assertThatThrownBy(() -> {
                        try (Transaction t = osd.newTransaction()) {
                            t.declareSetXattr(g, "user.a", max + 1);
                            t.start();
                            t.setXattr(g, "user.a", new byte[max + 1], XattrFlag.CREATE);
                        }
                    })
                    .isInstanceOfSatisfying(OsdException.class, errno(Errno.E2BIG, "limit of " + max));
            System.out.printf("probe on %s: %s%n", tmp, ((VfsOsd) osd).mountNotes());
        }
    }

    @Test
    void withoutNativeCallsThereIsNoPunchAndNoSparseSeekButEverythingElseWorks() throws Exception {
        Path p = Files.createDirectories(tmp.resolve("dev"));
        PosixStorage storage = new PosixStorage(p, new PosixNative.Unavailable("disabled by the test"));
        try (Osd osd = VfsOsd.open(OsdConfig.of("mnt", "vfs", Map.of("journal", "off")), storage, Runnable::run)) {
            assertThat(osd.capabilities().has(Capability.PUNCH)).isFalse();
            assertThat(osd.capabilities().has(Capability.SPARSE_SEEK)).isFalse();
            assertThat(((VfsOsd) osd).mountNotes())
                    .anyMatch(n -> n.contains("punch: unavailable") && n.contains("disabled by the test"));
            Fid f = Fid.of(0x700000000L, 4);
            createWith(osd, f, new byte[10_000]);
            assertThatThrownBy(() -> {
                        try (Transaction t = osd.newTransaction()) {
                            t.declarePunch(f, 0, 4096);
                            t.start();
                            t.punch(f, 0, 4096);
                        }
                    })
                    .isInstanceOfSatisfying(OsdException.class, errno(Errno.EOPNOTSUPP, "PUNCH"));
            assertThat(osd.seekData(f, 100)).isEqualTo(100);
            assertThat(osd.seekHole(f, 100)).isEqualTo(10_000);
            try (Transaction t = osd.newTransaction()) {
                t.declareTruncate(f, 1 << 20);
                t.start();
                t.truncate(f, 1 << 20);
            }
            assertThat(osd.getAttr(f).size()).isEqualTo(1 << 20);
        }
    }

    @Test
    void aCorruptRecordIsEioNamingItsFile() throws Exception {
        Path p = tmp.resolve("dev");
        Fid f = Fid.of(0x700000000L, 5);
        // records in .attr files (VfsRecordFormatTest has the corrupt xattr record)
        try (Osd osd = open(p, "records", "file")) {
            createWith(osd, f, new byte[10]);
        }
        Path rec;
        try (var s = Files.walk(p.resolve("objects"))) {
            rec = s.filter(x -> x.toString().endsWith(".attr")).findFirst().orElseThrow();
        }
        Files.write(rec, new byte[192]);
        try (Osd osd = open(p)) {
            assertThatThrownBy(() -> osd.getAttr(f))
                    .isInstanceOfSatisfying(
                            OsdException.class,
                            errno(Errno.EIO, f.toString(), rec.getFileName().toString(), "corrupt"));
        }
    }
}
