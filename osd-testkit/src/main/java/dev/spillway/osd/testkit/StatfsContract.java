package dev.spillway.osd.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Capability;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.StatFs;
import dev.spillway.osd.Transaction;
import org.junit.jupiter.api.Test;

/**
 * Space accounting: statfs after writes, punches, truncates and destroys, and reservations.
 * Run on a device with a fixed capacity so the figures are the device's own, not a shared disk's.
 */
public interface StatfsContract extends OsdContract {
    long MIB = 1 << 20;

    private StatFs capped() throws Exception {
        withCapacity(256 * MIB);
        return osd().statfs();
    }

    @Test
    default void statfsNamesTheDeviceAndIsSane() throws Exception {
        StatFs s = osd().statfs();
        assertThat(s.device()).isEqualTo(osd().name());
        assertThat(s.totalBytes()).isPositive();
        assertThat(s.freeBytes()).isBetween(0L, s.totalBytes());
        assertThat(s.availableBytes()).isBetween(0L, s.freeBytes());
    }

    @Test
    default void writesUseSpace() throws Exception {
        StatFs before = capped();
        createData(OsdContract.random(20, (int) (4 * MIB)));
        StatFs after = osd().statfs();
        assertThat(after.usedBytes() - before.usedBytes()).isGreaterThanOrEqualTo(4 * MIB);
    }

    @Test
    default void destroyGivesTheSpaceBack() throws Exception {
        StatFs before = capped();
        Fid f = createData(OsdContract.random(21, (int) (4 * MIB)));
        destroy(f);
        osd().sync();
        StatFs after = osd().statfs();
        assertThat(after.usedBytes()).isLessThanOrEqualTo(before.usedBytes() + MIB / 4);
    }

    @Test
    default void punchGivesTheSpaceBack() throws Exception {
        assumeCapability(Capability.PUNCH);
        capped();
        Fid f = createData(OsdContract.random(22, (int) (4 * MIB)));
        long full = osd().statfs().usedBytes();
        punch(f, 0, 4 * MIB);
        osd().sync();
        assertThat(osd().statfs().usedBytes()).isLessThanOrEqualTo(full - 3 * MIB);
    }

    @Test
    default void truncateGivesTheSpaceBack() throws Exception {
        assumeCapability(Capability.PARTIAL_WRITE);
        capped();
        Fid f = createData(OsdContract.random(23, (int) (4 * MIB)));
        long full = osd().statfs().usedBytes();
        truncate(f, MIB);
        osd().sync();
        assertThat(osd().statfs().usedBytes()).isLessThanOrEqualTo(full - 2 * MIB);
    }

    @Test
    default void objectCountFollowsCreatesAndDestroys() throws Exception {
        long n0 = capped().objects();
        Fid a = create(ObjectKind.DATA);
        Fid b = create(ObjectKind.DATA);
        assertThat(osd().statfs().objects()).isEqualTo(n0 + 2);
        destroy(a);
        assertThat(osd().statfs().objects()).isEqualTo(n0 + 1);
        destroy(b);
        assertThat(osd().statfs().objects()).isEqualTo(n0);
    }

    @Test
    default void aStartedTransactionReservesItsDeclaredSpace() throws Exception {
        long avail0 = capped().availableBytes();
        Fid f = newFid();
        try (Transaction t = osd().newTransaction()) {
            t.declareCreate(f, ObjectKind.DATA);
            t.declareWrite(f, 0, 64 * MIB);
            t.start();
            assertThat(osd().statfs().availableBytes()).isLessThanOrEqualTo(avail0 - 64 * MIB);
            t.abort();
        }
        assertThat(osd().statfs().availableBytes()).isGreaterThan(avail0 - 64 * MIB);
    }

    @Test
    default void syncSucceedsAndChangesNothing() throws Exception {
        Fid f = createData(new byte[] {1, 2});
        osd().sync();
        osd().sync(f);
        assertThat(readAll(f)).containsExactly(1, 2);
    }
}
