package dev.spillway.osd.vfs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.spi.storage.Storage;
import dev.spillway.osd.testkit.fault.FaultInjectingStorage;
import dev.spillway.osd.testkit.fault.SteppingClock;
import dev.spillway.osd.testkit.fault.WriteRefusingStorage;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A read-only mount (the pool's offline check) after a power loss: the journal is durable, the
 * object files it applies to were never forced. Reading the files as they are would show the
 * committed objects missing or torn; the read-only mount replays the journal in memory and shows
 * them as committed, writing nothing (every change it tried would be on record: it runs on a
 * {@link WriteRefusingStorage}). Before the in-memory replay it refused to mount (EROFS) and the
 * pool's check mounted the device read-write instead.
 */
class VfsReadOnlyPowerLossTest {
    private static final Fid A = Fid.of(0x2c0000000L, 1);
    private static final Fid B = Fid.of(0x2c0000000L, 2);

    private static VfsOsd open(Storage s, boolean readOnly) throws OsdException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("journal", "on");
        m.put("sync-threads", 1);
        if (readOnly) {
            m.put(OsdConfig.READ_ONLY, true);
        }
        return VfsOsd.open(OsdConfig.of("ro", "vfs", m).withClock(new SteppingClock()), s, Runnable::run);
    }

    private static byte[] body(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static void create(Osd osd, Fid f, byte[] body) throws OsdException {
        try (Transaction tx = osd.newTransaction()) {
            tx.declareCreate(f, ObjectKind.DATA);
            tx.declareWrite(f, 0, body.length);
            tx.start();
            tx.create(f, ObjectKind.DATA, AttrChange.none());
            tx.write(f, 0, ByteBuffer.wrap(body));
        }
    }

    private static byte[] read(Osd osd, Fid f) throws OsdException {
        byte[] got = new byte[(int) osd.getAttr(f).size()];
        ByteBuffer b = ByteBuffer.wrap(got);
        while (b.hasRemaining() && osd.read(f, b.position(), b) > 0) {
            // until full
        }
        return got;
    }

    @ParameterizedTest
    @EnumSource(FaultInjectingStorage.CrashMode.class)
    void aReadOnlyMountAfterAPowerLossNeverReadsCommittedObjectsAsLost(FaultInjectingStorage.CrashMode mode)
            throws Exception {
        FaultInjectingStorage s = new FaultInjectingStorage(FaultInjectingStorage.Features.ext4());
        byte[] a = body(3000, 1);
        byte[] b = body(70_000, 2);
        Osd live = open(s, false);
        create(live, A, a);
        create(live, B, b);
        live.sync();
        // Power cut: the journal is durable, the object files were never forced.
        FaultInjectingStorage after = s.survivor(mode, 42);
        WriteRefusingStorage guard = new WriteRefusingStorage(after);
        try (VfsOsd ro = open(guard, true)) {
            assertThat(ro.exists(A))
                    .as("%s: committed object A on a read-only mount", mode)
                    .isTrue();
            assertThat(ro.exists(B))
                    .as("%s: committed object B on a read-only mount", mode)
                    .isTrue();
            assertThat(read(ro, A)).isEqualTo(a);
            assertThat(read(ro, B)).isEqualTo(b);
            assertThat(ro.statfs().objects()).isEqualTo(2);
            ro.sync();
            ro.sync(A);
            assertThat(ro.mountNotes()).anyMatch(n -> n.contains("in memory (read-only: nothing written)"));
        }
        assertThat(guard.attempts())
                .as("%s: changes the read-only mount tried", mode)
                .isEmpty();
        // A read-write mount replays the journal and has both; its clean unmount checkpoints, and
        // then a read-only mount goes ahead and reads the same.
        try (VfsOsd rw = open(after, false)) {
            assertThat(read(rw, A)).isEqualTo(a);
            assertThat(read(rw, B)).isEqualTo(b);
        }
        try (VfsOsd ro = open(after, true)) {
            assertThat(read(ro, A)).isEqualTo(a);
            assertThat(read(ro, B)).isEqualTo(b);
        }
    }
}
