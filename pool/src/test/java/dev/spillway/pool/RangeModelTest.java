package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.testkit.Seeds;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.meta.Span;
import dev.spillway.pool.ops.MoveResult;
import java.nio.ByteBuffer;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Range-level placement against a model (issue 20): random reads, writes (inside the body and
 * growing it), punches, truncates, range spills, recalls, promotions and whole spills of a few
 * objects, each read compared with a reference byte array; a remount now and then, and a deep fsck
 * every 100 steps. The seed is printed; {@code -Dspillway.seed=X} replays a run.
 */
class RangeModelTest {
    private static final int K64 = (int) Span.ALIGN;
    private static final int OBJECTS = 3;

    private static final String YAML = """
            name: rangemodel
            replicas: 1
            devices:
              - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {durability: simulated, strict-declares: true}}
              - {name: slow, backend: mem, roles: [background], settings: {durability: simulated, strict-declares: true}}
              - {name: far, backend: mem, roles: [background], settings: {durability: simulated, strict-declares: true}}
            """;

    private PoolConfig cfg;
    private List<MemOsd> raw;
    private PoolOsd pool;

    private void mount() throws OsdException {
        pool = PoolOsd.mount(cfg, InstantSource.system(), PoolOsd.MountMode.RECOVER, (d, c) -> raw.get(d.index()));
    }

    @Test
    void randomRangeMovesReadAsTheModel() throws Exception {
        long seed = Seeds.master();
        System.out.printf("range model test: seed 0x%x%n", seed);
        Random r = new Random(seed);
        cfg = PoolConfigParser.parse(YAML, "rangemodel");
        raw = new ArrayList<>();
        for (var d : cfg.devices()) {
            raw.add(new MemOsd(new OsdConfig(d.name(), d.backend(), d.settings(), InstantSource.system())));
        }
        mount();
        byte[][] model = new byte[OBJECTS][];
        Fid[] fids = new Fid[OBJECTS];
        for (int i = 0; i < OBJECTS; i++) {
            fids[i] = new Fid(0x200000400L, i + 1, 0);
            model[i] = new byte[1 + r.nextInt(10 * K64)];
            r.nextBytes(model[i]);
            try (Transaction tx = pool.newTransaction()) {
                tx.declareCreate(fids[i], ObjectKind.DATA);
                tx.declareWrite(fids[i], 0, model[i].length);
                tx.start();
                tx.create(fids[i], ObjectKind.DATA, AttrChange.none());
                tx.write(fids[i], 0, ByteBuffer.wrap(model[i]));
            }
        }
        int splitSeen = 0;
        for (int step = 0; step < 600; step++) {
            int i = r.nextInt(OBJECTS);
            Fid f = fids[i];
            String where = String.format("step %d, object %d, seed 0x%x", step, i, seed);
            int op = r.nextInt(100);
            if (op < 30) {
                long off = r.nextInt(model[i].length + K64);
                int len = 1 + r.nextInt(3 * K64);
                byte[] got = new byte[len];
                int n = 0;
                while (n < len) {
                    int k = pool.read(f, off + n, ByteBuffer.wrap(got, n, len - n));
                    if (k <= 0) {
                        break;
                    }
                    n += k;
                }
                int want = (int) Math.max(0, Math.min(len, model[i].length - off));
                assertThat(n).as("read length, %s", where).isEqualTo(want);
                if (want > 0) {
                    assertThat(Arrays.copyOf(got, n))
                            .as("read [%d, +%d), %s", off, want, where)
                            .isEqualTo(Arrays.copyOfRange(model[i], (int) off, (int) off + want));
                }
            } else if (op < 45) {
                int off = r.nextInt(model[i].length + (r.nextInt(5) == 0 ? K64 : 0));
                byte[] b = new byte[1 + r.nextInt(K64)];
                r.nextBytes(b);
                try (Transaction tx = pool.newTransaction()) {
                    tx.declareWrite(f, off, b.length);
                    tx.start();
                    tx.write(f, off, ByteBuffer.wrap(b));
                }
                byte[] m = Arrays.copyOf(model[i], Math.max(model[i].length, off + b.length));
                System.arraycopy(b, 0, m, off, b.length);
                model[i] = m;
            } else if (op < 49) {
                int off = r.nextInt(model[i].length);
                int len = 1 + r.nextInt(2 * K64);
                try (Transaction tx = pool.newTransaction()) {
                    tx.declarePunch(f, off, len);
                    tx.start();
                    tx.punch(f, off, len);
                }
                Arrays.fill(model[i], off, Math.min(model[i].length, off + len), (byte) 0);
            } else if (op < 52) {
                int size = 1 + r.nextInt(10 * K64);
                try (Transaction tx = pool.newTransaction()) {
                    tx.declareTruncate(f, size);
                    tx.start();
                    tx.truncate(f, size);
                }
                model[i] = Arrays.copyOf(model[i], size);
            } else if (op < 80) {
                int a = r.nextInt(12);
                long end = r.nextInt(3) == 0 ? Span.EOF : (long) (a + 1 + r.nextInt(5)) * K64;
                MoveResult m = pool.migrator().spillRange(f, pool.device(1 + r.nextInt(2)), (long) a * K64, end);
                assertThat(m.settled() || m instanceof MoveResult.NothingToDo)
                        .as("%s: %s", where, m.detail())
                        .isTrue();
            } else if (op < 86) {
                pool.migrator().promote(f);
            } else if (op < 90) {
                pool.migrator().recallRanges(f);
            } else if (op < 94) {
                pool.migrator().spill(f, pool.device(1 + r.nextInt(2)));
            } else if (op < 97) {
                pool.migrator().collectGarbage();
            } else {
                // As after a restart: a new pool on the same devices (a clean stop would close them).
                mount();
            }
            if (pool.object(f).orElseThrow().split(0)) {
                splitSeen++;
            }
            if (step % 100 == 99) {
                assertThat(pool.fsck(false, true, null).problems()).as(where).isEmpty();
            }
        }
        for (int i = 0; i < OBJECTS; i++) {
            byte[] got = new byte[model[i].length];
            int n = 0;
            while (n < got.length) {
                n += pool.read(fids[i], n, ByteBuffer.wrap(got, n, got.length - n));
            }
            assertThat(got).as("object %d at the end (seed 0x%x)", i, seed).isEqualTo(model[i]);
        }
        assertThat(pool.fsck(false, true, null).problems()).isEmpty();
        assertThat(splitSeen).as("steps that left a split body").isPositive();
    }
}
