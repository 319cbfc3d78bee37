package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.filter.FilterOsd;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.recovery.Fsck;
import java.time.InstantSource;

/** Pool configurations for tests. */
final class PoolFixtures {
    private PoolFixtures() {}

    /** A pool of two mem devices: fast (metadata, foreground, promote) and slow (background). */
    static PoolConfig memMem(String name, long fastCapacity, int replicas, int backgrounds) throws OsdException {
        return memMem(name, fastCapacity, replicas, backgrounds, "async");
    }

    /** As {@link #memMem(String, long, int, int)}, with the pool-wide {@code write-commit:} policy given. */
    static PoolConfig memMem(String name, long fastCapacity, int replicas, int backgrounds, String writeCommit)
            throws OsdException {
        StringBuilder y = new StringBuilder();
        y.append("name: ").append(name).append("\nreplicas: ").append(replicas);
        y.append("\nwrite-commit: ").append(writeCommit).append("\ndevices:\n");
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

    /**
     * What every pool conformance test leaves must check clean (as osd-kv's conformance runs its
     * own fsck): a deep fsck of the pool under {@code device} (a pool, or a filter over one) finds
     * nothing — layouts, records, copies and their checksums, device indexes, orphans, counters.
     */
    static void assertFsckClean(Osd device) throws OsdException {
        Osd o = device;
        while (o instanceof FilterOsd f) {
            o = f.delegate();
        }
        Fsck.Report r = ((PoolOsd) o).fsck(false, true, null);
        assertThat(r.problems()).as("fsck of %s", device).isEmpty();
    }

    static PoolOsd mount(PoolConfig c) throws OsdException {
        return PoolOsd.mount(c, InstantSource.system(), PoolOsd.MountMode.RECOVER);
    }
}
