package dev.spillway.osd.kv;

import static dev.spillway.osd.kv.KvTestSupport.fingerprint;
import static dev.spillway.osd.kv.KvTestSupport.open;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The read-only mount (common setting {@code read-only}, which an offline {@code fsck} without
 * repair uses): it reads what a read-write mount would, including writes only the WAL holds,
 * writes nothing to the folder, and so needs no space.
 */
class KvReadOnlyMountTest {
    @TempDir
    Path tmp;

    private static final Fid A = Fid.of(0x200000401L, 1);
    private static final Fid BIG = Fid.of(0x200000401L, 2);
    private static final byte[] HELLO = "hello".getBytes(StandardCharsets.UTF_8);

    /**
     * What a SIGKILL leaves: a copy of the folder taken while the device is mounted, its last
     * writes only in the WAL (synced, never flushed into an SST file).
     */
    private void crashImage(Path into) throws Exception {
        Path live = tmp.resolve("live");
        try (KvOsd osd = open(live)) {
            KvTestSupport.createData(osd, A, HELLO);
            KvTestSupport.createData(osd, BIG, new byte[300_000]);
            KvTestSupport.copyTree(live, into);
        }
    }

    private static void readsBoth(KvOsd osd) throws OsdException {
        assertThat(KvTestSupport.readAll(osd, A)).isEqualTo(HELLO);
        assertThat(KvTestSupport.readAll(osd, BIG)).hasSize(300_000);
    }

    @Test
    void aReadOnlyMountOfACrashedDeviceReadsItsWalAndChangesNoByte() throws Exception {
        Path dir = tmp.resolve("crashed");
        crashImage(dir);
        Map<String, String> before = fingerprint(dir);
        try (KvOsd osd = open(dir, "read-only", true)) {
            readsBoth(osd);
            assertThat(osd.statfs().objects()).isEqualTo(2);
        }
        assertThat(fingerprint(dir))
                .as("no file of the folder changed (WAL, MANIFEST, LOCK, db-id, extent files)")
                .isEqualTo(before);
        try (KvOsd osd = open(dir, "read-only", true)) {
            OsdException e = catchThrowableOfType(OsdException.class, osd::newTransaction);
            assertThat(e).isNotNull();
            assertThat(e.errno()).isEqualTo(Errno.EROFS);
            assertThat(e.getMessage()).contains(dir.toString()).contains("read-only");
        }
        assertThat(fingerprint(dir)).isEqualTo(before);
        // The WAL is still there for the read-write mount to replay.
        try (KvOsd osd = open(dir)) {
            readsBoth(osd);
        }
    }

    @Test
    void aReadOnlyMountFormatsNothing() throws Exception {
        Path missing = tmp.resolve("missing");
        OsdException e = catchThrowableOfType(OsdException.class, () -> open(missing, "read-only", true));
        assertThat(e).isNotNull();
        assertThat(e.errno()).isEqualTo(Errno.EROFS);
        assertThat(e.getMessage()).contains(missing.toString()).contains("formats nothing");
        assertThat(missing).doesNotExist();
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        e = catchThrowableOfType(OsdException.class, () -> open(empty, "read-only", true));
        assertThat(e.errno()).isEqualTo(Errno.EROFS);
        try (var s = Files.list(empty)) {
            assertThat(s).isEmpty();
        }
    }

    /**
     * On a filesystem with no byte free, a read-only mount still mounts and reads (a read-write
     * open needs a new WAL and MANIFEST). Needs a tmpfs of its own, so it runs where the test
     * may mount one (root); elsewhere it is skipped and the test above still proves that nothing
     * is written.
     */
    @Test
    void aReadOnlyMountNeedsNoSpaceOnAFullFilesystem() throws Exception {
        Path fs = Files.createDirectories(tmp.resolve("tmpfs"));
        assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", fs.toString()), "cannot mount a tmpfs here");
        try {
            Path dir = fs.resolve("dev");
            crashImage(dir);
            fill(fs.resolve("filler"));
            Map<String, String> before = fingerprint(dir);
            try (KvOsd osd = open(dir, "read-only", true)) {
                readsBoth(osd);
            }
            assertThat(fingerprint(dir)).isEqualTo(before);
        } finally {
            run("umount", fs.toString());
        }
    }

    /** Writes {@code file} until the filesystem refuses a byte more. */
    private static void fill(Path file) throws IOException {
        byte[] chunk = new byte[64 << 10];
        try (OutputStream out = Files.newOutputStream(file)) {
            while (true) {
                out.write(chunk);
            }
        } catch (IOException full) {
            // ENOSPC: the filesystem is full (a partial chunk may have gone in)
        }
        try (OutputStream out = Files.newOutputStream(file, java.nio.file.StandardOpenOption.APPEND)) {
            while (true) {
                out.write(1);
                out.flush();
            }
        } catch (IOException full) {
            // now not even one byte fits
        }
        assertThat(Files.getFileStore(file).getUsableSpace()).isLessThan(4096);
    }

    private static boolean run(String... cmd) throws Exception {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getInputStream().transferTo(OutputStream.nullOutputStream());
            // A guard only: mount and umount return at once.
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        }
    }
}
