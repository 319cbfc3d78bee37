package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.IndexCursor;
import dev.spillway.osd.ObjectCursor;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.testkit.LeakCheckingOsd;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The leak check {@link PoolConformance} runs after each test sees through the pool: a client's
 * cursor or listing left open on the pool is open on the metadata device below it, a client
 * transaction is open there until its stop, and a pool that moved data and was closed leaves
 * nothing open on any device.
 */
class PoolLeakCheckTest {
    private final List<LeakCheckingOsd> devices = new ArrayList<>();

    private PoolOsd mount() throws Exception {
        var cfg = PoolFixtures.memMem("leaks", 0, 1, 1);
        List<LeakCheckingOsd> opened = new ArrayList<>();
        for (var d : PoolFixtures.memDevices(cfg)) {
            opened.add(new LeakCheckingOsd(d));
        }
        devices.addAll(opened);
        return PoolFixtures.mountOn(cfg, opened, PoolOsd.MountMode.RECOVER);
    }

    @Test
    void aClientCursorOrListingLeftOpenOnThePoolIsSeenOnItsMetadataDevice() throws Exception {
        PoolOsd pool = mount();
        Fid index = new Fid(0x200000400L, 1, 0);
        try (Transaction tx = pool.newTransaction()) {
            tx.declareCreate(index, ObjectKind.INDEX);
            tx.start();
            tx.create(index, ObjectKind.INDEX, AttrChange.none());
        }
        LeakCheckingOsd.assertNothingOpen(devices);
        IndexCursor c = pool.cursor(index, null);
        assertThatThrownBy(() -> LeakCheckingOsd.assertNothingOpen(devices))
                .hasMessageContaining("fast: 1 left open")
                .hasMessageContaining("cursor on index " + index);
        c.close();
        ObjectCursor l = pool.listObjects();
        assertThatThrownBy(() -> LeakCheckingOsd.assertNothingOpen(devices)).hasMessageContaining("object listing");
        l.close();
        Transaction open = pool.newTransaction();
        open.declareCreate(new Fid(0x200000400L, 2, 0), ObjectKind.DATA);
        open.start();
        assertThatThrownBy(() -> LeakCheckingOsd.assertNothingOpen(devices)).hasMessageContaining("transaction");
        open.stop();
        LeakCheckingOsd.assertNothingOpen(devices);
        pool.close();
    }

    @Test
    void aPoolThatSpilledPromotedAndCheckedItselfLeavesNothingOpen() throws Exception {
        PoolOsd pool = mount();
        Fid f = PoolFixtures.create(pool, new Fid(0x200000400L, 1, 0), PoolFixtures.random(300_000, 1));
        assertThat(pool.migrator().spill(f, pool.device(1)).settled()).isTrue();
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(PoolFixtures.random(300_000, 1));
        assertThat(pool.migrator().promote(f).settled()).isTrue();
        pool.migrator().collectGarbage();
        assertThat(pool.fsck(false, true, null).problems()).isEmpty();
        LeakCheckingOsd.assertNothingOpen(devices);
        pool.close();
        LeakCheckingOsd.assertNothingOpen(devices);
        assertThat(devices).allMatch(d -> d.openHandles() == 0);
    }
}
