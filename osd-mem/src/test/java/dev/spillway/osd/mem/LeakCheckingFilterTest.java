package dev.spillway.osd.mem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.IndexCursor;
import dev.spillway.osd.ObjectCursor;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.testkit.LeakCheckingOsd;
import org.junit.jupiter.api.Test;

/**
 * The test kit's {@link LeakCheckingOsd} (what the pool's conformance tests put under each pool
 * device) sees each kind of handle left open, names it and where it was opened, and forgets it
 * once it is ended however it ends.
 */
class LeakCheckingFilterTest {
    private final LeakCheckingOsd osd = new LeakCheckingOsd(MemOsd.create("m"));
    private final Fid index = new Fid(0x200000400L, 1, 0);

    private void createIndex() throws Exception {
        try (Transaction tx = osd.newTransaction()) {
            tx.declareCreate(index, ObjectKind.INDEX);
            tx.start();
            tx.create(index, ObjectKind.INDEX, AttrChange.none());
        }
    }

    @Test
    void anIndexCursorLeftOpenIsNamedWithWhereItWasOpened() throws Exception {
        createIndex();
        assertThat(osd.openHandles()).isZero();
        IndexCursor c = osd.cursor(index, null);
        assertThatThrownBy(osd::assertNothingOpen)
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("m: 1 left open")
                .hasMessageContaining("cursor on index " + index)
                .hasMessageContaining(getClass().getName());
        c.close();
        osd.assertNothingOpen();
    }

    @Test
    void anObjectListingLeftOpenIsALeak() throws Exception {
        ObjectCursor c = osd.listObjects();
        assertThatThrownBy(osd::assertNothingOpen).hasMessageContaining("object listing");
        c.close();
        osd.assertNothingOpen();
    }

    @Test
    void aTransactionIsOpenUntilItsStopOrClose() throws Exception {
        Transaction stopped = osd.newTransaction();
        Transaction closed = osd.newTransaction();
        assertThat(osd.openHandles()).isEqualTo(2);
        assertThatThrownBy(osd::assertNothingOpen).hasMessageContaining("transaction");
        stopped.stop();
        assertThat(osd.openHandles()).isEqualTo(1);
        closed.close();
        osd.assertNothingOpen();
        // A close after its stop changes nothing.
        stopped.close();
        osd.assertNothingOpen();
    }

    @Test
    void aFailedTransactionEndsAtItsClose() throws Exception {
        createIndex();
        Transaction tx = osd.newTransaction();
        tx.declareCreate(index, ObjectKind.INDEX);
        tx.start();
        assertThatThrownBy(() -> tx.create(index, ObjectKind.INDEX, AttrChange.none()))
                .isInstanceOf(OsdException.class);
        assertThat(osd.openHandles()).isEqualTo(1);
        tx.close();
        osd.assertNothingOpen();
    }
}
