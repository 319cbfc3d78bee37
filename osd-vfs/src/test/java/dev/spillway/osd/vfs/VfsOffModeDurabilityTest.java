package dev.spillway.osd.vfs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.testkit.fault.FaultInjectingStorage;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Journal off promises durability only through sync: after {@code sync(fid)} (or {@code sync()})
 * returns, a power cut keeps the object exactly; what was not synced may be lost, but the device
 * always mounts. Through the fault-injecting storage, in all three crash modes, seeded.
 */
class VfsOffModeDurabilityTest {
    static Osd open(FaultInjectingStorage s) throws OsdException {
        return VfsOsd.open(OsdConfig.of("off", "vfs", Map.of("journal", "off", "sync-threads", 1)), s, Runnable::run);
    }

    static void put(Osd osd, Fid f, byte[] body) throws OsdException {
        try (Transaction t = osd.newTransaction()) {
            if (!osd.exists(f)) {
                t.declareCreate(f, ObjectKind.DATA);
            }
            t.declareTruncate(f, 0);
            t.declareWrite(f, 0, body.length);
            t.start();
            if (!osd.exists(f)) {
                t.create(f, ObjectKind.DATA, AttrChange.none());
            }
            t.truncate(f, 0);
            t.write(f, 0, ByteBuffer.wrap(body));
        }
    }

    static byte[] get(Osd osd, Fid f) throws OsdException {
        byte[] b = new byte[(int) osd.getAttr(f).size()];
        osd.read(f, 0, ByteBuffer.wrap(b));
        return b;
    }

    @Test
    void whatWasSyncedSurvivesAPowerCut() throws Exception {
        long seed = Long.getLong("spillway.seed", new SplittableRandom().nextLong());
        System.out.printf("off-mode durability: seed 0x%x%n", seed);
        Random rnd = new Random(seed);
        for (int round = 0; round < 60; round++) {
            FaultInjectingStorage s = new FaultInjectingStorage(FaultInjectingStorage.Features.ext4());
            Osd osd = open(s);
            Fid synced = Fid.of(0x800000000L, 1);
            Fid all = Fid.of(0x800000000L, 2);
            Fid loose = Fid.of(0x800000000L, 3);
            byte[] a = new byte[1 + rnd.nextInt(50_000)];
            byte[] b = new byte[1 + rnd.nextInt(50_000)];
            rnd.nextBytes(a);
            rnd.nextBytes(b);
            put(osd, synced, a);
            osd.sync(synced);
            put(osd, all, b);
            osd.sync();
            put(osd, loose, new byte[100]);
            if (rnd.nextBoolean()) {
                put(osd, synced, new byte[7]); // unsynced overwrite: old or new, whole or torn
            }
            FaultInjectingStorage.CrashMode mode = FaultInjectingStorage.CrashMode.values()[round % 3];
            try (Osd after = open(s.survivor(mode, seed + round))) {
                String ctx = "round " + round + ", mode " + mode + ", seed 0x" + Long.toHexString(seed);
                assertThat(after.exists(synced)).as(ctx).isTrue();
                assertThat(after.exists(all)).as(ctx).isTrue();
                assertThat(get(after, all)).as(ctx).isEqualTo(b);
                byte[] got = get(after, synced);
                if (!Arrays.equals(got, a)) {
                    assertThat(got.length)
                            .as(ctx + ": only an unsynced overwrite may change it")
                            .isLessThanOrEqualTo(a.length);
                }
            }
        }
    }
}
