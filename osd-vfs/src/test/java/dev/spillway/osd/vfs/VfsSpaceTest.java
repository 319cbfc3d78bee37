package dev.spillway.osd.vfs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.StatFs;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.testkit.fault.FaultInjectingStorage;
import java.nio.ByteBuffer;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A spill device's room, as the pool's daemon reads it to pick a spill target (issue 12: a 3 KiB
 * copy refused with 76 GB free): without a configured capacity, the filesystem's free space;
 * with one, the smaller of what the capacity leaves and what the filesystem has.
 */
class VfsSpaceTest {
    private static final long MIB = 1 << 20;

    private static Osd open(long fsBytes, Map<String, Object> settings) throws Exception {
        FaultInjectingStorage s =
                new FaultInjectingStorage(FaultInjectingStorage.Features.ext4().withCapacity(fsBytes));
        return VfsOsd.open(OsdConfig.of("spill", "vfs", settings), s, Runnable::run);
    }

    private static void put(Osd osd, int oid, int bytes) throws Exception {
        Fid f = new Fid(0x200000400L, oid, 0);
        try (Transaction tx = osd.newTransaction()) {
            tx.declareCreate(f, ObjectKind.DATA);
            tx.declareWrite(f, 0, bytes);
            tx.start();
            tx.create(f, ObjectKind.DATA, AttrChange.none());
            tx.write(f, 0, ByteBuffer.wrap(new byte[bytes]));
        }
    }

    @Test
    void withoutACapacityTheRoomIsTheFilesystemsFreeSpace() throws Exception {
        try (Osd osd = open(1024 * MIB, Map.of("journal", "off"))) {
            StatFs s = osd.statfs();
            assertThat(s.totalBytes()).isEqualTo(1024 * MIB);
            assertThat(s.availableBytes()).isEqualTo(s.freeBytes()).isGreaterThan(1000 * MIB);
            put(osd, 1, 3373);
            put(osd, 2, (int) (64 * MIB));
            StatFs after = osd.statfs();
            assertThat(after.freeBytes()).isLessThanOrEqualTo(s.freeBytes() - 64 * MIB);
            assertThat(after.availableBytes()).isEqualTo(after.freeBytes());
        }
    }

    @Test
    void withACapacityTheRoomIsWhatTheCapacityLeaves() throws Exception {
        try (Osd osd = open(1024 * MIB, Map.of("journal", "off", "capacity", "16MiB"))) {
            StatFs s = osd.statfs();
            assertThat(s.totalBytes()).isEqualTo(16 * MIB);
            assertThat(s.availableBytes()).isBetween(15 * MIB, 16 * MIB);
            put(osd, 1, (int) (4 * MIB));
            assertThat(osd.statfs().availableBytes()).isBetween(11 * MIB, 12 * MIB);
        }
    }

    @Test
    void withACapacityLargerThanTheFilesystemTheRoomIsTheFilesystems() throws Exception {
        try (Osd osd = open(32 * MIB, Map.of("journal", "off", "capacity", "1GiB"))) {
            StatFs s = osd.statfs();
            assertThat(s.availableBytes()).isLessThanOrEqualTo(32 * MIB).isGreaterThan(30 * MIB);
            assertThat(s.freeBytes()).isLessThanOrEqualTo(32 * MIB);
            assertThat(s.totalBytes()).isLessThanOrEqualTo(32 * MIB + s.usedBytes());
        }
    }
}
