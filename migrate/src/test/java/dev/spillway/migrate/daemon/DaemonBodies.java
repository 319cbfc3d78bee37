package dev.spillway.migrate.daemon;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.pool.PoolOsd;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;

/** Bodies the daemon tests write to a pool and read back. */
final class DaemonBodies {
    private DaemonBodies() {}

    /** Creates DATA object {@code f} holding {@code size} random bytes (seeded by its oid) in one transaction; returns them. */
    static byte[] create(PoolOsd pool, Fid f, int size) throws OsdException {
        byte[] body = new byte[size];
        new Random(f.oid()).nextBytes(body);
        try (Transaction tx = pool.newTransaction()) {
            tx.declareCreate(f, ObjectKind.DATA);
            tx.declareWrite(f, 0, size);
            tx.start();
            tx.create(f, ObjectKind.DATA, AttrChange.none());
            tx.write(f, 0, ByteBuffer.wrap(body));
        }
        return body;
    }

    /** {@code [off, off + len)} of {@code f}, read with one buffer (fewer bytes where the body ends). */
    static byte[] read(PoolOsd pool, Fid f, long off, int len) throws OsdException {
        ByteBuffer b = ByteBuffer.allocate(len);
        while (b.hasRemaining()) {
            if (pool.read(f, off + b.position(), b) <= 0) {
                break;
            }
        }
        return Arrays.copyOf(b.array(), b.position());
    }
}
