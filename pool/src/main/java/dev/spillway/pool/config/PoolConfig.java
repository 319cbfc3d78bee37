package dev.spillway.pool.config;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A pool: its devices, the number of in-sync durable copies to keep, and the policy settings the
 * migration daemon reads (validated by the daemon, carried here untouched).
 *
 * @param name the pool's name (prefixes its messages)
 * @param replicas in-sync copies on distinct durable devices to keep of every DATA object
 * @param devices in configuration order; background tiers are ordered by it
 * @param policy the daemon's settings, as written
 */
public record PoolConfig(String name, int replicas, List<DeviceConfig> devices, Map<String, Object> policy) {
    public PoolConfig {
        devices = List.copyOf(devices);
        policy = Map.copyOf(policy);
    }

    /** The metadata device (exactly one; checked by the parser). */
    public DeviceConfig metadata() {
        return devices.stream().filter(d -> d.has(Role.METADATA)).findFirst().orElseThrow();
    }

    /** Background devices in tier order. */
    public List<DeviceConfig> background() {
        return devices.stream().filter(d -> d.has(Role.BACKGROUND)).toList();
    }

    public Optional<DeviceConfig> device(String deviceName) {
        return devices.stream().filter(d -> d.name().equals(deviceName)).findFirst();
    }
}
