package dev.spillway.osd.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Capability;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.SpaceClass;
import dev.spillway.osd.StatFs;
import dev.spillway.osd.Transaction;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The reserve and the space classes ({@link SpaceClass}, {@code Osd.setReserve},
 * {@code Osd.setCapacity}): clients see the device full at the reserve boundary, RESERVED work
 * reaches into the reserve, FREEING work needs nothing up front and works on a full device. Skipped,
 * saying so, on a device that keeps no space accounting of its own (EOPNOTSUPP).
 */
public interface ReserveContract extends OsdContract {
    long KIB = 1 << 10;

    /** A device of 16 MiB with a reserve of {@code reserve} bytes, or the test is skipped. */
    private StatFs reserved(long reserve) throws Exception {
        withCapacity(16L << 20);
        try {
            osd().setReserve(reserve);
        } catch (OsdException e) {
            Assumptions.assumeFalse(e.is(Errno.EOPNOTSUPP), () -> osd().backend() + " keeps no reserve: test skipped");
            throw e;
        }
        return osd().statfs();
    }

    private Transaction writing(Fid f, long bytes, SpaceClass c) throws OsdException {
        Transaction t = osd().newTransaction();
        t.declareCreate(f, ObjectKind.DATA);
        t.declareWrite(f, 0, bytes);
        t.setSpaceClass(c);
        return t;
    }

    /** Fills the device with CLIENT writes until not even 4 KiB more fits; returns what was made. */
    private java.util.List<Fid> fillForClients() throws OsdException {
        java.util.List<Fid> made = new java.util.ArrayList<>();
        for (long size = 1L << 20; size >= 4 * KIB; size /= 2) {
            while (true) {
                Fid f = newFid();
                byte[] b = new byte[(int) size];
                try {
                    tx(
                            t -> {
                                t.declareCreate(f, ObjectKind.DATA);
                                t.declareWrite(f, 0, b.length);
                            },
                            t -> {
                                t.create(f, ObjectKind.DATA, AttrChange.none());
                                t.write(f, 0, ByteBuffer.wrap(b));
                            });
                    made.add(f);
                } catch (OsdException e) {
                    if (!e.is(Errno.ENOSPC)) {
                        throw e;
                    }
                    break;
                }
            }
        }
        return made;
    }

    @Test
    default void clientsSeeTheDeviceFullAtTheReserveBoundary() throws Exception {
        StatFs s = reserved(4L << 20);
        assertThat(s.availableBytes())
                .as("available excludes the reserve")
                .isLessThanOrEqualTo(s.freeBytes() - (4L << 20));
        long tooMuch = s.availableBytes() + (1L << 20);
        try (Transaction t = writing(newFid(), tooMuch, SpaceClass.CLIENT)) {
            OsdException e = assertErrno(Errno.ENOSPC, t::start);
            assertThat(e.getMessage()).contains("declares");
        }
        try (Transaction t = writing(newFid(), tooMuch, SpaceClass.RESERVED)) {
            t.start();
            t.abort();
        }
    }

    @Test
    default void aFreeingTransactionNeedsNoSpaceOnAFullDevice() throws Exception {
        reserved(0);
        java.util.List<Fid> made = fillForClients();
        assertThat(made).isNotEmpty();
        // Declares far more than is left, frees an object, then adds a little: it must go through.
        try (Transaction t = osd().newTransaction()) {
            t.declareDestroy(made.get(0));
            t.declareSetXattr(made.get(1), "user.big", 60_000);
            t.setSpaceClass(SpaceClass.FREEING);
            t.start();
            t.destroy(made.get(0));
            t.setXattr(made.get(1), "user.big", new byte[100], dev.spillway.osd.XattrFlag.UPSERT);
        }
        assertThat(osd().exists(made.get(0))).isFalse();
        assertThat(osd().getXattr(made.get(1), "user.big")).hasSize(100);
    }

    @Test
    default void aFreeingTransactionThatOnlyGrowsFailsAtItsUpdateAndLeavesNothing() throws Exception {
        assumeCapability(Capability.TRANSACTIONS);
        reserved(0);
        fillForClients();
        Fid f = newFid();
        try (Transaction t = writing(f, 8L << 20, SpaceClass.FREEING)) {
            t.start();
            t.create(f, ObjectKind.DATA, AttrChange.none());
            assertErrno(Errno.ENOSPC, () -> t.write(f, 0, ByteBuffer.wrap(new byte[8 << 20])));
        }
        assertThat(osd().exists(f)).isFalse();
    }

    @Test
    default void aNegativeReserveIsRefused() throws Exception {
        reserved(0);
        assertErrno(Errno.EINVAL, () -> osd().setReserve(-1));
    }

    @Test
    default void theSpaceClassIsSetBeforeStart() throws Exception {
        reserved(0);
        try (Transaction t = osd().newTransaction()) {
            t.declareCreate(newFid(), ObjectKind.DATA);
            t.start();
            assertErrno(Errno.EINVAL, () -> t.setSpaceClass(SpaceClass.FREEING));
        }
    }

    @Test
    default void aCapacityChangedWhileOpenIsWhatStatfsAndStartsSee() throws Exception {
        StatFs s = reserved(0);
        long used = s.usedBytes();
        try {
            osd().setCapacity(used + (2L << 20));
        } catch (OsdException e) {
            Assumptions.assumeFalse(
                    e.is(Errno.EOPNOTSUPP), () -> osd().backend() + " has no capacity to change: test skipped");
            throw e;
        }
        assertThat(osd().statfs().totalBytes()).isEqualTo(used + (2L << 20));
        try (Transaction t = writing(newFid(), 4L << 20, SpaceClass.CLIENT)) {
            assertErrno(Errno.ENOSPC, t::start);
        }
        osd().setCapacity(used + (8L << 20));
        createData(new byte[4 << 20]);
        assertThat(osd().statfs().totalBytes()).isEqualTo(used + (8L << 20));
    }
}
