package dev.spillway.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.mem.MemOsd;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.config.Role;
import dev.spillway.pool.device.PoolDevice;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The tier the admin API (and so {@code spillway df} and {@code getstripe}) names for a device. */
class DeviceTierTest {
    private static PoolDevice device(Set<Role> roles) throws Exception {
        return new PoolDevice(0, "d", "mem", roles, DeviceState.RW, 1, MemOsd.create("d"));
    }

    @Test
    void aReadCacheIsNamedCacheNotSpill() throws Exception {
        assertThat(ObjectView.tier(device(Set.of(Role.METADATA, Role.FOREGROUND, Role.PROMOTE))))
                .isEqualTo("fast");
        assertThat(ObjectView.tier(device(Set.of(Role.BACKGROUND)))).isEqualTo("spill");
        assertThat(ObjectView.tier(device(Set.of(Role.CACHE)))).isEqualTo("cache");
    }
}
