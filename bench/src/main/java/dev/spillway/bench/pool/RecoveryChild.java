package dev.spillway.bench.pool;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Transaction;
import dev.spillway.pool.PoolOsd;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * The process the recovery benchmark kills: builds a kv+vfs pool of {@code objects} small objects,
 * begins {@code jobs} copies to the spill device (pending copies and COPY jobs, durable), prints
 * {@code READY} and waits to be killed with SIGKILL.
 */
public final class RecoveryChild {
    private RecoveryChild() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int objects = Integer.parseInt(args[1]);
        int jobs = Integer.parseInt(args[2]);
        PoolOsd pool = PoolBenchSupport.mount(PoolBenchSupport.kvVfs(dir, "recovery"), PoolOsd.MountMode.RECOVER);
        byte[] body = new byte[512];
        int batch = 500;
        for (int i = 0; i < objects; i += batch) {
            int n = Math.min(batch, objects - i);
            try (Transaction tx = pool.newTransaction()) {
                for (int k = 0; k < n; k++) {
                    Fid f = new Fid(0x200000400L, i + k + 1, 0);
                    tx.declareCreate(f, ObjectKind.DATA);
                    tx.declareWrite(f, 0, body.length);
                }
                tx.start();
                for (int k = 0; k < n; k++) {
                    Fid f = new Fid(0x200000400L, i + k + 1, 0);
                    tx.create(f, ObjectKind.DATA, AttrChange.none());
                    body[0] = (byte) (i + k);
                    tx.write(f, 0, ByteBuffer.wrap(body));
                }
            }
        }
        pool.sync();
        for (int j = 0; j < jobs; j++) {
            Fid f = new Fid(0x200000400L, 1 + (int) ((long) j * objects / jobs), 0);
            pool.migrator().begin(f, pool.device(1));
        }
        pool.sync();
        System.out.println("READY");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
