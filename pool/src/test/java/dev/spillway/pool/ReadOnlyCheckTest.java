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
 * its journal and mounts read-only only if it holds no record after its checkpoint (else the check
 * mounts it read-write, replaying them, and says so). Runs on what a SIGKILL leaves: both device
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

    /**
     * Checks {@code root} read-only: no problem, every object read back, and every byte of the kv
     * device as it was; the vfs device too unless {@code slowReplayed}: then its journal held
     * records after its checkpoint (which a power loss may have left unapplied to its files), so
     * it refused the read-only mount and the check mounted it read-write, replaying them, and said so.
     */
    private static void checkReadOnly(Path root, boolean slowReplayed) throws Exception {
        Map<String, String> before = fingerprint(root);
        try (PoolOsd pool = PoolOsd.mount(config(root), InstantSource.system(), PoolOsd.MountMode.CHECK)) {
            assertThat(pool.recoveryReport().jobs()).containsEntry("COPY", 1);
            assertThat(pool.fsck(false, true, null).problems()).isEmpty();
            for (int i = 1; i <= 20; i++) {
                assertThat(PoolFixtures.read(pool, object(i))).isEqualTo(PoolFixtures.random(i * 5000, i));
            }
            if (slowReplayed) {
                assertThat(pool.mountNotices())
                        .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
                        .contains("device slow needed a journal replay, so the check was not read-only for it");
            } else {
                assertThat(pool.mountNotices()).isEmpty();
            }
        }
        Map<String, String> after = fingerprint(root);
        if (slowReplayed) {
            before.keySet().removeIf(k -> k.startsWith("slow"));
            after.keySet().removeIf(k -> k.startsWith("slow"));
        }
        assertThat(after)
                .as("every file of " + (slowReplayed ? "the kv device" : "both devices")
                        + " as it was (names, sizes, times, bytes)")
                .isEqualTo(before);
    }

    @Test
    void aReadOnlyCheckOfACrashedPoolChangesNoByteOfTheKvDeviceAndReplaysTheVfsJournal() throws Exception {
        Path root = tmp.resolve("crashed");
        crashImage(root);
        checkReadOnly(root, true);
        // The pool's recovery is left for the read-write mount, which still finds everything to do.
        try (PoolOsd pool = PoolOsd.mount(config(root), InstantSource.system(), PoolOsd.MountMode.RECOVER)) {
            assertThat(pool.recoveryReport().rolledBack()).isEqualTo(1);
            assertThat(pool.fsck(false, true, null).problems()).isEmpty();
        }
    }

    /**
     * The vfs device after a clean unmount (journal checkpointed) and the kv device mid-crash: the
     * check writes no byte to either.
     */
    @Test
    void aReadOnlyCheckChangesNoByteOfAnyDeviceWhenTheVfsJournalIsCheckpointed() throws Exception {
        Path root = tmp.resolve("crashed");
        crashImage(root);
        checkpointSlow(root);
        checkReadOnly(root, false);
    }

    /**
     * A power loss: the vfs journal is durable but the object files it applies to were never
     * written back (here: none of them is there). Reading the files as they are would report the
     * spilled objects missing; the check replays the journal instead and finds every one.
     */
    @Test
    void aReadOnlyCheckAfterAPowerLossReportsNoCommittedObjectMissing() throws Exception {
        Path root = tmp.resolve("crashed");
        crashImage(root);
        try (Stream<Path> s = Files.list(root.resolve("slow").resolve("objects"))) {
            for (Path p : s.toList()) {
                deleteTree(p);
            }
        }
        checkReadOnly(root, true);
    }

    /** Needs a tmpfs of its own (root); skipped elsewhere, where the test above still holds. */
    @Test
    void aReadOnlyCheckRunsOnAFilesystemWithNoByteFree() throws Exception {
        Path fs = Files.createDirectories(tmp.resolve("tmpfs"));
        assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", fs.toString()), "cannot mount a tmpfs here");
        try {
            Path root = fs.resolve("pool");
            crashImage(root);
            // A vfs journal holding records after its checkpoint needs a replay (which writes):
            // checkpointed here, so that the check on the full filesystem is read-only throughout.
            checkpointSlow(root);
            fill(fs.resolve("filler"));
            checkReadOnly(root, false);
        } finally {
            run("umount", fs.toString());
        }
    }

    /** Mounts the vfs device alone read-write and unmounts it: its journal replayed and checkpointed. */
    private static void checkpointSlow(Path root) throws Exception {
        try (dev.spillway.osd.Osd slow = dev.spillway.osd.spi.Osds.open(dev.spillway.osd.spi.OsdConfig.of(
                "slow", "vfs", Map.of("path", root.resolve("slow").toString(), "journal-segment-size", "1MiB")))) {
            assertThat(((dev.spillway.osd.vfs.VfsOsd) slow).mountNotes())
                    .anyMatch(n -> n.startsWith("journal: replayed "));
        }
    }

    private static void deleteTree(Path p) throws IOException {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
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
