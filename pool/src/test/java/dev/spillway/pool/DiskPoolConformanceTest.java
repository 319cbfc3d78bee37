package dev.spillway.pool;

import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import java.nio.file.Path;
import org.junit.jupiter.api.Nested;

/**
 * The conformance suite on the real configurations: osd-kv fast device and osd-vfs spill devices
 * (journal off), persistent, so the reopen tests run too.
 */
class DiskPoolConformanceTest {
    static PoolConfig config(String name, Path location, long capacity, int replicas, int tiers) throws OsdException {
        StringBuilder y = new StringBuilder("name: " + name + "\nreplicas: " + replicas + "\ndevices:\n");
        String cap = capacity > 0 ? ", capacity: " + capacity : "";
        y.append("  - {name: fast, backend: kv, roles: [metadata, foreground, promote], settings: {path: '")
                .append(location.resolve("fast"))
                .append("', strict-declares: true")
                .append(cap)
                .append("}}\n");
        for (int i = 0; i < tiers; i++) {
            y.append("  - {name: slow")
                    .append(i)
                    .append(", backend: vfs, roles: [background], settings: {path: '")
                    .append(location.resolve("slow" + i))
                    .append("', journal: 'off', strict-declares: true")
                    .append(cap)
                    .append("}}\n");
        }
        return PoolConfigParser.parse(y.toString(), name);
    }

    /** kv + vfs, as the default server pool. */
    @Nested
    class KvVfs extends PoolConformance {
        @Override
        protected Osd open(String name, Path location, long capacity) throws OsdException {
            return mount(config(name, location, capacity, 1, 1));
        }

        @Override
        public boolean reopenable() {
            return true;
        }
    }

    /**
     * kv + vfs + vfs (three tiers), every object spilled after every transaction. Every
     * transaction here also costs a copy and two device syncs, so the model test runs 150
     * sequences (the mem pools and KvVfs run 1,000).
     */
    @Nested
    class ThreeTiersSpilled extends PoolConformance {
        @Override
        public int modelSequences() {
            return Integer.getInteger("spillway.model.sequences", 150);
        }

        @Override
        protected Osd open(String name, Path location, long capacity) throws OsdException {
            return new SpillEverything(mount(config(name, location, capacity, 1, 2)));
        }

        @Override
        public boolean reopenable() {
            return true;
        }
    }

    /** kv + vfs + vfs with replicas = 2, spilled to both tiers (model test: 100 sequences, see above). */
    @Nested
    class Replicated extends PoolConformance {
        @Override
        public int modelSequences() {
            return Integer.getInteger("spillway.model.sequences", 100);
        }

        @Override
        protected Osd open(String name, Path location, long capacity) throws OsdException {
            return new SpillEverything(mount(config(name, location, capacity, 2, 2)));
        }

        @Override
        public boolean reopenable() {
            return true;
        }
    }
}
