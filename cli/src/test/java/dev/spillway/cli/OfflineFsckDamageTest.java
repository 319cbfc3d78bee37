package dev.spillway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.cli.CliFixtures.Run;
import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Transaction;
import dev.spillway.server.DataDir;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13's bug 2 end to end on the embedded default pool (osd-kv + osd-vfs on disk): a garbage
 * copy on the spill device whose record a power cut left empty and whose body it left short.
 * Before the fix the next mount — here an offline {@code spillway fsck} — stopped with "EIO:
 * record …attr is corrupt: neither of its two slots passes its checksum"; now the mount's
 * recovery removes the copy and fsck is clean.
 */
class OfflineFsckDamageTest {
    @TempDir
    Path tmp;

    private static Run cli(String... args) {
        return CliFixtures.exec(args);
    }

    @Test
    void aGarbageCopyLeftEmptyByAPowerCutDoesNotStopTheNextMount() throws Exception {
        Path data = tmp.resolve("data");
        assertThat(cli("format", "--data", data.toString()).code()).isZero();
        Fid f = new Fid(0x200000400L, 1, 0);
        try (Offline o = Offline.open(new DataDir(data), null, "test", false)) {
            try (Transaction tx = o.pool.newTransaction()) {
                tx.declareCreate(f, ObjectKind.DATA);
                tx.declareWrite(f, 0, 200_000);
                tx.start();
                tx.create(f, ObjectKind.DATA, AttrChange.none());
                tx.write(f, 0, ByteBuffer.wrap(new byte[200_000]));
            }
            o.pool.migrator().spill(f, o.pool.devices().get(1));
            // The object goes; its spill copy becomes garbage, left for the next garbage pass.
            try (Transaction tx = o.pool.newTransaction()) {
                tx.declareDestroy(f);
                tx.start();
                tx.destroy(f);
            }
            o.pool.sync();
        }
        // What a power cut leaves of a copy whose names were durable and whose content was not.
        List<Path> files;
        try (Stream<Path> s = Files.walk(data.resolve("devices/slow/objects"))) {
            files = s.filter(Files::isRegularFile).toList();
        }
        // osd-vfs format 2: the body alone, its record in its xattr user.spillway.rec (format 1: body + .attr)
        assertThat(files).hasSize(1);
        for (Path p : files) {
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                ch.truncate(1000);
            }
            // the record unreadable, as an empty .attr was: external damage (setxattr itself is atomic)
            Files.getFileAttributeView(p, java.nio.file.attribute.UserDefinedFileAttributeView.class)
                    .write("spillway.rec", ByteBuffer.allocate(0));
        }
        // A check without --repair mounts read-only (no recovery: it writes nothing and needs no
        // space) and sees a clean pool: the damaged copy is garbage, no object's copy.
        Run r = cli("fsck", "--data", data.toString());
        assertThat(r.err()).doesNotContain("corrupt").doesNotContain("Exception");
        assertThat(r.out()).contains("clean");
        assertThat(r.code()).isZero();
        // A mount that recovers (here fsck --repair) collects it, empty record and all.
        r = cli("fsck", "--repair", "--data", data.toString());
        assertThat(r.err()).doesNotContain("corrupt").doesNotContain("Exception");
        assertThat(r.code()).isZero();
        try (Stream<Path> s = Files.walk(data.resolve("devices/slow/objects"))) {
            assertThat(s.filter(Files::isRegularFile).toList()).isEmpty();
        }
    }
}
