package dev.spillway.pool.device;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.XattrFlag;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.pool.meta.ChangeStamps;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The gate's change stamps: every update of an object moves its stamp, and none is trusted mid-flight. */
class MetadataGateStampTest {
    private MetadataGate gate;
    private final Fid a = new Fid(0x200000400L, 1, 0);
    private Fid b;

    @BeforeEach
    void setUp() throws Exception {
        gate = new MetadataGate(MemOsd.create("md"));
        // An object on another stamp stripe than a.
        int oid = 2;
        while (MetadataGate.stripe(new Fid(0x200000400L, oid, 0)) == MetadataGate.stripe(a)) {
            oid++;
        }
        b = new Fid(0x200000400L, oid, 0);
        for (Fid f : new Fid[] {a, b}) {
            try (Transaction tx = gate.newTransaction()) {
                tx.declareCreate(f, ObjectKind.DATA);
                tx.start();
                tx.create(f, ObjectKind.DATA, AttrChange.none());
            }
        }
    }

    private void setXattr(Fid f, String value) throws Exception {
        try (Transaction tx = gate.newTransaction()) {
            tx.declareSetXattr(f, "user.x", value.length());
            tx.start();
            tx.setXattr(f, "user.x", value.getBytes(), XattrFlag.UPSERT);
        }
    }

    @Test
    void aCommittedUpdateMovesTheStampOfItsObjectOnly() throws Exception {
        long sa = gate.stamp(a);
        long sb = gate.stamp(b);
        assertThat(sa).isNotEqualTo(ChangeStamps.UNSTABLE);
        assertThat(gate.unchanged(a, sa)).isTrue();

        setXattr(a, "1");

        assertThat(gate.unchanged(a, sa)).isFalse();
        assertThat(gate.stamp(a)).isNotEqualTo(ChangeStamps.UNSTABLE).isNotEqualTo(sa);
        assertThat(gate.unchanged(b, sb)).as("another stripe's object").isTrue();
    }

    @Test
    void anOpenTransactionLeavesTheStampUnstableUntilItsStopReturned() throws Exception {
        long before = gate.stamp(a);
        Transaction tx = gate.newTransaction();
        tx.declareWrite(a, 0, 3);
        tx.declareSetXattr(a, "user.x", 1);
        tx.start();
        assertThat(gate.unchanged(a, before))
                .as("declared and started, nothing updated yet")
                .isTrue();
        tx.write(a, 0, ByteBuffer.wrap(new byte[] {1, 2, 3}));
        assertThat(gate.stamp(a)).isEqualTo(ChangeStamps.UNSTABLE);
        assertThat(gate.unchanged(a, before)).isFalse();
        // A second update of the same object in the same transaction keeps one begin.
        tx.setXattr(a, "user.x", new byte[] {9}, XattrFlag.UPSERT);
        tx.stop();
        long after = gate.stamp(a);
        assertThat(after).isNotEqualTo(ChangeStamps.UNSTABLE).isNotEqualTo(before);
        assertThat(gate.unchanged(a, after)).isTrue();
        tx.close();
        assertThat(gate.unchanged(a, after))
                .as("close after stop ends nothing twice")
                .isTrue();
    }

    @Test
    void anAbortedTransactionMovesTheStampToo() throws Exception {
        long before = gate.stamp(a);
        try (Transaction tx = gate.newTransaction()) {
            tx.declareSetXattr(a, "user.x", 1);
            tx.start();
            tx.setXattr(a, "user.x", new byte[] {1}, XattrFlag.UPSERT);
            tx.abort();
            assertThat(gate.stamp(a)).as("aborted, not yet stopped").isEqualTo(ChangeStamps.UNSTABLE);
        }
        assertThat(gate.stamp(a)).isNotEqualTo(ChangeStamps.UNSTABLE);
        assertThat(gate.unchanged(a, before)).isFalse();
    }

    @Test
    void aReaderInterleavedWithAWriterOnAnotherThreadNeverTrustsItsStamp() throws Exception {
        CountDownLatch updated = new CountDownLatch(1);
        CountDownLatch stop = new CountDownLatch(1);
        long before = gate.stamp(a);
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try (Transaction tx = gate.newTransaction()) {
                tx.declareSetXattr(a, "user.x", 1);
                tx.start();
                tx.setXattr(a, "user.x", new byte[] {7}, XattrFlag.UPSERT);
                updated.countDown();
                stop.await();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        updated.await();
        // The writer has updated a but not stopped: whatever a reader loads now is not to be cached.
        assertThat(gate.stamp(a)).isEqualTo(ChangeStamps.UNSTABLE);
        assertThat(gate.unchanged(a, before)).isFalse();
        stop.countDown();
        writer.join();
        long after = gate.stamp(a);
        assertThat(after).isNotEqualTo(ChangeStamps.UNSTABLE);
        assertThat(gate.unchanged(a, before)).isFalse();
        assertThat(gate.getXattr(a, "user.x")).containsExactly(7);
    }
}
