package dev.spillway.osd.vfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.osd.Attr;
import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Capability;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectCursor;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.XattrFlag;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.spi.Osds;
import dev.spillway.osd.testkit.fault.FaultInjectingStorage;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where records live: in the body's xattr on a device formatted where user xattrs work (marker
 * version 2), in {@code .attr} files elsewhere or with {@code records: file} (version 1), fixed
 * for the device's life — and devices written by builds before record xattrs (the checked-in
 * {@code old-format-v1} fixture, made by the build of main at f4f4e3f: a journal-off device
 * unmounted cleanly, and a journal-on device left mounted, its log unreplayed) mount and read
 * unchanged.
 */
class VfsRecordFormatTest {
    @TempDir
    Path tmp;

    private static final Fid OFF_1 = Fid.of(0x200000400L, 1);
    private static final Fid OFF_2 = Fid.of(0x200000400L, 2);
    private static final Fid OFF_3 = Fid.of(0x200000400L, 3);
    private static final Fid ON_1 = Fid.of(0x200000401L, 1);
    private static final Fid ON_2 = Fid.of(0x200000401L, 2);

    /** The bodies the fixture's generator wrote. */
    static byte[] body(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + seed);
        }
        return b;
    }

    static Osd open(Path p, Object... kv) throws OsdException {
        Map<String, Object> s = new java.util.HashMap<>();
        s.put("path", p.toString());
        for (int i = 0; i < kv.length; i += 2) {
            s.put((String) kv[i], kv[i + 1]);
        }
        return Osds.open(OsdConfig.of("fmt", "vfs", s));
    }

    /** A copy of a fixture device, with the empty folders git does not keep. */
    Path fixture(String which) throws Exception {
        Path from = resource("old-format-v1/" + which);
        Path to = tmp.resolve(which);
        try (Stream<Path> all = Files.walk(from)) {
            for (Path f : (Iterable<Path>) all::iterator) {
                Path t = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(f, t, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
        for (String d : List.of("objects", "journal", "staging")) {
            Files.createDirectories(to.resolve(d));
        }
        return to;
    }

    private static Path resource(String name) throws URISyntaxException {
        return Path.of(
                VfsRecordFormatTest.class.getClassLoader().getResource(name).toURI());
    }

    static byte[] readAll(Osd osd, Fid f) throws OsdException {
        ByteBuffer b = ByteBuffer.allocate((int) osd.getAttr(f).size());
        while (b.hasRemaining() && osd.read(f, b.position(), b) > 0) {
            // until full
        }
        return b.array();
    }

    static List<Fid> list(Osd osd) throws OsdException {
        List<Fid> out = new ArrayList<>();
        try (ObjectCursor c = osd.listObjects()) {
            while (c.next()) {
                out.add(c.fid());
            }
        }
        out.sort(null);
        return out;
    }

    static List<Path> files(Path dev, String suffix) throws Exception {
        try (Stream<Path> s = Files.walk(dev.resolve("objects"))) {
            return s.filter(p -> Files.isRegularFile(p) && p.toString().endsWith(suffix))
                    .toList();
        }
    }

    static void create(Osd osd, Fid f, byte[] body, AttrChange a) throws OsdException {
        try (Transaction t = osd.newTransaction()) {
            t.declareCreate(f, ObjectKind.DATA);
            t.declareWrite(f, 0, body.length);
            t.start();
            t.create(f, ObjectKind.DATA, a);
            t.write(f, 0, ByteBuffer.wrap(body));
        }
    }

    static void checkOffFixture(Osd osd) throws OsdException {
        assertThat(list(osd)).containsExactly(OFF_1, OFF_2);
        Attr a = osd.getAttr(OFF_1);
        assertThat(a.size()).isEqualTo(10_100);
        assertThat(a.mode()).isEqualTo(0640);
        assertThat(a.uid()).isEqualTo(1000);
        assertThat(a.gid()).isEqualTo(100);
        // the write after the setAttr moved mtime to the generator's fixed clock
        assertThat(a.mtime())
                .isEqualTo(java.time.Instant.parse("2026-12-04T12:00:00Z").getEpochSecond() * 1_000_000_000L);
        byte[] want = Arrays.copyOf(body(10_000, 1), 10_100);
        System.arraycopy(body(100, 9), 0, want, 10_000, 100);
        assertThat(readAll(osd, OFF_1)).isEqualTo(want);
        Attr b = osd.getAttr(OFF_2);
        assertThat(b.size()).isZero();
        assertThat(b.mode()).isEqualTo(0600);
        assertThat(b.flags()).isEqualTo(3);
        assertThat(osd.exists(OFF_3)).isFalse();
    }

    @Test
    void anOldJournalOffDeviceMountsAndReadsUnchangedAndStaysInRecordFiles() throws Exception {
        Path dev = fixture("off");
        String marker = Files.readString(dev.resolve("SPILLWAY-VFS"));
        try (Osd osd = open(dev, "journal", "off")) {
            checkOffFixture(osd);
            assertThat(osd.statfs().objects()).isEqualTo(2);
            // Changed and created objects of an old device keep their records in .attr files.
            try (Transaction t = osd.newTransaction()) {
                t.declareSetAttr(OFF_2);
                t.start();
                t.setAttr(OFF_2, AttrChange.none().uid(55));
            }
            create(osd, OFF_3, body(700, 3), AttrChange.none().mode(0444));
            osd.sync();
        }
        assertThat(Files.readString(dev.resolve("SPILLWAY-VFS"))).isEqualTo(marker);
        assertThat(files(dev, ".attr")).hasSize(3);
        for (Path body : files(dev, "-00000000")) {
            assertThat(xattrNames(body)).doesNotContain("spillway.rec");
        }
        try (Osd osd = open(dev, "journal", "off")) {
            assertThat(list(osd)).containsExactly(OFF_1, OFF_2, OFF_3);
            assertThat(osd.getAttr(OFF_2).uid()).isEqualTo(55);
            assertThat(osd.getAttr(OFF_3).mode()).isEqualTo(0444);
            assertThat(readAll(osd, OFF_3)).isEqualTo(body(700, 3));
        }
    }

    @Test
    void anOldJournalOnDeviceLeftMountedReplaysItsLogIntoRecordFiles() throws Exception {
        Path dev = fixture("on");
        try (Osd osd = open(dev, "journal", "on", "journal-segment-size", "64KiB", "journal-preallocate", false)) {
            assertThat(list(osd)).containsExactly(ON_1, ON_2);
            Attr a = osd.getAttr(ON_1);
            assertThat(a.mode()).isEqualTo(0644);
            assertThat(a.uid()).isEqualTo(7);
            assertThat(readAll(osd, ON_1)).isEqualTo(body(3000, 4));
            Attr b = osd.getAttr(ON_2);
            assertThat(b.size()).isEqualTo(12_345);
            assertThat(b.uid()).isEqualTo(42);
            assertThat(b.gid()).isEqualTo(8);
            assertThat(readAll(osd, ON_2)).isEqualTo(Arrays.copyOf(body(20_000, 5), 12_345));
            // usage was counted from the .attr files (no clean unmount)
            assertThat(osd.statfs().objects()).isEqualTo(2);
            create(osd, Fid.of(0x200000401L, 3), body(10, 6), AttrChange.none());
        }
        assertThat(files(dev, ".attr")).hasSize(3);
        assertThat(Files.readString(dev.resolve("SPILLWAY-VFS")))
                .contains("version: 1")
                .doesNotContain("records");
    }

    @Test
    void aNewDeviceWhereXattrsWorkKeepsEachRecordInItsBodysXattr() throws Exception {
        Path dev = tmp.resolve("new");
        Fid f = Fid.of(0x300000400L, 1);
        try (Osd osd = open(dev, "journal", "off")) {
            create(osd, f, body(5000, 1), AttrChange.none().mode(0640).uid(9));
            osd.sync(f);
            assertThat(((VfsOsd) osd).mountNotes()).anyMatch(n -> n.contains("user.spillway.rec"));
        }
        assertThat(Files.readString(dev.resolve("SPILLWAY-VFS")))
                .contains("version: 2")
                .contains("records: xattr");
        assertThat(files(dev, ".attr")).isEmpty();
        Path body = files(dev, "-00000000").getFirst();
        assertThat(xattrNames(body)).containsExactly("spillway.rec");
        assertThat(xattr(body, "spillway.rec")).hasSize(XattrRecord.SIZE);
        try (Osd osd = open(dev, "journal", "off", "records", "file")) {
            // the setting only matters at format: the marker decides from then on
            assertThat(osd.getAttr(f).uid()).isEqualTo(9);
            assertThat(readAll(osd, f)).isEqualTo(body(5000, 1));
            assertThat(list(osd)).containsExactly(f);
        }
    }

    @Test
    void recordsFileFormatsTheOldWayAndTheChoiceHoldsAtTheNextMount() throws Exception {
        Path dev = tmp.resolve("file");
        Fid f = Fid.of(0x300000400L, 2);
        try (Osd osd = open(dev, "journal", "off", "records", "file")) {
            create(osd, f, body(100, 2), AttrChange.none());
        }
        try (Osd osd = open(dev, "journal", "off")) {
            create(osd, Fid.of(0x300000400L, 3), body(100, 3), AttrChange.none());
            assertThat(list(osd)).containsExactly(f, Fid.of(0x300000400L, 3));
        }
        assertThat(Files.readString(dev.resolve("SPILLWAY-VFS"))).contains("version: 1");
        assertThat(files(dev, ".attr")).hasSize(2);
    }

    @Test
    void withoutUserXattrsAtFormatRecordsAreFilesAndTheMarkerSaysVersion1() throws Exception {
        FaultInjectingStorage s =
                new FaultInjectingStorage(FaultInjectingStorage.Features.ext4().withoutXattrs());
        Fid f = Fid.of(0x300000400L, 4);
        try (Osd osd = VfsOsd.open(OsdConfig.of("fmt", "vfs", Map.of("journal", "off")), s, Runnable::run)) {
            create(osd, f, body(10, 4), AttrChange.none());
            assertThat(((VfsOsd) osd).mountNotes()).anyMatch(n -> n.contains("no user xattrs") && n.contains(".attr"));
        }
        assertThat(new String(s.readFully("SPILLWAY-VFS"), StandardCharsets.UTF_8))
                .contains("version: 1")
                .doesNotContain("records");
        assertThat(s.type(ObjectIndex.record(f))).isEqualTo(dev.spillway.osd.spi.storage.Storage.EntryType.FILE);
    }

    @Test
    void aDeviceWithXattrRecordsOnAFilesystemThatLostThemIsRefusedNamingIt() throws Exception {
        FaultInjectingStorage s =
                new FaultInjectingStorage(FaultInjectingStorage.Features.ext4().withoutXattrs());
        s.replaceDurably(
                "SPILLWAY-VFS",
                ("format: spillway-vfs\nversion: 2\nuuid: 6f1c3e0a-0b7e-4f35-9a51-2a8f4c1d9e20\nrecords: xattr\n")
                        .getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> VfsOsd.open(OsdConfig.of("fmt", "vfs", Map.of("journal", "off")), s, Runnable::run))
                .isInstanceOfSatisfying(OsdException.class, e -> {
                    assertThat(e.errno()).isEqualTo(Errno.EOPNOTSUPP);
                    assertThat(e.getMessage()).contains("fmt: ", "records: xattr", "no working user xattrs");
                });
    }

    @Test
    void theRecordsXattrNameIsReservedAndHidden() throws Exception {
        FaultInjectingStorage s = new FaultInjectingStorage(FaultInjectingStorage.Features.ext4());
        Fid f = Fid.of(0x300000400L, 5);
        try (Osd osd = VfsOsd.open(OsdConfig.of("fmt", "vfs", Map.of("journal", "on")), s, Runnable::run)) {
            create(osd, f, body(10, 5), AttrChange.none());
            try (Transaction t = osd.newTransaction()) {
                t.declareSetXattr(f, "user.a", 1);
                t.start();
                t.setXattr(f, "user.a", new byte[] {1}, XattrFlag.UPSERT);
            }
            assertThat(osd.listXattrs(f)).containsExactly("user.a");
            assertThatThrownBy(() -> osd.getXattr(f, XattrRecord.NAME))
                    .isInstanceOfSatisfying(
                            OsdException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ENODATA));
            Transaction t = osd.newTransaction();
            t.declareSetXattr(f, XattrRecord.NAME, 1);
            t.start();
            assertThatThrownBy(() -> t.setXattr(f, XattrRecord.NAME, new byte[] {1}, XattrFlag.UPSERT))
                    .isInstanceOfSatisfying(OsdException.class, e -> {
                        assertThat(e.errno()).isEqualTo(Errno.EINVAL);
                        assertThat(e.getMessage()).contains("reserved");
                    });
            t.close();
            assertThat(osd.capabilities().has(Capability.XATTRS)).isTrue();
            assertThat(osd.getAttr(f).size()).isEqualTo(10);
        }
    }

    @Test
    void aCorruptXattrRecordIsEioNamingTheBodyAndTheReason() throws Exception {
        Path dev = tmp.resolve("corrupt");
        Fid f = Fid.of(0x300000400L, 6);
        try (Osd osd = open(dev, "journal", "off")) {
            create(osd, f, body(10, 6), AttrChange.none());
        }
        Path body = files(dev, "-00000000").getFirst();
        byte[] v = xattr(body, "spillway.rec");
        v[0] = 9; // a format version this build does not know
        Files.getFileAttributeView(body, UserDefinedFileAttributeView.class).write("spillway.rec", ByteBuffer.wrap(v));
        try (Osd osd = open(dev, "journal", "off")) {
            assertThatThrownBy(() -> osd.getAttr(f)).isInstanceOfSatisfying(OsdException.class, e -> {
                assertThat(e.errno()).isEqualTo(Errno.EIO);
                assertThat(e.getMessage())
                        .contains(body.getFileName().toString(), "user.spillway.rec", "format version 9");
            });
            // still destroyable: a destroy never needs a readable record
            try (Transaction t = osd.newTransaction()) {
                t.declareDestroy(f);
                t.start();
                t.destroy(f);
            }
            assertThat(osd.exists(f)).isFalse();
        }
    }

    /** The forces a journal-off create + write + sync(fid) of a new object costs: [files, folders]. */
    static int[] forcesOfOneDurableCopy(String records) throws Exception {
        Map<FaultInjectingStorage.Op, Integer> ops = opsOfOneDurableCopy(records);
        return new int[] {
            ops.getOrDefault(FaultInjectingStorage.Op.FORCE, 0), ops.getOrDefault(FaultInjectingStorage.Op.FORCE_DIR, 0)
        };
    }

    /** The storage calls a journal-off create + write + sync(fid) of a new object costs, by kind. */
    static Map<FaultInjectingStorage.Op, Integer> opsOfOneDurableCopy(String records) throws Exception {
        FaultInjectingStorage s = new FaultInjectingStorage(FaultInjectingStorage.Features.ext4());
        Fid f = Fid.of(0x300000400L, 7);
        try (Osd osd = VfsOsd.open(
                OsdConfig.of("fmt", "vfs", Map.of("journal", "off", "records", records)), s, Runnable::run)) {
            create(osd, f, body(10, 8), AttrChange.none());
            try (Transaction t = osd.newTransaction()) {
                t.declareDestroy(f);
                t.start();
                t.destroy(f);
            }
            osd.sync(); // its object folder exists and is durable: count the steady state
            Map<FaultInjectingStorage.Op, Integer> n = new java.util.EnumMap<>(FaultInjectingStorage.Op.class);
            s.setFault((op, path, i) -> {
                n.merge(op, 1, Integer::sum);
                return null;
            });
            create(osd, f, body(4096, 7), AttrChange.none());
            osd.sync(f);
            s.setFault(null); // not the unmount's forces
            assertThat(osd.getAttr(f).size()).isEqualTo(4096);
            return n;
        }
    }

    @Test
    void aNewObjectsRecordIsWrittenOnceAndItsBodyOpenedOnce() throws Exception {
        // The sync write's copy on a spill device (issue 19): create, one write, sync. The record
        // is written once, as the transaction ends, not at the create and again at the write; the
        // create needs no existence check first (O_EXCL says it), and its handle takes the write
        // and the force.
        Map<FaultInjectingStorage.Op, Integer> ops = opsOfOneDurableCopy("auto");
        assertThat(ops.getOrDefault(FaultInjectingStorage.Op.SET_XATTR, 0))
                .as("%s", ops)
                .isEqualTo(1);
        assertThat(ops.getOrDefault(FaultInjectingStorage.Op.GET_XATTR, 0))
                .as("%s", ops)
                .isZero();
        // the create's, kept for the write and the force
        assertThat(ops.getOrDefault(FaultInjectingStorage.Op.OPEN, 0))
                .as("%s", ops)
                .isEqualTo(1);
    }

    @Test
    void withTheRecordInTheBodysXattrADurableNewObjectIsOneFileForcePlusItsFolder() throws Exception {
        assertThat(forcesOfOneDurableCopy("auto")).containsExactly(1, 1);
        assertThat(forcesOfOneDurableCopy("file")).containsExactly(2, 1);
    }

    static List<String> xattrNames(Path p) throws Exception {
        return Files.getFileAttributeView(p, UserDefinedFileAttributeView.class).list();
    }

    static byte[] xattr(Path p, String name) throws Exception {
        UserDefinedFileAttributeView v = Files.getFileAttributeView(p, UserDefinedFileAttributeView.class);
        ByteBuffer b = ByteBuffer.allocate(v.size(name));
        v.read(name, b);
        return b.array();
    }
}
