package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Fid;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.spi.Osds;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The devices of a mount opened side by side ({@code PoolOsd.mount(..., true)}, as the server
 * mounts): a device whose open needs what another's makes — osd-vfs creates its folder only in an
 * existing parent, which osd-kv's open of a sibling folder creates on a new pool — still mounts.
 */
class ParallelMountTest {
    @TempDir
    Path dir;

    @Test
    void aDeviceThatNeedsAnotherDevicesFolderMountsWhenOpenedSideBySide() throws Exception {
        Path devices = dir.resolve("devices");
        PoolConfig c = PoolConfigParser.parse(
                """
                name: side-by-side
                devices:
                  - {name: fast, backend: kv, roles: [metadata, foreground, promote], settings: {path: '%s'}}
                  - {name: slow, backend: vfs, roles: [background], settings: {path: '%s', journal: 'off'}}
                """.formatted(devices.resolve("fast"), devices.resolve("slow")), "parallel mount test");
        // The order that fails without the retry: the spill device's open ends (refused: no parent
        // folder) before the fast device's open, which creates the parent, begins.
        CountDownLatch slowTried = new CountDownLatch(1);
        List<String> opens = new CopyOnWriteArrayList<>();
        PoolOsd.DeviceOpener opener = (d, clock) -> {
            if (d.index() == 0) {
                // A guard timeout only ends a hung run; the order is what the latch makes.
                try {
                    assertThat(slowTried.await(60, TimeUnit.SECONDS)).isTrue();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
            try {
                Osd o = Osds.open(new OsdConfig(d.name(), d.backend(), d.settings(), clock));
                opens.add(d.name() + " opened");
                return o;
            } catch (OsdException | RuntimeException e) {
                opens.add(d.name() + " refused");
                throw e;
            } finally {
                if (d.index() == 1) {
                    slowTried.countDown();
                }
            }
        };
        assertThat(Files.exists(devices)).isFalse();
        try (PoolOsd pool = PoolOsd.mount(c, InstantSource.system(), PoolOsd.MountMode.RECOVER, opener, true)) {
            Fid f = new Fid(0x200000400L, 1, 0);
            PoolFixtures.create(pool, f, new byte[] {1, 2, 3});
            assertThat(pool.getAttr(f).size()).isEqualTo(3);
        }
        assertThat(opens).containsExactly("slow refused", "fast opened", "slow opened");
    }
}
