package dev.spillway.pool.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
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
 * @param space how writers are treated when the fast tier is full
 * @param storageClasses S3 storage class → the background device it places objects on (the
 *     gateway's mapping; empty: the server's default), in configuration order
 * @param writeCommit what a client write must reach before it is acknowledged (pool-wide; an
 *     object's {@link WriteCommit#XATTR} overrides it)
 * @param striping background devices whose copies are striped together (RAID0), by tier
 * @param failure when the pool gives a failing device up on its own
 * @param writeCommitBuckets the S3 gateway's rules: a bucket name, or a bucket and key prefix
 *     ({@code logs/archive/}), to the policy its new objects are written under (the longest
 *     matching rule wins; the gateway sets it as each body's {@link WriteCommit#XATTR}), in
 *     configuration order
 */
public record PoolConfig(
        String name,
        int replicas,
        List<DeviceConfig> devices,
        Map<String, Object> policy,
        SpaceConfig space,
        Map<String, String> storageClasses,
        WriteCommit writeCommit,
        List<StripeTier> striping,
        FailureConfig failure,
        Map<String, WriteCommit> writeCommitBuckets) {
    public PoolConfig {
        devices = List.copyOf(devices);
        striping = striping == null ? List.of() : List.copyOf(striping);
        policy = Map.copyOf(policy);
        storageClasses = Collections.unmodifiableMap(new LinkedHashMap<>(storageClasses));
        writeCommit = writeCommit == null ? WriteCommit.ASYNC : writeCommit;
        failure = failure == null ? FailureConfig.defaults() : failure;
        writeCommitBuckets = writeCommitBuckets == null
                ? Map.of()
                : Collections.unmodifiableMap(new LinkedHashMap<>(writeCommitBuckets));
    }

    /** This configuration with device {@code deviceName}'s setting {@code key} set to {@code value}. */
    public PoolConfig withSetting(String deviceName, String key, Object value) {
        List<DeviceConfig> ds = new ArrayList<>();
        for (DeviceConfig d : devices) {
            if (d.name().equals(deviceName)) {
                Map<String, Object> s = new LinkedHashMap<>(d.settings());
                s.put(key, value);
                d = new DeviceConfig(d.index(), d.name(), d.backend(), d.roles(), d.state(), d.durability(), s);
            }
            ds.add(d);
        }
        return new PoolConfig(
                name, replicas, ds, policy, space, storageClasses, writeCommit, striping, failure, writeCommitBuckets);
    }

    /** This configuration with {@code tiers} as its {@code striping:} section (not validated: see the parser). */
    public PoolConfig withStriping(List<StripeTier> tiers) {
        return new PoolConfig(
                name,
                replicas,
                devices,
                policy,
                space,
                storageClasses,
                writeCommit,
                tiers,
                failure,
                writeCommitBuckets);
    }

    /** The striping tier device {@code deviceName} belongs to, if any. */
    public Optional<StripeTier> stripeTier(String deviceName) {
        return striping.stream().filter(t -> t.devices().contains(deviceName)).findFirst();
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
