package dev.spillway.osd.s3;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.spi.Osds;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;

/**
 * The child JVM of {@link S3OsdCrashTest}: commits {@code n} objects (printing {@code committed
 * i} after each stop returned), then streams a large body in a transaction that never stops,
 * printing {@code streaming} once parts are on their way, and waits to be SIGKILLed.
 *
 * <p>Arguments: endpoint bucket prefix access-key secret-key n.
 */
public final class CrashChild {
    private CrashChild() {}

    public static void main(String[] args) throws Exception {
        Map<String, Object> s = new HashMap<>();
        s.put("endpoint", args[0]);
        s.put("bucket", args[1]);
        s.put("prefix", args[2]);
        s.put("access-key", args[3]);
        s.put("secret-key", args[4]);
        s.put("path-style", true);
        s.put("part-size", "5MiB");
        int n = Integer.parseInt(args[5]);
        Osd osd = Osds.open(OsdConfig.of("crash-child", "s3", s));
        for (int i = 1; i <= n; i++) {
            Fid f = Fid.of(0x200000400L, i);
            byte[] body = S3OsdCrashTest.body(i);
            try (Transaction tx = osd.newTransaction()) {
                tx.declareCreate(f, ObjectKind.DATA);
                tx.declareWrite(f, 0, body.length);
                tx.start();
                tx.create(f, ObjectKind.DATA, AttrChange.none());
                tx.write(f, 0, ByteBuffer.wrap(body));
            }
            System.out.println("committed " + i);
            System.out.flush();
        }
        Fid big = Fid.of(0x200000400L, 1000);
        Transaction tx = osd.newTransaction();
        tx.declareCreate(big, ObjectKind.DATA);
        tx.declareWrite(big, 0, 1L << 30);
        tx.start();
        tx.create(big, ObjectKind.DATA, AttrChange.none());
        byte[] chunk = new byte[1 << 20];
        for (int i = 0; i < 12; i++) {
            tx.write(big, (long) i << 20, ByteBuffer.wrap(chunk));
        }
        System.out.println("streaming");
        System.out.flush();
        Thread.sleep(600_000);
    }
}
