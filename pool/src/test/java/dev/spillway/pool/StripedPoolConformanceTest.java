package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.ObjectCursor;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.pool.config.StripeTier;
import dev.spillway.pool.meta.PoolObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The conformance suite on a pool whose three spill devices form one striping tier (3 stripes of
 * 64 KiB, Lustre's smallest, so that small bodies span every stripe), every object spilled after
 * every transaction: reads are served from the striped copy's stripes side by side, writes recall
 * from them.
 */
class StripedPoolConformanceTest extends PoolConformance {
    @Override
    protected Osd open(String name, Path location, long capacity) throws OsdException {
        var tier = new StripeTier(List.of("slow0", "slow1", "slow2"), 3, 64 << 10, 0);
        return new SpillEverything(
                mount(PoolFixtures.memMem(name, capacity, 1, 3).withStriping(List.of(tier))));
    }

    @Override
    protected void checkInvariants(Osd device) throws OsdException {
        super.checkInvariants(device);
        // Every spilled body is held by a copy striped over the whole tier.
        PoolOsd pool = ((SpillEverything) device).pool();
        try (ObjectCursor c = pool.listObjects()) {
            while (c.next()) {
                Optional<PoolObject> p = pool.object(c.fid());
                if (p.isPresent() && !p.get().resident(pool.metadataIndex())) {
                    assertThat(p.get().inSync())
                            .as("spilled %s", c.fid())
                            .allMatch(x -> x.striped() && x.stripes().size() == 3);
                }
            }
        }
    }
}
