package dev.spillway.pool;

import dev.spillway.osd.OsdException;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import java.time.InstantSource;

/** Pool configurations for tests. */
final class PoolFixtures {
    private PoolFixtures() {}

    /** A pool of two mem devices: fast (metadata, foreground, promote) and slow (background). */
    static PoolConfig memMem(String name, long fastCapacity, int replicas, int backgrounds) throws OsdException {
        StringBuilder y = new StringBuilder();
        y.append("name: ").append(name).append("\nreplicas: ").append(replicas).append("\ndevices:\n");
        y.append(
                "  - name: fast\n    backend: mem\n    roles: [metadata, foreground, promote]\n    settings:\n      strict-declares: true\n");
        if (fastCapacity > 0) {
            y.append("      capacity: ").append(fastCapacity).append('\n');
        }
        for (int i = 0; i < backgrounds; i++) {
            y.append("  - name: slow")
                    .append(i)
                    .append(
                            "\n    backend: mem\n    roles: [background]\n    settings:\n      strict-declares: true\n");
            if (fastCapacity > 0) {
                y.append("      capacity: ").append(fastCapacity).append('\n');
            }
        }
        return PoolConfigParser.parse(y.toString(), "test");
    }

    static PoolOsd mount(PoolConfig c) throws OsdException {
        return PoolOsd.mount(c, InstantSource.system(), PoolOsd.MountMode.RECOVER);
    }
}
