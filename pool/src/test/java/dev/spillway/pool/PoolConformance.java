package dev.spillway.pool;

import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.spi.Osds;
import dev.spillway.osd.testkit.LeakCheckingOsd;
import dev.spillway.osd.testkit.OsdConformance;
import dev.spillway.pool.config.PoolConfig;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The conformance suite on a pool configuration: each pool configuration's test extends this and
 * mounts its pool with {@link #mount(PoolConfig)}. Every device of the pool is opened behind a
 * {@link LeakCheckingOsd}, and after every test, besides the suite's own invariants:
 *
 * <ul>
 *   <li>a deep fsck of the pool finds nothing ({@link PoolFixtures#assertFsckClean});
 *   <li>no transaction, index cursor or object listing is left open on any of its devices, while
 *       the idle pool is still mounted and again once it is closed (every pool the test mounted,
 *       reopens included).
 * </ul>
 */
abstract class PoolConformance extends OsdConformance {
    // Every device of every pool this test mounted (JUnit makes an instance per test).
    private final List<LeakCheckingOsd> devices = new CopyOnWriteArrayList<>();

    /** Mounts {@code c} (recovering), each device opened by its backend behind a leak check. */
    protected PoolOsd mount(PoolConfig c) throws OsdException {
        return PoolOsd.mount(c, InstantSource.system(), PoolOsd.MountMode.RECOVER, (d, clock) -> {
            LeakCheckingOsd o =
                    new LeakCheckingOsd(Osds.open(new OsdConfig(d.name(), d.backend(), d.settings(), clock)));
            devices.add(o);
            return o;
        });
    }

    @Override
    protected void checkInvariants(Osd device) throws OsdException {
        super.checkInvariants(device);
        PoolFixtures.assertFsckClean(device);
        LeakCheckingOsd.assertNothingOpen(devices);
    }

    @Override
    protected void checkClosed() throws OsdException {
        LeakCheckingOsd.assertNothingOpen(devices);
    }
}
