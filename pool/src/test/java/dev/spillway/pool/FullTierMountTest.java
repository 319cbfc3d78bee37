package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pool whose fast tier (osd-kv) is full to the last byte clients may use, with spills in
 * flight when it goes down, must mount again, recover and pass fsck: the failure seen in the
 * SIGKILL loop of issue 12 ("fast: ENOSPC: transaction 1 declares 393555 bytes, 363359
 * available"), where recovery's roll-back of three COPY jobs declared 131,185 bytes each (the
 * largest xattr the device allows, twice) on a device with no room left.
 */
class FullTierMountTest {
    private static final long CAPACITY = 4L << 20;

    @TempDir
    Path dir;

    private PoolConfig config() throws OsdException {
        return PoolConfigParser.parse(
                """
                name: full
                devices:
                  - {name: fast, backend: kv, roles: [metadata, foreground, promote], settings: {path: '%s', capacity: %d, strict-declares: true}}
                  - {name: slow, backend: vfs, roles: [background], settings: {path: '%s', journal: 'off', strict-declares: true}}
                space: {writer-wait: 0s}
                """.formatted(dir.resolve("fast"), CAPACITY, dir.resolve("slow")), "full tier test");
    }

    private static Fid object(int i) {
        return new Fid(0x200000400L, i, 0);
    }

    /** Creates an object with {@code body}; false if the pool said ENOSPC. */
    private static boolean put(PoolOsd pool, Fid f, byte[] body) throws OsdException {
        try {
            PoolFixtures.create(pool, f, body);
            return true;
        } catch (OsdException e) {
            if (e.is(Errno.ENOSPC)) {
                return false;
            }
            throw e;
        }
    }

    /** Fills the pool with objects of shrinking sizes until not even one byte fits; returns them. */
    private static List<Fid> fill(PoolOsd pool, int first, Random r) throws OsdException {
        List<Fid> made = new ArrayList<>();
        int i = first;
        for (int size = 64 << 10; size >= 1; size /= 4) {
            while (true) {
                byte[] b = new byte[size];
                r.nextBytes(b);
                if (!put(pool, object(i), b)) {
                    break;
                }
                made.add(object(i++));
            }
        }
        return made;
    }

    @Test
    void aFullFastTierWithSpillsInFlightMountsAgainAndPassesFsck() throws Exception {
        PoolConfig c = config();
        Random r = new Random(12);
        List<Fid> objects;
        try (PoolOsd pool = PoolOsd.mount(c, InstantSource.system(), PoolOsd.MountMode.RECOVER)) {
            // Half full, then three spills begun and not finished (a crash between begin and flip).
            for (int i = 1; i <= 24; i++) {
                byte[] b = new byte[64 << 10];
                r.nextBytes(b);
                assertThat(put(pool, object(i), b)).isTrue();
            }
            for (int i = 1; i <= 3; i++) {
                assertThat(pool.migrator().begin(object(i), pool.device(1))).isPresent();
            }
            objects = fill(pool, 100, r);
            assertThat(objects).isNotEmpty();
        }
        // A read-only check (offline fsck without repair) recovers nothing, writes nothing, and
        // sees the copies in flight as work in flight.
        try (PoolOsd pool = PoolOsd.mount(c, InstantSource.system(), PoolOsd.MountMode.CHECK)) {
            assertThat(pool.recoveryReport().jobs()).containsEntry("COPY", 3);
            assertThat(pool.fsck(false, true, null).problems()).isEmpty();
        }
        // The mount rolls the three copies back; it must not need any space to do so.
        try (PoolOsd pool = PoolOsd.mount(c, InstantSource.system(), PoolOsd.MountMode.RECOVER)) {
            assertThat(pool.recoveryReport().rolledBack()).isEqualTo(3);
            assertThat(pool.fsck(false, true, null).problems()).isEmpty();
            for (Fid f : objects) {
                assertThat(pool.exists(f)).isTrue();
            }
        }
    }

    /**
     * A pool of one device (no spill device) keeps a reserve too: sizing it must not look up a
     * background device that does not exist (it threw IndexOutOfBoundsException at mount).
     */
    @Test
    void aPoolOfOneDeviceMountsAndKeepsAReserve() throws Exception {
        PoolConfig c = PoolConfigParser.parse("""
                name: single
                devices:
                  - {name: fast, backend: kv, roles: [metadata, foreground], settings: {path: '%s', capacity: %d}}
                """.formatted(dir.resolve("only"), CAPACITY), "one device");
        try (PoolOsd pool = PoolOsd.mount(c, InstantSource.system(), PoolOsd.MountMode.RECOVER)) {
            assertThat(put(pool, object(1), new byte[1000])).isTrue();
            assertThat(pool.reservePlan()).isPresent();
        }
    }
}
