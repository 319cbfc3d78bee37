package dev.spillway.server;

/**
 * The embedded default pool of {@code spillway serve} without {@code --config}: the RFC's first
 * configuration — one fast transactional device (osd-kv: metadata, foreground, promote) with a
 * capacity cap small enough that spilling is visible on a laptop, and one spill device (osd-vfs,
 * a plain directory) — under the data folder, with the migration daemon on.
 */
public final class DefaultPool {
    private DefaultPool() {}

    /** The YAML written to {@code pool.yaml} on first start. */
    public static String yaml(DataDir dir, String fastCapacity) {
        return """
                # Spillway's default pool, written on first start; edit and restart to change it.
                # Devices may be appended; they cannot swap places or disappear (evacuate first).
                name: spillway
                replicas: 1
                devices:
                  - name: fast
                    backend: kv
                    roles: [metadata, foreground, promote]
                    settings:
                      path: %s
                      capacity: %s
                  - name: slow
                    backend: vfs
                    roles: [background]
                    settings:
                      path: %s
                      journal: "off"
                policy:
                  high-watermark: 0.80
                  low-watermark: 0.60
                  min-resident-age: 5s
                """.formatted(dir.device("fast"), fastCapacity, dir.device("slow"));
    }
}
