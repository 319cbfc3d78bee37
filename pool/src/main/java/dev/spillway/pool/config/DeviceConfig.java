package dev.spillway.pool.config;

import java.util.Map;
import java.util.Set;

/**
 * One device of a pool configuration.
 *
 * @param index position in the configuration; also the device's index in layouts (the OST
 *     index of a plain mirror, the archive id of a foreign HSM mirror)
 * @param name unique name, used in every message about the device
 * @param backend the {@code backend:} of an {@link dev.spillway.osd.spi.OsdProvider}
 * @param roles what it does in the pool
 * @param state its state when the pool is first formatted (later the persisted state rules)
 * @param durability copies it holds count toward {@code replicas} only if > 0 (0: a cache)
 * @param settings the backend's own settings
 */
public record DeviceConfig(
        int index,
        String name,
        String backend,
        Set<Role> roles,
        DeviceState state,
        int durability,
        Map<String, Object> settings) {
    public DeviceConfig {
        roles = Set.copyOf(roles);
        settings = Map.copyOf(settings);
    }

    public boolean has(Role r) {
        return roles.contains(r);
    }
}
