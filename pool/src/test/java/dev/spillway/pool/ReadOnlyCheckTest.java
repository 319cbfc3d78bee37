package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.ops.MoveResult;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.InstantSource;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A read-only check ({@link PoolOsd.MountMode#CHECK}, what an offline {@code fsck} without repair
 * mounts) leaves every byte of every device as it was, and so needs no space (issue 12: "a
 * read-only check must never need space at all"): osd-kv opens RocksDB read-only, osd-vfs reads
 * its journal without replaying or checkpointing it. Runs on what a SIGKILL leaves: both device
 * folders copied while the pool is mounted, with writes only in osd-kv's WAL and osd-vfs's
 * journal, and a spill in flight.
 */
class ReadOnlyCheckTest {
    @TempDir
    Path tmp;

    private static PoolConfig config(Path root) throws OsdException {
        return PoolConfigParser.parse(
                """
                name: ro
                devices:
                  - {name: fast, backend: kv, roles: [metadata, foreground, promote], settings: {path: '%s', block-cache: 8MiB}}
                  - {name: slow, backend: vfs, roles: [background], settings: {path: '%s', journal-segment-size: 1MiB}}
                """.formatted(root.resolve("fast"), root.resolve("slow")), "read-only check test");
    }

    private static Fid object(int i) {
        return new Fid(0x200000400L, i, 0);
    }

    /** The pool's folders as a SIGKILL leaves them, under {@code into}. */
    private void crashImage(Path into) throws Exception {
        Path live = tmp.resolve("live");
        try (PoolOsd pool = PoolOsd.mount(config(live), InstantSource.system(), PoolOsd.MountMode.RECOVER)) {
            for (int i = 1; i <= 20; i++) {
                PoolFixtures.create(pool, object(i), PoolFixtures.random(i * 5000, i));
            }
            for (int i = 1; i <= 5; i++) {
                assertThat(pool.migrator().spill(object(i), pool.device(1))).isInstanceOf(MoveResult.Done.class);
            }
            assertThat(pool.migrator().begin(object(6), pool.device(1))).isPresent();
            copyTree(live, into);
        }
    }

    private static void checkReadOnly(Path root) throws Exception {
        Map<String, String> before = fingerprint(root);
        try (PoolOsd pool = PoolOsd.mount(config(root), InstantSource.system(), PoolOsd.MountMode.CHECK)) {
            assertThat(pool.recoveryReport().jobs()).containsEntry("COPY", 1);
            assertThat(pool.fsck(false, true, null).problems()).isEmpty();
            for (int i = 1; i <= 20; i++) {
                assertThat(PoolFixtures.read(pool, object(i))).isEqualTo(PoolFixtures.random(i * 5000, i));
            }
        }
        assertThat(fingerprint(root))
                .as("every file of both devices as it was (names, sizes, times, bytes)")
                .isEqualTo(before);
    }

    @Test
    void aReadOnlyCheckOfACrashedPoolChangesNoByteOfAnyDevice() throws Exception {
        Path root = tmp.resolve("crashed");
        crashImage(root);
        checkReadOnly(root);
        // The recovery is left for the read-write mount, which still finds everything to do.
        try (PoolOsd pool = PoolOsd.mount(config(root), InstantSource.system(), PoolOsd.MountMode.RECOVER)) {
            assertThat(pool.recoveryReport().rolledBack()).isEqualTo(1);
            assertThat(pool.fsck(false, true, null).problems()).isEmpty();
        }
    }

    /** Needs a tmpfs of its own (root); skipped elsewhere, where the test above still holds. */
    @Test
    void aReadOnlyCheckRunsOnAFilesystemWithNoByteFree() throws Exception {
        Path fs = Files.createDirectories(tmp.resolve("tmpfs"));
        assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", fs.toString()), "cannot mount a tmpfs here");
        try {
            Path root = fs.resolve("pool");
            crashImage(root);
            fill(fs.resolve("filler"));
            checkReadOnly(root);
        } finally {
            run("umount", fs.toString());
        }
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

    private static Map<String, String> fingerprint(Path root) throws Exception {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String rel = root.relativize(p).toString();
                if (Files.isDirectory(p)) {
                    m.put(rel + "/", "dir");
                } else {
                    byte[] b = Files.readAllBytes(p);
                    m.put(
                            rel,
                            b.length + " " + Files.getLastModifiedTime(p).toMillis() + " "
                                    + HexFormat.of()
                                            .formatHex(MessageDigest.getInstance("SHA-256")
                                                    .digest(b)));
                }
            }
        }
        return m;
    }

    /** Writes {@code file} until the filesystem refuses a byte more. */
    private static void fill(Path file) throws IOException {
        try (OutputStream out = Files.newOutputStream(file)) {
            byte[] chunk = new byte[64 << 10];
            while (true) {
                out.write(chunk);
            }
        } catch (IOException full) {
            // ENOSPC
        }
        try (OutputStream out = Files.newOutputStream(file, java.nio.file.StandardOpenOption.APPEND)) {
            while (true) {
                out.write(1);
                out.flush();
            }
        } catch (IOException full) {
            // not one byte more
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
